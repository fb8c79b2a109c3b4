/** The binary buddy allocator: split on allocation, merge with the buddy on free, orders 0..10. */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  FRAME_ANON,
  FRAME_FREE,
  FRAME_PAGETABLE,
  FrameTable,
  MAX_ORDER,
  NO_OWNER,
} from '../../src/kernel/frames.js';

/** Free blocks as `order: [pfns]`, smallest order first, orders with no block left out. */
function freeLists(f: FrameTable): Record<number, number[]> {
  const out: Record<number, number[]> = {};
  for (let order = 0; order <= MAX_ORDER; order++) {
    const list = f.freeList(order).sort((a, b) => a - b);
    if (list.length > 0) out[order] = list;
  }
  return out;
}

/** Free buddies of the same order that were left unmerged (a buddy allocator never has any). */
function unmergedBuddies(f: FrameTable): string[] {
  const out: string[] = [];
  for (let order = 0; order < MAX_ORDER; order++) {
    const free = new Set(f.freeList(order));
    for (const pfn of free) if (free.has(pfn ^ (2 ** order))) out.push(`order ${order}: ${pfn}`);
  }
  return out;
}

function snapshot(f: FrameTable) {
  return { lists: freeLists(f), free: f.freeFrames, blocks: [...f.freeBlocks], kinds: f.kind.slice() };
}

describe('seeding', () => {
  test('2048 frames are two blocks of the largest order, 2^10 frames each', () => {
    const f = new FrameTable(2048);
    expect(freeLists(f)).toEqual({ 10: [0, 1024] });
    expect(f.freeFrames).toBe(2048);
    expect(f.validate()).toEqual([]);
  });

  test('1000 frames, not a power of two, are 512 + 256 + 128 + 64 + 32 + 8, each aligned to its size', () => {
    const f = new FrameTable(1000);
    expect(freeLists(f)).toEqual({ 3: [992], 5: [960], 6: [896], 7: [768], 8: [512], 9: [0] });
    expect(f.validate()).toEqual([]);
  });

  test('a single frame is one order-0 block', () => {
    const f = new FrameTable(1);
    expect(freeLists(f)).toEqual({ 0: [0] });
  });
});

describe('split and merge', () => {
  test('one frame out of 1024 splits the block down to order 0, leaving one buddy per order', () => {
    const f = new FrameTable(1024);
    const pfn = f.alloc(0, FRAME_ANON, 7);
    expect(pfn).toBe(0);
    // 1024 = [0] + 1 + 2 + 4 + ... + 512: the upper half of each split stays free.
    expect(freeLists(f)).toEqual({
      0: [1],
      1: [2],
      2: [4],
      3: [8],
      4: [16],
      5: [32],
      6: [64],
      7: [128],
      8: [256],
      9: [512],
    });
    expect(f.freeFrames).toBe(1023);
    expect([f.kind[0], f.owner[0], f.refcount[0], f.buddy.allocOrder[0]]).toEqual([FRAME_ANON, 7, 1, 0]);
    expect(f.validate()).toEqual([]);

    f.free(pfn);
    expect(freeLists(f)).toEqual({ 10: [0] });
    expect([f.kind[0], f.owner[0], f.refcount[0]]).toEqual([FRAME_FREE, NO_OWNER, 0]);
    expect(f.validate()).toEqual([]);
  });

  test('a block merges only with its buddy (pfn XOR size), and the merge climbs as far as it can', () => {
    const f = new FrameTable(8);
    const pfns = [0, 1, 2, 3].map(() => f.alloc(0, FRAME_ANON, 1));
    expect(pfns).toEqual([0, 1, 2, 3]);
    expect(freeLists(f)).toEqual({ 2: [4] });
    f.free(1);
    f.free(2); // 1 and 2 are neighbours but not buddies: 1's buddy is 0, 2's is 3
    expect(freeLists(f)).toEqual({ 0: [1, 2], 2: [4] });
    f.free(0); // 0 + 1 → [0, 2)
    expect(freeLists(f)).toEqual({ 0: [2], 1: [0], 2: [4] });
    f.free(3); // 3 + 2 → [2, 4), + [0, 2) → [0, 4), + [4, 8) → [0, 8)
    expect(freeLists(f)).toEqual({ 3: [0] });
    expect(f.validate()).toEqual([]);
  });

  test.each(Array.from({ length: MAX_ORDER + 1 }, (_, order) => [order, 2 ** order]))(
    'an order-%i block is %i frames, aligned to its size, and gives them all back',
    (order) => {
      const f = new FrameTable(3000);
      f.alloc(0, FRAME_ANON, 1); // break the symmetry so that alignment is not a coincidence
      const pfn = f.alloc(order, FRAME_PAGETABLE, 2);
      expect(pfn).toBeGreaterThanOrEqual(0);
      expect(pfn % 2 ** order).toBe(0);
      expect(f.freeFrames).toBe(3000 - 1 - 2 ** order);
      for (let i = pfn; i < pfn + 2 ** order; i++) expect(f.kind[i]).toBe(FRAME_PAGETABLE);
      expect(f.validate()).toEqual([]);
      f.free(pfn);
      expect(f.freeFrames).toBe(2999);
      expect(f.validate()).toEqual([]);
    },
  );

  test('an order above 10 is never available', () => {
    const f = new FrameTable(4096);
    expect(f.alloc(MAX_ORDER + 1, FRAME_ANON, 1)).toBe(-1);
  });
});

