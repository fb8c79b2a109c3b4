/**
 * One explicit free list, searched by a placement policy: the textbook allocators (first fit, next
 * fit, best fit, worst fit) with their classic variations as options.
 *
 * Rules:
 *  - Free chunks form one doubly linked list (fd at +16, bk at +24); its head, tail and next fit's
 *    rover are three words of the static area.
 *  - Placement: `first` takes the first chunk in list order that fits; `next` does the same starting
 *    where the last search ended (the rover), wrapping around; `best` takes the smallest that fits and
 *    `worst` the largest, the first in list order among equal sizes.
 *  - List order: `address` (sorted by address: a free inserts in place), `lifo` (a free goes to the
 *    front), `fifo` (to the back), `size-asc` / `size-desc` (sorted by size, a free going after the
 *    chunks of its size).
 *  - Split: the request is carved from the front of the chosen chunk; the rest stays where the chunk
 *    was in the list (`in-place`, the default for address/lifo/fifo) or is taken out and inserted
 *    again by the order (`reinsert`, the default for the size orders). With in-place splits a
 *    size-ordered list can fall out of order; each free then sorts the whole list again (stably), as
 *    OSTEP's malloc.py does.
 *  - Coalescing: `immediate` merges a freed chunk with free neighbours at once (boundary tags);
 *    `deferred` merges nothing until a search fails, then merges every run of free chunks and searches
 *    again; `none` never merges; `list-pass` merges, after each free, every pair of chunks that are
 *    neighbours both in the list and in memory (malloc.py's "simple" coalescing: complete only for an
 *    address-ordered list).
 *  - Defaults: immediate coalescing; address order for first and next fit, `size-asc` for best fit
 *    and `size-desc` for worst fit (their choice is then the first chunk that fits, or the head,
 *    instead of the end of a full scan). A sorted list keeps, per size class, its last chunk of that
 *    class in the static area, so that an insertion walks only among chunks of its own class.
 *  - `arenaBytes` gives a fixed heap of that many bytes that never grows or shrinks and no mmap (the
 *    classroom setting: a 100-byte heap at address 1000).
 */
import { invariant } from '../../base/errors.js';
import type { HeapMemory } from '../memory.js';
import type { CommonOptions, FreeBlock } from './api.js';
import { CHUNK_FREE, CHUNK_HDR, fail, MINSIZE, PREV_INUSE, SIZE_SZ } from './chunk.js';
import { segregatedClass } from './segregated.js';
import { TaggedHeap } from './tagged.js';

export type Fit = 'first' | 'next' | 'best' | 'worst';
export type ListOrder = 'address' | 'lifo' | 'fifo' | 'size-asc' | 'size-desc';
export type Coalescing = 'immediate' | 'deferred' | 'none' | 'list-pass';
export type SplitRule = 'in-place' | 'reinsert';

export interface FreeListOptions extends CommonOptions {
  readonly fit?: Fit;
  readonly order?: ListOrder;
  readonly coalesce?: Coalescing;
  readonly split?: SplitRule;
  /** A fixed heap of this many bytes of chunks (a multiple of 16); no growth, trimming or mmap. */
  readonly arenaBytes?: number;
}

const HEAD = 0;
const TAIL = 8;
const ROVER = 16;
/** Sorted lists: per size class, the last chunk of that class in the list (0: none). */
const CLASS_LAST = 24;
const CLASSES = 83;
const FD = 16;
const BK = 24;

export class FreeListHeap extends TaggedHeap {
  readonly fit: Fit;
  readonly order: ListOrder;
  readonly coalesce: Coalescing;
  readonly split: SplitRule;
  readonly arenaBytes: number;
  /** Chunks the last search looked at (malloc.py's "searched"). */
  lastSearched = 0;
  private readonly base: number;
  private readonly sized: boolean;
  /** A sorted list with its class index (size orders with reinsert splits). */
  private readonly indexed: boolean;

