/**
 * Segregated fits: one free list per size class, searched from the request's own class upward.
 *
 * Rules:
 *  - Classes: exact classes for chunks below 1 KiB (32, 48, … 1008 bytes: 62 classes, as glibc's
 *    small bins), then one class per power of two ([1 KiB, 2 KiB), [2 KiB, 4 KiB), … up to 2 GiB).
 *  - Each class is a LIFO list; a bitmap in the static area marks the non-empty ones.
 *  - malloc: an exact class serves its head at once; in a power-of-two class the list is searched
 *    first fit; failing that, the head of the next non-empty class above (every chunk there fits).
 *    The chosen chunk is split and the remainder goes to the list of its own class.
 *  - free: immediate coalescing with both neighbours (boundary tags), then a push on the class list.
 *  - Heap growth, trimming, mmap threshold, realloc and memalign: as for every tagged heap (tagged.ts).
 */
import type { HeapMemory } from '../memory.js';
import type { CommonOptions, FreeBlock } from './api.js';
import { ListArray } from './lists.js';
import { TaggedHeap } from './tagged.js';

const SMALL_LIMIT = 1024;
const EXACT = 62; // classes for 32 .. 1008
const CLASSES = EXACT + 21; // [2^10, 2^11) .. [2^30, 2^31)

/** The class of a chunk of `size` bytes. */
export function segregatedClass(size: number): number {
  if (size < SMALL_LIMIT) return (size >>> 4) - 2;
  return EXACT + (31 - Math.clz32(size)) - 10;
}

export class SegregatedHeap extends TaggedHeap {
  private readonly lists: ListArray;

  constructor(mem: HeapMemory, options: CommonOptions = {}) {
    super('segregated', mem, options);
    this.lists = new ListArray(mem, mem.staticBase, CLASSES);
  }

  protected override initImpl(): void {
    this.lists.init();
  }

  protected insertFree(c: number, size: number): void {
    this.lists.push(segregatedClass(size), c);
  }

  protected unlinkFree(c: number, size: number): void {
    this.lists.unlink(segregatedClass(size), c);
  }

  protected findFit(nb: number): number {
    const mem = this.mem;
    const cls = segregatedClass(nb);
    if (cls < EXACT) {
      const c = this.lists.head(cls);
      if (c !== 0) return c;
    } else {
      for (let c = this.lists.head(cls); c !== 0; c = mem.read64(c + 16)) if (this.sizeOf(c) >= nb) return c;
    }
    const above = this.lists.nextNonEmpty(cls + 1);
    return above < 0 ? 0 : this.lists.head(above);
  }

  protected checkLists(problems: string[], free: Map<number, number>): void {
    const seen = new Set<number>();
    for (let i = 0; i < CLASSES; i++)
      this.checkDList(
        problems,
        `class ${i}`,
        this.lists.headVa(i),
        free,
        seen,
        (s) => segregatedClass(s) === i,
      );
    for (const c of free.keys())
      if (!seen.has(c)) problems.push(`free chunk 0x${c.toString(16)} is in no class list`);
    this.lists.checkBitmap(problems, 'class');
  }

  protected listBlocks(): FreeBlock[] {
    const out: FreeBlock[] = [];
    for (let i = 0; i < CLASSES; i++)
      for (let c = this.lists.head(i); c !== 0; c = this.mem.read64(c + 16))
        out.push({ va: c, sizeBytes: this.sizeOf(c) });
    return out;
  }
}
