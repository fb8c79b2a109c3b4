/**
 * A dlmalloc/ptmalloc allocator: glibc 2.36's malloc for one thread, ported closely enough that its
 * choices can be compared with the addresses glibc returned in the corpus traces.
 *
 * Rules (glibc's; see binned-layout.ts for where each structure lies in memory):
 *  - tcache: per chunk size up to 1040 bytes (requests up to 1032), a LIFO of at most 7 chunks that
 *    stay marked in use; malloc looks there first, free puts there first. Links are safe-linked
 *    (`next` XOR (its address >> 12)) and a cached chunk carries the tcache key, which is how a double
 *    free is caught ("free(): double free detected in tcache 2").
 *  - fastbins: chunks of at most 128 bytes, LIFO, not coalesced until a malloc_consolidate.
 *  - unsorted bin: freed (and split-off) chunks land there after coalescing; malloc sorts them into
 *    small bins (exact sizes below 1 KiB) and large bins (ranges, sorted) while it looks for an exact
 *    fit, and serves small requests from the last remainder.
 *  - then the smallest large-bin chunk that fits, then the next non-empty bin (binmap), then the top
 *    chunk, which grows with brk by the request + top pad (128 KiB) + MINSIZE, in pages.
 *  - requests of at least the mmap threshold (128 KiB, rising to the size of any mmapped chunk freed,
 *    up to 32 MiB, with the trim threshold at twice it) get their own mapping.
 *  - a free of 64 KiB or more consolidates fastbins and, when the top reaches the trim threshold,
 *    gives back all but the top pad (systrim).
 *  - calloc bypasses the tcache and clears only memory that may not be fresh; realloc and memalign are
 *    glibc's `_int_realloc` / `_int_memalign`; mmapped chunks are resized with munmap/mmap standing in
 *    for mremap.
 *
 * Not modelled: arenas and threads, the MMAP_AS_MORECORE fallback (when brk fails the request gets a
 * mapping of its own instead), foreign sbrk and fenceposts, perturb bytes, tunables beyond the options
 * below. All glibc checks on these paths are kept, with glibc's messages.
 */

import { invariant } from '../../base/errors.js';
import { alignDown, alignUp } from '../../base/units.js';
import type { HeapMemory } from '../memory.js';
import type { CommonOptions, FreeBlock, HeapStats } from './api.js';
import { AllocatorBase } from './base.js';
import { binnedCheck, binnedFreeList, binnedStats } from './binned-check.js';
import {
  BINMAPSIZE,
  BINNED_STATIC_BYTES,
  binIndex,
  FASTBIN_CONSOLIDATION_THRESHOLD,
  fastbinIndex,
  inSmallbinRange,
  largebinIndex,
  MAX_FAST,
  MAX_UNSORTED_ITERS,
  MMAP_THRESHOLD_MAX,
  NBINS,
  NFASTBINS,
  OFF_BINMAP,
  OFF_BINS,
  OFF_FASTBINS,
  OFF_HAVE_FASTCHUNKS,
  OFF_LAST_REMAINDER,
  OFF_MAX_SYSTEM_MEM,
  OFF_SBRK_BASE,
  OFF_SYSTEM_MEM,
  OFF_TCACHE,
  OFF_TOP,
  smallbinIndex,
  TCACHE_FILL_COUNT,
  TCACHE_KEY,
  TCACHE_MAX_BINS,
  TCACHE_STRUCT_BYTES,
  tcacheIndex,
} from './binned-layout.js';
import {
  alignMmapped,
  CHUNK_HDR,
  fail,
  IS_MMAPPED,
  MINSIZE,
  mmapChunk,
  mmappedSize,
  munmapChunk,
  PREV_INUSE,
  protectPtr,
  remapChunk,
  request2size,
  SIZE_BITS,
  SIZE_SZ,
} from './chunk.js';

export interface BinnedOptions extends CommonOptions {
  /** Chunks per tcache bin (glibc.malloc.tcache_count, default 7); 0 turns the tcache off. */
  readonly tcacheCount?: number;
  /** Largest fastbin chunk request (M_MXFAST, default 128 bytes; 0 turns fastbins off). */
  readonly maxFast?: number;
}

const FD = 16;
const BK = 24;
const FD_NEXTSIZE = 32;
const BK_NEXTSIZE = 40;

export class BinnedHeap extends AllocatorBase {
  /** The static area: main_arena and friends. */
  readonly av: number;
  readonly tcacheCount: number;
  /** global_max_fast: the largest fastbin chunk size. */
  readonly maxFast: number;
  private readonly noDynThreshold: boolean;
  nMmaps = 0;
  private readonly nMmapsMax = 65536;

  constructor(mem: HeapMemory, options: BinnedOptions = {}) {
    super('binned', mem, options);
    this.av = mem.staticBase;
    this.tcacheCount = options.tcacheCount ?? TCACHE_FILL_COUNT;
    const mxfast = options.maxFast ?? MAX_FAST;
    this.maxFast = mxfast === 0 ? 16 : mxfast + SIZE_SZ - ((mxfast + SIZE_SZ) & 15);
    // mallopt of any of these turns the dynamic mmap threshold off.
    this.noDynThreshold =
      options.mmapThreshold !== undefined ||
      options.topPad !== undefined ||
      options.trimThreshold !== undefined;
    invariant(
      mem.staticBytes >= BINNED_STATIC_BYTES,
      'binned: the static area is too small for malloc_state',
    );
  }