  constructor(mem: HeapMemory, options: FreeListOptions = {}) {
    const fit = options.fit ?? 'first';
    super(`${fit}-fit`, mem, options);
    this.fit = fit;
    // Best and worst fit keep the list in their own order, so that their choice is found without a
    // scan of the whole list.
    this.order = options.order ?? (fit === 'worst' ? 'size-desc' : fit === 'best' ? 'size-asc' : 'address');
    this.coalesce = options.coalesce ?? 'immediate';
    this.sized = this.order === 'size-asc' || this.order === 'size-desc';
    this.split = options.split ?? (this.sized ? 'reinsert' : 'in-place');
    this.arenaBytes = options.arenaBytes ?? 0;
    this.merging = this.coalesce === 'immediate';
    this.base = mem.staticBase;
    invariant(
      this.arenaBytes % 16 === 0 && this.arenaBytes >= 0,
      'free list: arenaBytes must be a multiple of 16',
    );
    if (this.arenaBytes > 0) {
      this.mmapThreshold = Number.POSITIVE_INFINITY;
      this.trimThreshold = Number.POSITIVE_INFINITY;
    }
    invariant(CLASS_LAST + CLASSES * 8 <= mem.staticBytes, 'free list: the static area is too small');
    this.indexed = this.sized && this.split === 'reinsert';
  }

  protected override initImpl(): void {
    for (let off = 0; off < CLASS_LAST + CLASSES * 8; off += 8) this.mem.write64(this.base + off, 0);
  }

  // ---------------------------------------------------------------- the list

  private first(): number {
    return this.mem.read64(this.base + HEAD);
  }

  /** Links `c` between `prev` and `next` (either may be 0: the ends). */
  private link(c: number, prev: number, next: number): void {
    const mem = this.mem;
    mem.write64(c + FD, next);
    mem.write64(c + BK, prev);
    if (prev === 0) mem.write64(this.base + HEAD, c);
    else mem.write64(prev + FD, c);
    if (next === 0) mem.write64(this.base + TAIL, c);
    else mem.write64(next + BK, c);
  }

  protected insertFree(c: number, size: number): void {
    const mem = this.mem;
    switch (this.order) {
      case 'lifo':
        this.link(c, 0, this.first());
        return;
      case 'fifo':
        this.link(c, mem.read64(this.base + TAIL), 0);
        return;
      case 'address': {
        const next = this.nextFreeAbove(c);
        this.link(c, next === 0 ? mem.read64(this.base + TAIL) : mem.read64(next + BK), next);
        return;
      }
      default: {
        if (this.split === 'in-place') {
          // malloc.py: append, then sort the whole list by size (stably).
          this.link(c, mem.read64(this.base + TAIL), 0);
          this.sortBySize();
          return;
        }
        this.insertSorted(c, size);
      }
    }
  }

  private classLast(k: number): number {
    return this.mem.read64(this.base + CLASS_LAST + k * 8);
  }

  /**
   * Inserts `c` after the chunks that sort before it or with it. The class index makes this a
   * short walk: the chunks of larger classes (descending; smaller ones ascending) all come first, so
   * the walk starts at the last chunk of c's class, or at the last of the nearest class before it.
   */
  private insertSorted(c: number, size: number): void {
    const mem = this.mem;
    const desc = this.order === 'size-desc';
    const k = segregatedClass(size);
    const last = this.classLast(k);
    let prev: number;
    if (last !== 0) {
      prev = last;
      while (prev !== 0) {
        const s = this.sizeOf(prev);
        if (segregatedClass(s) !== k || (desc ? s >= size : s <= size)) break;
        prev = mem.read64(prev + BK);
      }
    } else {
      prev = 0;
      for (let j = desc ? k + 1 : k - 1; j >= 0 && j < CLASSES; j += desc ? 1 : -1) {
        const l = this.classLast(j);
        if (l !== 0) {
          prev = l;
          break;
        }
      }
    }
    this.link(c, prev, prev === 0 ? this.first() : mem.read64(prev + FD));
    if (last === 0 || prev === last) mem.write64(this.base + CLASS_LAST + k * 8, c);
  }

