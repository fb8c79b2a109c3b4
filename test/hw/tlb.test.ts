/**
 * The TLB: set-associative, ASID-tagged, least-recently-used within a set. Driven the way hardware
 * drives it, through the MMU's translations of hand-built page tables.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { Machine, machineConfigProblem } from '../../src/hw/machine.js';
import { ACCESS_READ, ACCESS_WRITE } from '../../src/hw/mmu.js';
import type { PteRights } from '../../src/hw/pte.js';
import { formatTlbPerm, TLB_D, TLB_R, TLB_U, TLB_W, Tlb } from '../../src/hw/tlb.js';
import { TableBuilder } from '../helpers.js';

const USER_RW: PteRights = { write: true, user: true, exec: false };
const PAGE = 4096;

/** An x86-64 machine with a TLB of the given shape, running one address space as ASID 1. */
function machineWithTlb(entries: number, ways: number) {
  const machine = new Machine({ arch: 'x86_64', ramBytes: 64 * PAGE, tlbEntries: entries, tlbWays: ways });
  const tables = new TableBuilder(machine);
  machine.mmu.setContext(tables.root, 1);
  /** Maps page `vpn` (to a fresh frame) and touches it. @returns the frame. */
  const touch = (vpn: number, access: 0 | 1 = ACCESS_READ): number => {
    if (machine.mmu.probe(tables.root, vpn * PAGE).pa < 0)
      tables.map(vpn * PAGE, tables.takeFrame(), USER_RW);
    const pa = machine.mmu.translate(vpn * PAGE, access);
    expect(pa).toBeGreaterThanOrEqual(0);
    return Math.floor(pa / PAGE);
  };
  const cached = (vpn: number, asid = 1): boolean => machine.tlb.find(vpn, asid) >= 0;
  return { machine, tlb: machine.tlb, mmu: machine.mmu, tables, touch, cached };
}

describe('a 2-way TLB of 8 entries has 4 sets, chosen by the low bits of the page number', () => {
  test('pages 0x400, 0x404 and 0x408 compete for set 0; page 0x401 lives in set 1', () => {
    const { tlb, touch, cached } = machineWithTlb(8, 2);
    expect([tlb.sets, tlb.setMask]).toEqual([4, 3]);
    touch(0x400);
    touch(0x404);
    touch(0x401);
    expect(tlb.entries().map((e) => [e.vpn, e.set])).toEqual([
      [0x400, 0],
      [0x404, 0],
      [0x401, 1],
    ]);
    // A third page for set 0 evicts the least recently used of the two there: 0x400.
    touch(0x408);
    expect([cached(0x400), cached(0x404), cached(0x408), cached(0x401)]).toEqual([false, true, true, true]);
    expect(tlb.evictions).toBe(1);
  });

  test('a hit makes its entry the most recent, so the other way is the victim', () => {
    const { mmu, tlb, touch, cached } = machineWithTlb(8, 2);
    touch(0x400);
    touch(0x404);
    touch(0x400); // a hit
    expect(mmu.tlbHits).toBe(1);
    touch(0x408);
    expect([cached(0x400), cached(0x404), cached(0x408)]).toEqual([true, false, true]);
    expect(tlb.evictions).toBe(1);
  });

  test('an invalidated way is reused before any valid one is evicted', () => {
    const { tlb, touch, cached } = machineWithTlb(8, 2);
    touch(0x400);
    touch(0x404);
    tlb.invalidatePage(1, 0x404);
    touch(0x408);
    expect(tlb.evictions).toBe(0);
    expect([cached(0x400), cached(0x408)]).toEqual([true, true]);
  });
});

test('a fully associative TLB keeps the N most recently used pages, whatever their numbers', () => {
  const { tlb, touch } = machineWithTlb(4, 4);
  expect(tlb.sets).toBe(1);
  for (const vpn of [3, 17, 0x1000, 9, 5]) touch(vpn);
  const resident = tlb
    .entries()
    .map((e) => e.vpn)
    .sort((a, b) => a - b);
  expect(resident).toEqual([5, 9, 17, 0x1000]);
});

test('page numbers above 2^32 (x86-64 has 35-bit ones) are tags like any other', () => {
  const { tlb, touch, cached } = machineWithTlb(16, 4);
  const high = 0x7_ffff_fffe; // the page just below the x86-64 stack top
  const pfn = touch(high);
  expect(cached(high)).toBe(true);
  expect(tlb.pfn[tlb.find(high, 1)]).toBe(pfn);
  expect(cached(high % 2 ** 32)).toBe(false);
  expect(tlb.entries()[0]!.set).toBe(high % tlb.sets);
});