  /** malloc_init_state: every bin empty (pointing at itself), no fast chunks, top = initial top. */
  protected override initImpl(): void {
    const mem = this.mem;
    for (let off = 0; off < BINNED_STATIC_BYTES; off += 8) mem.write64(this.av + off, 0);
    for (let i = 1; i < NBINS; i++) {
      const bin = this.binAt(i);
      mem.write64(bin + FD, bin);
      mem.write64(bin + BK, bin);
    }
    mem.write64(this.av + OFF_TOP, this.binAt(1));
  }

  // ---------------------------------------------------------------- fields

  binAt(i: number): number {
    return this.av + OFF_BINS_MINUS_HDR + (i - 1) * 16;
  }

  /** chunksize: the size word's low 32 bits without the flags (unsigned). */
  csize(p: number): number {
    return (this.mem.read32(p + SIZE_SZ) & ~SIZE_BITS) >>> 0;
  }

  /** chunksize, but a size word with high bits set (never legitimate) reads as huge. */
  private csizeWide(p: number): number {
    return this.mem.read32(p + 12) !== 0 ? Number.MAX_SAFE_INTEGER : this.csize(p);
  }

  /** {@link csizeWide} of `p` whose chunksize `size` was just read (only the high half is read). */
  private wide(p: number, size: number): number {
    return this.mem.read32(p + 12) !== 0 ? Number.MAX_SAFE_INTEGER : size;
  }

  private headWord(p: number): number {
    return this.mem.read32(p + SIZE_SZ);
  }

  private setHead(p: number, v: number): void {
    this.mem.write64(p + SIZE_SZ, v);
  }

  private setHeadSize(p: number, size: number): void {
    this.mem.write64(p + SIZE_SZ, size | (this.mem.read32(p + SIZE_SZ) & SIZE_BITS));
  }

  private setFoot(p: number, size: number): void {
    this.mem.write64(p + size, size);
  }

  private inuseBitAt(p: number, s: number): number {
    return this.mem.read32(p + s + SIZE_SZ) & PREV_INUSE;
  }

  private setInuseBitAt(p: number, s: number): void {
    const a = p + s + SIZE_SZ;
    this.mem.write32(a, this.mem.read32(a) | PREV_INUSE);
  }

  private clearInuseBitAt(p: number, s: number): void {
    const a = p + s + SIZE_SZ;
    this.mem.write32(a, this.mem.read32(a) & ~PREV_INUSE);
  }

  private fd(p: number): number {
    return this.mem.read64(p + FD);
  }

  private bk(p: number): number {
    return this.mem.read64(p + BK);
  }

  top(): number {
    return this.mem.read64(this.av + OFF_TOP);
  }

  private systemMem(): number {
    return this.mem.read64(this.av + OFF_SYSTEM_MEM);
  }

  tcache(): number {
    return this.mem.read64(this.av + OFF_TCACHE);
  }

  private markBin(i: number): void {
    const a = this.av + OFF_BINMAP + (i >>> 5) * 4;
    this.mem.write32(a, this.mem.read32(a) | (1 << (i & 31)));
  }

  // ---------------------------------------------------------------- tcache

  private tcacheInit(): void {
    const victim = this.intMalloc(TCACHE_STRUCT_BYTES, this.tcache());
    if (victim === 0) return;
    this.mem.fill(victim, TCACHE_STRUCT_BYTES, 0);
    this.mem.write64(this.av + OFF_TCACHE, victim);
  }

  // Every caller has just read the bin's count (`count`), so it is not read again.

  private tcachePut(tc: number, p: number, idx: number, count: number): void {
    const mem = this.mem;
    const e = p + CHUNK_HDR;
    mem.write64(e + 8, TCACHE_KEY);
    mem.write64(e, protectPtr(e, mem.read64(tc + 128 + idx * 8)));
    mem.write64(tc + 128 + idx * 8, e);
    mem.write16(tc + idx * 2, count + 1);
  }

  /** `count`: the bin's count, or -1 when the caller has not read it. */
  private tcacheGet(tc: number, idx: number, count: number): number {
    const mem = this.mem;
    const e = mem.read64(tc + 128 + idx * 8);
    if ((e & 15) !== 0) fail('tcache-unaligned-malloc');
    mem.write64(tc + 128 + idx * 8, protectPtr(e, mem.read64(e)));
    mem.write16(tc + idx * 2, (count < 0 ? mem.read16(tc + idx * 2) : count) - 1);
    mem.write64(e + 8, 0);
    return e;
  }

  // ---------------------------------------------------------------- malloc

  protected mallocImpl(bytes: number): number {
    const mem = this.mem;
    if (this.tcacheCount > 0) {
      let tc = this.tcache();
      if (tc === 0) {
        this.tcacheInit();
        tc = this.tcache();
      }
      const idx = tcacheIndex(request2size(bytes));
      if (idx < TCACHE_MAX_BINS && tc !== 0) {
        const count = mem.read16(tc + idx * 2);
        if (count > 0) return this.tcacheGet(tc, idx, count);
      }
      return this.intMalloc(bytes, tc);
    }
    return this.intMalloc(bytes, this.tcache());
  }

