/**
 * TLSF, Two-Level Segregated Fit (Masmano, Ripoll, Crespo, Real, ECRTS 2004): free chunks in a
 * two-level array of lists, found in O(1) with two bitmap scans.
 *
 * Rules:
 *  - First level: the power of two of the size; second level: 16 equal slices of it. Chunks below
 *    256 bytes share first-level list 0 in 16-byte steps. A chunk of size s goes to list (fl, sl):
 *        s < 256:  fl = 0,          sl = s / 16
 *        else:     fl = log2(s) - 7, sl = (s >> (log2(s) - 4)) - 16
 *  - Bitmaps in the static area: one bit per first level with a non-empty list, and per first level
 *    one bit per non-empty second-level list.
 *  - malloc rounds the request up to the next list boundary ("good fit"), so that any chunk in the
 *    list found fits: the search is the first set bit at or above (fl, sl), then in the higher first
 *    levels. The head of that list is taken, split, and the remainder filed by its size.
 *  - free: immediate coalescing with both neighbours (boundary tags), then a push on its list.
 *  - Heap growth, trimming, mmap threshold, realloc and memalign: as every tagged heap (tagged.ts).
 */
import type { HeapMemory } from '../memory.js';
import type { CommonOptions, FreeBlock } from './api.js';
import { ListArray } from './lists.js';
import { TaggedHeap } from './tagged.js';

const SL_LOG2 = 4;
const SL_COUNT = 1 << SL_LOG2;
const SMALL = 256;
const FL_COUNT = 24; // up to chunks below 2^31
const LISTS = FL_COUNT * SL_COUNT;

/** The list (fl * 16 + sl) a free chunk of `size` bytes belongs to. */
export function tlsfList(size: number): number {
  if (size < SMALL) return size >>> 4;
  const f = 31 - Math.clz32(size);
  return (f - 7) * SL_COUNT + ((size >>> (f - SL_LOG2)) - SL_COUNT);
}

export class TlsfHeap extends TaggedHeap {
  private readonly lists: ListArray;
  /** First-level bitmap: bit fl set when some list of that level is non-empty. */
  private readonly flVa: number;

  constructor(mem: HeapMemory, options: CommonOptions = {}) {
    super('tlsf', mem, options);
    this.flVa = mem.staticBase;
    // Second-level bitmaps are the ListArray's bitmap words: 16 bits per first level, two per word.
    this.lists = new ListArray(mem, mem.staticBase + 8, LISTS);
  }

  protected override initImpl(): void {
    this.mem.write64(this.flVa, 0);
    this.lists.init();
  }

  // A first-level bit is set exactly when one of its lists is non-empty, so it can change only when a
  // push finds a list empty or an unlink empties one: the bitmaps are read then and only then.

  protected insertFree(c: number, size: number): void {
    const list = tlsfList(size);
    if (!this.lists.push(list, c)) return;
    const mem = this.mem;
    const fl = mem.read32(this.flVa);
    const bit = 1 << (list >>> SL_LOG2);
    if ((fl & bit) === 0) mem.write32(this.flVa, fl | bit);
  }

  protected unlinkFree(c: number, size: number): void {
    const list = tlsfList(size);
    if (!this.lists.unlink(list, c)) return;
    const fl = list >>> SL_LOG2;
    if (this.slMap(fl) === 0) {
      const mem = this.mem;
      mem.write32(this.flVa, mem.read32(this.flVa) & ~(1 << fl));
    }
  }

  /** The 16 second-level bits of first level `fl`. */
  private slMap(fl: number): number {
    return (this.lists.word(fl >>> 1) >>> ((fl & 1) * SL_COUNT)) & 0xffff;
  }

  protected findFit(nb: number): number {
    let size = nb;
    if (size >= SMALL) size += (1 << (31 - Math.clz32(size) - SL_LOG2)) - 1;
    if (size >= 2 ** 31) return 0;
    const list = tlsfList(size);
    let fl = list >>> SL_LOG2;
    let sl = list & (SL_COUNT - 1);
    let slMap = this.slMap(fl) & (-1 << sl);
    if (slMap === 0) {
      const flMap = this.mem.read32(this.flVa) & (-1 << (fl + 1));
      if (flMap === 0) return 0;
      fl = 31 - Math.clz32(flMap & -flMap);
      slMap = this.slMap(fl);
    }
    sl = 31 - Math.clz32(slMap & -slMap);
    return this.lists.head(fl * SL_COUNT + sl);
  }

  protected checkLists(problems: string[], free: Map<number, number>): void {
    const seen = new Set<number>();
    for (let i = 0; i < LISTS; i++)
      this.checkDList(
        problems,
        `list ${i >>> SL_LOG2}/${i & 15}`,
        this.lists.headVa(i),
        free,
        seen,
        (s) => tlsfList(s) === i,
      );
    for (const c of free.keys())
      if (!seen.has(c)) problems.push(`free chunk 0x${c.toString(16)} is in no list`);
    this.lists.checkBitmap(problems, 'second-level list');
    const flMap = this.mem.read32(this.flVa);
    for (let fl = 0; fl < FL_COUNT; fl++) {
      if (((flMap >>> fl) & 1) !== (this.slMap(fl) !== 0 ? 1 : 0))
        problems.push(`first level ${fl}: its bitmap bit disagrees with its lists`);
    }
  }

  protected listBlocks(): FreeBlock[] {
    const out: FreeBlock[] = [];
    for (let i = 0; i < LISTS; i++)
      for (let c = this.lists.head(i); c !== 0; c = this.mem.read64(c + 16))
        out.push({ va: c, sizeBytes: this.sizeOf(c) });
    return out;
  }
}
