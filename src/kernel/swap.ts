/**
 * The swap device: `slotCount` page-sized slots with real contents, a use count per slot (Linux's
 * swap_map: one per swap entry in a page table, one for a page in the swap cache, one per swapped
 * shmem page) and a free list. Contents are stored in chunks allocated on first use, so a large
 * device costs memory only for what is written to it.
 *
 * The swap cache: a slot whose page is in memory again (swapped in, or about to be written out) names
 * that frame in `cachedPfn`, so that a second mapper of a page shared across fork finds it there
 * instead of reading the slot again. A slot also remembers whose page it holds (`mapping`, `index`:
 * the anon_vma and offset), so the page keeps its identity across a trip through swap.
 */
import { invariant } from '../base/errors.js';

const CHUNK_SLOTS = 256;

export class SwapDevice {
  readonly slotCount: number;
  readonly pageSize: number;
  /** Users of each slot; 0 = free. */
  readonly count: Uint16Array;
  private readonly free: Int32Array;
  private freeTop: number;
  private readonly chunks: (Uint8Array | undefined)[] = [];
  /** The frame holding this slot's page (the swap cache), or -1. */
  readonly cachedPfn: Int32Array;
  /** The anon_vma id and page offset of the page the slot holds (-1 for shmem pages). */
  readonly mapping: Int32Array;
  readonly index: Float64Array;
  /** Called with a freed slot's anon_vma id (so the kernel can release that identity). */
  onFree: ((mappingId: number) => void) | null = null;
  /** Pages written to the device, and read back. */
  writes = 0;
  reads = 0;

  constructor(slotCount: number, pageSize: number) {
    this.slotCount = slotCount;
    this.pageSize = pageSize;
    this.count = new Uint16Array(slotCount);
    this.cachedPfn = new Int32Array(slotCount).fill(-1);
    this.mapping = new Int32Array(slotCount).fill(-1);
    this.index = new Float64Array(slotCount);
    this.free = new Int32Array(slotCount);
    // Lowest slots first, as a fresh swap area hands them out.
    for (let i = 0; i < slotCount; i++) this.free[i] = slotCount - 1 - i;
    this.freeTop = slotCount;
  }

  get freeSlots(): number {
    return this.freeTop;
  }

  /** Takes a free slot with one user. @returns the slot, or -1 when the device is full. */
  alloc(): number {
    if (this.freeTop === 0) return -1;
    const slot = this.free[--this.freeTop]!;
    this.count[slot] = 1;
    return slot;
  }

  /** One more user of `slot`. */
  get(slot: number): void {
    if (this.count[slot]! <= 0) invariant(false, `swap: get of free slot ${slot}`);
    this.count[slot]!++;
  }

  /** One user fewer; the slot is free again when none remain. @returns true when it was freed. */
  put(slot: number): boolean {
    if (this.count[slot]! <= 0) invariant(false, `swap: put of free slot ${slot}`);
    if (--this.count[slot]! > 0) return false;
    invariant(
      this.cachedPfn[slot] === -1,
      `swap: slot ${slot} freed while frame ${this.cachedPfn[slot]} caches it`,
    );
    const mapping = this.mapping[slot]!;
    this.mapping[slot] = -1;
    this.free[this.freeTop++] = slot;
    if (mapping >= 0) this.onFree?.(mapping);
    return true;
  }

  /** Copies a page into `slot`. */
  write(slot: number, page: Uint8Array): void {
    this.chunk(slot).set(page, (slot % CHUNK_SLOTS) * this.pageSize);
    this.writes++;
  }

  /** Copies `slot` into `page` at byte `at` (a frame of RAM is `mem.bytes` at its address: no view). */
  read(slot: number, page: Uint8Array, at = 0): void {
    const off = (slot % CHUNK_SLOTS) * this.pageSize;
    page.set(this.chunk(slot).subarray(off, off + this.pageSize), at);
    this.reads++;
  }

  private chunk(slot: number): Uint8Array {
    const i = Math.floor(slot / CHUNK_SLOTS);
    let c = this.chunks[i];
    if (c === undefined) {
      c = new Uint8Array(CHUNK_SLOTS * this.pageSize);
      this.chunks[i] = c;
    }
    return c;
  }

  /** Slots in use, for the consistency check. */
  usedSlots(): number {
    return this.slotCount - this.freeTop;
  }
}