test('an entry filled by a read does not know the page is dirty; a write refills it with D', () => {
  const { tlb, touch } = machineWithTlb(8, 2);
  touch(0x400, ACCESS_READ);
  expect(formatTlbPerm(tlb.entries()[0]!.perm)).toBe('rw-u-');
  touch(0x400, ACCESS_WRITE);
  expect(tlb.entries()).toHaveLength(1);
  expect(formatTlbPerm(tlb.entries()[0]!.perm)).toBe('rw-ud');
});

describe('ASIDs', () => {
  test('the same page of two address spaces is two entries; neither sees the other', () => {
    const { machine, tlb, tables, touch } = machineWithTlb(8, 2);
    const other = tables.another();
    const frameA = touch(0x400);
    const frameB = other.takeFrame();
    other.map(0x400 * PAGE, frameB, USER_RW);
    machine.mmu.setContext(other.root, 2);
    expect(machine.mmu.translate(0x400 * PAGE, ACCESS_READ)).toBe(frameB * PAGE);
    expect(tlb.pfn[tlb.find(0x400, 1)]).toBe(frameA);
    expect(tlb.pfn[tlb.find(0x400, 2)]).toBe(frameB);
    expect(tlb.find(0x400, 3)).toBe(-1);
  });

  test('invalidating an ASID drops its entries only', () => {
    const { machine, tlb, tables, touch } = machineWithTlb(8, 2);
    const other = tables.another();
    for (const vpn of [1, 2, 3]) touch(vpn);
    machine.mmu.setContext(other.root, 2);
    for (const vpn of [9, 10, 11]) {
      other.map(vpn * PAGE, other.takeFrame(), USER_RW);
      machine.mmu.translate(vpn * PAGE, ACCESS_READ);
    }
    tlb.invalidateAsid(1);
    expect(tlb.entries().map((e) => e.asid)).toEqual([2, 2, 2]);
    expect(tlb.invalidations).toBe(3);
  });
});

describe('invalidation', () => {
  test('invlpg of one page drops that page of that ASID only', () => {
    const { tlb, touch, cached } = machineWithTlb(8, 2);
    touch(5);
    touch(6);
    tlb.invalidatePage(1, 5);
    tlb.invalidatePage(2, 6); // another ASID: nothing to drop
    expect([cached(5), cached(6)]).toEqual([false, true]);
    tlb.invalidatePage(1, 5); // already gone: nothing counted
    expect(tlb.invalidations).toBe(1);
  });

  test('after invlpg the next access walks again and sees the new PTE', () => {
    const { mmu, tlb, tables, touch } = machineWithTlb(8, 2);
    const before = touch(0x400);
    const after = tables.takeFrame();
    tables.map(0x400 * PAGE, after, USER_RW);
    expect(mmu.translate(0x400 * PAGE, ACCESS_READ)).toBe(before * PAGE); // stale, as on hardware
    tlb.invalidatePage(1, 0x400);
    expect(mmu.translate(0x400 * PAGE, ACCESS_READ)).toBe(after * PAGE);
  });

  test.each([
    ['a short range, page by page', 10, 13],
    ['a long range, by scanning every entry', 1, 1000],
  ])('a range drops exactly the pages inside it: %s', (_how, start, end) => {
    const { tlb, touch, cached } = machineWithTlb(64, 4);
    for (const vpn of [start - 1, start, start + 1, end - 1, end, end + 5]) touch(vpn);
    tlb.invalidateRange(1, start, end);
    expect([start, start + 1, end - 1].map((vpn) => cached(vpn))).toEqual([false, false, false]);
    expect([start - 1, end, end + 5].map((vpn) => cached(vpn))).toEqual([true, true, true]);
  });

  test('a full flush empties the TLB and is counted as one flush', () => {
    const { tlb, touch } = machineWithTlb(8, 2);
    touch(1);
    touch(2);
    tlb.flushAll();
    expect(tlb.entries()).toEqual([]);
    expect(tlb.flushes).toBe(1);
  });
});

test('an entry shows its rights as r w x u d', () => {
  expect(formatTlbPerm(TLB_R | TLB_U)).toBe('r--u-');
  expect(formatTlbPerm(TLB_R | TLB_W | TLB_U | TLB_D)).toBe('rw-ud');
});

test.each([
  ['64 entries in 4 ways', 64, 4, null],
  ['4 entries, direct-mapped (OSTEP)', 4, 1, null],
  ['64 entries, fully associative', 64, 64, null],
  ['64 entries in 5 ways', 64, 5, 'tlb ways must divide the entries'],
  ['48 entries in 4 ways (12 sets)', 48, 4, 'tlb entries / ways must be a power of two'],
  ['no entries', 0, 1, 'tlb entries must be positive'],
])(
  'a machine with a TLB of %s: accepted, or refused with the reason',
  (_shape, tlbEntries, tlbWays, problem) => {
    expect(machineConfigProblem({ arch: 'x86_64', ramBytes: 1 << 20, tlbEntries, tlbWays })).toBe(problem);
  },
);

