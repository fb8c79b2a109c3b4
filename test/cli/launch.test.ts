/**
 * The built program's launcher (src/cli/launch.ts): which command lines start the trace worker
 * before the CLI loads, and that the program so started behaves as the CLI does.
 */
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { replayReadsInWorker } from '../../src/cli/early-worker.js';
import { BUILT_CLI, hasBuiltCli, vmscope } from './built-cli.js';

describe('which command lines start the trace worker early', () => {
  // [argv, on a machine whose default is 2 threads, on one whose default is 1]
  test.each([
    [['replay', 'a.pages'], true, false],
    [['replay', '--policy-only', '--threads', '2', 'a.pages'], true, true],
    [['replay', '--threads=3', 'a.pages'], true, true],
    [['replay', 'a.pages', '--', '--threads', '1'], true, false],
    [['replay', '--threads', '1', 'a.pages'], false, false],
    [['replay', '--threads=1', 'a.pages'], false, false],
    [['replay', '--help'], false, false],
    [['replay', '-h'], false, false],
    [['mrc', 'a.pages'], false, false],
    [['convert', 'a.pages', 'a.vmt'], false, false],
    [[], false, false],
  ])('%j: %s with 2 threads by default, %s with 1', (argv, twoCores, oneCore) => {
    expect(replayReadsInWorker(argv, 2)).toBe(twoCores);
    expect(replayReadsInWorker(argv, 1)).toBe(oneCore);
  });
});

const TRACE = 'examples/traces/matmul.lines.gz';

describe.skipIf(!hasBuiltCli)('the built program', () => {
  test('is executable as it is (the package bin) and runs the CLI', () => {
    expect(statSync(BUILT_CLI).mode & 0o111).not.toBe(0);
    const p = spawnSync(BUILT_CLI, ['--version'], { encoding: 'utf8' });
    expect(p.status).toBe(0);
    expect(p.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  test('a replay through the early worker gives the JSON of one thread, byte for byte', async () => {
    const args = ['replay', '--policy-only', '--policy', 'clock', '--frames', '16', '--json', TRACE];
    const piped = await vmscope(args);
    const alone = await vmscope([...args, '--threads', '1']);
    expect(piped.status).toBe(0);
    expect(alone.status).toBe(0);
    expect(JSON.parse(piped.out).accesses).toBeGreaterThan(0);
    expect(piped.out).toBe(alone.out);
  });

  test('a replay that fails before it reads leaves the waiting worker behind and exits', async () => {
    const r = await vmscope(['replay', '--policy-only', 'no-such-trace.pages'], { timeoutMs: 20_000 });
    expect(r.status).toBe(2);
    expect(r.err).toContain('no-such-trace.pages');
  });
});
