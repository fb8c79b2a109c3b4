/**
 * The full system (MMU, TLB, page tables, faults, reclaim, swap) faults exactly as a pure cache
 * simulation of the same page stream with the same number of frames and the same policy.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { policyNames } from '../../src/kernel/reclaim/registry.js';
import { replayPages } from '../../src/sim/cachesim.js';
import { SystemReplay } from '../../src/sim/replay.js';

/** Policies the kernel can run without knowing the future. */
const POLICIES = policyNames.filter((p) => p !== 'opt' && !p.startsWith('ostep') && p !== 'unopt');

function fullSystem(refs: number[], writes: number[], policy: (typeof POLICIES)[number], frames: number) {
  const r = new SystemReplay({ frames, policy, tlbEntries: 16, tlbWays: 4, names: ['t'], addressing: 'ids' });
  r.run(0, Float64Array.from(refs), Uint8Array.from(writes), refs.length);
  const problems = r.kernel.check();
  return { stats: r.stats(), problems, replay: r };
}

describe.each(POLICIES)('%s in the full system', (policy) => {
  test('faults, evictions and write-backs equal the pure simulation on random streams', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat({ max: 24 }), { minLength: 1, maxLength: 300 }),
        fc.array(fc.boolean(), { minLength: 300, maxLength: 300 }),
        fc.integer({ min: 1, max: 12 }),
        (refs, w, frames) => {
          const writes = refs.map((_, i) => (w[i] ? 1 : 0));
          const pure = replayPages(refs, { policy, frames, writes });
          const { stats, problems } = fullSystem(refs, writes, policy, frames);
          expect(problems).toEqual([]);
          expect(stats.faults).toBe(pure.faults);
          expect(stats.hits).toBe(pure.hits);
          expect(stats.evictions).toBe(pure.evictions);
          expect(stats.writebacks).toBe(pure.writebacks);
        },
      ),
      { numRuns: 25, seed: 42 },
    );
  });
});

describe('swap in the full system', () => {
  test("a process's bytes survive eviction to swap and come back with major faults", () => {
    const r = new SystemReplay({
      frames: 4,
      policy: 'lru',
      tlbEntries: 16,
      tlbWays: 4,
      names: ['t'],
      addressing: 'ids',
    });
    const k = r.kernel;
    const proc = r.procs[0]!;
    for (let p = 0; p < 16; p++) {
      const data = new Uint8Array(64).fill(p + 1);
      expect(k.writeUser(proc, (p + 1) * 4096, data)).toBe(true);
    }
    expect(k.status(proc).VmSwap).toBe(12 * 4096);
    for (let p = 0; p < 16; p++)
      expect([...k.readUser(proc, (p + 1) * 4096, 64)!]).toEqual(new Array(64).fill(p + 1));
    expect(k.status(proc).majflt).toBeGreaterThanOrEqual(12);
    expect(k.check()).toEqual([]);
    k.exit(proc, 0);
    expect(k.meminfo().SwapFree).toBe(k.meminfo().SwapTotal);
    expect(k.meminfo().MemFree).toBe(k.bootFreeFrames * k.pageSize);
    expect(k.check()).toEqual([]);
  });
});

describe('write flags in the full system', () => {
  test.each(['ids', 'addresses'] as const)(
    'with %s, any non-zero flag is a write: flags of 2 and 255 replay as flags of 1',
    (addressing) => {
      const refs = Array.from({ length: 400 }, (_, i) => ((i * 7919) % 37) + 16);
      const ones = refs.map((_, i) => (i % 3 === 0 ? 1 : 0));
      const others = ones.map((w, i) => (w === 0 ? 0 : i % 2 === 0 ? 2 : 255));
      const run = (writes: number[]) => {
        const r = new SystemReplay({
          frames: 6,
          policy: 'nru',
          tlbEntries: 16,
          tlbWays: 4,
          names: ['t'],
          addressing,
        });
        r.run(0, Float64Array.from(refs), Uint8Array.from(writes), refs.length);
        return r.stats();
      };
      const plain = run(ones);
      expect(plain.writebacks).toBeGreaterThan(0);
      expect(run(others)).toEqual(plain);
    },
  );
});

describe('the TLB in the full system', () => {
  test('a fault costs two walks, as on a CPU: the one that faults and the retry; a hit none', () => {
    const r = new SystemReplay({
      frames: 8,
      policy: 'lru',
      tlbEntries: 16,
      tlbWays: 4,
      names: ['t'],
      addressing: 'addresses',
    });
    // Page 0x400 faults (a fresh page: the first walk stops at the empty root), then hits twice.
    r.run(0, Float64Array.of(0x400, 0x400, 0x400), Uint8Array.of(0, 0, 0), 3);
    const s = r.stats();
    expect(s.faults).toBe(1);
    expect(s.tlb).toMatchObject({ hits: 2, misses: 2, walks: 2, pteReads: 1 + 4 });
  });
});
