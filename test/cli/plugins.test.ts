/**
 * Plug-in policies from the command line: the shipped examples pass `vmscope policy check`, a
 * plug-in copy of CLOCK faults exactly as the built-in everywhere a policy name is accepted
 * (policy-only and full-system replay, mrc on worker threads, scenarios), and broken plug-ins are
 * input errors that name the plug-in, the call and the place.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadPolicy } from '../../src/cli/plugins.js';
import { createPolicy } from '../../src/kernel/reclaim/registry.js';
import { CacheSim } from '../../src/sim/cachesim.js';
import { checkoutRoot, describeCorpus } from '../corpus.js';
import { corpusPages } from '../reclaim/support.js';
import { run } from './run-cli.js';

const root = checkoutRoot();
const example = (name: string) => join(root, 'examples', 'policies', name);
const dir = mkdtempSync(join(tmpdir(), 'vmscope-plugins-'));

/** Writes a plug-in module into the test's folder. @returns its path. */
function plugin(name: string, body: string): string {
  const file = join(dir, name);
  writeFileSync(file, body);
  return file;
}

const FIFO_BODY = `
      const q = [];
      return {
        insert(slot) { q.push(slot); },
        touch() {},
        victim() { return q.shift(); },
        remove(slot) { q.splice(q.indexOf(slot), 1); },
      };`;

describe('vmscope policy check', () => {
  test.each(['lirs.js', 'random-oldest-k.js', 'clock.ts'])(
    'the example %s passes every check',
    async (name) => {
      const r = await run('policy', 'check', example(name));
      expect(r.err).toBe('');
      expect(r.out).not.toMatch(/FAILED/);
      expect(r.out).toMatch(/checks: [56] passed, 0 failed/);
      expect(r.status).toBe(0);
    },
  );

  test('random-oldest-k is checked against its naive reference; a built-in against its naive model', async () => {
    expect((await run('policy', 'check', example('random-oldest-k.js'))).out).toMatch(
      /ok matches its naive reference exactly/,
    );
    const lru = await run('policy', 'check', '--json', 'lru');
    const doc = JSON.parse(lru.out) as { checks: { id: string; ran: boolean; problems: string[] }[] };
    expect(doc.checks.find((c) => c.id === 'reference')).toMatchObject({ ran: true, problems: [] });
  });

  test('a failing plug-in exits 1 and says what failed', async () => {
    const lifo = plugin(
      'lifo.js',
      `export default { name: 'claims-fifo', kind: 'kernel',
        create() { const q = []; return { insert(s) { q.push(s); }, touch() {}, victim() { return q.pop(); },
          remove(s) { q.splice(q.indexOf(s), 1); } }; },
        reference(capacity) { const m = []; return {
          access(p) { if (m.includes(p)) return true; if (m.length === capacity) m.shift(); m.push(p); return false; },
          pages: () => m } } };`,
    );
    const r = await run('policy', 'check', lifo);
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/FAILED matches its naive reference exactly/);
    expect(r.out).toMatch(/the policy (hit|missed), the reference (hit|missed)|the policy holds pages/);
    expect(r.out).toMatch(/5 passed, 1 failed/);
  });

  test('policy list names every built-in with its kind', async () => {
    const r = await run('policy', 'list');
    expect(r.out).toMatch(/clock\s+│?\s*kernel/);
    expect(r.out).toMatch(/opt\s+│?\s*oracle/);
  });
});

