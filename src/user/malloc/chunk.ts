/**
 * The chunk layout every allocator here shares with glibc (64-bit): a block handed to the program is
 * preceded by a 16-byte header, and blocks are 16-byte aligned.
 *
 *     chunk ->  +-----------------------------------------------+
 *               | prev_size: size of the previous chunk, when it |  (the previous chunk's last 8
 *               | is free (its footer); else its data           |   payload bytes when it is in use)
 *               +-----------------------------------------------+
 *               | size                        |FREE|MMAP|PREV_INUSE|
 *     mem ->    +-----------------------------------------------+
 *               | payload (free: fd, bk, ... links)             |
 *
 * PREV_INUSE (bit 0) says whether the chunk before is in use; IS_MMAPPED (bit 1) marks a chunk with a
 * mapping of its own; bit 2 is glibc's NON_MAIN_ARENA, which the non-glibc allocators use as
 * CHUNK_FREE (this chunk is free). A size word is read as its low 32 bits: chunks are below 2 GiB
 * (requests above {@link MAX_REQUEST} fail), so a word with high bits set is a corrupted one.
 */
import { alignUp } from '../../base/units.js';
import type { HeapMemory } from '../memory.js';
import { HeapStop, type MisuseKind } from '../stop.js';

export const SIZE_SZ = 8;
export const CHUNK_HDR = 16;
export const MALLOC_ALIGN = 16;
export const MINSIZE = 32;
export const PREV_INUSE = 1;
export const IS_MMAPPED = 2;
export const CHUNK_FREE = 4;
export const SIZE_BITS = 7;

/** The largest request served (glibc's limit is PTRDIFF_MAX; vmscope's memories are smaller). */
export const MAX_REQUEST = 2 ** 31 - 2 * 65536;

/** glibc `request2size`: the chunk size for a request of `bytes` (header in, 16-aligned, at least 32). */
export function request2size(bytes: number): number {
  const n = bytes + SIZE_SZ + 15;
  return n < MINSIZE ? MINSIZE : n - (n & 15);
}

/** Throws the stop that aborts the program with glibc's message for `kind`. */
export function fail(kind: MisuseKind): never {
  throw new HeapStop(kind);
}

/**
 * glibc's safe-linking, PROTECT_PTR(pos, ptr) = (pos >> 12) ^ ptr: a singly linked pointer stored at
 * address `pos` is mixed with that address's page number (and revealed the same way).
 */
export function protectPtr(pos: number, ptr: number): number {
  if (pos < 4294967296 && ptr < 4294967296) return ((pos >>> 12) ^ ptr) >>> 0;
  return xor53(Math.floor(pos / 4096), ptr);
}

/** x ^ y for non-negative integers below 2^53 (glibc's safe-linking mixes 48-bit pointers). */
export function xor53(x: number, y: number): number {
  if (x < 4294967296 && y < 4294967296) return (x ^ y) >>> 0;
  const hi = (Math.floor(x / 4294967296) ^ Math.floor(y / 4294967296)) >>> 0;
  return hi * 4294967296 + ((x ^ y) >>> 0);
}

// ---------------------------------------------------------------- chunks with a mapping of their own

/**
 * glibc `sysmalloc_mmap`: a chunk of `nb` bytes in its own mapping (the page-rounded size, one size
 * word more than a heap chunk since no next chunk lends its prev_size). @returns the user pointer, or 0.
 */
export function mmapChunk(mem: HeapMemory, nb: number): number {
  const size = alignUp(nb + SIZE_SZ, mem.pageSize);
  const mm = mem.mmap(size);
  if (mm < 0) return 0;
  mem.write64(mm, 0);
  mem.write64(mm + SIZE_SZ, size | IS_MMAPPED);
  return mm + CHUNK_HDR;
}

/** Size of an mmapped chunk at `p` (its header's size, page multiple). */
export function mmappedSize(mem: HeapMemory, p: number): number {
  return mem.read32(p + SIZE_SZ) & ~SIZE_BITS;
}

/**
 * glibc's check before unmapping or remapping: the mapping (the chunk minus the offset in prev_size)
 * must be page-aligned and whole pages, and the user pointer's offset in its page a power of two.
 */
function mappedBlock(mem: HeapMemory, p: number, kind: MisuseKind): { block: number; total: number } {
  const ps = mem.pageSize;
  const offset = mem.read64(p);
  const size = mmappedSize(mem, p);
  const block = p - offset;
  const total = offset + size;
  const memOff = (p + CHUNK_HDR) % ps;
  if (block % ps !== 0 || total % ps !== 0 || memOff === 0 || (memOff & (memOff - 1)) !== 0 || size === 0)
    fail(kind);
  return { block, total };
}

/** glibc `munmap_chunk`. */
export function munmapChunk(mem: HeapMemory, p: number): void {
  const { block, total } = mappedBlock(mem, p, 'munmap-invalid-pointer');
  mem.munmap(block, total);
}

/**
 * glibc `mremap_chunk` over munmap and mmap (vmscope's kernel has no mremap): shrinking unmaps the
 * tail in place; growing maps anew, copies and unmaps the old pages (MREMAP_MAYMOVE).
 * @returns the chunk, or 0 when no memory was left (the old chunk is untouched).
 */
export function remapChunk(mem: HeapMemory, p: number, nb: number): number {
  const ps = mem.pageSize;
  const { block, total } = mappedBlock(mem, p, 'mremap-invalid-pointer');
  const offset = p - block;
  const newTotal = alignUp(nb + offset + SIZE_SZ, ps);
  if (newTotal === total) return p;
  if (newTotal < total) {
    mem.munmap(block + newTotal, total - newTotal);
    mem.write64(p + SIZE_SZ, (newTotal - offset) | IS_MMAPPED);
    return p;
  }
  const fresh = mem.mmap(newTotal);
  if (fresh < 0) return 0;
  mem.copy(fresh, block, total);
  mem.munmap(block, total);
  const q = fresh + offset;
  mem.write64(q + SIZE_SZ, (newTotal - offset) | IS_MMAPPED);
  return q;
}

/**
 * glibc `_int_memalign` on an mmapped chunk `p` (user pointer p + 16) allocated with room for
 * `alignment` + MINSIZE more: moves the chunk start up to an aligned spot, recording the offset in
 * prev_size so that munmap finds the mapping. @returns the aligned user pointer.
 */
export function alignMmapped(mem: HeapMemory, p: number, alignment: number): number {
  const m = p + CHUNK_HDR;
  if (m % alignment === 0) return m;
  let q = alignUp(m, alignment) - CHUNK_HDR;
  if (q - p < MINSIZE) q += alignment;
  const lead = q - p;
  mem.write64(q, mem.read64(p) + lead);
  mem.write64(q + SIZE_SZ, (mmappedSize(mem, p) - lead) | IS_MMAPPED);
  return q + CHUNK_HDR;
}
