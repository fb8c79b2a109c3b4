/**
 * The pure cache simulation (`vmscope replay --policy-only`): what it counts, that batching never
 * changes a result, and that any page id up to 2^53 is a page.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { InvariantError } from '../../src/base/errors.js';
import { createPolicy } from '../../src/kernel/reclaim/registry.js';
import { CacheSim, NextUseBuilder, replayPages } from '../../src/sim/cachesim.js';

describe('the cache simulation', () => {
  test('counts hits, faults, cold faults, evictions and the write-backs of dirty victims', () => {
    // 2 frames, FIFO. 1w 2 3 (evicts dirty 1) 1 (evicts 2, clean) 3w 2 (evicts dirty 3).
    const st = replayPages([1, 2, 3, 1, 3, 2], { policy: 'fifo', frames: 2, writes: [1, 0, 0, 0, 1, 0] });
    expect(st).toEqual({
      frames: 2,
      policy: 'fifo',
      accesses: 6,
      hits: 1,
      faults: 5,
      coldFaults: 3,
      evictions: 3,
      writebacks: 2,
      distinctPages: 3,
    });
  });

  test('gives the same counts however the stream is cut into batches', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('lru', 'clock', 'opt', 'arc', 'wsclock'),
        fc.array(fc.tuple(fc.nat(30), fc.nat(1)), { minLength: 1, maxLength: 400 }),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 20 }),
        (policy, stream, cuts) => {
          const pages = Float64Array.from(stream.map(([p]) => p));
          const writes = Uint8Array.from(stream.map(([, w]) => w));
          const whole = replayPages(pages, { policy, frames: 5, writes });
          const sim = new CacheSim(createPolicy(policy, 5));
          if (sim.policy.needsFuture) {
            const b = new NextUseBuilder(1);
            let at = 0;
            for (let i = 0; at < pages.length; i++) {
              const n = Math.min(cuts[i % cuts.length]!, pages.length - at);
              b.push(pages.subarray(at, at + n), n);
              at += n;
            }
            sim.setFuture(b.finish());
          }
          let at = 0;
          for (let i = 0; at < pages.length; i++) {
            const n = Math.min(cuts[(i + 3) % cuts.length]!, pages.length - at);
            sim.run(pages.subarray(at, at + n), writes.subarray(at, at + n), n);
            at += n;
          }
          expect(sim.stats()).toEqual(whole);
        },
      ),
      { numRuns: 120 },
    );
  });

  test('takes any page id below 2^53, 0 included, as a distinct page', () => {
    const ids = [0, 1, 2 ** 32, 2 ** 32 + 1, 2 ** 52 - 1, 2 ** 53 - 1, 4096, 2 ** 36 + 4096];
    const st = replayPages([...ids, ...ids], { policy: 'lru', frames: ids.length });
    expect(st.coldFaults).toBe(ids.length);
    expect(st.faults).toBe(ids.length);
    expect(st.hits).toBe(ids.length);
    // With one frame fewer, LRU on a loop misses every time.
    expect(replayPages([...ids, ...ids], { policy: 'lru', frames: ids.length - 1 }).hits).toBe(0);
  });

  test('shows the resident pages in the policy order and keeps its tables consistent', () => {
    const sim = new CacheSim(createPolicy('lru', 3));
    for (const p of [5, 6, 7, 5, 8]) sim.access(p);
    expect(sim.residentPages()).toEqual([7, 5, 8]);
    expect(sim.lastVictim).toBe(6);
    expect(sim.slotOf(6)).toBe(-1);
    expect(sim.validate()).toEqual([]);
    sim.reset();
    expect(sim.stats().accesses).toBe(0);
    expect(sim.residentPages()).toEqual([]);
  });

  test('refuses to run an oracle without the next uses', () => {
    const sim = new CacheSim(createPolicy('opt', 2));
    expect(() => sim.access(1)).toThrow(InvariantError);
  });
});
