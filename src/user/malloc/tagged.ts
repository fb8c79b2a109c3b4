/**
 * Heaps of boundary-tagged chunks (first/next/best/worst fit, segregated fits, TLSF): the chunk layout
 * of chunk.ts with CHUNK_FREE marking free chunks, a footer (the next chunk's prev_size) on every free
 * chunk, and a 16-byte epilogue at the end of the heap:
 *
 *   heapStart                                                     brk-16  brk
 *   | chunk | chunk | free chunk ......... footer| chunk | ... | epilogue |
 *
 * The epilogue is a header of size 0 that is always in use; its PREV_INUSE bit tells whether the last
 * chunk is free. What differs between allocators is only how free chunks are kept and searched: a
 * subclass supplies insertFree / unlinkFree / findFit (and may change how a free is coalesced).
 *
 * Rules shared by all of them:
 *  - requests of at least the mmap threshold get their own mapping (glibc's mmapped chunk);
 *  - the heap grows with brk by the request plus the top pad (rounded to pages), the new space joining
 *    a free chunk at the end of the heap when coalescing is on;
 *  - a free that leaves at least the trim threshold free at the end of the heap gives back all but the
 *    top pad with a negative sbrk (glibc `systrim`);
 *  - realloc shrinks in place, grows into a free next chunk, else allocates, copies and frees;
 *  - memalign over-allocates and frees the leading and trailing parts (glibc `_int_memalign`).
 */
import { alignDown, alignUp } from '../../base/units.js';
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
  PREV_INUSE,
  remapChunk,
  request2size,
  SIZE_BITS,
  SIZE_SZ,
} from './chunk.js';

export abstract class TaggedHeap extends AllocatorBase {
  /** Whether a free merges with free neighbours (and new heap space with a free last chunk). */
  protected merging = true;

  constructor(name: string, mem: HeapMemory, options: CommonOptions) {
    super(name, mem, options);
  }

  /** Puts a free chunk (header, CHUNK_FREE and footer already written) into the free structures. */
  protected abstract insertFree(c: number, size: number): void;
  /** Takes a free chunk out of the free structures. */
  protected abstract unlinkFree(c: number, size: number): void;
  /** A free chunk of at least `nb` bytes chosen by the policy, or 0; it stays in the structures. */
  protected abstract findFit(nb: number): number;
  /** Checks the free structures against the free chunks the heap walk found (address -> size). */
  protected abstract checkLists(problems: string[], free: Map<number, number>): void;
  protected abstract listBlocks(): FreeBlock[];

  // ---------------------------------------------------------------- chunk fields

  protected sizeOf(c: number): number {
    return this.mem.read32(c + SIZE_SZ) & ~SIZE_BITS;
  }

  protected head(c: number): number {
    return this.mem.read32(c + SIZE_SZ);
  }

  protected setHead(c: number, word: number): void {
    this.mem.write64(c + SIZE_SZ, word);
  }

  protected setFoot(c: number, size: number): void {
    this.mem.write64(c + size, size);
  }

  /** The epilogue's address (the heap exists). */
  protected epilogue(): number {
    return this.mem.brk() - CHUNK_HDR;
  }

  protected started(): boolean {
    return this.mem.brk() !== this.mem.heapStart;
  }

  /**
   * Marks a free chunk `c` of `size` (`prevInuse`: its PREV_INUSE bit) and tells its successor, whose
   * size word is `nextWord` (-1: not read yet).
   */
  protected markFree(c: number, size: number, prevInuse: number, nextWord: number): void {
    const mem = this.mem;
    mem.write64(c + SIZE_SZ, size | prevInuse | CHUNK_FREE);
    mem.write64(c + size, size);
    const next = c + size + SIZE_SZ;
    mem.write32(next, (nextWord < 0 ? mem.read32(next) : nextWord) & ~PREV_INUSE);
  }

  // ---------------------------------------------------------------- malloc

  protected mallocImpl(bytes: number): number {
    const nb = request2size(bytes);
    if (nb >= this.mmapThreshold) {
      const p = mmapChunk(this.mem, nb);
      if (p !== 0) return p;
    }
    let c = this.started() ? this.findFit(nb) : 0;
    if (c === 0) c = this.noFit(nb);
    if (c === 0) return 0;
    this.take(c, nb);
    return c + CHUNK_HDR;
  }