describeCorpus('a plug-in copy of CLOCK is exact', () => {
  test('policy-only: the same faults as the built-in on every corpus trace', async () => {
    const key = await loadPolicy(example('clock.ts'), root, { file: 'test' });
    for (const [trace, sizes] of [
      ['sort', [8]],
      ['gzip', [32]],
      ['python-dict', [16]],
      ['memwalk', [64]],
    ] as const) {
      const pages = corpusPages('memtrace', `${trace}.pages.gz`);
      for (const frames of sizes) {
        const mine = new CacheSim(createPolicy(key, frames), { trackCold: false });
        const builtin = new CacheSim(createPolicy('clock', frames), { trackCold: false });
        mine.run(pages, null, pages.length);
        builtin.run(pages, null, pages.length);
        expect(mine.faults, `${trace} at ${frames} frames`).toBe(builtin.faults);
        expect(mine.faults).toBeGreaterThan(0);
      }
    }
  });

  test('replay (policy-only and full system) and mrc on worker threads give the built-in counts', async () => {
    // The first 200,000 accesses of a corpus trace keep the full-system replays short.
    const trace = plugin(
      'gzip-head.pages',
      `${corpusPages('memtrace', 'gzip.pages.gz').subarray(0, 200_000).join('\n')}\n`,
    );
    const plug = example('clock.ts');
    for (const mode of [['--policy-only'], []]) {
      const a = await run('replay', ...mode, '--frames', '16', '--json', '--policy', plug, trace);
      const b = await run('replay', ...mode, '--frames', '16', '--json', '--policy', 'clock', trace);
      expect(a.err).toBe('');
      const [ja, jb] = [JSON.parse(a.out), JSON.parse(b.out)];
      expect(ja.policy).toBe('my-clock');
      expect(ja.faults).toBe(jb.faults);
    }
    const m = await run(
      'mrc',
      '--policies',
      `clock,${plug}`,
      '--frames',
      '8,32',
      '--threads',
      '2',
      '--json',
      trace,
    );
    expect(m.err).toBe('');
    const curves = (JSON.parse(m.out) as { curves: { policy: string; faults: number[] }[] }).curves;
    expect(curves.map((c) => c.policy)).toEqual(['clock', 'my-clock']);
    expect(curves[1]!.faults).toEqual(curves[0]!.faults);
  });
});

describe('a scenario names a plug-in relative to itself', () => {
  const sub = join(dir, 'scenarios');
  mkdirSync(join(sub, 'policies'), { recursive: true });
  writeFileSync(
    join(sub, 'policies', 'fifo.js'),
    `export default { name: 'scenario-fifo', kind: 'kernel', create() {${FIFO_BODY} } };`,
  );
  const scenario = (policy: string) => {
    const file = join(sub, `s-${policy.replace(/\W/g, '')}.vms`);
    writeFileSync(
      file,
      `machine x86_64 policy=${policy} frames=3 swap=1M\nspawn A data=16K\n` +
        ['data', 'data+4K', 'data+8K', 'data', 'data+12K', 'data+4K']
          .map((a) => `A: write ${a} 1`)
          .join('\n') +
        '\nexpect A majflt == 1\n',
    );
    return file;
  };

  test('it runs, and faults as the built-in FIFO', async () => {
    const mine = await run('run', scenario('./policies/fifo.js'));
    const builtin = await run('run', scenario('fifo'));
    expect(mine.err).toBe('');
    expect(mine.status).toBe(builtin.status);
    expect(mine.out.match(/evict|swap/g)?.length).toBe(builtin.out.match(/evict|swap/g)?.length);
  });

  test('a missing module is an error at its place on the machine line', async () => {
    const r = await run('run', scenario('./policies/nope.js'));
    expect(r.status).toBe(2);
    expect(r.err).toMatch(/s-policiesnopejs\.vms:1:23: error: no plug-in module at .*policies\/nope\.js/);
  });
});