  /** glibc `_int_malloc`; `tc` is the tcache pointer just read. @returns the user pointer, or 0. */
  private intMalloc(bytes: number, tc: number): number {
    const mem = this.mem;
    const av = this.av;
    const nb = request2size(bytes);
    const tcIdx = tcacheIndex(nb);
    const useTcache = tc !== 0 && tcIdx < TCACHE_MAX_BINS && this.tcacheCount > 0;

    if (nb <= this.maxFast) {
      const idx = fastbinIndex(nb);
      const fb = av + OFF_FASTBINS + idx * 8;
      const victim = mem.read64(fb);
      if (victim !== 0) {
        if ((victim & 15) !== 0) fail('fast-unaligned');
        mem.write64(fb, protectPtr(victim + FD, this.fd(victim)));
        if (fastbinIndex(this.csize(victim)) !== idx) fail('fast-corruption');
        if (useTcache) {
          // Stash the other chunks of this size in the tcache while it has room.
          let t = mem.read64(fb);
          for (let count = mem.read16(tc + tcIdx * 2); count < this.tcacheCount && t !== 0; ) {
            if ((t & 15) !== 0) fail('fast-unaligned-3');
            mem.write64(fb, protectPtr(t + FD, this.fd(t)));
            this.tcachePut(tc, t, tcIdx, count);
            t = mem.read64(fb);
            count = mem.read16(tc + tcIdx * 2);
          }
        }
        return victim + CHUNK_HDR;
      }
    }

    let idx: number;
    if (inSmallbinRange(nb)) {
      idx = smallbinIndex(nb);
      const bin = this.binAt(idx);
      const victim = this.bk(bin);
      if (victim !== bin) {
        const bck = this.bk(victim);
        if (this.fd(bck) !== victim) fail('smallbin-corrupted');
        this.setInuseBitAt(victim, nb);
        mem.write64(bin + BK, bck);
        mem.write64(bck + FD, bin);
        if (useTcache) {
          for (let t = this.bk(bin); ; t = this.bk(bin)) {
            const count = mem.read16(tc + tcIdx * 2);
            if (!(count < this.tcacheCount && t !== bin)) break;
            const b2 = this.bk(t);
            this.setInuseBitAt(t, nb);
            mem.write64(bin + BK, b2);
            mem.write64(b2 + FD, bin);
            this.tcachePut(tc, t, tcIdx, count);
          }
        }
        return victim + CHUNK_HDR;
      }
    } else {
      idx = largebinIndex(nb);
      if (mem.read32(av + OFF_HAVE_FASTCHUNKS) !== 0) this.consolidate();
    }

    let returnCached = false;
    for (;;) {
      let iters = 0;
      const unsorted = this.binAt(1);
      for (let victim = this.bk(unsorted); victim !== unsorted; victim = this.bk(unsorted)) {
        const bck = this.bk(victim);
        const size = this.csize(victim);
        const next = victim + size;
        const sysMem = this.systemMem();
        if (size <= CHUNK_HDR || this.wide(victim, size) > sysMem) fail('unsorted-invalid-size');
        const nextWord = mem.read32(next + SIZE_SZ) >>> 0;
        if (nextWord < CHUNK_HDR || this.wide(next, (nextWord & ~SIZE_BITS) >>> 0) > sysMem)
          fail('unsorted-invalid-next-size');
        if (mem.read64(next) !== size) fail('unsorted-prev-size');
        if (this.fd(bck) !== victim || this.fd(victim) !== unsorted) fail('unsorted-corrupted');
        if ((nextWord & PREV_INUSE) !== 0) fail('unsorted-prev-inuse');

        // A small request takes from the last remainder when it is the only unsorted chunk.
        if (
          inSmallbinRange(nb) &&
          bck === unsorted &&
          victim === mem.read64(av + OFF_LAST_REMAINDER) &&
          size > nb + MINSIZE
        ) {
          const rest = size - nb;
          const r = victim + nb;
          mem.write64(unsorted + FD, r);
          mem.write64(unsorted + BK, r);
          mem.write64(av + OFF_LAST_REMAINDER, r);
          mem.write64(r + FD, unsorted);
          mem.write64(r + BK, unsorted);
          if (!inSmallbinRange(rest)) {
            mem.write64(r + FD_NEXTSIZE, 0);
            mem.write64(r + BK_NEXTSIZE, 0);
          }
          this.setHead(victim, nb | PREV_INUSE);
          this.setHead(r, rest | PREV_INUSE);
          this.setFoot(r, rest);
          return victim + CHUNK_HDR;
        }

        if (this.fd(bck) !== victim) fail('unsorted-corrupted-3');
        mem.write64(unsorted + BK, bck);
        mem.write64(bck + FD, unsorted);

        if (size === nb) {
          this.setInuseBitAt(victim, size);
          const count = useTcache ? mem.read16(tc + tcIdx * 2) : 0;
          if (useTcache && count < this.tcacheCount) {
            // Fill the tcache first; one of these is returned once the bin is sorted.
            this.tcachePut(tc, victim, tcIdx, count);
            returnCached = true;
            continue;
          }
          return victim + CHUNK_HDR;
        }

        this.placeInBin(victim, size);
        if (++iters >= MAX_UNSORTED_ITERS) break;
      }

      if (returnCached) return this.tcacheGet(tc, tcIdx, -1);

      if (!inSmallbinRange(nb)) {
        const bin = this.binAt(idx);
        let victim = this.fd(bin);
        if (victim !== bin && this.csize(victim) >= nb) {
          victim = mem.read64(victim + BK_NEXTSIZE);
          let size = this.csize(victim);
          while (size < nb) {
            victim = mem.read64(victim + BK_NEXTSIZE);
            size = this.csize(victim);
          }
          // Not the first of its size, so that the skip list need not be rerouted.
          if (
            victim !== this.bk(bin) &&
            mem.read32(victim + SIZE_SZ) === mem.read32(this.fd(victim) + SIZE_SZ)
          )
            victim = this.fd(victim);
          this.unlinkSized(victim, size);
          return this.splitOff(victim, size, nb, 'malloc-corrupted-unsorted', false);
        }
      }

      // The next non-empty bin above, by the binmap.
      const i = idx + 1;
      let bin = this.binAt(i);
      let block = i >>> 5;
      let map = mem.read32(av + OFF_BINMAP + block * 4);
      let bit = 2 ** (i & 31);
      let found = 0;
      for (;;) {
        if (bit > map || bit === 0) {
          do {
            if (++block >= BINMAPSIZE) break;
            map = mem.read32(av + OFF_BINMAP + block * 4);
          } while (map === 0);
          if (block >= BINMAPSIZE) break;
          bin = this.binAt(block * 32);
          bit = 1;
        }
        while ((bit & map) === 0) {
          bin += 16;
          bit *= 2;
        }
        const victim = this.bk(bin);
        if (victim === bin) {
          map = (map & ~bit) >>> 0;
          mem.write32(av + OFF_BINMAP + block * 4, map);
          bin += 16;
          bit = bit === 2 ** 31 ? 0 : bit * 2;
          continue;
        }
        found = victim;
        break;
      }
      if (found !== 0) {
        const size = this.csize(found);
        this.unlinkSized(found, size);
        return this.splitOff(found, size, nb, 'malloc-corrupted-unsorted-2', inSmallbinRange(nb));
      }

      // use_top
      const victim = this.top();
      const size = this.csizeWide(victim);
      if (size > this.systemMem()) fail('corrupted-top-size');
      if (size >= nb + MINSIZE) {
        const r = victim + nb;
        mem.write64(av + OFF_TOP, r);
        this.setHead(victim, nb | PREV_INUSE);
        this.setHead(r, (size - nb) | PREV_INUSE);
        return victim + CHUNK_HDR;
      }
      if (mem.read32(av + OFF_HAVE_FASTCHUNKS) !== 0) {
        this.consolidate();
        idx = binIndex(nb);
        continue;
      }
      return this.sysmalloc(nb);
    }
  }