  /** Nothing fits: grow the heap (subclasses may first coalesce). @returns a fitting chunk, or 0. */
  protected noFit(nb: number): number {
    if (!this.extend(nb)) return 0;
    return this.findFit(nb);
  }

  /** Allocates `nb` bytes from the free chunk `c`, splitting off the rest when it makes a chunk. */
  protected take(c: number, nb: number): void {
    const word = this.head(c);
    const size = word & ~SIZE_BITS;
    this.unlinkFree(c, size);
    this.carve(c, size, word & PREV_INUSE, nb);
  }

  /**
   * Marks `c` (out of the free structures, `size` bytes, PREV_INUSE bit `prev`) in use with `nb`
   * bytes; a remainder goes back free.
   */
  protected carve(c: number, size: number, prev: number, nb: number): void {
    const mem = this.mem;
    const rest = size - nb;
    if (rest >= MINSIZE) {
      mem.write64(c + SIZE_SZ, nb | prev);
      const r = c + nb;
      mem.write64(r + SIZE_SZ, rest | PREV_INUSE | CHUNK_FREE);
      mem.write64(r + rest, rest);
      this.insertFree(r, rest);
    } else {
      mem.write64(c + SIZE_SZ, size | prev);
      const next = c + size + SIZE_SZ;
      mem.write32(next, mem.read32(next) | PREV_INUSE);
    }
  }

  /**
   * Grows the heap for a chunk of `nb` bytes: sbrk of nb + top pad + MINSIZE (less a free chunk at
   * the end that the new space will join), in whole pages. @returns false when brk refused.
   */
  protected extend(nb: number): boolean {
    const mem = this.mem;
    const started = this.started();
    let lastFree = 0;
    if (started && this.merging) {
      const epi = this.epilogue();
      if ((mem.read32(epi + SIZE_SZ) & PREV_INUSE) === 0) lastFree = mem.read64(epi);
    }
    const grow = alignUp(Math.max(nb + this.topPad + MINSIZE - lastFree, MINSIZE), this.pageSize);
    const old = mem.sbrk(grow);
    if (old < 0) return false;
    const start = started ? old - CHUNK_HDR : old;
    const size = started ? grow : grow - CHUNK_HDR;
    const prevBit = started ? mem.read32(start + SIZE_SZ) & PREV_INUSE : PREV_INUSE;
    mem.write64(start + SIZE_SZ, size | prevBit);
    mem.write64(start + size, 0); // the new epilogue
    mem.write64(start + size + SIZE_SZ, PREV_INUSE);
    this.release(start, size, prevBit);
    return true;
  }

  // ---------------------------------------------------------------- free

  protected freeImpl(ptr: number): void {
    const word = this.validate(ptr, 'free');
    if (word < 0) {
      munmapChunk(this.mem, ptr - CHUNK_HDR);
      return;
    }
    this.release(ptr - CHUNK_HDR, word & ~SIZE_BITS, word & PREV_INUSE);
    this.maybeTrim();
  }

  /**
   * glibc's checks on a pointer given back: aligned, a sane size, inside the heap, in use.
   * @returns the chunk's size word (chunk ptr - 16), or -1 for an mmapped chunk (its own checks come
   * with munmap).
   */
  protected validate(ptr: number, call: 'free' | 'realloc'): number {
    const mem = this.mem;
    const c = ptr - CHUNK_HDR;
    const invalid = call === 'free' ? 'invalid-pointer' : 'realloc-invalid-pointer';
    if ((ptr & 15) !== 0) fail(invalid);
    const word = mem.read32(c + SIZE_SZ);
    if ((word & IS_MMAPPED) !== 0) return -1;
    const size = word & ~SIZE_BITS;
    if (size < MINSIZE || (size & 15) !== 0 || mem.read32(c + 12) !== 0)
      fail(call === 'free' ? 'invalid-size' : 'realloc-invalid-old-size');
    const brk = mem.brk();
    if (c < mem.heapStart || brk === mem.heapStart) fail(invalid);
    const epi = brk - CHUNK_HDR;
    if (c + size > epi) fail('double-free-out');
    const nextWord = mem.read32(c + size + SIZE_SZ);
    if ((word & CHUNK_FREE) !== 0 || (nextWord & PREV_INUSE) === 0) fail('double-free-prev');
    const nextSize = nextWord & ~SIZE_BITS;
    if (c + size !== epi && (nextSize < MINSIZE || c + size + nextSize > epi))
      fail(call === 'free' ? 'invalid-next-size' : 'realloc-invalid-next-size');
    return word;
  }

