/**
 * Physical frames: a binary buddy allocator (orders 0..MAX_ORDER) and the per-frame metadata the rest
 * of the kernel keeps, as parallel typed arrays indexed by pfn.
 *
 * Free blocks sit on one intrusive doubly linked list per order (`next`/`prev` by pfn, -1 = none); the
 * head frame of a free block records its order in `freeOrder`. Allocation takes the smallest order that
 * has a block and splits it, freeing merges a block with its buddy (`pfn ^ (1 << order)`) while the
 * buddy is free and of the same order.
 */
import { invariant } from '../base/errors.js';

export const MAX_ORDER = 10;

/** What a frame holds. */
export const FRAME_FREE = 0;
export const FRAME_PAGETABLE = 1;
export const FRAME_ANON = 2;
export const FRAME_FILE = 3;
export const FRAME_SHMEM = 4;
export const FRAME_KERNEL = 5;
export type FrameKind = 0 | 1 | 2 | 3 | 4 | 5;
export const FRAME_KIND_NAMES = ['free', 'pagetable', 'anon', 'file', 'shmem', 'kernel'] as const;

/** `owner` of a frame that no process owns (page cache, kernel). */
export const NO_OWNER = -1;

export class FrameAllocator {
  readonly frameCount: number;
  /** Kind of each frame (every frame of an allocated block gets its kind). */
  readonly kind: Uint8Array;
  /** Owning pid for anonymous and page-table frames; NO_OWNER otherwise. */
  readonly owner: Int32Array;
  /** References: one per mapping, plus one held by the page cache for file/shmem pages. */
  readonly refcount: Int32Array;
  /** Number of page-table entries mapping the frame. */
  readonly mapcount: Int32Array;
  /** For file and shmem pages: the object id and page index they cache. */
  readonly objectId: Int32Array;
  readonly objectIndex: Float64Array;
  /** For an anonymous page: the virtual address of its mapping in its owner (the reverse map). */
  readonly rmapVa: Float64Array;
  /** The swap slot holding a copy of this page (the swap cache), or -1. */
  readonly swapSlot: Int32Array;
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
    this.kind = new Uint8Array(frameCount);
    this.owner = new Int32Array(frameCount).fill(NO_OWNER);
    this.refcount = new Int32Array(frameCount);
    this.mapcount = new Int32Array(frameCount);
    this.objectId = new Int32Array(frameCount).fill(-1);
    this.objectIndex = new Float64Array(frameCount);
    this.rmapVa = new Float64Array(frameCount).fill(-1);
    this.swapSlot = new Int32Array(frameCount).fill(-1);
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

  /**
   * Allocates 2^order contiguous frames of `kind` for `owner`, refcount 1 on each.
   * @returns the first pfn, or -1 when no block is large enough (nothing changes).
   */
  alloc(order: number, kind: FrameKind, owner: number): number {
    let k = order;
    while (k <= MAX_ORDER && this.heads[k] === -1) k++;
    if (k > MAX_ORDER) return -1;
    const pfn = this.heads[k]!;
    this.unlinkFree(pfn, k);
    while (k > order) {
      k--;
      this.pushFree(pfn + 2 ** k, k);
    }
    const n = 2 ** order;
    for (let i = pfn; i < pfn + n; i++) {
      this.kind[i] = kind;
      this.owner[i] = owner;
      this.refcount[i] = 1;
      this.mapcount[i] = 0;
      this.objectId[i] = -1;
      this.rmapVa[i] = -1;
      this.swapSlot[i] = -1;
    }
    this.allocOrder[pfn] = order;
    this.freeFrames -= n;
    return pfn;
  }

  /** Frees the block headed by `pfn`, allocated with `alloc`, merging with free buddies. */
  free(pfn: number): void {
    let order = this.allocOrder[pfn]!;
    invariant(order >= 0, `frames: free of pfn ${pfn}, which heads no allocated block`);
    const n = 2 ** order;
    for (let i = pfn; i < pfn + n; i++) {
      invariant(this.mapcount[i] === 0, `frames: free of pfn ${i} still mapped ${this.mapcount[i]} times`);
      invariant(this.swapSlot[i] === -1, `frames: free of pfn ${i} still in the swap cache`);
      this.kind[i] = FRAME_FREE;
      this.owner[i] = NO_OWNER;
      this.refcount[i] = 0;
      this.objectId[i] = -1;
    }
    this.allocOrder[pfn] = -1;
    this.freeFrames += n;
    let head = pfn;
    while (order < MAX_ORDER) {
      const buddy = head ^ (2 ** order);
      if (buddy + 2 ** order > this.frameCount || this.freeOrder[buddy] !== order) break;
      this.unlinkFree(buddy, order);
      head = Math.min(head, buddy);
      order++;
    }
    this.pushFree(head, order);
  }

  /** Drops one reference; frees the frame when none remain. @returns true when it was freed. */
  put(pfn: number): boolean {
    invariant(this.refcount[pfn]! > 0, `frames: put of pfn ${pfn} with refcount ${this.refcount[pfn]}`);
    this.refcount[pfn]!--;
    if (this.refcount[pfn] === 0) {
      this.free(pfn);
      return true;
    }
    return false;
  }

  /** Free blocks, per order, as [pfn, order] pairs (for display and the consistency check). */
  freeList(order: number): number[] {
    const out: number[] = [];
    for (let p = this.heads[order]!; p !== -1; p = this.next[p]!) out.push(p);
    return out;
  }

  /** Checks the buddy structure: every frame is in exactly one free block or one allocated block. */
  validate(): string[] {
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
          if (this.kind[i] !== FRAME_FREE) problems.push(`pfn ${i} is free but of kind ${this.kind[i]}`);
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
