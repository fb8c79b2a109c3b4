/**
 * One suite for every replacement policy: the protocol of `policy.ts` holds under any sequence of
 * faults, hits, removals and proactive reclaims (fast-check), with the policy's own validator run
 * after every step; runs are deterministic; and the cache simulation built on each stays sound.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { InvariantError } from '../../src/base/errors.js';
import { NEVER, NO_PAGE, type ReplacementPolicy } from '../../src/kernel/reclaim/policy.js';
import { createPolicy, policyInfo, policyNames } from '../../src/kernel/reclaim/registry.js';
import { CacheSim, NextUseBuilder } from '../../src/sim/cachesim.js';

type Op =
  | { kind: 'fault'; page: number; write: number }
  | { kind: 'hit'; pick: number; write: number }
  | { kind: 'remove'; pick: number }
  | { kind: 'reclaim' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({ kind: fc.constant('fault' as const), page: fc.nat(40), write: fc.nat(1) }),
  },
  {
    weight: 5,
    arbitrary: fc.record({ kind: fc.constant('hit' as const), pick: fc.nat(), write: fc.nat(1) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reclaim' as const) }) },
);

/**
 * Drives `policy` through `ops` as a kernel would (a fault takes a free slot or the victim's, pages
 * are never resident twice), checking the protocol after each step.
 * @returns the victims, in order.
 */
function drive(policy: ReplacementPolicy, ops: readonly Op[], check: boolean): number[] {
  const cap = policy.capacity;
  const slotOf = new Map<number, number>(); // page → slot
  const pageIn = new Map<number, number>(); // slot → page
  const victims: number[] = [];
  let now = 0;
  const freeSlot = () => {
    for (let s = 0; s < cap; s++) if (!pageIn.has(s)) return s;
    return -1;
  };
  const evict = (slot: number) => {
    expect(pageIn.has(slot), `victim ${slot} was occupied`).toBe(true);
    expect(policy.isResident(slot), 'the victim is free afterwards').toBe(false);
    slotOf.delete(pageIn.get(slot)!);
    pageIn.delete(slot);
    victims.push(slot);
  };
  for (const op of ops) {
    now++;
    // A next use that is consistent enough for OPT: later than now, distinct per step.
    const nextUse =
      (op.kind === 'fault' || op.kind === 'hit') && now % 7 === 0 ? NEVER : now * 50 + (now % 13);
    if (op.kind === 'fault') {
      if (slotOf.has(op.page)) continue;
      let slot = freeSlot();
      if (slot < 0) {
        slot = policy.victim(now, op.page);
        evict(slot);
      }
      policy.insert(slot, op.page, now, op.write, nextUse);
      slotOf.set(op.page, slot);
      pageIn.set(slot, op.page);
    } else if (op.kind === 'hit' || op.kind === 'remove') {
      if (pageIn.size === 0) continue;
      const slots = [...pageIn.keys()].sort((a, b) => a - b);
      const slot = slots[op.pick % slots.length]!;
      if (op.kind === 'hit') policy.touch(slot, now, op.write, nextUse);
      else {
        policy.remove(slot);
        slotOf.delete(pageIn.get(slot)!);
        pageIn.delete(slot);
      }
    } else {
      if (pageIn.size === 0) continue;
      evict(policy.victim(now, NO_PAGE));
    }
    expect(policy.resident).toBe(pageIn.size);
    expect(policy.resident).toBeLessThanOrEqual(cap);
    if (check) {
      expect(policy.validate()).toEqual([]);
      for (let s = 0; s < cap; s++) expect(policy.isResident(s), `slot ${s}`).toBe(pageIn.has(s));
      expect([...policy.order()].sort((a, b) => a - b)).toEqual([...pageIn.keys()].sort((a, b) => a - b));
    }
  }
  return victims;
}

