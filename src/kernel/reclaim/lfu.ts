/**
 * LFU: evict the page accessed the fewest times since it was brought in.
 *
 * - A new page starts with count 1 (its faulting access); its history is forgotten when it leaves.
 * - A hit adds 1 to the count.
 * - Victim: the smallest count; ties go to the page least recently accessed (or brought in).
 * - `order()`: by count, least first; within a count, least recently accessed first (eviction
 *   order).
 *
 * An oracle (it counts every access; a kernel sees only accessed bits — aging approximates this).
 * O(1) per access (Shah, Mitra and Matani's constant-time LFU): pages with the same count form an
 * LRU list hanging off a "bucket"; buckets form a list in increasing count. All in typed arrays:
 * buckets come from a pool of capacity + 1.
 */
import { invariant } from '../../base/errors.js';
import type { ReplacementPolicy } from './policy.js';

export class LfuPolicy implements ReplacementPolicy {
  readonly name = 'lfu';
  readonly kind = 'oracle';
  readonly needsFuture = false;
  readonly capacity: number;
  resident = 0;
  /** The bucket with the smallest count, or -1. */
  private first = -1;
  // Buckets.
  private readonly count: Float64Array;
  private readonly bPrev: Int32Array;
  private readonly bNext: Int32Array;
  private readonly bHead: Int32Array;
  private readonly bTail: Int32Array;
  private readonly freeBuckets: Int32Array;
  private freeTop = 0;
  // Pages (by slot).
  private readonly bucketOf: Int32Array;
  private readonly prev: Int32Array;
  private readonly next: Int32Array;

  constructor(capacity: number) {
    this.capacity = capacity;
    const pool = capacity + 1;
    this.count = new Float64Array(pool);
    this.bPrev = new Int32Array(pool);
    this.bNext = new Int32Array(pool);
    this.bHead = new Int32Array(pool);
    this.bTail = new Int32Array(pool);
    this.freeBuckets = new Int32Array(pool);
    this.bucketOf = new Int32Array(capacity);
    this.prev = new Int32Array(capacity);
    this.next = new Int32Array(capacity);
    this.reset();
  }

  insert(slot: number, _page: number, _now: number, _write: number, _nextUse: number): void {
    invariant(this.bucketOf[slot] === -1, 'lfu: insert into an occupied slot');
    let b = this.first;
    if (b === -1 || this.count[b] !== 1) b = this.newBucket(1, -1, b);
    this.append(b, slot);
    this.resident++;
  }

  touch(slot: number, _now: number, _write: number, _nextUse: number): void {
    const b = this.bucketOf[slot]!;
    const c = this.count[b]! + 1;
    let nb = this.bNext[b]!;
    if (nb === -1 || this.count[nb] !== c) nb = this.newBucket(c, b, nb);
    this.unlinkPage(b, slot);
    this.append(nb, slot);
  }

  victim(_now: number, _incoming: number): number {
    invariant(this.resident > 0, 'lfu: victim with no resident page');
    const b = this.first;
    const slot = this.bHead[b]!;
    this.unlinkPage(b, slot);
    this.bucketOf[slot] = -1;
    this.resident--;
    return slot;
  }

  remove(slot: number): void {
    const b = this.bucketOf[slot]!;
    invariant(b >= 0, 'lfu: remove of a free slot');
    this.unlinkPage(b, slot);
    this.bucketOf[slot] = -1;
    this.resident--;
  }

  reset(): void {
    this.bucketOf.fill(-1);
    this.prev.fill(-1);
    this.next.fill(-1);
    this.first = -1;
    this.resident = 0;
    this.freeTop = 0;
    for (let b = this.count.length - 1; b >= 0; b--) this.freeBuckets[this.freeTop++] = b;
  }

  isResident(slot: number): boolean {
    return this.bucketOf[slot]! >= 0;
  }

  /** The access count of the page in `slot` (0 when free). */
  countOf(slot: number): number {
    const b = this.bucketOf[slot]!;
    return b < 0 ? 0 : this.count[b]!;
  }

  order(): number[] {
    const out: number[] = [];
    for (let b = this.first; b !== -1; b = this.bNext[b]!) {
      for (let s = this.bHead[b]!; s !== -1; s = this.next[s]!) out.push(s);
    }
    return out;
  }

  validate(): string[] {
    const errors: string[] = [];
    let seen = 0;
    let buckets = 0;
    let lastCount = 0;
    for (let b = this.first; b !== -1 && buckets <= this.count.length; b = this.bNext[b]!) {
      buckets++;
      if (this.count[b]! <= lastCount) errors.push(`lfu: bucket counts not increasing at ${this.count[b]}`);
      lastCount = this.count[b]!;
      if (this.bHead[b] === -1) errors.push(`lfu: empty bucket ${b} still linked`);
      for (let s = this.bHead[b]!; s !== -1 && seen <= this.capacity; s = this.next[s]!) {
        seen++;
        if (this.bucketOf[s] !== b)
          errors.push(`lfu: slot ${s} in bucket ${b}, bucketOf says ${this.bucketOf[s]}`);
      }
    }
    if (seen !== this.resident) errors.push(`lfu: ${seen} slots in buckets, resident says ${this.resident}`);
    if (buckets + this.freeTop !== this.count.length) errors.push('lfu: buckets leaked');
    return errors;
  }

  /** A new bucket with `count` linked between `before` and `after` (-1 = list end). */
  private newBucket(count: number, before: number, after: number): number {
    const b = this.freeBuckets[--this.freeTop]!;
    this.count[b] = count;
    this.bHead[b] = -1;
    this.bTail[b] = -1;
    this.bPrev[b] = before;
    this.bNext[b] = after;
    if (before === -1) this.first = b;
    else this.bNext[before] = b;
    if (after !== -1) this.bPrev[after] = b;
    return b;
  }

  /** Appends `slot` at the most-recent end of bucket `b`. */
  private append(b: number, slot: number): void {
    const tail = this.bTail[b]!;
    this.prev[slot] = tail;
    this.next[slot] = -1;
    if (tail === -1) this.bHead[b] = slot;
    else this.next[tail] = slot;
    this.bTail[b] = slot;
    this.bucketOf[slot] = b;
  }

  /** Unlinks `slot` from bucket `b`, freeing the bucket when it empties. */
  private unlinkPage(b: number, slot: number): void {
    const p = this.prev[slot]!;
    const n = this.next[slot]!;
    if (p === -1) this.bHead[b] = n;
    else this.next[p] = n;
    if (n === -1) this.bTail[b] = p;
    else this.prev[n] = p;
    this.prev[slot] = -1;
    this.next[slot] = -1;
    if (this.bHead[b] === -1) {
      const bp = this.bPrev[b]!;
      const bn = this.bNext[b]!;
      if (bp === -1) this.first = bn;
      else this.bNext[bp] = bn;
      if (bn !== -1) this.bPrev[bn] = bp;
      this.freeBuckets[this.freeTop++] = b;
    }
  }
}
