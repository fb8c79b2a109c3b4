/**
 * The binned allocator's heap walk (glibc's `do_check_malloc_state`, stricter): every chunk from the
 * heap start to the top, every bin, fastbin and tcache list, and how they agree.
 */
import type { FreeBlock, HeapStats } from './api.js';
import type { BinnedHeap } from './binned.js';
import {
  binIndex,
  fastbinIndex,
  NBINS,
  NFASTBINS,
  OFF_BINMAP,
  OFF_FASTBINS,
  OFF_HAVE_FASTCHUNKS,
  OFF_SBRK_BASE,
  OFF_SYSTEM_MEM,
  TCACHE_MAX_BINS,
  tcacheIndex,
} from './binned-layout.js';
import { CHUNK_HDR, IS_MMAPPED, MINSIZE, PREV_INUSE, protectPtr, SIZE_SZ } from './chunk.js';

const hex = (v: number) => `0x${v.toString(16)}`;

/** Where each free chunk is kept. */
type Place = 'tcache' | 'fast' | 'bin';

interface Inventory {
  /** chunk address -> where it is listed */
  readonly places: Map<number, Place>;
  /** Free chunks in list order: tcache bins, fastbins, then bins 1..127. */
  readonly order: FreeBlock[];
}

/** Reads every list, recording problems with the lists themselves. */
function inventory(h: BinnedHeap, problems: string[]): Inventory {
  const mem = h.mem;
  const places = new Map<number, Place>();
  const order: FreeBlock[] = [];
  const heapEnd = mem.brk();
  const inHeap = (c: number) => c >= mem.heapStart && c + MINSIZE <= heapEnd && c % 16 === 0;
  const note = (c: number, place: Place, what: string): boolean => {
    if (!inHeap(c)) {
      problems.push(`${what}: ${hex(c)} is not a chunk in the heap`);
      return false;
    }
    if (places.has(c)) {
      problems.push(`${what}: chunk ${hex(c)} is also in a ${places.get(c)} list`);
      return false;
    }
    places.set(c, place);
    order.push({ va: c, sizeBytes: h.csize(c) });
    return true;
  };

  const tc = h.tcache();
  if (tc !== 0) {
    for (let i = 0; i < TCACHE_MAX_BINS; i++) {
      const count = mem.read16(tc + i * 2);
      let n = 0;
      for (let e = mem.read64(tc + 128 + i * 8); e !== 0; e = protectPtr(e, mem.read64(e))) {
        if (!note(e - CHUNK_HDR, 'tcache', `tcache bin ${i}`)) break;
        if (tcacheIndex(h.csize(e - CHUNK_HDR)) !== i)
          problems.push(`tcache bin ${i}: chunk ${hex(e - CHUNK_HDR)} has size ${h.csize(e - CHUNK_HDR)}`);
        if (++n > h.tcacheCount) break;
      }
      if (n !== count) problems.push(`tcache bin ${i}: count ${count} but ${n} chunks listed`);
    }
  }

  let anyFast = false;
  for (let i = 0; i < NFASTBINS; i++) {
    let n = 0;
    for (
      let p = mem.read64(h.av + OFF_FASTBINS + i * 8);
      p !== 0;
      p = protectPtr(p + 16, mem.read64(p + 16))
    ) {
      anyFast = true;
      if (!note(p, 'fast', `fastbin ${i}`)) break;
      if (fastbinIndex(h.csize(p)) !== i)
        problems.push(`fastbin ${i}: chunk ${hex(p)} has size ${h.csize(p)}`);
      if (++n > (heapEnd - mem.heapStart) / MINSIZE) break;
    }
  }
  if (anyFast && mem.read32(h.av + OFF_HAVE_FASTCHUNKS) === 0)
    problems.push('fastbins hold chunks but have_fastchunks is 0');

  for (let i = 1; i < NBINS; i++) {
    const bin = h.binAt(i);
    let prev = bin;
    let prevSize = Number.POSITIVE_INFINITY;
    let n = 0;
    for (let p = mem.read64(bin + 16); p !== bin; p = mem.read64(p + 16)) {
      if (!note(p, 'bin', `bin ${i}`)) break;
      if (mem.read64(p + 24) !== prev) problems.push(`bin ${i}: chunk ${hex(p)} has a wrong bk`);
      const size = h.csize(p);
      if (i > 1) {
        const want = binIndex(size);
        if (want !== i) problems.push(`bin ${i}: chunk ${hex(p)} of ${size} bytes belongs in bin ${want}`);
        if (i >= 64) {
          if (size > prevSize) problems.push(`large bin ${i}: not sorted at ${hex(p)}`);
          const headOfSize = size !== prevSize;
          const fdn = mem.read64(p + 32);
          if (headOfSize && fdn === 0)
            problems.push(`large bin ${i}: ${hex(p)} heads its size but has no fd_nextsize`);
          if (!headOfSize && fdn !== 0)
            problems.push(`large bin ${i}: ${hex(p)} has fd_nextsize but does not head its size`);
        }
      }
      prev = p;
      prevSize = size;
      if (++n > (heapEnd - mem.heapStart) / MINSIZE) {
        problems.push(`bin ${i}: the list loops`);
        break;
      }
    }
    if (n > 0 && mem.read64(bin + 24) !== prev) problems.push(`bin ${i}: its bk is not the last chunk`);
    if (n > 0 && i > 1) {
      const word = mem.read32(h.av + OFF_BINMAP + (i >>> 5) * 4);
      if (((word >>> (i & 31)) & 1) === 0) problems.push(`bin ${i} holds chunks but its binmap bit is clear`);
    }
  }
  return { places, order };
}

