/** The TLB: set-associative, ASID-tagged, least-recently-used within a set. */
import { describe, expect, test } from 'vitest';
import { machineConfigProblem } from '../../src/hw/machine.js';
import { formatTlbPerm, TLB_D, TLB_R, TLB_U, TLB_W, Tlb } from '../../src/hw/tlb.js';

const RW = TLB_R | TLB_W | TLB_U;

describe('a 2-way TLB of 8 entries has 4 sets, chosen by the low bits of the page number', () => {
  test('pages 0, 4 and 8 compete for set 0; page 1 lives in set 1', () => {
    const tlb = new Tlb(8, 2);
    expect([tlb.sets, tlb.setMask]).toEqual([4, 3]);
    tlb.fill(0, 1, 100, RW);
    tlb.fill(4, 1, 104, RW);
    tlb.fill(1, 1, 101, RW);
    expect(tlb.entries().map((e) => [e.vpn, e.set])).toEqual([
      [0, 0],
      [4, 0],
      [1, 1],
    ]);
    // A third page in set 0 evicts the least recently used of the two: page 0.
    tlb.fill(8, 1, 108, RW);
    expect(tlb.find(0, 1)).toBe(-1);
    expect(tlb.find(4, 1)).toBeGreaterThanOrEqual(0);
    expect(tlb.find(8, 1)).toBeGreaterThanOrEqual(0);
    expect(tlb.find(1, 1)).toBeGreaterThanOrEqual(0);
    expect(tlb.evictions).toBe(1);
  });

  test('refilling a page makes it the most recent, so the other way is the victim', () => {
    const tlb = new Tlb(8, 2);
    tlb.fill(0, 1, 100, RW);
    tlb.fill(4, 1, 104, RW);
    tlb.fill(0, 1, 200, RW | TLB_D); // the same tag: replaced in place, no eviction
    expect(tlb.evictions).toBe(0);
    expect(tlb.pfn[tlb.find(0, 1)]).toBe(200);
    tlb.fill(8, 1, 108, RW);
    expect(tlb.find(4, 1)).toBe(-1);
    expect(tlb.find(0, 1)).toBeGreaterThanOrEqual(0);
  });

  test('an invalidated way is reused before any valid one is evicted', () => {
    const tlb = new Tlb(8, 2);
    tlb.fill(0, 1, 100, RW);
    tlb.fill(4, 1, 104, RW);
    tlb.invalidatePage(1, 4);
    tlb.fill(8, 1, 108, RW);
    expect(tlb.evictions).toBe(0);
    expect(tlb.find(0, 1)).toBeGreaterThanOrEqual(0);
  });
});

test('a fully associative TLB keeps the N most recently filled pages, whatever their numbers', () => {
  const tlb = new Tlb(4, 4);
  expect(tlb.sets).toBe(1);
  for (const vpn of [3, 17, 4096, 9, 5]) tlb.fill(vpn, 0, vpn, RW);
  expect(
    tlb
      .entries()
      .map((e) => e.vpn)
      .sort((a, b) => a - b),
  ).toEqual([5, 9, 17, 4096]);
});

test('page numbers above 2^32 (x86-64 has 36-bit ones) are tags like any other', () => {
  const tlb = new Tlb(16, 4);
  const high = 0x7_ffff_fffe; // the page just below the x86-64 stack top
  tlb.fill(high, 1, 42, RW);
  expect(tlb.pfn[tlb.find(high, 1)]).toBe(42);
  expect(tlb.find(high % 2 ** 32, 1)).toBe(-1);
  expect(tlb.entries()[0]!.set).toBe(high % tlb.sets);
});