  /**
   * A chunk (in use, out of every structure; `prevInuse` its PREV_INUSE bit) becomes free: merged
   * with free neighbours when the policy coalesces, then inserted. Each size word is read once.
   * @returns the chunk that holds it afterwards.
   */
  protected release(c: number, size: number, prevInuse: number): number {
    const mem = this.mem;
    let prev = prevInuse;
    let nextWord = -1;
    if (this.merging) {
      if (prev === 0) {
        const prevSize = mem.read64(c);
        const p = c - prevSize;
        if (p < mem.heapStart) fail('size-vs-prev-size-consolidating');
        const word = this.head(p);
        if ((word & ~SIZE_BITS) !== prevSize || (word & CHUNK_FREE) === 0)
          fail('size-vs-prev-size-consolidating');
        this.unlinkFree(p, prevSize);
        c = p;
        size += prevSize;
        prev = word & PREV_INUSE;
      }
      const next = c + size;
      nextWord = mem.read32(next + SIZE_SZ);
      if ((nextWord & CHUNK_FREE) !== 0) {
        const nextSize = nextWord & ~SIZE_BITS;
        if (mem.read64(next + nextSize) !== nextSize) fail('size-vs-prev-size');
        this.unlinkFree(next, nextSize);
        size += nextSize;
        nextWord = -1;
      }
    }
    this.markFree(c, size, prev, nextWord);
    this.insertFree(c, size);
    return c;
  }

  /** glibc `systrim`: gives back free space at the end of the heap beyond the top pad. */
  protected maybeTrim(): void {
    const mem = this.mem;
    const epi = this.epilogue();
    if ((mem.read32(epi + SIZE_SZ) & PREV_INUSE) !== 0) return;
    const size = mem.read64(epi);
    if (size < this.trimThreshold) return;
    const area = size - MINSIZE - 1;
    if (area <= this.topPad) return;
    const extra = alignDown(area - this.topPad, this.pageSize);
    if (extra === 0) return;
    const last = epi - size;
    this.unlinkFree(last, size);
    const keep = size - extra;
    mem.write64(last + SIZE_SZ, keep | (mem.read32(last + SIZE_SZ) & PREV_INUSE) | CHUNK_FREE);
    mem.write64(last + keep, keep);
    mem.write64(last + keep + SIZE_SZ, 0); // the epilogue moves down; the last chunk is free
    mem.sbrk(-extra);
    this.insertFree(last, keep);
  }

  // ---------------------------------------------------------------- calloc, realloc, memalign

  protected callocImpl(bytes: number): number {
    const p = this.mallocImpl(bytes);
    if (p === 0) return 0;
    if ((this.head(p - CHUNK_HDR) & IS_MMAPPED) === 0) this.mem.fill(p, this.usableImpl(p), 0);
    return p;
  }

  protected reallocImpl(ptr: number, bytes: number): number {
    const mem = this.mem;
    const nb = request2size(bytes);
    const word = this.validate(ptr, 'realloc');
    if (word < 0) return this.reallocMapped(ptr, bytes, nb);
    const c = ptr - CHUNK_HDR;
    const size = word & ~SIZE_BITS;
    if (size >= nb) {
      this.shrink(c, size, nb);
      return ptr;
    }
    const next = c + size;
    const nextWord = mem.read32(next + SIZE_SZ);
    if ((nextWord & CHUNK_FREE) !== 0 && size + (nextWord & ~SIZE_BITS) >= nb) {
      const nextSize = nextWord & ~SIZE_BITS;
      this.unlinkFree(next, nextSize);
      const total = size + nextSize;
      mem.write64(c + SIZE_SZ, total | (this.head(c) & PREV_INUSE));
      const after = c + total + SIZE_SZ;
      mem.write32(after, mem.read32(after) | PREV_INUSE);
      this.shrink(c, total, nb);
      return ptr;
    }
    const q = this.mallocImpl(bytes);
    if (q === 0) return 0;
    mem.copy(q, ptr, size - SIZE_SZ);
    this.release(c, size, this.head(c) & PREV_INUSE);
    this.maybeTrim();
    return q;
  }