test('the TLB refuses a shape the machine config would refuse', () => {
  expect(() => new Tlb(48, 4)).toThrow(/power of two/);
  expect(() => new Tlb(64, 5)).toThrow(/ways must divide/);
});

/** The way {@link Tlb.fill} picks for a page: its own entry, else the first invalid way, else the LRU one. */
function wayFillPicks(tlb: Tlb, vpn: number, asid: number): number {
  const own = tlb.find(vpn, asid);
  if (own >= 0) return own;
  const first = (vpn & tlb.setMask) * tlb.ways;
  let victim = first;
  for (let i = first; i < first + tlb.ways; i++) {
    if (tlb.key[i] === -1) return i;
    if (tlb.stamp[i]! < tlb.stamp[victim]!) victim = i;
  }
  return victim;
}

test('a miss refills the way Tlb.fill picks, and counts an eviction only when that way held another page', () => {
  const step = fc.oneof(
    fc.record({ page: fc.integer({ min: 0, max: 11 }), write: fc.boolean() }),
    fc.record({ drop: fc.integer({ min: 0, max: 11 }) }),
  );
  fc.assert(
    fc.property(fc.array(step, { minLength: 1, maxLength: 60 }), (steps) => {
      const { machine, tlb, mmu, tables } = machineWithTlb(8, 4);
      for (let p = 0; p < 12; p++) tables.map((0x400 + p) * PAGE, tables.takeFrame(), USER_RW);
      for (const s of steps) {
        if ('drop' in s) {
          tlb.invalidatePage(1, 0x400 + s.drop);
          continue;
        }
        const vpn = 0x400 + s.page;
        const way = wayFillPicks(tlb, vpn, 1);
        const held = tlb.key[way] !== -1 && tlb.vpn[way] !== vpn;
        const [misses, evictions] = [mmu.tlbMisses, tlb.evictions];
        expect(mmu.translate(vpn * PAGE, s.write ? ACCESS_WRITE : ACCESS_READ)).toBeGreaterThanOrEqual(0);
        if (mmu.tlbMisses === misses) continue;
        expect(tlb.find(vpn, 1)).toBe(way);
        expect(tlb.evictions - evictions).toBe(held ? 1 : 0);
      }
      expect(machine.tlb.entries().length).toBeLessThanOrEqual(8);
    }),
    { numRuns: 200 },
  );
});

test('the TLB holds what an exact LRU model of its sets holds, through hits, refills, invalidations and flushes', () => {
  const step = fc.oneof(
    { weight: 8, arbitrary: fc.record({ page: fc.integer({ min: 0, max: 11 }), write: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ drop: fc.integer({ min: 0, max: 11 }) }) },
    { weight: 1, arbitrary: fc.constant('flush' as const) },
  );
  fc.assert(
    fc.property(fc.array(step, { minLength: 1, maxLength: 80 }), (steps) => {
      const { tlb, mmu, tables } = machineWithTlb(8, 2);
      for (let p = 0; p < 12; p++) tables.map((0x400 + p) * PAGE, tables.takeFrame(), USER_RW);
      // The model: per set, each page it holds and the time of its last use.
      const sets = Array.from({ length: tlb.sets }, () => new Map<number, number>());
      let now = 0;
      for (const s of steps) {
        if (s === 'flush') {
          tlb.flushAll();
          for (const m of sets) m.clear();
          continue;
        }
        if ('drop' in s) {
          tlb.invalidatePage(1, 0x400 + s.drop);
          sets[(0x400 + s.drop) & tlb.setMask]!.delete(0x400 + s.drop);
          continue;
        }
        const vpn = 0x400 + s.page;
        const set = sets[vpn & tlb.setMask]!;
        if (!set.has(vpn) && set.size === tlb.ways) {
          const [lru] = [...set].reduce((a, b) => (b[1] < a[1] ? b : a));
          set.delete(lru);
        }
        set.set(vpn, ++now);
        expect(mmu.translate(vpn * PAGE + 8, s.write ? ACCESS_WRITE : ACCESS_READ)).toBeGreaterThanOrEqual(0);
        const held = (n: number) =>
          tlb
            .entries()
            .filter((e) => e.set === n)
            .map((e) => e.vpn)
            .sort((a, b) => a - b);
        for (let n = 0; n < tlb.sets; n++)
          expect(held(n)).toEqual([...sets[n]!.keys()].sort((a, b) => a - b));
      }
    }),
    { numRuns: 300 },
  );
});