describe.each(policyNames.map((n) => [n]))('policy %s', (name) => {
  test('fills exactly its capacity, and every victim is an occupied slot that it then forgets', () => {
    const p = createPolicy(name, 5);
    for (let s = 0; s < 5; s++) p.insert(s, 100 + s, s, 0, 1000 + s);
    expect(p.resident).toBe(5);
    expect(p.order()).toHaveLength(5);
    for (let i = 0; i < 5; i++) {
      const v = p.victim(10 + i, NO_PAGE);
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(5);
      expect(p.isResident(v)).toBe(false);
      expect(p.resident).toBe(4 - i);
      expect(p.validate()).toEqual([]);
    }
    expect(() => p.victim(20, NO_PAGE)).toThrow(InvariantError);
  });

  test('keeps the protocol under random faults, hits, removals and reclaims (no slot leaks)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.array(opArb, { maxLength: 120 }), (cap, ops) => {
        const p = createPolicy(name, cap);
        drive(p, ops, true);
        // Draining leaves nothing behind.
        while (p.resident > 0) p.victim(1e6, NO_PAGE);
        expect(p.validate()).toEqual([]);
        expect(p.order()).toEqual([]);
      }),
      { numRuns: 60 },
    );
  });

  test('is deterministic: the same calls give the same victims, also after reset()', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 20, maxLength: 150 }), (ops) => {
        const a = createPolicy(name, 4);
        const first = drive(a, ops, false);
        expect(drive(createPolicy(name, 4), ops, false)).toEqual(first);
        a.reset();
        expect(a.resident).toBe(0);
        expect(drive(a, ops, false)).toEqual(first);
      }),
      { numRuns: 25 },
    );
  });

  test('under the cache simulation: hits + faults = accesses, and every check passes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.tuple(fc.nat(25), fc.nat(1)), { maxLength: 300 }),
        (frames, stream) => {
          const sim = new CacheSim(createPolicy(name, frames));
          const pages = Float64Array.from(stream.map(([p]) => p * 4097 + 2 ** 40));
          const writes = Uint8Array.from(stream.map(([, w]) => w));
          if (sim.policy.needsFuture) {
            const b = new NextUseBuilder();
            b.push(pages, pages.length);
            sim.setFuture(b.finish());
          }
          for (let i = 0; i < pages.length; i += 17) {
            sim.run(pages.subarray(i, i + 17), writes.subarray(i, i + 17), Math.min(17, pages.length - i));
            expect(sim.validate()).toEqual([]);
          }
          const st = sim.stats();
          expect(st.hits + st.faults).toBe(pages.length);
          expect(st.coldFaults).toBe(new Set(pages).size);
          expect(sim.policy.resident).toBe(Math.min(frames, st.distinctPages));
          expect(st.faults - st.evictions).toBe(Math.min(frames, st.distinctPages));
          expect(st.writebacks).toBeLessThanOrEqual(st.evictions);
        },
      ),
      { numRuns: 40 },
    );
  });

  test('says what a kernel could run', () => {
    const p = createPolicy(name, 2);
    expect(['kernel', 'oracle']).toContain(p.kind);
    expect(p.needsFuture).toBe(name === 'opt' || name === 'unopt');
    if (p.needsFuture) expect(p.kind).toBe('oracle');
    expect(p.name).toBe(name);
    expect(policyInfo(name).kind).toBe(p.kind);
    // Only accessed/dirty bits for a kernel policy: it must not care how many hits a page had.
    if (p.kind === 'kernel' && name !== 'aging') {
      const once = createPolicy(name, 3);
      const many = createPolicy(name, 3);
      for (const q of [once, many]) for (let s = 0; s < 3; s++) q.insert(s, s, s, 0, NEVER);
      once.touch(1, 3, 0, NEVER);
      for (let t = 3; t < 9; t++) many.touch(1, t, 0, NEVER);
      expect(many.victim(10, NO_PAGE)).toBe(once.victim(10, NO_PAGE));
      expect(many.order()).toEqual(once.order());
    }
  });
});