  /** An in-use chunk of `size` keeps `nb`; a remainder that makes a chunk is freed. */
  private shrink(c: number, size: number, nb: number): void {
    const rest = size - nb;
    if (rest < MINSIZE) return;
    this.mem.write64(c + SIZE_SZ, nb | (this.head(c) & PREV_INUSE));
    this.mem.write64(c + nb + SIZE_SZ, rest | PREV_INUSE);
    this.release(c + nb, rest, PREV_INUSE);
    this.maybeTrim();
  }

  /** realloc of an mmapped chunk, as glibc does it (remap; keep when it still fits; else move). */
  protected reallocMapped(ptr: number, bytes: number, nb: number): number {
    const c = ptr - CHUNK_HDR;
    const r = remapChunk(this.mem, c, nb);
    if (r !== 0) return r + CHUNK_HDR;
    const size = mmappedSize(this.mem, c);
    if (size - SIZE_SZ >= nb) return ptr;
    const q = this.mallocImpl(bytes);
    if (q === 0) return 0;
    this.mem.copy(q, ptr, size - CHUNK_HDR);
    munmapChunk(this.mem, c);
    return q;
  }

  protected memalignImpl(alignment: number, bytes: number): number {
    const mem = this.mem;
    const nb = request2size(bytes);
    const m = this.mallocImpl(nb + alignment + MINSIZE);
    if (m === 0) return 0;
    let p = m - CHUNK_HDR;
    if (m % alignment !== 0) {
      let q = alignUp(m, alignment) - CHUNK_HDR;
      if (q - p < MINSIZE) q += alignment;
      const lead = q - p;
      const word = this.head(p);
      if ((word & IS_MMAPPED) !== 0) return alignMmapped(mem, p, alignment);
      const newSize = (word & ~SIZE_BITS) - lead;
      mem.write64(q + SIZE_SZ, newSize | PREV_INUSE);
      mem.write64(p + SIZE_SZ, lead | (word & PREV_INUSE));
      this.release(p, lead, word & PREV_INUSE);
      p = q;
    }
    if ((this.head(p) & IS_MMAPPED) === 0) {
      const size = this.sizeOf(p);
      if (size > nb + MINSIZE) {
        mem.write64(p + SIZE_SZ, nb | (this.head(p) & PREV_INUSE));
        mem.write64(p + nb + SIZE_SZ, (size - nb) | PREV_INUSE);
        this.release(p + nb, size - nb, PREV_INUSE);
        this.maybeTrim();
      }
    }
    return p + CHUNK_HDR;
  }

  protected usableImpl(ptr: number): number {
    const word = this.head(ptr - CHUNK_HDR);
    const size = word & ~SIZE_BITS;
    return (word & IS_MMAPPED) !== 0 ? size - CHUNK_HDR : size - SIZE_SZ;
  }

  // ---------------------------------------------------------------- the heap walk