  /** The first chunk of a sorted list whose class is `k` or after (in list order), or 0. */
  private classStart(k: number): number {
    const desc = this.order === 'size-desc';
    for (let j = desc ? k + 1 : k - 1; j >= 0 && j < CLASSES; j += desc ? 1 : -1) {
      const l = this.classLast(j);
      if (l !== 0) return this.mem.read64(l + FD);
    }
    return this.first();
  }

  /**
   * The free chunk that follows `c` in address order (0: none). Looks at the chunks after `c` in
   * memory first (a free one among the next few is the answer), then scans the list from the nearer
   * end.
   */
  private nextFreeAbove(c: number): number {
    const mem = this.mem;
    const epi = this.epilogue();
    let n = c + this.sizeOf(c);
    for (let i = 0; i < 32 && n < epi; i++) {
      const word = mem.read32(n + SIZE_SZ);
      if ((word & CHUNK_FREE) !== 0) return n;
      n += word & ~7;
    }
    const head = this.first();
    const tail = mem.read64(this.base + TAIL);
    if (head === 0 || c > tail) return 0;
    if (c - head < tail - c) {
      let next = head;
      while (next !== 0 && next < c) next = mem.read64(next + FD);
      return next;
    }
    let prev = tail;
    while (prev !== 0 && prev > c) prev = mem.read64(prev + BK);
    return prev === 0 ? head : mem.read64(prev + FD);
  }

  protected unlinkFree(c: number, size: number): void {
    const mem = this.mem;
    const fd = mem.read64(c + FD);
    const bk = mem.read64(c + BK);
    // glibc's unlink check: the neighbours must point back at c.
    if ((fd !== 0 && mem.read64(fd + BK) !== c) || (bk !== 0 && mem.read64(bk + FD) !== c)) this.corrupted();
    if (bk === 0) mem.write64(this.base + HEAD, fd);
    else mem.write64(bk + FD, fd);
    if (fd === 0) mem.write64(this.base + TAIL, bk);
    else mem.write64(fd + BK, bk);
    if (mem.read64(this.base + ROVER) === c) mem.write64(this.base + ROVER, fd);
    if (this.indexed) {
      const at = this.base + CLASS_LAST + segregatedClass(size) * 8;
      if (mem.read64(at) === c)
        mem.write64(at, bk !== 0 && segregatedClass(this.sizeOf(bk)) === segregatedClass(size) ? bk : 0);
    }
  }

  private corrupted(): never {
    return fail('double-linked-list');
  }

  /** Reorders the list by size, stably (ascending or descending by the order). */
  private sortBySize(): void {
    const mem = this.mem;
    const nodes: { c: number; size: number }[] = [];
    for (let c = this.first(); c !== 0; c = mem.read64(c + FD)) nodes.push({ c, size: this.sizeOf(c) });
    const sorted = nodes
      .slice()
      .sort(this.order === 'size-asc' ? (a, b) => a.size - b.size : (a, b) => b.size - a.size);
    if (sorted.every((n, i) => n === nodes[i])) return;
    let prev = 0;
    mem.write64(this.base + HEAD, 0);
    for (const n of sorted) {
      mem.write64(n.c + BK, prev);
      if (prev === 0) mem.write64(this.base + HEAD, n.c);
      else mem.write64(prev + FD, n.c);
      prev = n.c;
    }
    mem.write64(prev + FD, 0);
    mem.write64(this.base + TAIL, prev);
  }

  // ---------------------------------------------------------------- placement

