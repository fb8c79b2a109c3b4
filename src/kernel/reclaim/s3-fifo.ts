/**
 * S3-FIFO (Yang et al., SOSP '23): a small FIFO S (10% of the frames) that filters pages seen once,
 * a main FIFO M with a 2-bit frequency per page (a CLOCK with up to three chances), and a ghost
 * FIFO G of ids recently evicted from S (as many ids as M's target size). This follows the
 * authors' libCacheSim implementation (S3FIFOv0), with one slot per page.
 *
 * Sizes: |S| target = max(1, floor(c/10)), M target = c − that, G keeps max(1, floor(0.9 c)) ids.
 *
 * - New page: frequency 0; into M if its id is in G (the ghost is dropped), else into S.
 * - Hit: frequency + 1, saturating at 3. Nothing moves.
 * - Victim: from M when M is over its target or S is empty, else from S:
 *     from S: the oldest page with frequency ≥ 2 moves to M (frequency cleared) and the next
 *             oldest is examined; the first with frequency < 2 is evicted and its id enters G.
 *             If S empties this way, evict from M.
 *     from M: the oldest page with frequency ≥ 1 is reinserted at M's newest end with frequency
 *             min(f, 3) − 1; the first with frequency 0 is evicted (no ghost).
 *   Exactly one page leaves per call (the paper's listing may evict from M inside S's eviction;
 *   here M may exceed its target until the next eviction, as in libCacheSim).
 * - `order()`: S oldest first, then M oldest first.
 *
 * An oracle as written: it counts hits (up to 3) between evictions, and an accessed bit only tells
 * whether there was one. A kernel version would count accessed-bit observations at each pass
 * instead. Designed for key-value caches.
 */
import { invariant } from '../../base/errors.js';
import { GhostList } from './ghost.js';
import type { ReplacementPolicy } from './policy.js';
import { checkWhere, SlotList } from './slotlist.js';

// `where` marks (checkWhere's numbering: the lists in order).
const IN_S = 1;
const IN_M = 2;

export class S3FifoPolicy implements ReplacementPolicy {
  readonly name = 's3-fifo';
  readonly kind = 'oracle';
  readonly needsFuture = false;
  readonly capacity: number;
  readonly smallTarget: number;
  private readonly small: SlotList;
  private readonly main: SlotList;
  private readonly ghost: GhostList;
  private readonly freq: Uint8Array;
  private readonly where: Uint8Array;
  private readonly pageOf: Float64Array;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.smallTarget = Math.max(1, Math.floor(capacity / 10));
    this.small = new SlotList(capacity);
    this.main = new SlotList(capacity);
    this.ghost = new GhostList(Math.max(1, Math.floor(capacity * 0.9)));
    this.freq = new Uint8Array(capacity);
    this.where = new Uint8Array(capacity);
    this.pageOf = new Float64Array(capacity);
  }

  get resident(): number {
    return this.small.size + this.main.size;
  }

  insert(slot: number, page: number, _now: number, _write: number, _nextUse: number): void {
    invariant(this.where[slot] === 0, 's3-fifo: insert into an occupied slot');
    this.pageOf[slot] = page;
    this.freq[slot] = 0;
    if (this.ghost.remove(page)) {
      this.main.pushBack(slot);
      this.where[slot] = IN_M;
    } else {
      this.small.pushBack(slot);
      this.where[slot] = IN_S;
    }
  }

  touch(slot: number, _now: number, _write: number, _nextUse: number): void {
    const f = this.freq[slot]!;
    if (f < 3) this.freq[slot] = f + 1;
  }

  victim(_now: number, _incoming: number): number {
    invariant(this.resident > 0, 's3-fifo: victim with no resident page');
    if (this.main.size <= this.capacity - this.smallTarget && this.small.size > 0) {
      const slot = this.evictSmall();
      if (slot >= 0) return slot;
    }
    return this.evictMain();
  }

  private evictSmall(): number {
    const small = this.small;
    while (small.size > 0) {
      const slot = small.popFront();
      if (this.freq[slot]! >= 2) {
        this.freq[slot] = 0;
        this.main.pushBack(slot);
        this.where[slot] = IN_M;
        continue;
      }
      this.ghost.push(this.pageOf[slot]!);
      this.where[slot] = 0;
      return slot;
    }
    return -1;
  }

  private evictMain(): number {
    const main = this.main;
    for (;;) {
      const slot = main.head;
      const f = this.freq[slot]!;
      if (f === 0) {
        main.unlink(slot);
        this.where[slot] = 0;
        return slot;
      }
      this.freq[slot] = Math.min(f, 3) - 1;
      main.moveToBack(slot);
    }
  }

  remove(slot: number): void {
    const w = this.where[slot];
    invariant(w !== 0, 's3-fifo: remove of a free slot');
    if (w === IN_S) this.small.unlink(slot);
    else this.main.unlink(slot);
    this.where[slot] = 0;
  }

  reset(): void {
    this.small.clear();
    this.main.clear();
    this.ghost.clear();
    this.freq.fill(0);
    this.where.fill(0);
  }

  isResident(slot: number): boolean {
    return this.where[slot] !== 0;
  }

  order(): number[] {
    return [...this.small.toArray(), ...this.main.toArray()];
  }

  validate(): string[] {
    return [
      ...this.small.check('s3-fifo S'),
      ...this.main.check('s3-fifo M'),
      ...this.ghost.check('s3-fifo G'),
      ...checkWhere('s3-fifo', this.where, [
        [this.small, 'S'],
        [this.main, 'M'],
      ]),
    ];
  }
}