/** Visits the heap's chunks from sbrk_base to the top. @returns false when a header is unreadable. */
function walk(h: BinnedHeap, problems: string[], visit: (c: number, size: number) => void): boolean {
  const mem = h.mem;
  const base = mem.read64(h.av + OFF_SBRK_BASE);
  if (base === 0) return true;
  const top = h.top();
  let c = base;
  while (c < top) {
    const word = mem.read32(c + SIZE_SZ);
    const size = h.csize(c);
    if (
      size < MINSIZE ||
      (size & 15) !== 0 ||
      c + size > top ||
      (word & IS_MMAPPED) !== 0 ||
      mem.read32(c + 12) !== 0
    ) {
      problems.push(`chunk ${hex(c)}: bad size word ${hex(word >>> 0)}`);
      return false;
    }
    visit(c, size);
    c += size;
  }
  if (c !== top) {
    problems.push(`the chunks overrun the top chunk at ${hex(top)}`);
    return false;
  }
  return true;
}

export function binnedCheck(h: BinnedHeap, problems: string[]): void {
  const mem = h.mem;
  const base = mem.read64(h.av + OFF_SBRK_BASE);
  if (base === 0) return;
  const inv = inventory(h, problems);
  const top = h.top();
  const topSize = h.csize(top);
  if (top + topSize !== mem.brk())
    problems.push(`the top chunk ${hex(top)} (${topSize} bytes) does not end at the break ${hex(mem.brk())}`);
  if ((mem.read32(top + SIZE_SZ) & PREV_INUSE) === 0)
    problems.push('the chunk before the top is free: it should have merged');
  if (topSize < MINSIZE) problems.push('the top chunk is smaller than MINSIZE');
  if (mem.read64(h.av + OFF_SYSTEM_MEM) !== mem.brk() - base)
    problems.push('system_mem does not match the heap');
  let prevBinned = false;
  const seen = new Set<number>();
  const ok = walk(h, problems, (c, size) => {
    const place = inv.places.get(c);
    const binned = place === 'bin';
    if (place !== undefined) seen.add(c);
    const prevInuse = (mem.read32(c + SIZE_SZ) & PREV_INUSE) !== 0;
    if (prevInuse === prevBinned)
      problems.push(
        `chunk ${hex(c)}: PREV_INUSE ${prevInuse ? 1 : 0} but the previous chunk is ${prevBinned ? 'free' : 'in use'}`,
      );
    if (binned) {
      if (prevBinned) problems.push(`free chunks before ${hex(c)} were not coalesced`);
      if (mem.read64(c + size) !== size) problems.push(`free chunk ${hex(c)}: its footer does not match`);
    }
    prevBinned = binned;
  });
  if (!ok) return;
  if (prevBinned) problems.push('a free chunk borders the top: it should have merged');
  for (const c of inv.places.keys())
    if (!seen.has(c)) problems.push(`listed chunk ${hex(c)} is not a chunk of the heap`);
}

export function binnedStats(h: BinnedHeap): HeapStats {
  const mem = h.mem;
  const problems: string[] = [];
  const inv = inventory(h, problems);
  const base = mem.read64(h.av + OFF_SBRK_BASE);
  const tc = h.tcache();
  let usedBlocks = 0;
  let usedBytes = 0;
  let freeBlocks = 0;
  let freeBytes = 0;
  let largestFree = 0;
  let overhead = 0;
  walk(h, problems, (c, size) => {
    if (c + CHUNK_HDR === tc) overhead += size;
    else if (inv.places.has(c)) {
      freeBlocks++;
      freeBytes += size;
      if (size > largestFree) largestFree = size;
    } else {
      usedBlocks++;
      usedBytes += size;
    }
  });
  return {
    heapBytes: mem.brk() - mem.heapStart,
    mmapBytes: mem.counters.mmapBytes,
    usedBlocks,
    usedBytes,
    freeBlocks,
    freeBytes,
    largestFree,
    topBytes: base === 0 ? 0 : h.csize(h.top()),
    overheadBytes: overhead,
  };
}

export function binnedFreeList(h: BinnedHeap): FreeBlock[] {
  return inventory(h, []).order;
}
