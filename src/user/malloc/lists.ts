/**
 * An array of LIFO free lists with a bitmap of the non-empty ones, all in the static area:
 *
 *   base + 0         bitmap words (u32), one bit per list
 *   base + headsOff  list heads, 8 bytes each (0 = empty)
 *
 * Chunks link through fd (+16) and bk (+24). Shared by segregated fits and TLSF.
 */
import { invariant } from '../../base/errors.js';
import type { HeapMemory } from '../memory.js';
import { fail } from './chunk.js';

const FD = 16;
const BK = 24;

export class ListArray {
  readonly count: number;
  readonly base: number;
  readonly headsOff: number;
  readonly bytes: number;
  private readonly mem: HeapMemory;

  constructor(mem: HeapMemory, base: number, count: number) {
    this.mem = mem;
    this.base = base;
    this.count = count;
    const mapBytes = Math.ceil(count / 32) * 4;
    this.headsOff = mapBytes + (mapBytes % 8);
    this.bytes = this.headsOff + count * 8;
    invariant(
      base + this.bytes <= mem.staticBase + mem.staticBytes,
      'free lists: the static area is too small',
    );
  }

  /** Empties every list (the allocator's first call: its stores may fault). */
  init(): void {
    for (let i = 0; i < this.bytes; i += 4) this.mem.write32(this.base + i, 0);
  }

  head(list: number): number {
    return this.mem.read64(this.base + this.headsOff + list * 8);
  }

  /** The bitmap word `w` (lists 32w .. 32w+31). */
  word(w: number): number {
    return this.mem.read32(this.base + w * 4);
  }

  /** Pushes `c` on `list`. @returns true when the list was empty (its bitmap bit was set now). */
  push(list: number, c: number): boolean {
    const mem = this.mem;
    const at = this.base + this.headsOff + list * 8;
    const first = mem.read64(at);
    mem.write64(c + FD, first);
    mem.write64(c + BK, 0);
    if (first !== 0) {
      mem.write64(first + BK, c);
      mem.write64(at, c);
      return false;
    }
    const w = this.base + (list >>> 5) * 4;
    mem.write32(w, mem.read32(w) | (1 << (list & 31)));
    mem.write64(at, c);
    return true;
  }

  /** Takes `c` off `list`. @returns true when the list is empty now (its bitmap bit was cleared). */
  unlink(list: number, c: number): boolean {
    const mem = this.mem;
    const fd = mem.read64(c + FD);
    const bk = mem.read64(c + BK);
    // glibc's unlink check: the neighbours must point back at c.
    if ((fd !== 0 && mem.read64(fd + BK) !== c) || (bk !== 0 && mem.read64(bk + FD) !== c))
      fail('double-linked-list');
    if (fd !== 0) mem.write64(fd + BK, bk);
    if (bk !== 0) {
      mem.write64(bk + FD, fd);
      return false;
    }
    const at = this.base + this.headsOff + list * 8;
    if (mem.read64(at) !== c) fail('double-linked-list');
    mem.write64(at, fd);
    if (fd !== 0) return false;
    const w = this.base + (list >>> 5) * 4;
    mem.write32(w, mem.read32(w) & ~(1 << (list & 31)));
    return true;
  }

  /** The first non-empty list at or after `list`, or -1. */
  nextNonEmpty(list: number): number {
    const words = Math.ceil(this.count / 32);
    let w = list >>> 5;
    if (w >= words) return -1;
    let bits = this.word(w) & (-1 << (list & 31));
    while (bits === 0) {
      if (++w >= words) return -1;
      bits = this.word(w);
    }
    return w * 32 + (31 - Math.clz32(bits & -bits));
  }

  /** Head address of list `list` (for the list checker). */
  headVa(list: number): number {
    return this.base + this.headsOff + list * 8;
  }

  /** Problems with the bitmap: a bit must be set exactly for the non-empty lists. */
  checkBitmap(problems: string[], what: string): void {
    for (let i = 0; i < this.count; i++) {
      const bit = (this.word(i >>> 5) >>> (i & 31)) & 1;
      if (bit !== (this.head(i) !== 0 ? 1 : 0))
        problems.push(`${what} ${i}: bitmap bit ${bit} disagrees with the list`);
    }
  }
}
