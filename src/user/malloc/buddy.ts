/**
 * Binary buddy allocator (Knowlton 1965; Knuth TAOCP 2.5): blocks of 2^k bytes, split in halves and
 * merged with their buddy.
 *
 * Rules:
 *  - The heap is a row of top-level blocks of T = 128 KiB (or the power of two above the mmap
 *    threshold, when larger) starting at the heap start; a block of 2^k bytes sits at an offset from
 *    there that is a multiple of 2^k, so its buddy is at offset XOR 2^k.
 *  - Every block starts with a 16-byte header whose size word is 2^k, with CHUNK_FREE set when free
 *    (the same word and bits as the other allocators, so free() recognises mmapped chunks). Blocks
 *    are 32 bytes at least; the payload is the block minus its header.
 *  - One LIFO free list per order in the static area, with a bitmap of the non-empty orders.
 *  - malloc: the smallest order that holds request + 16; the smallest free block of that order or
 *    above is halved until it has that order, the upper halves going to their lists. Requests of at
 *    least the mmap threshold (or too big for T) get their own mapping.
 *  - free: while the buddy is free and whole (same order), merge with it; then list the result.
 *  - Heap growth: request + top pad, in whole top-level blocks. Trimming: free top-level blocks at the
 *    end of the heap beyond the top pad are given back once they reach the trim threshold.
 *  - memalign: a block big enough to hold an aligned payload after the header; a second header just
 *    before the aligned pointer (size word with bit 0, ALIGNED) points back to the block.
 *  - realloc: shrinks by giving back upper halves; grows in place while the block is a left buddy
 *    whose right buddy is free and whole; otherwise moves.
 */
import { alignUp } from '../../base/units.js';
import type { HeapMemory } from '../memory.js';
import type { CommonOptions, FreeBlock, HeapStats } from './api.js';
import { AllocatorBase } from './base.js';
import {
  alignMmapped,
  CHUNK_FREE,
  CHUNK_HDR,
  fail,
  IS_MMAPPED,
  MINSIZE,
  mmapChunk,
  mmappedSize,
  munmapChunk,
  remapChunk,
  request2size,
  SIZE_BITS,
  SIZE_SZ,
} from './chunk.js';
import { ListArray } from './lists.js';

const MIN_ORDER = 5;
/** Marks the second header of a memalign'd pointer. */
const ALIGNED = 1;

function orderOf(size: number): number {
  return size <= MINSIZE ? MIN_ORDER : 32 - Math.clz32(size - 1);
}

export class BuddyHeap extends AllocatorBase {
  /** log2 of the top-level block size. */
  readonly maxOrder: number;
  readonly topBlock: number;
  private readonly lists: ListArray;

  constructor(mem: HeapMemory, options: CommonOptions = {}) {
    super('buddy', mem, options);
    this.maxOrder = Math.min(20, Math.max(17, orderOf(Math.min(this.mmapThreshold, 2 ** 20))));
    this.topBlock = 2 ** this.maxOrder;
    this.lists = new ListArray(mem, mem.staticBase, this.maxOrder + 1);
  }

  protected override initImpl(): void {
    this.lists.init();
  }

  private base(): number {
    return this.mem.heapStart;
  }

  private word(b: number): number {
    return this.mem.read32(b + SIZE_SZ);
  }

  // ---------------------------------------------------------------- malloc

  protected mallocImpl(bytes: number): number {
    const need = bytes + CHUNK_HDR;
    if (need > this.topBlock || request2size(bytes) >= this.mmapThreshold) {
      const p = mmapChunk(this.mem, request2size(bytes));
      if (p !== 0 || need > this.topBlock) return p;
    }
    const b = this.allocBlock(orderOf(need));
    return b === 0 ? 0 : b + CHUNK_HDR;
  }

  /** A block of order k, marked in use. @returns its address, or 0. */
  private allocBlock(k: number): number {
    const mem = this.mem;
    let j = this.lists.nextNonEmpty(k);
    if (j < 0) {
      if (!this.grow(2 ** k)) return 0;
      j = this.lists.nextNonEmpty(k);
      if (j < 0) return 0;
    }
    const b = this.lists.head(j);
    this.lists.unlink(j, b);
    while (j > k) {
      j--;
      const half = b + 2 ** j;
      mem.write64(half + SIZE_SZ, 2 ** j + CHUNK_FREE);
      this.lists.push(j, half);
    }
    mem.write64(b + SIZE_SZ, 2 ** k);
    return b;
  }

  /** Adds top-level blocks for `need` bytes plus the top pad. @returns false when brk refused. */
  private grow(need: number): boolean {
    const mem = this.mem;
    const bytes = alignUp(need + this.topPad, this.topBlock);
    const old = mem.sbrk(bytes);
    if (old < 0) return false;
    for (let b = old; b < old + bytes; b += this.topBlock) {
      mem.write64(b + SIZE_SZ, this.topBlock + CHUNK_FREE);
      this.lists.push(this.maxOrder, b);
    }
    return true;
  }