  protected findFit(nb: number): number {
    const mem = this.mem;
    let searched = 0;
    let found = 0;
    if (this.fit === 'first' || this.fit === 'next') {
      const head = this.first();
      let start = this.fit === 'next' ? mem.read64(this.base + ROVER) : 0;
      if (start === 0) start = head;
      let c = start;
      while (c !== 0) {
        searched++;
        if (this.sizeOf(c) >= nb) {
          found = c;
          break;
        }
        c = mem.read64(c + FD);
        if (c === 0 && start !== head) c = head; // next fit wraps around
        if (c === start) break;
      }
    } else if (this.split === 'reinsert' && this.order === (this.fit === 'best' ? 'size-asc' : 'size-desc')) {
      // A list kept in the policy's own order: best fit is the first that fits, worst fit the head.
      const head = this.first();
      if (this.fit === 'worst') {
        searched = head === 0 ? 0 : 1;
        if (head !== 0 && this.sizeOf(head) >= nb) found = head;
      } else {
        for (let c = this.classStart(segregatedClass(nb)); c !== 0; c = mem.read64(c + FD)) {
          searched++;
          if (this.sizeOf(c) >= nb) {
            found = c;
            break;
          }
        }
      }
    } else {
      const best = this.fit === 'best';
      let bestSize = best ? Number.POSITIVE_INFINITY : -1;
      for (let c = this.first(); c !== 0; c = mem.read64(c + FD)) {
        searched++;
        const s = this.sizeOf(c);
        if (s >= nb && (best ? s < bestSize : s > bestSize)) {
          found = c;
          bestSize = s;
        }
      }
    }
    this.lastSearched = searched;
    return found;
  }

  protected override take(c: number, nb: number): void {
    const mem = this.mem;
    const size = this.sizeOf(c);
    const rest = size - nb;
    if (this.split === 'reinsert' || rest < MINSIZE) {
      super.take(c, nb);
      if (this.fit === 'next' && rest >= MINSIZE) mem.write64(this.base + ROVER, c + nb);
      return;
    }
    // The remainder takes the chunk's place in the list.
    const fd = mem.read64(c + FD);
    const bk = mem.read64(c + BK);
    if ((fd !== 0 && mem.read64(fd + BK) !== c) || (bk !== 0 && mem.read64(bk + FD) !== c)) this.corrupted();
    const r = c + nb;
    mem.write64(c + SIZE_SZ, nb | (mem.read32(c + SIZE_SZ) & PREV_INUSE));
    mem.write64(r + SIZE_SZ, rest | PREV_INUSE | CHUNK_FREE);
    mem.write64(r + rest, rest);
    this.link(r, bk, fd);
    if (this.fit === 'next' || mem.read64(this.base + ROVER) === c) mem.write64(this.base + ROVER, r);
  }

  // ---------------------------------------------------------------- coalescing policies

  protected override release(c: number, size: number, prevInuse: number): number {
    const at = super.release(c, size, prevInuse);
    if (this.coalesce === 'list-pass') this.listPass();
    return at;
  }

  /** malloc.py's coalescing: merge each chunk with the following list entries that border it. */
  private listPass(): void {
    const mem = this.mem;
    let cur = this.first();
    while (cur !== 0) {
      const next = mem.read64(cur + FD);
      if (next === 0) return;
      const size = this.sizeOf(cur);
      if (cur + size === next) {
        const nextSize = this.sizeOf(next);
        this.unlinkFree(next, nextSize);
        const merged = size + nextSize;
        mem.write64(cur + SIZE_SZ, merged | (mem.read32(cur + SIZE_SZ) & PREV_INUSE) | CHUNK_FREE);
        mem.write64(cur + merged, merged);
      } else {
        cur = next;
      }
    }
  }

