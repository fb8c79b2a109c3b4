/**
 * The frame table (Linux's `struct page` array, as struct of arrays indexed by pfn): what each physical
 * frame holds, who references it, and where it belongs. Free frames are the buddy allocator's
 * (buddy.ts); this file hands frames out through it and keeps their metadata.
 *
 *   refcount = mapcount (page-table entries mapping the frame, in every address space)
 *            + 1 while the frame is in a page cache (a file's or shmem's)
 *            + 1 while it is in the swap cache (it holds a copy of swap slot `swapSlot`)
 *            + pins (a copy in progress)
 *
 * A user page is named by its `mapping` and `index` (Linux `page->mapping`, `page->index`): an anon_vma
 * and the page's linear offset for anonymous memory, a file or shmem object and the page's offset in it
 * for the page cache. The reverse map (rmap.ts) starts from there.
 */
import { invariant } from '../base/errors.js';
import { BuddyAllocator, MAX_ORDER } from './buddy.js';

export { MAX_ORDER };

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

/** Page flags (`flags`). PG_DIRTY: the contents differ from the backing store (file, swap slot). */
export const PG_DIRTY = 1;
/** MADV_FREE'd anonymous page: reclaim may discard it instead of swapping it, unless written again. */
export const PG_LAZYFREE = 2;
/** Referenced since reclaim last looked (smaps `Referenced` for an unmapped look at the page). */
export const PG_REFERENCED = 4;

export class FrameTable {
  readonly frameCount: number;
  readonly buddy: BuddyAllocator;
  /** Kind of each frame (every frame of an allocated block gets its kind). */
  readonly kind: Uint8Array;
  /**
   * The process a frame is charged to: a page table's address space (by its thread-group id), the
   * process that brought an anonymous page in; NO_OWNER for the page cache and the kernel's pages.
   */
  readonly owner: Int32Array;
  readonly refcount: Int32Array;
  /** Page-table entries mapping the frame, over every address space. */
  readonly mapcount: Int32Array;
  /** The id of the anon_vma or object the page belongs to (see mapping.ts), or -1. */
  readonly mapping: Int32Array;
  /** The page's offset in its mapping, in pages. */
  readonly index: Float64Array;
  /** The swap slot this frame holds a copy of (the swap cache), or -1. */
  readonly swapSlot: Int32Array;
  readonly flags: Uint8Array;

  constructor(frameCount: number) {
    this.frameCount = frameCount;
    this.buddy = new BuddyAllocator(frameCount);
    this.kind = new Uint8Array(frameCount);
    this.owner = new Int32Array(frameCount).fill(NO_OWNER);
    this.refcount = new Int32Array(frameCount);
    this.mapcount = new Int32Array(frameCount);
    this.mapping = new Int32Array(frameCount).fill(-1);
    this.index = new Float64Array(frameCount);
    this.swapSlot = new Int32Array(frameCount).fill(-1);
    this.flags = new Uint8Array(frameCount);
  }

  get freeFrames(): number {
    return this.buddy.freeFrames;
  }

  /**
   * Allocates 2^order contiguous frames of `kind` for `owner`, refcount 1 on each (the caller's).
   * @returns the first pfn, or -1 when no block is large enough (nothing changes).
   */
  alloc(order: number, kind: FrameKind, owner: number): number {
    const pfn = this.buddy.alloc(order);
    if (pfn < 0) return -1;
    for (let i = pfn; i < pfn + 2 ** order; i++) {
      this.kind[i] = kind;
      this.owner[i] = owner;
      this.refcount[i] = 1;
      this.mapcount[i] = 0;
      this.mapping[i] = -1;
      this.index[i] = 0;
      this.swapSlot[i] = -1;
      this.flags[i] = 0;
    }
    return pfn;
  }

  /** Frees the block headed by `pfn`; no references may remain. */
  free(pfn: number): void {
    const order = this.buddy.allocOrder[pfn]!;
    if (order < 0) invariant(false, `frames: free of pfn ${pfn}, which heads no allocated block`);
    for (let i = pfn; i < pfn + 2 ** order; i++) {
      if (this.mapcount[i] !== 0)
        invariant(false, `frames: free of pfn ${i} still mapped ${this.mapcount[i]} times`);
      if (this.swapSlot[i] !== -1) invariant(false, `frames: free of pfn ${i} still in the swap cache`);
      this.kind[i] = FRAME_FREE;
      this.owner[i] = NO_OWNER;
      this.refcount[i] = 0;
      this.mapping[i] = -1;
      this.flags[i] = 0;
    }
    this.buddy.free(pfn);
  }

  /** Drops one reference; frees the frame when none remain. @returns true when it was freed. */
  put(pfn: number): boolean {
    if (this.refcount[pfn]! <= 0)
      invariant(false, `frames: put of pfn ${pfn} with refcount ${this.refcount[pfn]}`);
    if (--this.refcount[pfn]! > 0) return false;
    this.free(pfn);
    return true;
  }

  /** Free blocks of one order (head pfns). */
  freeList(order: number): number[] {
    return this.buddy.freeList(order);
  }

  get freeBlocks(): Int32Array {
    return this.buddy.freeBlocks;
  }

  /** The buddy structure agrees with the kinds: every free-listed frame is FRAME_FREE and vice versa. */
  validate(): string[] {
    const problems = this.buddy.validate((pfn) => this.kind[pfn] === FRAME_FREE);
    let free = 0;
    for (let p = 0; p < this.frameCount; p++) if (this.kind[p] === FRAME_FREE) free++;
    if (free !== this.buddy.freeFrames)
      problems.push(`${free} frames are of kind free, the buddy allocator has ${this.buddy.freeFrames}`);
    return problems;
  }
}