  // ---------------------------------------------------------------- free

  /** The block holding user pointer `ptr` (following an ALIGNED header); -1 for an mmapped chunk. */
  private blockOf(ptr: number, invalid: 'invalid-pointer' | 'realloc-invalid-pointer'): number {
    const mem = this.mem;
    if ((ptr & 15) !== 0) fail(invalid);
    let b = ptr - CHUNK_HDR;
    let w = this.word(b);
    if ((w & IS_MMAPPED) !== 0) return -1;
    if ((w & ALIGNED) !== 0) {
      b -= mem.read64(b);
      if (b < this.base() || b >= mem.brk() || (b & 15) !== 0) fail(invalid);
      w = this.word(b);
    }
    const size = w & ~SIZE_BITS;
    if (size < MINSIZE || size > this.topBlock || (size & (size - 1)) !== 0 || mem.read32(b + 12) !== 0)
      fail('invalid-size');
    if (b < this.base() || b + size > mem.brk() || (b - this.base()) % size !== 0) fail(invalid);
    if ((w & CHUNK_FREE) !== 0) fail('double-free-prev');
    return b;
  }

  protected freeImpl(ptr: number): void {
    const b = this.blockOf(ptr, 'invalid-pointer');
    if (b < 0) {
      munmapChunk(this.mem, ptr - CHUNK_HDR);
      return;
    }
    this.releaseBlock(b, this.word(b) & ~SIZE_BITS);
    this.maybeTrim();
  }

  /** Frees block `b` of `size`, merging with free buddies. */
  private releaseBlock(b: number, size: number): void {
    const mem = this.mem;
    const base = this.base();
    let k = orderOf(size);
    while (k < this.maxOrder) {
      const buddy = base + ((b - base) ^ size);
      const w = this.word(buddy);
      if ((w & CHUNK_FREE) === 0 || (w & ~SIZE_BITS) !== size) break;
      this.lists.unlink(k, buddy);
      if (buddy < b) b = buddy;
      size *= 2;
      k++;
    }
    mem.write64(b + SIZE_SZ, size + CHUNK_FREE);
    this.lists.push(k, b);
  }

  /** Gives back free top-level blocks at the end of the heap beyond the top pad. */
  private maybeTrim(): void {
    const mem = this.mem;
    const T = this.topBlock;
    let n = 0;
    for (let b = mem.brk() - T; b >= this.base() && this.word(b) === T + CHUNK_FREE; b -= T) n++;
    if (n * T < this.trimThreshold + this.topPad) return;
    const release = n - Math.ceil(this.topPad / T);
    if (release <= 0) return;
    for (let i = 1; i <= release; i++) this.lists.unlink(this.maxOrder, mem.brk() - i * T);
    mem.sbrk(-release * T);
  }

  // ---------------------------------------------------------------- calloc, realloc, memalign

  protected callocImpl(bytes: number): number {
    const p = this.mallocImpl(bytes);
    if (p !== 0 && (this.word(p - CHUNK_HDR) & IS_MMAPPED) === 0) this.mem.fill(p, this.usableImpl(p), 0);
    return p;
  }

  protected reallocImpl(ptr: number, bytes: number): number {
    const mem = this.mem;
    const b = this.blockOf(ptr, 'realloc-invalid-pointer');
    if (b < 0) {
      const c = ptr - CHUNK_HDR;
      const nb = request2size(bytes);
      const r = remapChunk(mem, c, nb);
      if (r !== 0) return r + CHUNK_HDR;
      if (mmappedSize(mem, c) - SIZE_SZ >= nb) return ptr;
      return this.move(ptr, bytes, mmappedSize(mem, c) - CHUNK_HDR, () => munmapChunk(mem, c));
    }
    let size = this.word(b) & ~SIZE_BITS;
    const offset = ptr - b; // 16, or more for a memalign'd pointer
    const need = bytes + offset;
    if (offset === CHUNK_HDR) {
      // Shrink: give back upper halves.
      while (size / 2 >= Math.max(MINSIZE, need)) {
        size /= 2;
        mem.write64(b + SIZE_SZ, size);
        mem.write64(b + size + SIZE_SZ, size);
        this.releaseBlock(b + size, size);
      }
      // Grow in place: absorb free right buddies of the same size.
      const base = this.base();
      while (size < need && size < this.topBlock && (b - base) % (size * 2) === 0) {
        const buddy = b + size;
        const w = this.word(buddy);
        if ((w & CHUNK_FREE) === 0 || (w & ~SIZE_BITS) !== size) break;
        this.lists.unlink(orderOf(size), buddy);
        size *= 2;
        mem.write64(b + SIZE_SZ, size);
      }
    }
    if (size >= need) return ptr;
    return this.move(ptr, bytes, size - offset, () => {
      this.releaseBlock(b, size);
      this.maybeTrim();
    });
  }

  private move(ptr: number, bytes: number, oldUsable: number, release: () => void): number {
    const q = this.mallocImpl(bytes);
    if (q === 0) return 0;
    this.mem.copy(q, ptr, Math.min(oldUsable, bytes));
    release();
    return q;
  }