  /** Files an unsorted chunk in its small or large bin (large bins sorted, largest first). */
  private placeInBin(victim: number, size: number): void {
    const mem = this.mem;
    let victimIndex: number;
    let bck: number;
    let fwd: number;
    if (inSmallbinRange(size)) {
      victimIndex = smallbinIndex(size);
      bck = this.binAt(victimIndex);
      fwd = this.fd(bck);
    } else {
      victimIndex = largebinIndex(size);
      bck = this.binAt(victimIndex);
      fwd = this.fd(bck);
      if (fwd !== bck) {
        const sizeP = size | PREV_INUSE;
        if (sizeP < mem.read32(this.bk(bck) + SIZE_SZ) >>> 0) {
          fwd = bck;
          bck = this.bk(bck);
          const first = this.fd(fwd);
          mem.write64(victim + FD_NEXTSIZE, first);
          mem.write64(victim + BK_NEXTSIZE, mem.read64(first + BK_NEXTSIZE));
          mem.write64(first + BK_NEXTSIZE, victim);
          mem.write64(mem.read64(victim + BK_NEXTSIZE) + FD_NEXTSIZE, victim);
        } else {
          let guard = 0;
          while (sizeP < mem.read32(fwd + SIZE_SZ) >>> 0) {
            fwd = mem.read64(fwd + FD_NEXTSIZE);
            if (++guard > 1e7) fail('largebin-nextsize');
          }
          if (sizeP === mem.read32(fwd + SIZE_SZ) >>> 0) {
            fwd = this.fd(fwd); // always insert in the second position
          } else {
            mem.write64(victim + FD_NEXTSIZE, fwd);
            mem.write64(victim + BK_NEXTSIZE, mem.read64(fwd + BK_NEXTSIZE));
            if (mem.read64(mem.read64(fwd + BK_NEXTSIZE) + FD_NEXTSIZE) !== fwd) fail('largebin-nextsize');
            mem.write64(fwd + BK_NEXTSIZE, victim);
            mem.write64(mem.read64(victim + BK_NEXTSIZE) + FD_NEXTSIZE, victim);
          }
          bck = this.bk(fwd);
          if (this.fd(bck) !== fwd) fail('largebin-bk');
        }
      } else {
        mem.write64(victim + FD_NEXTSIZE, victim);
        mem.write64(victim + BK_NEXTSIZE, victim);
      }
    }
    this.markBin(victimIndex);
    mem.write64(victim + BK, bck);
    mem.write64(victim + FD, fwd);
    mem.write64(fwd + BK, victim);
    mem.write64(bck + FD, victim);
  }

