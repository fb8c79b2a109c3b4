/**
 * Each policy's documented rules, on small worked examples (the page in each step is the point of
 * the test), plus the registry, CPython's generator, and the fast LRU against a naive one.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { InputError } from '../../src/base/errors.js';
import { AgingPolicy } from '../../src/kernel/reclaim/aging.js';
import type { ArcPolicy } from '../../src/kernel/reclaim/arc.js';
import { ClockPolicy } from '../../src/kernel/reclaim/clock.js';
import { NruPolicy } from '../../src/kernel/reclaim/nru.js';
import { NEVER, NO_PAGE } from '../../src/kernel/reclaim/policy.js';
import { PyRandom } from '../../src/kernel/reclaim/pyrandom.js';
import { createPolicy, isPolicyName, policyInfo, policyNames } from '../../src/kernel/reclaim/registry.js';
import { SecondChancePolicy } from '../../src/kernel/reclaim/second-chance.js';
import { WorkingSetPolicy } from '../../src/kernel/reclaim/ws.js';
import { WsClockPolicy } from '../../src/kernel/reclaim/wsclock.js';
import { CacheSim, NextUseBuilder, replayPages } from '../../src/sim/cachesim.js';
import { naiveLru, naiveOpt } from './support.js';

/** Replays `refs` (a letter or number per access; a `w` suffix writes) and returns the evicted pages. */
function victimsOf(
  policy: string,
  frames: number,
  refs: readonly (number | string)[],
  options = {},
): (number | string)[] {
  const sim = new CacheSim(createPolicy(policy, frames, options));
  const name = new Map<number, string | number>();
  const parsed = refs.map((r) => {
    const text = String(r);
    const write = text.endsWith('w') ? 1 : 0;
    const key = write ? text.slice(0, -1) : text;
    const page = Number.isNaN(Number(key)) ? key.charCodeAt(0) : Number(key);
    name.set(page, typeof r === 'number' ? r : key);
    return { page, write };
  });
  if (sim.policy.needsFuture) {
    const b = new NextUseBuilder();
    b.push(Float64Array.from(parsed.map((a) => a.page)), parsed.length);
    sim.setFuture(b.finish());
  }
  const out: (number | string)[] = [];
  for (const { page, write } of parsed) {
    sim.access(page, write);
    if (sim.lastVictim >= 0) out.push(name.get(sim.lastVictim)!);
  }
  expect(sim.validate()).toEqual([]);
  return out;
}