describe('ASIDs', () => {
  test('the same page of two address spaces is two entries; neither sees the other', () => {
    const tlb = new Tlb(8, 2);
    tlb.fill(7, 1, 100, RW);
    tlb.fill(7, 2, 200, RW);
    expect(tlb.pfn[tlb.find(7, 1)]).toBe(100);
    expect(tlb.pfn[tlb.find(7, 2)]).toBe(200);
    expect(tlb.find(7, 3)).toBe(-1);
  });

  test('invalidating an ASID drops its entries only', () => {
    const tlb = new Tlb(8, 2);
    for (let vpn = 0; vpn < 3; vpn++) {
      tlb.fill(vpn, 1, vpn, RW);
      tlb.fill(vpn + 8, 2, vpn, RW);
    }
    tlb.invalidateAsid(1);
    expect(tlb.entries().map((e) => e.asid)).toEqual([2, 2, 2]);
    expect(tlb.invalidations).toBe(3);
  });
});

describe('invalidation', () => {
  test('invlpg of one page drops that page of that ASID only', () => {
    const tlb = new Tlb(8, 2);
    tlb.fill(5, 1, 50, RW);
    tlb.fill(5, 2, 51, RW);
    tlb.fill(6, 1, 60, RW);
    tlb.invalidatePage(1, 5);
    expect(tlb.find(5, 1)).toBe(-1);
    expect(tlb.find(5, 2)).toBeGreaterThanOrEqual(0);
    expect(tlb.find(6, 1)).toBeGreaterThanOrEqual(0);
    tlb.invalidatePage(1, 5); // already gone: nothing counted
    expect(tlb.invalidations).toBe(1);
  });

  test.each([
    ['a short range, page by page', 10, 13],
    ['a long range, by scanning every entry', 0, 1000],
  ])('a range drops exactly the pages inside it: %s', (_how, start, end) => {
    const tlb = new Tlb(64, 4);
    const vpns = [start - 1, start, start + 1, end - 1, end, end + 5];
    for (const vpn of vpns) if (vpn >= 0) tlb.fill(vpn, 3, vpn, RW);
    tlb.fill(start, 4, 0, RW); // another address space's page in the range stays
    tlb.invalidateRange(3, start, end);
    const left = tlb.entries().map((e) => [e.vpn, e.asid]);
    expect(left).toEqual(
      expect.arrayContaining([
        [end, 3],
        [end + 5, 3],
        [start, 4],
      ]),
    );
    for (const vpn of [start, start + 1, end - 1]) expect(tlb.find(vpn, 3)).toBe(-1);
    if (start > 0) expect(tlb.find(start - 1, 3)).toBeGreaterThanOrEqual(0);
  });

  test('a full flush empties the TLB and is counted as one flush', () => {
    const tlb = new Tlb(8, 2);
    tlb.fill(1, 1, 1, RW);
    tlb.fill(2, 2, 2, RW);
    tlb.flushAll();
    expect(tlb.entries()).toEqual([]);
    expect(tlb.flushes).toBe(1);
  });
});

test('an entry shows its rights as r w x u d', () => {
  expect(formatTlbPerm(TLB_R | TLB_U)).toBe('r--u-');
  expect(formatTlbPerm(RW | TLB_D)).toBe('rw-ud');
});

test.each([
  [{ tlbEntries: 64, tlbWays: 4 }, null],
  [{ tlbEntries: 4, tlbWays: 1 }, null],
  [{ tlbEntries: 64, tlbWays: 64 }, null],
  [{ tlbEntries: 64, tlbWays: 5 }, 'tlb ways must divide the entries'],
  [{ tlbEntries: 48, tlbWays: 4 }, 'tlb entries / ways must be a power of two'],
  [{ tlbEntries: 0, tlbWays: 1 }, 'tlb entries must be positive'],
])('TLB shape %o is %s', (tlb, problem) => {
  expect(machineConfigProblem({ arch: 'x86_64', ramBytes: 1 << 20, ...tlb })).toBe(problem);
});

test('the constructor refuses a shape the machine config would refuse', () => {
  expect(() => new Tlb(48, 4)).toThrow(/power of two/);
  expect(() => new Tlb(64, 5)).toThrow(/ways must divide/);
});