  protected memalignImpl(alignment: number, bytes: number): number {
    const mem = this.mem;
    const need = bytes + alignment + 2 * CHUNK_HDR;
    if (need > this.topBlock || request2size(need) >= this.mmapThreshold) {
      const p = mmapChunk(mem, request2size(bytes + alignment + MINSIZE));
      if (p !== 0 || need > this.topBlock) return p === 0 ? 0 : alignMmapped(mem, p - CHUNK_HDR, alignment);
    }
    const b = this.allocBlock(orderOf(need));
    if (b === 0) return 0;
    let q = b + CHUNK_HDR;
    if (q % alignment !== 0) {
      q = alignUp(b + 2 * CHUNK_HDR, alignment);
      mem.write64(q - CHUNK_HDR, q - CHUNK_HDR - b);
      mem.write64(q - SIZE_SZ, ALIGNED);
    }
    return q;
  }

  protected usableImpl(ptr: number): number {
    const c = ptr - CHUNK_HDR;
    const w = this.word(c);
    if ((w & IS_MMAPPED) !== 0) return (w & ~SIZE_BITS) - CHUNK_HDR;
    const b = (w & ALIGNED) !== 0 ? c - this.mem.read64(c) : c;
    return b + (this.word(b) & ~SIZE_BITS) - ptr;
  }

  // ---------------------------------------------------------------- inspection

  private walk(problems: string[], visit: (b: number, size: number, free: boolean) => void): void {
    const mem = this.mem;
    const base = this.base();
    const end = mem.brk();
    let b = base;
    while (b < end) {
      const w = this.word(b);
      const size = w & ~SIZE_BITS;
      if (
        size < MINSIZE ||
        size > this.topBlock ||
        (size & (size - 1)) !== 0 ||
        (b - base) % size !== 0 ||
        b + size > end
      ) {
        problems.push(`block 0x${b.toString(16)}: bad size word 0x${(w >>> 0).toString(16)}`);
        return;
      }
      visit(b, size, (w & CHUNK_FREE) !== 0);
      b += size;
    }
  }

  protected checkImpl(problems: string[]): void {
    const free = new Map<number, number>();
    const base = this.base();
    const end = this.mem.brk();
    if ((end - base) % this.topBlock !== 0)
      problems.push('the heap is not a whole number of top-level blocks');
    this.walk(problems, (b, size, isFree) => {
      if (isFree) free.set(b, size);
    });
    for (const [b, size] of free) {
      const buddy = base + ((b - base) ^ size);
      if (size < this.topBlock && free.get(buddy) === size)
        problems.push(`free buddies 0x${b.toString(16)} and 0x${buddy.toString(16)} were not merged`);
    }
    const seen = new Set<number>();
    for (let k = MIN_ORDER; k <= this.maxOrder; k++) {
      let prev = 0;
      let n = 0;
      for (let b = this.lists.head(k); b !== 0; b = this.mem.read64(b + 16)) {
        if (free.get(b) !== 2 ** k) {
          problems.push(`order ${k} list: 0x${b.toString(16)} is not a free block of that order`);
          break;
        }
        if (seen.has(b) || ++n > free.size) {
          problems.push(`order ${k} list loops`);
          break;
        }
        seen.add(b);
        if (this.mem.read64(b + 24) !== prev)
          problems.push(`order ${k} list: 0x${b.toString(16)} has a wrong bk`);
        prev = b;
      }
    }
    for (const b of free.keys())
      if (!seen.has(b)) problems.push(`free block 0x${b.toString(16)} is in no list`);
    this.lists.checkBitmap(problems, 'order');
  }

  protected statsImpl(): HeapStats {
    const mem = this.mem;
    let usedBlocks = 0;
    let usedBytes = 0;
    const free: number[] = [];
    let top = 0;
    this.walk([], (_b, size, isFree) => {
      if (isFree) {
        free.push(size);
        top = size === this.topBlock ? top + size : 0;
      } else {
        usedBlocks++;
        usedBytes += size;
        top = 0;
      }
    });
    // Whole free top-level blocks at the end of the heap are its wilderness, not holes.
    let trailing = top / this.topBlock;
    while (trailing-- > 0) free.pop();
    return {
      heapBytes: mem.brk() - mem.heapStart,
      mmapBytes: mem.counters.mmapBytes,
      usedBlocks,
      usedBytes,
      freeBlocks: free.length,
      freeBytes: free.reduce((a, b) => a + b, 0),
      largestFree: free.reduce((a, b) => Math.max(a, b), 0),
      topBytes: top,
      overheadBytes: 0,
    };
  }

  protected freeListImpl(): FreeBlock[] {
    const out: FreeBlock[] = [];
    for (let k = MIN_ORDER; k <= this.maxOrder; k++)
      for (let b = this.lists.head(k); b !== 0; b = this.mem.read64(b + 16))
        out.push({ va: b, sizeBytes: 2 ** k });
    return out;
  }
}