  /**
   * Uses a chunk taken out of a bin for `nb`: whole when the rest is too small for a chunk, else split,
   * the remainder going to the unsorted bin (and becoming the last remainder when asked).
   */
  private splitOff(
    victim: number,
    size: number,
    nb: number,
    corrupt: 'malloc-corrupted-unsorted' | 'malloc-corrupted-unsorted-2',
    advertise: boolean,
  ): number {
    const mem = this.mem;
    const rest = size - nb;
    if (rest < MINSIZE) {
      this.setInuseBitAt(victim, size);
    } else {
      const r = victim + nb;
      const bck = this.binAt(1);
      const fwd = this.fd(bck);
      if (this.bk(fwd) !== bck) fail(corrupt);
      mem.write64(r + BK, bck);
      mem.write64(r + FD, fwd);
      mem.write64(bck + FD, r);
      mem.write64(fwd + BK, r);
      if (advertise) mem.write64(this.av + OFF_LAST_REMAINDER, r);
      if (!inSmallbinRange(rest)) {
        mem.write64(r + FD_NEXTSIZE, 0);
        mem.write64(r + BK_NEXTSIZE, 0);
      }
      this.setHead(victim, nb | PREV_INUSE);
      this.setHead(r, rest | PREV_INUSE);
      this.setFoot(r, rest);
    }
    return victim + CHUNK_HDR;
  }

  /** glibc `unlink_chunk`. */
  private unlinkChunk(p: number): void {
    this.unlinkSized(p, this.csize(p));
  }

  /** glibc `unlink_chunk` of `p` whose chunksize `size` was just read. */
  private unlinkSized(p: number, size: number): void {
    const mem = this.mem;
    if (size !== mem.read64(p + size)) fail('size-vs-prev-size');
    const fd = this.fd(p);
    const bk = this.bk(p);
    if (this.bk(fd) !== p || this.fd(bk) !== p) fail('double-linked-list');
    mem.write64(fd + BK, bk);
    mem.write64(bk + FD, fd);
    if (!inSmallbinRange(size) && mem.read64(p + FD_NEXTSIZE) !== 0) {
      const fdn = mem.read64(p + FD_NEXTSIZE);
      const bkn = mem.read64(p + BK_NEXTSIZE);
      if (mem.read64(fdn + BK_NEXTSIZE) !== p || mem.read64(bkn + FD_NEXTSIZE) !== p)
        fail('double-linked-list-not-small');
      if (mem.read64(fd + FD_NEXTSIZE) === 0) {
        if (fdn === p) {
          mem.write64(fd + FD_NEXTSIZE, fd);
          mem.write64(fd + BK_NEXTSIZE, fd);
        } else {
          mem.write64(fd + FD_NEXTSIZE, fdn);
          mem.write64(fd + BK_NEXTSIZE, bkn);
          mem.write64(fdn + BK_NEXTSIZE, fd);
          mem.write64(bkn + FD_NEXTSIZE, fd);
        }
      } else {
        mem.write64(fdn + BK_NEXTSIZE, bkn);
        mem.write64(bkn + FD_NEXTSIZE, fdn);
      }
    }
  }

  /** glibc `malloc_consolidate`: every fastbin chunk is coalesced and goes to the unsorted bin. */
  private consolidate(): void {
    const mem = this.mem;
    const av = this.av;
    mem.write32(av + OFF_HAVE_FASTCHUNKS, 0);
    const unsorted = this.binAt(1);
    for (let i = 0; i < NFASTBINS; i++) {
      const fb = av + OFF_FASTBINS + i * 8;
      let p = mem.read64(fb);
      mem.write64(fb, 0);
      while (p !== 0) {
        if ((p & 15) !== 0) fail('consolidate-unaligned');
        const word = this.headWord(p);
        let size = (word & ~SIZE_BITS) >>> 0;
        if (fastbinIndex(size) !== i) fail('consolidate-invalid-size');
        const nextp = protectPtr(p + FD, this.fd(p));
        const next = p + size;
        const nextSize = this.csize(next);
        if ((word & PREV_INUSE) === 0) {
          const prevSize = mem.read64(p);
          size += prevSize;
          p -= prevSize;
          if (this.csize(p) !== prevSize) fail('size-vs-prev-size-fastbins');
          this.unlinkSized(p, prevSize);
        }
        if (next !== this.top()) {
          if (this.inuseBitAt(next, nextSize) === 0) {
            size += nextSize;
            this.unlinkSized(next, nextSize);
          } else {
            this.clearInuseBitAt(next, 0);
          }
          const first = this.fd(unsorted);
          mem.write64(unsorted + FD, p);
          mem.write64(first + BK, p);
          if (!inSmallbinRange(size)) {
            mem.write64(p + FD_NEXTSIZE, 0);
            mem.write64(p + BK_NEXTSIZE, 0);
          }
          this.setHead(p, size | PREV_INUSE);
          mem.write64(p + BK, unsorted);
          mem.write64(p + FD, first);
          this.setFoot(p, size);
        } else {
          size += nextSize;
          this.setHead(p, size | PREV_INUSE);
          mem.write64(av + OFF_TOP, p);
        }
        p = nextp;
      }
    }
  }

