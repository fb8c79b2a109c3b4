/**
 * Page ids → small integers, for hot paths that must not use a JS `Map`.
 *
 * A page id is an opaque non-negative safe integer (a vpn, `address >> 12` of a 48-bit address, a
 * number from a pages file, or a vpn combined with an ASID): it can exceed 2^32, so it is kept as a
 * double and hashed from its two 32-bit halves. The table is open addressing with linear probing
 * and backward-shift deletion (no tombstones), keys in a `Float64Array` (`EMPTY_KEY` = free), values
 * in an `Int32Array`. The load factor stays at or below one half.
 *
 *   index = imul(lo ^ imul(hi, 0x85ebca6b), 0x9e3779b1) >>> (32 - bits)     (Fibonacci hashing)
 *
 * Consecutive page ids (the common case) land in distinct buckets, and a hit costs one multiply,
 * one load and one compare.
 */
import { invariant } from '../../base/errors.js';

/** The key of a free bucket. Page ids are never negative. */
export const EMPTY_KEY = -1;

/** 32-bit hash of a page id (a non-negative safe integer). The caller keeps the top bits. */
export function hashPageId(page: number): number {
  const lo = page >>> 0;
  // × 2^-32 is exact (a power of two) and, unlike a division, cheap.
  const hi = (page - lo) * 2.3283064365386963e-10;
  return Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1);
}

/** log2 of the smallest power-of-two table holding `entries` at load ≤ 1/2 (at least 16 buckets). */
export function tableBitsFor(entries: number): number {
  let bits = 4;
  while (2 ** bits < 2 * entries) bits++;
  invariant(bits <= 30, 'idmap: table too large');
  return bits;
}

/**
 * Empties occupied bucket `i` of a table laid out as {@link PageIdMap}'s (`keys.length` a power of
 * two, home bucket `hashPageId(key) >>> shift`), by backward-shift deletion: later members of the
 * probe run move into the hole when it lies on their way from their home bucket, so lookups need no
 * tombstones. Shared with the cache simulation's page → slot table (`sim/cachesim.ts`).
 */
export function emptyBucket(keys: Float64Array, vals: Int32Array, shift: number, i: number): void {
  const mask = keys.length - 1;
  let hole = i;
  let j = i;
  for (;;) {
    j = (j + 1) & mask;
    const k = keys[j]!;
    if (k === EMPTY_KEY) break;
    const home = hashPageId(k) >>> shift;
    if (((j - home) & mask) >= ((j - hole) & mask)) {
      keys[hole] = k;
      vals[hole] = vals[j]!;
      hole = j;
    }
  }
  keys[hole] = EMPTY_KEY;
}

/**
 * A hash map from page id to a non-negative int32. Grows on demand unless created `fixed`, in which
 * case inserting more than `capacity` entries is a bug.
 */
export class PageIdMap {
  keys: Float64Array;
  vals: Int32Array;
  /** Number of entries. */
  size = 0;
  private bits: number;
  private shift: number;
  private mask: number;
  private limit: number;
  private readonly growable: boolean;

  /** @param capacity entries expected; @param opts.fixed never grow (capacity is a hard limit). */
  constructor(capacity: number, opts: { fixed?: boolean } = {}) {
    this.growable = !opts.fixed;
    this.bits = tableBitsFor(Math.max(1, capacity));
    this.shift = 32 - this.bits;
    this.mask = (1 << this.bits) - 1;
    this.limit = 1 << (this.bits - 1);
    this.keys = new Float64Array(1 << this.bits).fill(EMPTY_KEY);
    this.vals = new Int32Array(1 << this.bits);
  }

  /** The value stored for `page`, or -1. */
  get(page: number): number {
    const keys = this.keys;
    let i = hashPageId(page) >>> this.shift;
    for (;;) {
      const k = keys[i]!;
      if (k === page) return this.vals[i]!;
      if (k === EMPTY_KEY) return -1;
      i = (i + 1) & this.mask;
    }
  }

  /** True when `page` has an entry. */
  has(page: number): boolean {
    return this.get(page) >= 0;
  }

  /**
   * Adds `page` → `value` unless `page` is already there.
   * @returns the existing value, or -1 when it was added.
   */
  getOrAdd(page: number, value: number): number {
    const keys = this.keys;
    let i = hashPageId(page) >>> this.shift;
    for (;;) {
      const k = keys[i]!;
      if (k === page) return this.vals[i]!;
      if (k === EMPTY_KEY) break;
      i = (i + 1) & this.mask;
    }
    if (this.size >= this.limit) {
      invariant(this.growable, 'idmap: a fixed map is full');
      this.grow();
      return this.getOrAdd(page, value);
    }
    keys[i] = page;
    this.vals[i] = value;
    this.size++;
    return -1;
  }

  /** Sets `page` → `value` (value ≥ 0), replacing any previous value. */
  set(page: number, value: number): void {
    const keys = this.keys;
    let i = hashPageId(page) >>> this.shift;
    for (;;) {
      const k = keys[i]!;
      if (k === page) {
        this.vals[i] = value;
        return;
      }
      if (k === EMPTY_KEY) break;
      i = (i + 1) & this.mask;
    }
    if (this.size >= this.limit) {
      invariant(this.growable, 'idmap: a fixed map is full');
      this.grow();
      this.set(page, value);
      return;
    }
    keys[i] = page;
    this.vals[i] = value;
    this.size++;
  }

  /** Removes `page`. @returns its value, or -1 when it had none. */
  delete(page: number): number {
    const keys = this.keys;
    const mask = this.mask;
    let i = hashPageId(page) >>> this.shift;
    for (;;) {
      const k = keys[i]!;
      if (k === page) break;
      if (k === EMPTY_KEY) return -1;
      i = (i + 1) & mask;
    }
    const value = this.vals[i]!;
    emptyBucket(keys, this.vals, this.shift, i);
    this.size--;
    return value;
  }

  /** Every (page, value) pair, in table order. Slow path, allocates. */
  entries(): [number, number][] {
    const out: [number, number][] = [];
    for (let i = 0; i < this.keys.length; i++)
      if (this.keys[i] !== EMPTY_KEY) out.push([this.keys[i]!, this.vals[i]!]);
    return out;
  }

  /** Removes every entry. */
  clear(): void {
    this.keys.fill(EMPTY_KEY);
    this.size = 0;
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldVals = this.vals;
    this.bits++;
    invariant(this.bits <= 30, 'idmap: table too large');
    this.shift = 32 - this.bits;
    this.mask = (1 << this.bits) - 1;
    this.limit = 1 << (this.bits - 1);
    this.keys = new Float64Array(1 << this.bits).fill(EMPTY_KEY);
    this.vals = new Int32Array(1 << this.bits);
    this.size = 0;
    for (let i = 0; i < oldKeys.length; i++) {
      const k = oldKeys[i]!;
      if (k !== EMPTY_KEY) this.set(k, oldVals[i]!);
    }
  }
}