describe('broken plug-ins are input errors naming the plug-in and the call', () => {
  const pages = plugin('trace.pages', `${[1, 2, 3, 1, 4, 5, 2, 1].join('\n')}\n`);
  const replay = (file: string) => run('replay', '--policy-only', '--frames', '2', '--policy', file, pages);

  test('a victim() that throws: the call, its arguments and the line that threw', async () => {
    const file = plugin(
      'throws.js',
      `export default { name: 'thrower', kind: 'kernel', create() {
  return {
    insert() {}, touch() {}, remove() {},
    victim(now) { throw new RangeError('no victim at ' + now); },
  };
} };\n`,
    );
    const r = await replay(file);
    expect(r.status).toBe(2);
    expect(r.err).toBe(
      `${file}:4:25: error: plug-in policy 'thrower': victim(now=2, incoming=3) threw RangeError: no victim at 2\n`,
    );
  });

  test('a victim that is not an occupied slot', async () => {
    const free = plugin(
      'free.js',
      `export default { name: 'free-slot', kind: 'kernel', create() { return {
      insert() {}, touch() {}, remove() {}, victim() { return 7; } }; } };`,
    );
    expect((await replay(free)).err).toMatch(
      /free\.js: error: plug-in policy 'free-slot': victim\(now=2, incoming=3\) returned 7, not a slot \(they are 0\.\.1\); expected one of the occupied slots \[0, 1\]/,
    );
    const str = plugin(
      'str.js',
      `export default { name: 'string-slot', kind: 'kernel', create() { return {
      insert() {}, touch() {}, remove() {}, victim() { return '0'; } }; } };`,
    );
    expect((await replay(str)).err).toMatch(/victim\(now=2, incoming=3\) returned '0', not a slot/);
  });

  test.each([
    ['no-default.js', 'export const policy = {};', /expected a default export/],
    ['no-name.js', 'export default { kind: "kernel", create() {} };', /expected 'name' to be a short name/],
    ['builtin.js', 'export default { name: "lru", kind: "oracle", create() {} };', /is a built-in policy's/],
    [
      'kind.js',
      'export default { name: "k", kind: "magic", create() {} };',
      /expected 'kind' to be 'kernel'/,
    ],
    [
      'future.js',
      'export default { name: "f", kind: "kernel", needsFuture: true, create() {} };',
      /needs the future is an 'oracle'/,
    ],
    [
      'create.js',
      'export default { name: "c", kind: "kernel", create() { return { insert() {} }; } };',
      /create\(2, …\) returned \{\}, which lacks a method touch\(\)/,
    ],
    ['throws-on-load.js', 'throw new Error("boom");', /the module failed to load: Error: boom/],
  ])('%s', async (name, body, message) => {
    const r = await replay(plugin(name, body));
    expect(r.status).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.err).not.toMatch(/internal error|\n\s+at /);
  });

  test('an unknown name or a missing module', async () => {
    expect((await replay('lur')).err).toMatch(/--policy: error: unknown policy 'lur' .*did you mean 'lru'/);
    expect((await replay('./missing.js')).err).toMatch(/--policy: error: no plug-in module at .*missing\.js/);
  });
});

describe.skipIf(!existsSync(join(root, 'dist', 'cli', 'main.js')))('the built command', () => {
  const cli = join(root, 'dist', 'cli', 'main.js');

  test('loads a .ts plug-in through tsx with no flags, in the main thread and in workers', () => {
    const out = execFileSync(process.execPath, [cli, 'policy', 'check', example('clock.ts')], {
      encoding: 'utf8',
    });
    expect(out).toMatch(/5 passed, 0 failed/);
    const pages = plugin('loop.pages', `${Array.from({ length: 40 }, (_, i) => i % 5).join('\n')}\n`);
    const mrc = execFileSync(
      process.execPath,
      [
        cli,
        'mrc',
        '--json',
        '--threads',
        '2',
        '--frames',
        '2,4,5',
        '--policies',
        `clock,${example('clock.ts')}`,
        pages,
      ],
      { encoding: 'utf8' },
    );
    const curves = (JSON.parse(mrc) as { curves: { faults: number[] }[] }).curves;
    expect(curves[1]!.faults).toEqual(curves[0]!.faults);
    expect(curves[0]!.faults).toEqual([40, 40, 5]);
  });

  test('a module that does not parse: the line of the error', () => {
    const bad = plugin('syntax.js', 'export default {\n  name: "s",\n  kind: kernel"\n};\n');
    const r = spawnSync(process.execPath, [cli, 'policy', 'check', bad], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /syntax\.js:3:15: error: the module does not parse: Invalid or unexpected token/,
    );
  });
});