  /** glibc `sysmalloc` for the main arena. @returns the user pointer, or 0. */
  private sysmalloc(nb: number): number {
    const mem = this.mem;
    const av = this.av;
    const ps = this.pageSize;
    let triedMmap = false;
    if (nb >= this.mmapThreshold && this.nMmaps < this.nMmapsMax) {
      const p = mmapChunk(mem, nb);
      if (p !== 0) {
        this.nMmaps++;
        return p;
      }
      triedMmap = true;
    }
    const oldTop = this.top();
    const oldSize = this.csize(oldTop);
    const oldEnd = oldTop + oldSize;
    const size = alignUp(nb + this.topPad + MINSIZE - oldSize, ps);
    const brk = size > 0 ? mem.sbrk(size) : -1;
    if (brk < 0) {
      // vmscope: no MMAP_AS_MORECORE heap; the request gets a mapping of its own.
      if (triedMmap) return 0;
      const p = mmapChunk(mem, nb);
      if (p !== 0) this.nMmaps++;
      return p;
    }
    if (mem.read64(av + OFF_SBRK_BASE) === 0) mem.write64(av + OFF_SBRK_BASE, brk);
    let systemMem = this.systemMem() + size;
    if (brk === oldEnd) {
      this.setHead(oldTop, (size + oldSize) | PREV_INUSE);
    } else if (oldSize !== 0 && brk < oldEnd) {
      fail('break-adjusted');
    } else {
      // First time: the new space starts the heap (a page-aligned break needs no correction).
      const front = (brk + CHUNK_HDR) % 16;
      const alignedBrk = front > 0 ? brk + 16 - front : brk;
      let correction = (front > 0 ? 16 - front : 0) + oldSize;
      const endMisalign = brk + size + correction;
      correction += alignUp(endMisalign, ps) - endMisalign;
      let sndBrk = brk + size;
      if (correction > 0) {
        if (mem.sbrk(correction) < 0) correction = 0;
        sndBrk = mem.brk() - correction;
      }
      mem.write64(av + OFF_TOP, alignedBrk);
      this.setHead(alignedBrk, (sndBrk - alignedBrk + correction) | PREV_INUSE);
      systemMem += correction;
    }
    mem.write64(av + OFF_SYSTEM_MEM, systemMem);
    if (systemMem > mem.read64(av + OFF_MAX_SYSTEM_MEM)) mem.write64(av + OFF_MAX_SYSTEM_MEM, systemMem);
    const p = this.top();
    const topSize = this.csize(p);
    if (topSize >= nb + MINSIZE) {
      const r = p + nb;
      mem.write64(av + OFF_TOP, r);
      this.setHead(p, nb | PREV_INUSE);
      this.setHead(r, (topSize - nb) | PREV_INUSE);
      return p + CHUNK_HDR;
    }
    return 0;
  }

  /** glibc `systrim`: gives back the top beyond `pad`. */
  private systrim(pad: number): void {
    const mem = this.mem;
    const top = this.top();
    const topSize = this.csize(top);
    const area = topSize - MINSIZE - 1;
    if (area <= pad) return;
    const extra = alignDown(area - pad, this.pageSize);
    if (extra === 0) return;
    const current = mem.brk();
    if (current !== top + topSize) return;
    mem.sbrk(-extra);
    const released = current - mem.brk();
    if (released !== 0) {
      mem.write64(this.av + OFF_SYSTEM_MEM, this.systemMem() - released);
      this.setHead(top, (topSize - released) | PREV_INUSE);
    }
  }

  // ---------------------------------------------------------------- free

  protected freeImpl(ptr: number): void {
    const p = ptr - CHUNK_HDR;
    const word = this.headWord(p);
    if ((word & IS_MMAPPED) !== 0) {
      // The dynamic threshold compares the size word with its flags (chunksize_nomask), as glibc does.
      const nomask = word >>> 0;
      if (!this.noDynThreshold && nomask > this.mmapThreshold && nomask <= MMAP_THRESHOLD_MAX) {
        this.mmapThreshold = mmappedSize(this.mem, p);
        this.trimThreshold = 2 * this.mmapThreshold;
      }
      munmapChunk(this.mem, p);
      this.nMmaps--;
      return;
    }
    const tc = this.tcacheCount > 0 ? this.tcache() : -1;
    if (tc === 0) {
      // Its malloc may set p's PREV_INUSE (it can take the free chunk before p whole).
      this.tcacheInit();
      this.intFree(p);
      return;
    }
    this.intFreeWord(p, word, tc);
  }

  /** glibc `_int_free`. */
  private intFree(p: number): void {
    this.intFreeWord(p, this.headWord(p), -1);
  }