describe('the registry', () => {
  test('has every policy the issue names, plus OSTEP-compatible ones', () => {
    for (const n of [
      'fifo',
      'second-chance',
      'clock',
      'nru',
      'lru',
      'lfu',
      'mru',
      'random',
      'opt',
      'aging',
      'ws',
      'wsclock',
      'arc',
      '2q',
      'sieve',
      's3-fifo',
    ]) {
      expect(isPolicyName(n), n).toBe(true);
    }
    expect(policyNames).toContain('ostep-rand');
    expect(policyNames).toContain('ostep-clock');
    expect(policyInfo('clock').kind).toBe('kernel');
    expect(policyInfo('lru').kind).toBe('oracle');
  });

  test('an unknown name is an input error listing the names and suggesting the closest', () => {
    let err: unknown;
    try {
      createPolicy('lur', 4);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    const e = err as InputError;
    expect(e.format()).toMatch(
      /^--policy: error: unknown replacement policy 'lur'; expected one of fifo, .*\(did you mean 'lru'\?\)$/,
    );
    expect(() => createPolicy('clock', 0)).toThrow(/frame count must be an integer/);
    expect(() => createPolicy('clock', 2.5)).toThrow(InputError);
    expect(() => createPolicy('aging', 4, { bits: 31 })).toThrow(/bits must be an integer from 1 to 30/);
    expect(() => createPolicy('random', 4, { seed: -1 })).toThrow(InputError);
    expect(() => createPolicy('lru', 4, {}, { file: 'x.vms', line: 3, column: 9 })).not.toThrow();
    try {
      createPolicy('nope', 4, {}, { file: 'x.vms', line: 3, column: 9 });
    } catch (e2) {
      expect((e2 as InputError).format()).toMatch(/^x\.vms:3:9: error: unknown replacement policy 'nope'/);
    }
  });
});

test("CPython's random(): the same doubles for the same seeds", () => {
  // Printed by CPython 3.11: random.seed(s); [random.random() for _ in range(3)]; random.getrandbits(32)
  const cases: [number, number[], number][] = [
    [0, [0.8444218515250481, 0.7579544029403025, 0.420571580830845], 1112038970],
    [1, [0.13436424411240122, 0.8474337369372327, 0.763774618976614], 1095513148],
    [7, [0.32383276483316237, 0.15084917392450192, 0.6509344730398537], 311111475],
    [123456789, [0.6414006161858726, 0.5421892680969495, 0.9931750662832721], 3621740338],
    [2 ** 40 + 5, [0.5043802970418443, 0.2686044399723282, 0.9257865475671585], 2280452553],
  ];
  for (const [seed, doubles, bits] of cases) {
    const r = new PyRandom(seed);
    expect([r.random(), r.random(), r.random()], `seed ${seed}`).toEqual(doubles);
    expect(r.nextUint32()).toBe(bits);
  }
});

describe('exact LRU', () => {
  test('faults and evicts exactly as the textbook array LRU, for any reference string', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9 }),
        fc.array(fc.nat(14), { maxLength: 400 }),
        (frames, refs) => {
          const sim = new CacheSim(createPolicy('lru', frames));
          const victims: number[] = [];
          for (const p of refs) {
            sim.access(p);
            if (sim.lastVictim >= 0) victims.push(sim.lastVictim);
          }
          const naive = naiveLru(refs, frames);
          expect(sim.faults).toBe(naive.faults);
          expect(victims).toEqual(naive.victims);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('the policies, by their rules', () => {
  test('second chance spares a referenced page once, CLOCK too, and they part ways when slots leave arrival order', () => {
    // 1,2,3 arrive referenced; 4 clears every bit and evicts 1; 2 is touched; 5 evicts 3, not 2.
    expect(victimsOf('second-chance', 3, [1, 2, 3, 4, 2, 5])).toEqual([1, 3]);
    expect(victimsOf('clock', 3, [1, 2, 3, 4, 2, 5])).toEqual([1, 3]);
    // Pages that arrive into slots 2, 1, 0: the queue evicts the first arrival, the hand slot 0.
    const sc = new SecondChancePolicy(3);
    const clock = new ClockPolicy(3);
    for (const p of [sc, clock]) {
      for (const [t, slot] of [2, 1, 0].entries()) p.insert(slot, 10 + t, t, 0, NEVER);
    }
    expect(sc.victim(5, NO_PAGE)).toBe(2);
    expect(clock.victim(5, NO_PAGE)).toBe(0);
    expect(clock.hand).toBe(1);
  });

  test('NRU (enhanced CLOCK) takes a clean unreferenced page before a dirty one', () => {
    const p = new NruPolicy(3);
    p.insert(0, 100, 0, 1, NEVER); // written: dirty
    p.insert(1, 101, 1, 0, NEVER);
    p.insert(2, 102, 2, 0, NEVER);
    // All referenced: sweeps clear the bits; then the first (0,0) is slot 1, not the dirty slot 0.
    expect(p.victim(3, NO_PAGE)).toBe(1);
    p.insert(1, 103, 3, 0, NEVER);
    // From the hand (slot 2): slot 2 is (0,0) now.
    expect(p.victim(4, NO_PAGE)).toBe(2);
    expect(victimsOf('nru', 2, ['Aw', 'B', 'C'])).toEqual(['B']);
  });

  test('LFU evicts the least used page, the least recent among equals', () => {
    expect(victimsOf('lfu', 2, [1, 1, 1, 2, 3])).toEqual([2]);
    expect(victimsOf('lfu', 3, [1, 2, 3, 2, 3, 1, 4])).toEqual([2]);
    expect(victimsOf('lfu', 2, [1, 2, 3, 4])).toEqual([1, 2]);
  });

  test('MRU evicts the page used last', () => {
    // 3 evicts 2 (used last), 4 evicts 3 (brought in last), then 0 and 1 hit: MRU wins on loops.
    expect(victimsOf('mru', 3, [0, 1, 2, 3, 4, 0, 1])).toEqual([2, 3]);
  });

  test('random draws its victim with the seeded generator', () => {
    const v = victimsOf('random', 3, [1, 2, 3, 4], { seed: 7 });
    expect(v).toEqual([[1, 2, 3][Math.floor(new PyRandom(7).random() * 3)]]);
    const runs = new Set(
      [1, 2, 3, 4, 5].map((seed) =>
        JSON.stringify(victimsOf('random', 3, [1, 2, 3, 4, 5, 6, 7, 8, 9], { seed })),
      ),
    );
    expect(runs.size).toBeGreaterThan(1);
  });

  test('OPT evicts the page used furthest ahead; among pages never used again, the last one brought in', () => {
    expect(victimsOf('opt', 3, [1, 2, 3, 4, 1, 2])).toEqual([3]);
    expect(victimsOf('opt', 3, [1, 2, 3, 4])).toEqual([3]);
    expect(victimsOf('unopt', 3, [1, 2, 3, 4])).toEqual([1]);
    // UNOPT: 4 evicts 3 (needed soonest), 3 evicts 2, then 2 finds only never-again pages: the first in.
    expect(victimsOf('unopt', 3, [1, 2, 3, 4, 3, 2])).toEqual([3, 2, 1]);
    // The same victims as paging-policy.py's quadratic scan of the future, for any string.
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 7 }),
        fc.array(fc.nat(12), { maxLength: 300 }),
        (frames, refs) => {
          expect(victimsOf('opt', frames, refs)).toEqual(naiveOpt(refs, frames));
        },
      ),
      { numRuns: 200 },
    );
    // OPT is optimal: never more faults than any other policy.
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.nat(10), { maxLength: 200 }),
        (frames, refs) => {
          const opt = replayPages(refs, { policy: 'opt', frames }).faults;
          for (const other of ['lru', 'fifo', 'clock', 'arc', 'lfu']) {
            expect(opt).toBeLessThanOrEqual(replayPages(refs, { policy: other, frames }).faults);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  test('aging shifts the referenced bits in at each tick and evicts the smallest history', () => {
    const p = new AgingPolicy(2, 8, 2);
    p.insert(0, 100, 0, 0, NEVER);
    p.insert(1, 101, 1, 0, NEVER);
    p.touch(0, 2, 0, NEVER); // the tick at t=2 happens first: both counters 0x80, then slot 0 referenced
    expect(p.victim(3, NO_PAGE)).toBe(1);
    // Ten quiet ticks later every history is zero; the hand breaks the tie.
    p.insert(1, 102, 4, 0, NEVER);
    expect(p.victim(40, NO_PAGE)).toBe(0);
    expect(p.validate()).toEqual([]);
  });

  test('WS evicts a page outside the window τ, sparing pages referenced since the last look', () => {
    const p = new WorkingSetPolicy(3, 5);
    p.insert(0, 100, 0, 0, NEVER);
    p.insert(1, 101, 1, 0, NEVER);
    p.insert(2, 102, 2, 0, NEVER);
    // Every page referenced since it came in: no page is known old; the first clean one goes.
    expect(p.victim(3, NO_PAGE)).toBe(0);
    p.insert(0, 103, 3, 0, NEVER);
    p.touch(1, 4, 0, NEVER);
    // At t=20, slot 2 was last seen in use at t=3 (age 17 > τ), slot 1 is referenced again.
    expect(p.victim(20, NO_PAGE)).toBe(2);
    // With a huge τ nothing is outside the working set: the oldest unreferenced page goes.
    const q = new WorkingSetPolicy(2, 1000);
    q.insert(0, 1, 0, 0, NEVER);
    q.insert(1, 2, 1, 0, NEVER);
    q.victim(2, NO_PAGE); // clears both bits (last use = 2), evicts slot 0
    q.insert(0, 3, 3, 0, NEVER);
    q.victim(4, NO_PAGE); // slot 0 is referenced, slot 1 not: slot 1 goes
    expect(q.isResident(1)).toBe(false);
  });

  test('WSClock skips an old dirty page (scheduling its write) for an old clean one, and falls back to it', () => {
    const p = new WsClockPolicy(3, 1);
    p.insert(0, 100, 0, 1, NEVER); // dirty
    p.insert(1, 101, 1, 0, NEVER);
    p.insert(2, 102, 2, 1, NEVER); // dirty
    p.victim(3, NO_PAGE); // a first turn clears every bit; all are young: the first clean page goes
    expect(p.isResident(1)).toBe(false);
    p.insert(1, 103, 3, 0, NEVER);
    // At t=10: slot 2 old and dirty (scheduled), slot 0 old and dirty, slot 1 referenced.
    expect(p.victim(10, NO_PAGE)).toBe(2);
    const q = new WsClockPolicy(2, 1);
    q.insert(0, 1, 0, 1, NEVER);
    q.insert(1, 2, 1, 0, NEVER);
    q.touch(0, 1, 0, NEVER);
    q.touch(1, 1, 0, NEVER);
    q.victim(2, NO_PAGE);
    q.insert(1, 3, 2, 0, NEVER);
    // t=9, hand at 0: slot 0 is old and dirty (skipped), slot 1 referenced: after the turn, slot 0.
    expect(q.victim(9, NO_PAGE)).toBe(0);
  });

  test('ARC keeps pages used twice through a scan that flushes LRU, and learns from its ghosts', () => {
    const refs = [1, 2, 1, 2, ...Array.from({ length: 20 }, (_, i) => 100 + i), 1, 2];
    const arc = new CacheSim(createPolicy('arc', 4));
    const lru = new CacheSim(createPolicy('lru', 4));
    for (const p of refs) {
      arc.access(p);
      lru.access(p);
    }
    expect(arc.faults).toBe(22); // 1, 2 and the scan
    expect(lru.faults).toBe(24);
    const policy = arc.policy as ArcPolicy;
    expect(policy.p).toBe(0);
    expect(policy.ghosts().b1.length).toBeGreaterThan(0);
    // A page just evicted from T1 comes back: a B1 ghost hit, so T1's target grows.
    const ghost = policy.ghosts().b1.at(-1)!;
    arc.access(ghost);
    expect(policy.p).toBe(1);
    expect(arc.validate()).toEqual([]);
  });

  test('2Q keeps a page that came back from A1out through a scan; a quick re-reference does not promote', () => {
    // 4 frames: Kin = 1, Kout = 2. Page 1 is evicted from A1in, comes back from A1out into Am.
    const refs = [1, 2, 3, 4, 5, 1, ...Array.from({ length: 12 }, (_, i) => 100 + i), 1];
    const sim = new CacheSim(createPolicy('2q', 4));
    for (const p of refs) sim.access(p);
    expect(sim.isDirty(1)).toBe(false);
    expect(sim.slotOf(1)).toBeGreaterThanOrEqual(0);
    expect(sim.faults).toBe(refs.length - 1);
    // A page touched twice while in A1in is still evicted from A1in by a scan.
    expect(victimsOf('2q', 2, [7, 7, 8, 9])).toEqual([7]);
  });

  test('SIEVE keeps a visited old page in place and evicts the unvisited pages after it', () => {
    // A, B, C arrive unvisited; A is hit; D: the hand clears A and evicts B; E evicts C.
    expect(victimsOf('sieve', 3, ['A', 'B', 'C', 'A', 'D', 'E'])).toEqual(['B', 'C']);
    const sim = new CacheSim(createPolicy('sieve', 3));
    for (const p of [1, 2, 3, 1, 4]) sim.access(p);
    expect(sim.residentPages()).toEqual([1, 3, 4]);
  });

  test('S3-FIFO sends one-hit pages from S to the ghost, brings ghosts back into M, promotes pages hit twice', () => {
    const sim = new CacheSim(createPolicy('s3-fifo', 10));
    for (let p = 1; p <= 10; p++) sim.access(p);
    sim.access(3);
    sim.access(3); // page 3: frequency 2
    sim.access(11); // S holds 10 > its 1-page target: evict from S, oldest first: 1 (frequency 0)
    expect(sim.lastVictim).toBe(1);
    sim.access(1); // in the ghost: back into M; S evicts 2
    expect(sim.lastVictim).toBe(2);
    sim.access(12); // S's oldest is 3, hit twice: it moves to M, and 4 goes
    expect(sim.lastVictim).toBe(4);
    expect(sim.residentPages()).toEqual([5, 6, 7, 8, 9, 10, 11, 12, 1, 3]);
  });
});
