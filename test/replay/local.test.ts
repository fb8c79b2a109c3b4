/**
 * Local replacement: a process's faults evict only its own pages, within its share of the frames
 * (equal, proportional to footprint, or by page-fault frequency).
 */
import { describe, expect, test } from 'vitest';
import { SystemReplay } from '../../src/sim/replay.js';

/** A loop over `pages` distinct pages, `times` times. */
function loop(pages: number, times: number, base = 0): Float64Array {
  const out = new Float64Array(pages * times);
  for (let i = 0; i < out.length; i++) out[i] = base + (i % pages);
  return out;
}

function twoProcesses(scope: 'global' | 'local', allocation: 'equal' | 'proportional' | 'pff' = 'equal') {
  return new SystemReplay({
    frames: 16,
    policy: 'lru',
    tlbEntries: 16,
    tlbWays: 4,
    names: ['small', 'big'],
    addressing: 'ids',
    scope,
    allocation,
  });
}

describe('local replacement', () => {
  test("with equal shares, a process thrashing on its own never evicts the other's pages", () => {
    const r = twoProcesses('local');
    const k = r.kernel;
    r.run(0, loop(6, 1), new Uint8Array(6), 6); // small: 6 pages, fits its 8-frame share
    const smallFaults = k.status(r.procs[0]!).minflt;
    r.run(1, loop(40, 5), new Uint8Array(200), 200); // big: 40 pages in 8 frames
    r.run(0, loop(6, 3), new Uint8Array(18), 18); // small again: every page still resident
    expect(k.status(r.procs[0]!).minflt + k.status(r.procs[0]!).majflt).toBe(smallFaults);
    expect(k.status(r.procs[1]!).VmRSS / 4096).toBeLessThanOrEqual(8);
    expect([...k.reclaim.allocations().values()]).toEqual([8, 8]);
    expect(k.check()).toEqual([]);
  });

  test("with global replacement the big process takes the small one's frames", () => {
    const r = twoProcesses('global');
    const k = r.kernel;
    r.run(0, loop(6, 1), new Uint8Array(6), 6);
    r.run(1, loop(40, 5), new Uint8Array(200), 200);
    const before = k.status(r.procs[0]!).minflt + k.status(r.procs[0]!).majflt;
    r.run(0, loop(6, 1), new Uint8Array(6), 6);
    expect(k.status(r.procs[0]!).minflt + k.status(r.procs[0]!).majflt).toBe(before + 6);
    expect(k.check()).toEqual([]);
  });

  test('proportional shares follow the footprints', () => {
    const r = twoProcesses('local', 'proportional');
    r.run(0, loop(2, 1), new Uint8Array(2), 2);
    r.run(1, loop(70, 1), new Uint8Array(70), 70);
    r.run(0, loop(2, 1), new Uint8Array(2), 2);
    const [small, big] = [...r.kernel.reclaim.allocations().values()];
    expect(big!).toBeGreaterThan(small!);
    expect(r.kernel.check()).toEqual([]);
  });

  test('page-fault frequency grows the share of a process that faults often and shrinks an idle one', () => {
    const r = new SystemReplay({
      frames: 32,
      policy: 'lru',
      tlbEntries: 16,
      tlbWays: 4,
      names: ['quiet', 'busy'],
      addressing: 'ids',
      scope: 'local',
      allocation: 'pff',
    });
    const k = r.kernel;
    r.run(0, loop(2, 1), new Uint8Array(2), 2);
    r.run(1, loop(2, 1), new Uint8Array(2), 2);
    expect([...k.reclaim.allocations().values()]).toEqual([16, 16]);
    let most = 0;
    for (let round = 0; round < 12; round++) {
      r.run(0, loop(2, 500), new Uint8Array(1000), 1000); // no faults: its share shrinks
      r.run(1, loop(24, 42), new Uint8Array(1008), 1008); // 24 pages: faults until it has them all
      most = Math.max(most, k.reclaim.allocations().get(r.procs[1]!.pid)!);
      expect(k.check()).toEqual([]);
    }
    // The busy process grew to its working set (then PFF trims it again while it stops faulting).
    expect(most).toBeGreaterThanOrEqual(24);
    expect(k.reclaim.allocations().get(r.procs[0]!.pid)!).toBeLessThan(16);
  });
});
