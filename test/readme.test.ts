import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test, vi } from 'vitest';
import { bufferIo } from '../src/cli/io.js';
import { main } from '../src/cli/main.js';
import { runScenario } from '../src/sim/scenario-runner.js';
import { parseScenario } from '../src/workload/scenario/parse.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const blocks = (lang: string) =>
  [...readme.matchAll(new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``, 'g'))].map((m) => m[1]!);

describe('the README examples really run', () => {
  test('the quick start is the two commands', () => {
    expect(readme).toContain('npm install && npm start');
    expect(readme).toContain('npm test');
  });

  test.each(blocks('vms').map((b, i) => [i, b]))(
    'scenario block %i runs and every expectation holds',
    (_i, text) => {
      const run = runScenario(parseScenario('README.md', text), { check: true });
      expect(run.failed).toBe(0);
      expect(run.passed).toBeGreaterThan(0);
    },
  );

  test('the library example prints what its comments say', async () => {
    const [code] = blocks('ts');
    const dir = new URL('../test-output/', import.meta.url).pathname;
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'readme-library.ts');
    writeFileSync(file, code!);
    const logs: unknown[][] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      logs.push(args);
    });
    try {
      await import(file);
    } finally {
      spy.mockRestore();
    }
    expect(logs).toEqual([['7ffff7eff000'], [8, 'kB'], [[]], [true]]);
  });

  test('the plug-in example passes vmscope policy check', async () => {
    const [code] = blocks('js');
    const dir = new URL('../test-output/', import.meta.url).pathname;
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'readme-my-fifo.js');
    writeFileSync(file, code!);
    const io = bufferIo();
    expect(await main(['policy', 'check', file], io)).toBe(0);
    expect(io.stdout).toMatch(/^my-fifo \(kernel; plug-in /);
  });
});