describe('exhaustion', () => {
  test('when every frame is taken, alloc returns -1 and changes nothing', () => {
    const f = new FrameTable(100);
    while (f.alloc(0, FRAME_ANON, 1) >= 0);
    const before = snapshot(f);
    expect(f.freeFrames).toBe(0);
    expect(f.alloc(0, FRAME_ANON, 1)).toBe(-1);
    expect(snapshot(f)).toEqual(before);
    expect(f.validate()).toEqual([]);
  });

  test('fragmented free memory cannot serve a larger order: -1, and the free lists are untouched', () => {
    const f = new FrameTable(16);
    const pfns: number[] = [];
    for (let i = 0; i < 16; i++) pfns.push(f.alloc(0, FRAME_ANON, 1));
    for (const pfn of pfns) if (pfn % 2 === 0) f.free(pfn); // every other frame: 8 free, none adjacent
    const before = snapshot(f);
    expect(f.freeFrames).toBe(8);
    expect(f.alloc(1, FRAME_ANON, 1)).toBe(-1);
    expect(snapshot(f)).toEqual(before);
  });
});

describe('references', () => {
  test('put drops one reference and frees the frame with the last', () => {
    const f = new FrameTable(4);
    const pfn = f.alloc(0, FRAME_ANON, 1);
    f.refcount[pfn]!++;
    expect(f.put(pfn)).toBe(false);
    expect(f.freeFrames).toBe(3);
    expect(f.put(pfn)).toBe(true);
    expect(f.freeFrames).toBe(4);
  });

  test('freeing a frame that is still mapped, or that heads no block, is a vmscope bug', () => {
    const f = new FrameTable(4);
    const pfn = f.alloc(1, FRAME_ANON, 1);
    expect(() => f.free(pfn + 1)).toThrow(/heads no allocated block/);
    f.mapcount[pfn] = 1;
    expect(() => f.free(pfn)).toThrow(/still mapped/);
    f.mapcount[pfn] = 0;
    f.free(pfn);
    expect(() => f.put(pfn)).toThrow(/refcount 0/);
  });
});

test('random allocation and free sequences keep the buddy structure whole', () => {
  const step = fc.oneof(
    fc.record({ alloc: fc.integer({ min: 0, max: MAX_ORDER }) }),
    fc.record({ free: fc.nat() }),
  );
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 1100 }), // up to just past two blocks of the largest order
      fc.array(step, { maxLength: 80, size: 'max' }),
      (frames, steps) => {
        const f = new FrameTable(frames);
        const initial = freeLists(f);
        const live: { pfn: number; order: number }[] = [];
        const owned = new Uint8Array(frames);
        for (const s of steps) {
          if ('alloc' in s) {
            const before = f.freeFrames;
            const pfn = f.alloc(s.alloc, FRAME_ANON, 1);
            if (pfn < 0) {
              expect(f.freeFrames).toBe(before);
              // Refused only if no free block of that order or above exists.
              for (let o = s.alloc; o <= MAX_ORDER; o++) expect(f.freeList(o)).toEqual([]);
              continue;
            }
            expect(pfn % 2 ** s.alloc).toBe(0);
            const block = owned.subarray(pfn, pfn + 2 ** s.alloc);
            expect(block.includes(1), `a frame of [${pfn}, +2^${s.alloc}) handed out twice`).toBe(false);
            block.fill(1);
            live.push({ pfn, order: s.alloc });
          } else if (live.length > 0) {
            const [block] = live.splice(s.free % live.length, 1);
            f.free(block!.pfn);
            owned.fill(0, block!.pfn, block!.pfn + 2 ** block!.order);
          }
          expect(f.validate()).toEqual([]);
          expect(unmergedBuddies(f)).toEqual([]);
          expect(f.freeFrames).toBe(frames - live.reduce((n, b) => n + 2 ** b.order, 0));
        }
        for (const block of live) f.free(block.pfn);
        // Everything given back merges into exactly the blocks the allocator started with.
        expect(freeLists(f)).toEqual(initial);
        expect(f.validate()).toEqual([]);
      },
    ),
    { numRuns: 200 },
  );
});
