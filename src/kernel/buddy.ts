/**
 * The binary buddy allocator (Linux `mm/page_alloc.c`'s free areas, orders 0..MAX_ORDER): which
 * physical frames are free, in power-of-two blocks. It knows nothing of what an allocated frame holds;
 * that is the frame table's business (frames.ts).
 *
 * Free blocks sit on one intrusive doubly linked list per order (`next`/`prev` by pfn, -1 = none); the
 * head frame of a free block records its order in `freeOrder`, the head of an allocated block in
 * `allocOrder`. Allocation takes the smallest order that has a block and splits it; freeing merges a
 * block with its buddy (`pfn ^ (1 << order)`) while the buddy is free and of the same order.
 */
import { invariant } from '../base/errors.js';

export const MAX_ORDER = 10;

export class BuddyAllocator {
  readonly frameCount: number;
  /** Order of the free block this frame heads, or -1. */
  readonly freeOrder: Int8Array;
  /** Order of the allocated block this frame heads, or -1. */
  readonly allocOrder: Int8Array;
  private readonly next: Int32Array;
  private readonly prev: Int32Array;
  private readonly heads = new Int32Array(MAX_ORDER + 1).fill(-1);
  /** Free blocks per order. */
  readonly freeBlocks = new Int32Array(MAX_ORDER + 1);
  freeFrames = 0;

  constructor(frameCount: number) {
    this.frameCount = frameCount;
    this.freeOrder = new Int8Array(frameCount).fill(-1);
    this.allocOrder = new Int8Array(frameCount).fill(-1);
    this.next = new Int32Array(frameCount).fill(-1);
    this.prev = new Int32Array(frameCount).fill(-1);
    // Seed the free lists with the largest aligned blocks that fit, pushed from the top down so that
    // allocation starts at low frame numbers.
    const blocks: [number, number][] = [];
    let pfn = 0;
    while (pfn < frameCount) {
      let order = MAX_ORDER;
      while (order > 0 && (pfn % 2 ** order !== 0 || pfn + 2 ** order > frameCount)) order--;
      blocks.push([pfn, order]);
      pfn += 2 ** order;
    }
    for (const [start, order] of blocks.reverse()) {
      this.pushFree(start, order);
      this.freeFrames += 2 ** order;
    }
  }

  /** Takes a block of 2^order frames. @returns its first pfn, or -1 when none is large enough. */
  alloc(order: number): number {
    let k = order;
    while (k <= MAX_ORDER && this.heads[k] === -1) k++;
    if (k > MAX_ORDER) return -1;
    const pfn = this.heads[k]!;
    this.unlinkFree(pfn, k);
    while (k > order) {
      k--;
      this.pushFree(pfn + 2 ** k, k);
    }
    this.allocOrder[pfn] = order;
    this.freeFrames -= 2 ** order;
    return pfn;
  }

  /** Gives back the block headed by `pfn`, merging it with free buddies. @returns its order. */
  free(pfn: number): number {
    let order = this.allocOrder[pfn]!;
    if (order < 0) invariant(false, `buddy: free of pfn ${pfn}, which heads no allocated block`);
    const taken = order;
    this.allocOrder[pfn] = -1;
    this.freeFrames += 2 ** order;
    let head = pfn;
    while (order < MAX_ORDER) {
      const buddy = head ^ (2 ** order);
      if (buddy + 2 ** order > this.frameCount || this.freeOrder[buddy] !== order) break;
      this.unlinkFree(buddy, order);
      head = Math.min(head, buddy);
      order++;
    }
    this.pushFree(head, order);
    return taken;
  }

  /** Free blocks of one order, as head pfns (for display and the consistency check). */
  freeList(order: number): number[] {
    const out: number[] = [];
    for (let p = this.heads[order]!; p !== -1; p = this.next[p]!) out.push(p);
    return out;
  }

  /**
   * Checks the structure: every frame is in exactly one free block or one allocated block, lists are
   * linked both ways, blocks are aligned. `isFree(pfn)` is the frame table's view, checked against it.
   */
  validate(isFree: (pfn: number) => boolean): string[] {
    const problems: string[] = [];
    const covered = new Uint8Array(this.frameCount);
    let free = 0;
    for (let order = 0; order <= MAX_ORDER; order++) {
      let prev = -1;
      for (let p = this.heads[order]!; p !== -1; p = this.next[p]!) {
        if (this.prev[p] !== prev) problems.push(`free list ${order}: bad back link at pfn ${p}`);
        if (this.freeOrder[p] !== order)
          problems.push(`free list ${order}: pfn ${p} records order ${this.freeOrder[p]}`);
        if (p % 2 ** order !== 0) problems.push(`free list ${order}: pfn ${p} is not aligned`);
        for (let i = p; i < p + 2 ** order; i++) {
          if (covered[i]) problems.push(`pfn ${i} is in two free blocks`);
          covered[i] = 1;
          if (!isFree(i)) problems.push(`pfn ${i} is on a free list but in use`);
        }
        free += 2 ** order;
        prev = p;
        if (free > this.frameCount) {
          problems.push('free lists loop');
          return problems;
        }
      }
    }
    for (let p = 0; p < this.frameCount; p++) {
      const order = this.allocOrder[p]!;
      if (order < 0) continue;
      for (let i = p; i < p + 2 ** order; i++) {
        if (covered[i]) problems.push(`pfn ${i} is both free and allocated`);
        covered[i] = 1;
      }
    }
    for (let p = 0; p < this.frameCount; p++)
      if (!covered[p]) problems.push(`pfn ${p} is neither free nor allocated`);
    if (free !== this.freeFrames) problems.push(`free count ${this.freeFrames}, free lists hold ${free}`);
    return problems;
  }

  private pushFree(pfn: number, order: number): void {
    const head = this.heads[order]!;
    this.next[pfn] = head;
    this.prev[pfn] = -1;
    if (head !== -1) this.prev[head] = pfn;
    this.heads[order] = pfn;
    this.freeOrder[pfn] = order;
    this.freeBlocks[order]!++;
  }

  private unlinkFree(pfn: number, order: number): void {
    const n = this.next[pfn]!;
    const p = this.prev[pfn]!;
    if (p !== -1) this.next[p] = n;
    else this.heads[order] = n;
    if (n !== -1) this.prev[n] = p;
    this.next[pfn] = -1;
    this.prev[pfn] = -1;
    this.freeOrder[pfn] = -1;
    this.freeBlocks[order]!--;
  }
}