  /**
   * Visits every chunk from the heap start to the epilogue. @returns false (with a problem recorded)
   * when a header is unreadable as a chunk, so that walking on would read garbage.
   */
  protected walk(problems: string[], visit: (c: number, size: number, free: boolean) => void): boolean {
    const mem = this.mem;
    if (!this.started()) return true;
    const epi = this.epilogue();
    let c = mem.heapStart;
    let prevFree = false;
    while (c < epi) {
      const word = mem.read32(c + SIZE_SZ);
      const size = word & ~SIZE_BITS;
      if (size < MINSIZE || (size & 15) !== 0 || c + size > epi || (word & IS_MMAPPED) !== 0) {
        problems.push(`chunk 0x${c.toString(16)}: bad size word 0x${(word >>> 0).toString(16)}`);
        return false;
      }
      if (((word & PREV_INUSE) === 0) !== prevFree)
        problems.push(
          `chunk 0x${c.toString(16)}: PREV_INUSE is ${word & PREV_INUSE} but the previous chunk is ${prevFree ? 'free' : 'in use'}`,
        );
      const free = (word & CHUNK_FREE) !== 0;
      if (free) {
        if (mem.read64(c + size) !== size)
          problems.push(`free chunk 0x${c.toString(16)}: footer does not match its size`);
        if (prevFree && this.merging)
          problems.push(`free chunks 0x${c.toString(16)} and the one before it were not coalesced`);
      }
      visit(c, size, free);
      prevFree = free;
      c += size;
    }
    if (c !== epi) {
      problems.push(`the last chunk overruns the epilogue at 0x${epi.toString(16)}`);
      return false;
    }
    const epiWord = mem.read32(epi + SIZE_SZ);
    if ((epiWord & ~SIZE_BITS) !== 0) problems.push('the epilogue has a size');
    if (((epiWord & PREV_INUSE) === 0) !== prevFree) problems.push('the epilogue PREV_INUSE bit is wrong');
    return true;
  }

  protected checkImpl(problems: string[]): void {
    const free = new Map<number, number>();
    if (!this.walk(problems, (c, size, isFree) => isFree && free.set(c, size))) return;
    this.checkLists(problems, free);
  }

  protected statsImpl(): HeapStats {
    const mem = this.mem;
    let usedBlocks = 0;
    let usedBytes = 0;
    let freeBlocks = 0;
    let freeBytes = 0;
    let largestFree = 0;
    let lastFree = 0;
    this.walk([], (_c, size, free) => {
      if (free) {
        freeBlocks++;
        freeBytes += size;
        if (size > largestFree) largestFree = size;
        lastFree = size;
      } else {
        usedBlocks++;
        usedBytes += size;
        lastFree = 0;
      }
    });
    if (lastFree > 0) {
      // The free chunk at the end of the heap is the wilderness (glibc's top), not a hole.
      freeBlocks--;
      freeBytes -= lastFree;
      if (largestFree === lastFree) {
        largestFree = 0;
        this.walk([], (c, size, free) => {
          if (free && size > largestFree && c + size !== this.epilogue()) largestFree = size;
        });
      }
    }
    const mmapBytes = mem.counters.mmapBytes;
    return {
      heapBytes: mem.brk() - mem.heapStart,
      mmapBytes,
      usedBlocks,
      usedBytes,
      freeBlocks,
      freeBytes,
      largestFree,
      topBytes: lastFree,
      overheadBytes: this.started() ? CHUNK_HDR : 0,
    };
  }

  protected freeListImpl(): FreeBlock[] {
    return this.listBlocks();
  }

  /** Checks a doubly linked list (fd at +16, bk at +24) whose head word is at `headVa`. */
  protected checkDList(
    problems: string[],
    what: string,
    headVa: number,
    free: Map<number, number>,
    seen: Set<number>,
    fits: (size: number) => boolean,
  ): void {
    const mem = this.mem;
    let prev = 0;
    let c = mem.read64(headVa);
    let n = 0;
    while (c !== 0) {
      if (!free.has(c)) {
        problems.push(`${what}: 0x${c.toString(16)} is not a free chunk`);
        return;
      }
      if (seen.has(c)) {
        problems.push(`${what}: 0x${c.toString(16)} is listed twice`);
        return;
      }
      seen.add(c);
      if (mem.read64(c + 24) !== prev) problems.push(`${what}: 0x${c.toString(16)} has a wrong bk`);
      if (!fits(free.get(c)!))
        problems.push(`${what}: 0x${c.toString(16)} (${free.get(c)} bytes) is in the wrong list`);
      prev = c;
      c = mem.read64(c + 16);
      if (++n > free.size) {
        problems.push(`${what}: the list loops`);
        return;
      }
    }
  }
}
