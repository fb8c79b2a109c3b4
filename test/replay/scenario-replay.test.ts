/**
 * A scenario's `replay NAME FILE` process: mapped where its trace goes, its pages in frames.
 */
import { describe, expect, test } from 'vitest';
import { ACCESS_READ } from '../../src/hw/mmu.js';
import { addReplayProcess, replayRegions } from '../../src/sim/replay.js';
import { runScenario } from '../../src/sim/scenario-runner.js';
import { parseScenario } from '../../src/workload/scenario/parse.js';
import { bootKernel, expectAllFreedAfterExit } from '../helpers.js';

const encode = (lines: readonly (string | number)[]) => new TextEncoder().encode(`${lines.join('\n')}\n`);

function run(text: string, files: Record<string, Uint8Array>) {
  return runScenario(parseScenario('t.vms', text), {
    check: true,
    readTrace: (path) => files[path] ?? new Uint8Array(),
  });
}

describe('replay in a scenario', () => {
  test('a replay process maps only where its trace goes: VmSize was 137438953464 kB (all of user space)', () => {
    // Page ids 0..9 and 1000..1004. Opaque ids are placed in blocks of a leaf table's reach (512
    // pages), in the order first used, from the first whole block above mmap_min_addr: ids 0-511 at
    // 0x200000, ids 512-1023 at 0x400000.
    const ids = [
      ...Array.from({ length: 10 }, (_, i) => i),
      ...Array.from({ length: 5 }, (_, i) => 1000 + i),
    ];
    const r = run('replay R t.pages\nshow R maps\nshow R status\n', { 't.pages': encode(ids) });
    const maps = r.steps[1]!.snapshot;
    expect(maps?.what).toBe('maps');
    if (maps?.what !== 'maps') return;
    expect(maps.lines.map((l) => [l.start, l.end])).toEqual([
      [0x200000, 0x20a000],
      [0x400000 + 488 * 4096, 0x400000 + 493 * 4096],
    ]);
    const status = r.steps[2]!.snapshot;
    if (status?.what !== 'status') throw new Error('no status');
    expect(status.fields['VmSize']).toBe(15 * 4096);
  });

  test('its reads take frames, as the cache simulation it stands for: VmRSS was 0 kB (all the zero page)', () => {
    const r = run('replay R t.pages\nexpect R VmRSS == 12 kB\nexpect R minflt == 3\n', {
      't.pages': encode([1, 2, 3, 1, 2, 3]),
    });
    expect(r.steps.filter((s) => s.verdict && !s.verdict.ok).map((s) => s.verdict!.actual)).toEqual([]);
  });

  test('a trace with an address beyond user space is refused before any of it runs, naming the access', () => {
    const lackey = encode([' L 00001000,8', ' S 00002000,8', ' L 800000000000,8']);
    expect(() => run('replay R t.lackey\n', { 't.lackey': lackey })).toThrow(
      /t\.lackey: access 3 is beyond user space/,
    );
  });

  test('opaque page ids as large as 2^40 are placed in the process space, as a full-system replay places them', () => {
    const r = run('replay R t.pages\nexpect R VmRSS == 12 kB\n', { 't.pages': encode([1, 2, 2 ** 40]) });
    expect(r.steps.filter((s) => s.verdict && !s.verdict.ok).map((s) => s.verdict!.actual)).toEqual([]);
  });
});

describe('replayRegions', () => {
  test('covers every touched page, splits at holes wider than 16 pages, at most the widest 63 of them', () => {
    expect(replayRegions([5, 3, 4, 4, 30, 31, 12])).toEqual([
      [3, 13],
      [30, 32],
    ]);
    const spread = Array.from({ length: 100 }, (_, i) => i * 1000 + (i === 50 ? 500 : 0));
    const regions = replayRegions(spread);
    expect(regions.length).toBe(64);
    for (const vpn of spread) expect(regions.some(([a, b]) => a <= vpn && vpn < b)).toBe(true);
    expect(replayRegions([])).toEqual([]);
  });

  test('a replay process for a stream (no regions) spans user space, and leaves nothing behind', () => {
    const k = bootKernel();
    const proc = addReplayProcess(k, 'R')!;
    expect(proc.mm!.vmas.length).toBe(1);
    expect(proc.mm!.vmas[0]!.end).toBe(k.layout.taskSize);
    expect(k.access(proc, 0x5000, ACCESS_READ)).toBeGreaterThanOrEqual(0);
    expect(k.status(proc).VmRSS).toBe(4096);
    expectAllFreedAfterExit(k);
  });
});
