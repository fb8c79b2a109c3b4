/**
 * What every allocator offers: the C library's allocation calls, a heap walk that checks every rule
 * of the allocator's layout, and statistics. The calls never throw for what the program did: a
 * detected misuse ends the program with SIGABRT (see {@link Allocator.misuse}), a bad access with
 * SIGSEGV, and from then on every call returns 0 and does nothing.
 */
import { isPowerOfTwo } from '../../base/units.js';
import { EINVAL, ENOMEM } from '../../kernel/errno.js';
import type { HeapMemory } from '../memory.js';
import type { HeapSignal, Misuse } from '../stop.js';

/** The allocators, by their command-line names. */
export const ALLOCATOR_NAMES = [
  'first-fit',
  'next-fit',
  'best-fit',
  'worst-fit',
  'segregated',
  'buddy',
  'tlsf',
  'binned',
] as const;
export type AllocatorName = (typeof ALLOCATOR_NAMES)[number];

export function isAllocatorName(s: string): s is AllocatorName {
  return (ALLOCATOR_NAMES as readonly string[]).includes(s);
}

/** Settings every allocator takes (glibc's mallopt names in brackets). */
export interface CommonOptions {
  /** Requests of at least this many bytes get their own mmap [M_MMAP_THRESHOLD]; default 128 KiB. */
  readonly mmapThreshold?: number;
  /** Extra bytes asked of brk each time the heap grows [M_TOP_PAD]; default 128 KiB. */
  readonly topPad?: number;
  /** Free space at the top of the heap beyond which brk gives it back [M_TRIM_THRESHOLD]; default 128 KiB. */
  readonly trimThreshold?: number;
}

export const DEFAULT_MMAP_THRESHOLD = 128 * 1024;
export const DEFAULT_TOP_PAD = 128 * 1024;
export const DEFAULT_TRIM_THRESHOLD = 128 * 1024;

/** A free block as the allocator keeps it, for display and tests. */
export interface FreeBlock {
  /** Start of the block (its header). */
  readonly va: number;
  readonly sizeBytes: number;
}

/** What a heap walk finds. Block sizes include headers. */
export interface HeapStats {
  /** brk - heapStart. */
  readonly heapBytes: number;
  /** Bytes in mmapped chunks (whole pages). */
  readonly mmapBytes: number;
  /** Blocks handed to the program (mmapped ones included), and their bytes. */
  readonly usedBlocks: number;
  readonly usedBytes: number;
  /** Free blocks in the heap (caches such as tcache and fastbins included, the top excluded). */
  readonly freeBlocks: number;
  readonly freeBytes: number;
  /** The largest free block (top excluded). */
  readonly largestFree: number;
  /** Free space at the end of the heap (glibc's top chunk; a trailing free block elsewhere). */
  readonly topBytes: number;
  /** Bytes of the allocator's own bookkeeping in the heap (e.g. glibc's tcache struct, fenceposts). */
  readonly overheadBytes: number;
}

export interface Allocator {
  readonly name: string;
  readonly mem: HeapMemory;
  /** malloc(3): @returns the pointer, or 0 when memory is exhausted (or the program has died). */
  malloc(bytes: number): number;
  /** free(3); free(0) does nothing. */
  free(ptr: number): void;
  /** calloc(3): zeroed memory; 0 when nmemb*size overflows or memory is exhausted. */
  calloc(nmemb: number, size: number): number;
  /** realloc(3) with glibc's rules: realloc(0, n) mallocs, realloc(p, 0) frees and returns 0. */
  realloc(ptr: number, bytes: number): number;
  /** memalign(3): `alignment` is rounded up to a power of two (as glibc does). */
  memalign(alignment: number, bytes: number): number;
  /** Usable bytes of a live block (malloc_usable_size). */
  usableSize(ptr: number): number;
  /** Every rule of the heap's layout, checked by walking it. @returns the problems found (none: []). */
  check(): string[];
  stats(): HeapStats;
  /** Free blocks in the order the allocator keeps them (list order, then by class or bin). */
  freeList(): FreeBlock[];
  /** The misuse that aborted the program, or null. */
  readonly misuse: Misuse | null;
  /** How the program ended (SIGABRT after a misuse, SIGSEGV after a bad access), or null. */
  readonly signal: HeapSignal | null;
}

/** posix_memalign(3). @returns the pointer, or -EINVAL / -ENOMEM. */
export function posixMemalign(a: Allocator, alignment: number, bytes: number): number {
  const word = 8;
  if (alignment % word !== 0 || !isPowerOfTwo(alignment / word) || alignment === 0) return -EINVAL;
  const p = a.memalign(alignment, bytes);
  return p === 0 ? -ENOMEM : p;
}

/** aligned_alloc(3) as glibc 2.36 implements it: a power of two, else EINVAL (0). */
export function alignedAlloc(a: Allocator, alignment: number, bytes: number): number {
  if (!isPowerOfTwo(alignment)) return 0;
  return a.memalign(alignment, bytes);
}

/** valloc(3): page-aligned. */
export function valloc(a: Allocator, bytes: number): number {
  return a.memalign(a.mem.pageSize, bytes);
}

/** pvalloc(3): page-aligned, rounded up to whole pages. */
export function pvalloc(a: Allocator, bytes: number): number {
  const ps = a.mem.pageSize;
  return a.memalign(ps, Math.ceil(bytes / ps) * ps);
}