  /** Deferred coalescing: merges every run of free chunks in the heap, then re-lists them. */
  private coalesceAll(): boolean {
    const mem = this.mem;
    const runs: { c: number; size: number; parts: number[] }[] = [];
    let run: { c: number; size: number; parts: number[] } | null = null;
    this.walk([], (c, size, free) => {
      if (!free) {
        run = null;
      } else if (run === null) {
        run = { c, size, parts: [c] };
        runs.push(run);
      } else {
        run.size += size;
        run.parts.push(c);
      }
    });
    let merged = false;
    for (const r of runs) {
      if (r.parts.length < 2) continue;
      merged = true;
      for (const p of r.parts) this.unlinkFree(p, this.sizeOf(p));
      mem.write64(r.c + SIZE_SZ, r.size | (mem.read32(r.c + SIZE_SZ) & PREV_INUSE) | CHUNK_FREE);
      mem.write64(r.c + r.size, r.size);
      this.insertFree(r.c, r.size);
    }
    return merged;
  }

  protected override noFit(nb: number): number {
    if (this.coalesce === 'deferred' && this.started() && this.coalesceAll()) {
      const c = this.findFit(nb);
      if (c !== 0) return c;
    }
    if (this.arenaBytes > 0) {
      if (this.started()) return 0;
      // The fixed arena: one free chunk of arenaBytes, and the epilogue.
      const start = this.mem.sbrk(this.arenaBytes + CHUNK_HDR);
      if (start < 0) return 0;
      this.mem.write64(start + SIZE_SZ, this.arenaBytes | PREV_INUSE);
      this.mem.write64(start + this.arenaBytes + SIZE_SZ, PREV_INUSE);
      this.release(start, this.arenaBytes, PREV_INUSE);
      return this.findFit(nb);
    }
    return super.noFit(nb);
  }

  /** Creates the fixed arena before the first request (so that its free list can be shown). */
  prepare(): void {
    if (this.arenaBytes > 0)
      this.inCall('malloc', () => {
        if (!this.started()) this.noFit(Number.POSITIVE_INFINITY);
      });
  }

  // ---------------------------------------------------------------- inspection

  protected checkLists(problems: string[], free: Map<number, number>): void {
    const seen = new Set<number>();
    this.checkDList(problems, 'free list', this.base + HEAD, free, seen, () => true);
    for (const c of free.keys())
      if (!seen.has(c)) problems.push(`free chunk 0x${c.toString(16)} is not in the free list`);
    const blocks = this.listBlocks();
    const last = blocks[blocks.length - 1];
    if ((last?.va ?? 0) !== this.mem.read64(this.base + TAIL))
      problems.push('free list: the tail word is wrong');
    if (this.indexed) {
      const lastOf = new Map<number, number>();
      for (const b of blocks) lastOf.set(segregatedClass(b.sizeBytes), b.va);
      for (let k = 0; k < CLASSES; k++)
        if (this.classLast(k) !== (lastOf.get(k) ?? 0))
          problems.push(`free list: the class ${k} index is wrong`);
    }
    if (this.order === 'address' || (this.sized && this.split === 'reinsert')) {
      for (let i = 1; i < blocks.length; i++) {
        const a = blocks[i - 1]!;
        const b = blocks[i]!;
        const ok =
          this.order === 'address'
            ? a.va < b.va
            : this.order === 'size-asc'
              ? a.sizeBytes <= b.sizeBytes
              : a.sizeBytes >= b.sizeBytes;
        if (!ok) problems.push(`free list: 0x${b.va.toString(16)} is out of ${this.order} order`);
      }
    }
  }

  protected listBlocks(): FreeBlock[] {
    const out: FreeBlock[] = [];
    const mem = this.mem;
    if (!this.started()) return out;
    const limit = (mem.brk() - mem.heapStart) / MINSIZE;
    for (let c = this.first(); c !== 0 && out.length <= limit; c = mem.read64(c + FD)) {
      if (c < mem.heapStart || c >= mem.brk()) break;
      out.push({ va: c, sizeBytes: this.sizeOf(c) });
    }
    return out;
  }
}