  /**
   * glibc `_int_free` of `p` whose size word `word` was just read, as was the tcache pointer `tc`
   * unless it is -1 (then it is read where glibc reads it), so that neither is read twice.
   */
  private intFreeWord(p: number, word: number, tcRead: number): void {
    const mem = this.mem;
    const av = this.av;
    let size = (word & ~SIZE_BITS) >>> 0;
    const hi = mem.read32(p + 12);
    // glibc: p > -size (the chunk would wrap the address space) or misaligned is an invalid pointer.
    if (hi >= 0xffff0000 || p + size > 2 ** 48 || (p & 15) !== 0) fail('invalid-pointer');
    if (size < MINSIZE || (size & 15) !== 0 || hi !== 0) fail('invalid-size');

    const tc = tcRead < 0 ? this.tcache() : tcRead;
    if (tc !== 0) {
      const idx = tcacheIndex(size);
      if (idx < TCACHE_MAX_BINS) {
        const e = p + CHUNK_HDR;
        if (mem.read64(e + 8) === TCACHE_KEY) {
          let cnt = 0;
          for (let t = mem.read64(tc + 128 + idx * 8); t !== 0; t = protectPtr(t, mem.read64(t)), cnt++) {
            if (cnt >= this.tcacheCount) fail('tcache-too-many');
            if ((t & 15) !== 0) fail('tcache-unaligned');
            if (t === e) fail('tcache-double-free');
          }
        }
        const count = mem.read16(tc + idx * 2);
        if (count < this.tcacheCount) {
          this.tcachePut(tc, p, idx, count);
          return;
        }
      }
    }

    if (size <= this.maxFast) {
      const next = p + size;
      const nextWord = mem.read32(next + SIZE_SZ) >>> 0;
      if (nextWord <= CHUNK_HDR || this.wide(next, (nextWord & ~SIZE_BITS) >>> 0) >= this.systemMem())
        fail('invalid-next-size-fast');
      mem.write32(av + OFF_HAVE_FASTCHUNKS, 1);
      const fb = av + OFF_FASTBINS + fastbinIndex(size) * 8;
      const old = mem.read64(fb);
      if (old === p) fail('double-free-fasttop');
      mem.write64(p + FD, protectPtr(p + FD, old));
      mem.write64(fb, p);
      return;
    }

    const next = p + size;
    const top = this.top();
    if (p === top) fail('double-free-top');
    if (next >= top + this.csize(top)) fail('double-free-out');
    const nextWord = mem.read32(next + SIZE_SZ) >>> 0;
    if ((nextWord & PREV_INUSE) === 0) fail('double-free-prev');
    const nextSize = (nextWord & ~SIZE_BITS) >>> 0;
    if (nextWord <= CHUNK_HDR || this.wide(next, nextSize) >= this.systemMem()) fail('invalid-next-size');

    if ((word & PREV_INUSE) === 0) {
      const prevSize = mem.read64(p);
      size += prevSize;
      p -= prevSize;
      if (this.csize(p) !== prevSize) fail('size-vs-prev-size-consolidating');
      this.unlinkSized(p, prevSize);
    }
    if (next !== top) {
      if (this.inuseBitAt(next, nextSize) === 0) {
        this.unlinkSized(next, nextSize);
        size += nextSize;
      } else {
        // The word read above: the unlinks since wrote only links.
        mem.write32(next + SIZE_SZ, nextWord & ~PREV_INUSE);
      }
      const bck = this.binAt(1);
      const fwd = this.fd(bck);
      if (this.bk(fwd) !== bck) fail('free-corrupted-unsorted');
      mem.write64(p + FD, fwd);
      mem.write64(p + BK, bck);
      if (!inSmallbinRange(size)) {
        mem.write64(p + FD_NEXTSIZE, 0);
        mem.write64(p + BK_NEXTSIZE, 0);
      }
      mem.write64(bck + FD, p);
      mem.write64(fwd + BK, p);
      this.setHead(p, size | PREV_INUSE);
      this.setFoot(p, size);
    } else {
      size += nextSize;
      this.setHead(p, size | PREV_INUSE);
      mem.write64(av + OFF_TOP, p);
    }

    if (size >= FASTBIN_CONSOLIDATION_THRESHOLD) {
      if (mem.read32(av + OFF_HAVE_FASTCHUNKS) !== 0) this.consolidate();
      if (this.csize(this.top()) >= this.trimThreshold) this.systrim(this.topPad);
    }
  }

  // ---------------------------------------------------------------- calloc, realloc, memalign

  protected callocImpl(bytes: number): number {
    const mem = this.mem;
    if (this.tcacheCount > 0 && this.tcache() === 0) this.tcacheInit();
    const oldTop = this.top();
    let oldTopSize = this.csize(oldTop);
    const sbrkBase = mem.read64(this.av + OFF_SBRK_BASE);
    if (sbrkBase !== 0) {
      const beyond = sbrkBase + mem.read64(this.av + OFF_MAX_SYSTEM_MEM) - oldTop;
      if (oldTopSize < beyond) oldTopSize = beyond;
    }
    const m = this.intMalloc(bytes, this.tcache());
    if (m === 0) return 0;
    const p = m - CHUNK_HDR;
    if ((this.headWord(p) & IS_MMAPPED) !== 0) return m;
    let csz = this.csize(p);
    // Memory the heap never had before comes zeroed from the kernel: leave it untouched.
    if (p === oldTop && csz > oldTopSize) csz = oldTopSize;
    mem.fill(m, csz - SIZE_SZ, 0);
    return m;
  }

