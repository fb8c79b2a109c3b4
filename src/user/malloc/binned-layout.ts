/**
 * glibc 2.36's malloc state as it lies in memory (x86-64), and its bin index functions.
 *
 * `struct malloc_state` (main_arena, 2200 bytes) sits at the start of the static area, field for
 * field where glibc has it; the `tcache` pointer (a thread variable in glibc) and the few `mp_`
 * statistics vmscope keeps in memory follow it.
 *
 *   +0     mutex, flags            +96   top               +2144  binmap[4] (u32)
 *   +8     have_fastchunks         +104  last_remainder    +2184  system_mem
 *   +16    fastbinsY[10]           +112  bins[254]         +2192  max_system_mem
 *
 * A bin is a fake chunk whose fd/bk are its two words in bins[]: bin_at(i) = &bins[2(i-1)] - 16.
 * Bin 1 is the unsorted bin, 2..63 the small bins (one size each, 16 bytes apart), 64..126 the large
 * bins (ranges, kept sorted by size with a skip list through fd_nextsize/bk_nextsize). The "initial
 * top" before the first sbrk is bin_at(1), whose size word (last_remainder) reads 0.
 *
 * The tcache (`tcache_perthread_struct`, 640 bytes) is the first chunk of the heap:
 *   +0 counts[64] (u16)   +128 entries[64] (pointers to the payloads, singly linked through +0;
 *   +8 of an entry holds the tcache key while it is cached)
 */

export const OFF_HAVE_FASTCHUNKS = 8;
export const OFF_FASTBINS = 16;
export const OFF_TOP = 96;
export const OFF_LAST_REMAINDER = 104;
export const OFF_BINS = 112;
export const OFF_BINMAP = 2144;
export const OFF_SYSTEM_MEM = 2184;
export const OFF_MAX_SYSTEM_MEM = 2192;
/** End of `struct malloc_state` (sizeof is 2200 = 0x898). */
export const MALLOC_STATE_BYTES = 2200;
export const OFF_TCACHE = MALLOC_STATE_BYTES;
export const OFF_SBRK_BASE = 2208;
export const BINNED_STATIC_BYTES = 2216;

export const NBINS = 128;
export const NFASTBINS = 10;
export const BINMAPSIZE = 4;
export const MIN_LARGE_SIZE = 1024;
/** DEFAULT_MXFAST: chunks of at most 128 bytes go to fastbins. */
export const MAX_FAST = 128;
/** Freeing a chunk of this size consolidates fastbins and may trim (FASTBIN_CONSOLIDATION_THRESHOLD). */
export const FASTBIN_CONSOLIDATION_THRESHOLD = 65536;
/** DEFAULT_MMAP_THRESHOLD_MAX on 64-bit: the dynamic threshold grows up to 32 MiB. */
export const MMAP_THRESHOLD_MAX = 32 * 1024 * 1024;
export const TCACHE_MAX_BINS = 64;
export const TCACHE_FILL_COUNT = 7;
export const TCACHE_STRUCT_BYTES = 640;
/** glibc draws a random key per process; vmscope uses a fixed one (below 2^53). */
export const TCACHE_KEY = 0x6e2a9c03d5b71;
/** MAX_ITERS of the unsorted loop. */
export const MAX_UNSORTED_ITERS = 10000;

export function inSmallbinRange(size: number): boolean {
  return size < MIN_LARGE_SIZE;
}

export function smallbinIndex(size: number): number {
  return size >>> 4;
}

/** largebin_index_64. */
export function largebinIndex(size: number): number {
  const s = Math.floor(size);
  if (Math.floor(s / 64) <= 48) return 48 + Math.floor(s / 64);
  if (Math.floor(s / 512) <= 20) return 91 + Math.floor(s / 512);
  if (Math.floor(s / 4096) <= 10) return 110 + Math.floor(s / 4096);
  if (Math.floor(s / 32768) <= 4) return 119 + Math.floor(s / 32768);
  if (Math.floor(s / 262144) <= 2) return 124 + Math.floor(s / 262144);
  return 126;
}

export function binIndex(size: number): number {
  return inSmallbinRange(size) ? smallbinIndex(size) : largebinIndex(size);
}

export function fastbinIndex(size: number): number {
  return (size >>> 4) - 2;
}

/** csize2tidx: the tcache bin of a chunk size. */
export function tcacheIndex(size: number): number {
  return (size - 32 + 15) >>> 4;
}