  protected reallocImpl(oldmem: number, bytes: number): number {
    const mem = this.mem;
    const oldp = oldmem - CHUNK_HDR;
    const oldsize = this.csize(oldp);
    const mmapped = (this.headWord(oldp) & IS_MMAPPED) !== 0;
    if (!mmapped && this.tcacheCount > 0 && this.tcache() === 0) this.tcacheInit();
    if (oldp + oldsize > 2 ** 48 || (oldp & 15) !== 0) fail('realloc-invalid-pointer');
    const nb = request2size(bytes);
    if (mmapped) {
      const r = remapChunk(mem, oldp, nb);
      if (r !== 0) return r + CHUNK_HDR;
      if (oldsize - SIZE_SZ >= nb) return oldmem;
      const q = this.mallocImpl(bytes);
      if (q === 0) return 0;
      mem.copy(q, oldmem, oldsize - CHUNK_HDR);
      munmapChunk(mem, oldp);
      this.nMmaps--;
      return q;
    }
    return this.intRealloc(oldp, oldsize, nb);
  }

  /** glibc `_int_realloc`. */
  private intRealloc(oldp: number, oldsize: number, nb: number): number {
    const mem = this.mem;
    const sysMem = this.systemMem();
    if (mem.read32(oldp + SIZE_SZ) >>> 0 <= CHUNK_HDR || this.csizeWide(oldp) >= sysMem)
      fail('realloc-invalid-old-size');
    const next = oldp + oldsize;
    const nextSize = this.csize(next);
    if (mem.read32(next + SIZE_SZ) >>> 0 <= CHUNK_HDR || this.csizeWide(next) >= sysMem)
      fail('realloc-invalid-next-size');
    let newp = oldp;
    let newsize: number;
    if (oldsize >= nb) {
      newsize = oldsize;
    } else {
      const top = this.top();
      if (next === top && oldsize + nextSize >= nb + MINSIZE) {
        this.setHeadSize(oldp, nb);
        mem.write64(this.av + OFF_TOP, oldp + nb);
        this.setHead(oldp + nb, (oldsize + nextSize - nb) | PREV_INUSE);
        return oldp + CHUNK_HDR;
      }
      if (next !== top && this.inuseBitAt(next, nextSize) === 0 && oldsize + nextSize >= nb) {
        newsize = oldsize + nextSize;
        this.unlinkChunk(next);
      } else {
        const m = this.intMalloc(nb - 15, this.tcache());
        if (m === 0) return 0;
        newp = m - CHUNK_HDR;
        newsize = this.csize(newp);
        if (newp === next) {
          newsize += oldsize;
          newp = oldp;
        } else {
          mem.copy(m, oldp + CHUNK_HDR, oldsize - SIZE_SZ);
          this.intFree(oldp);
          return m;
        }
      }
    }
    const rest = newsize - nb;
    if (rest < MINSIZE) {
      this.setHeadSize(newp, newsize);
      this.setInuseBitAt(newp, newsize);
    } else {
      const r = newp + nb;
      this.setHeadSize(newp, nb);
      this.setHead(r, rest | PREV_INUSE);
      this.setInuseBitAt(r, rest);
      this.intFree(r);
    }
    return newp + CHUNK_HDR;
  }

  protected memalignImpl(alignment: number, bytes: number): number {
    const mem = this.mem;
    const nb = request2size(bytes);
    const m = this.intMalloc(nb + alignment + MINSIZE, this.tcache());
    if (m === 0) return 0;
    let p = m - CHUNK_HDR;
    if (m % alignment !== 0) {
      let q = alignUp(m, alignment) - CHUNK_HDR;
      if (q - p < MINSIZE) q += alignment;
      if ((this.headWord(p) & IS_MMAPPED) !== 0) return alignMmapped(mem, p, alignment);
      const lead = q - p;
      const newsize = this.csize(p) - lead;
      this.setHead(q, newsize | PREV_INUSE);
      this.setInuseBitAt(q, newsize);
      this.setHeadSize(p, lead);
      this.intFree(p);
      p = q;
    }
    if ((this.headWord(p) & IS_MMAPPED) === 0) {
      const size = this.csize(p);
      if (size > nb + MINSIZE) {
        const r = p + nb;
        this.setHead(r, (size - nb) | PREV_INUSE);
        this.setHeadSize(p, nb);
        this.intFree(r);
      }
    }
    return p + CHUNK_HDR;
  }

  protected usableImpl(ptr: number): number {
    const p = ptr - CHUNK_HDR;
    const word = this.headWord(p);
    const size = this.csize(p);
    if ((word & IS_MMAPPED) !== 0) return size - CHUNK_HDR;
    return this.inuseBitAt(p, size) !== 0 ? size - SIZE_SZ : 0;
  }

  // ---------------------------------------------------------------- inspection

  protected checkImpl(problems: string[]): void {
    binnedCheck(this, problems);
  }

  protected statsImpl(): HeapStats {
    return binnedStats(this);
  }

  protected freeListImpl(): FreeBlock[] {
    return binnedFreeList(this);
  }
}

/** bin_at(1) - av: bins[] starts 16 bytes after the fake chunk's start. */
const OFF_BINS_MINUS_HDR = OFF_BINS - FD;
