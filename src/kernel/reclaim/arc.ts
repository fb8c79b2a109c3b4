/**
 * ARC, Adaptive Replacement Cache (Megiddo and Modha, FAST '03), exactly as the paper's Figure 4.
 *
 * Resident pages are in T1 (seen once recently) or T2 (seen at least twice); B1 and B2 hold the ids
 * of pages recently evicted from T1 and T2 (ghosts). The target size p of T1 adapts: a miss that
 * finds its page in B1 grows p by max(|B2|/|B1|, 1) (real division, capped at c); one found in B2
 * shrinks it by max(|B1|/|B2|, 1) (floored at 0).
 *
 * - Hit: the page moves to the MRU end of T2 (from T1 or within T2).
 * - New page (`insert`): into T2's MRU end if its id is in B1 or B2 (the ghost is dropped), else
 *   into T1's MRU end. If memory was not full (no `victim` call), p adapts here; ghost lists are
 *   trimmed so that |T1| + |B1| ≤ c and |T1| + |T2| + |B1| + |B2| ≤ 2c, as the paper's case IV does.
 * - Victim (`victim(now, x)` with x the incoming page, as the paper's REPLACE(x, p)):
 *     x in B1 or B2: adapt p, then REPLACE;
 *     else (case IV): if |T1| + |B1| = c: if |T1| < c, drop B1's LRU ghost and REPLACE; else evict
 *       T1's LRU page with no ghost. Otherwise, if all four lists hold 2c, drop B2's LRU ghost;
 *       REPLACE.
 *   REPLACE: if |T1| ≥ 1 and ((x in B2 and |T1| = p) or |T1| > p), T1's LRU page goes, its id to
 *   B1's MRU end; else T2's LRU page goes, its id to B2. (If T2 is empty, T1's goes: the paper's
 *   figure leaves that case open.) With no incoming page (`NO_PAGE`), REPLACE alone.
 * - `remove`: the page leaves T1/T2 with no ghost.
 * - `order()`: T1 from LRU to MRU, then T2 from LRU to MRU.
 *
 * An oracle: it needs every hit in order (a real kernel sees accessed bits only; CAR/CLOCK-Pro are
 * the kernel-side relatives).
 */
import { invariant } from '../../base/errors.js';
import { GhostList } from './ghost.js';
import { NO_PAGE, type ReplacementPolicy } from './policy.js';
import { checkWhere, SlotList } from './slotlist.js';

// `where` marks (checkWhere's numbering: the lists in order).
const IN_T1 = 1;
const IN_T2 = 2;

export class ArcPolicy implements ReplacementPolicy {
  readonly name = 'arc';
  readonly kind = 'oracle';
  readonly needsFuture = false;
  readonly capacity: number;
  /** Target size of T1. */
  p = 0;
  private readonly t1: SlotList;
  private readonly t2: SlotList;
  private readonly b1: GhostList;
  private readonly b2: GhostList;
  /** Slot → 0 (free), IN_T1 or IN_T2. */
  private readonly where: Uint8Array;
  private readonly pageOf: Float64Array;
  /** The page whose ghost hit already adapted p in `victim` (so `insert` does not adapt twice). */
  private adaptedFor = NO_PAGE;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.t1 = new SlotList(capacity);
    this.t2 = new SlotList(capacity);
    // c + 1: between a REPLACE that adds a ghost and the insert that removes the incoming page's
    // ghost, one list may hold c + 1 ids; ARC's own rules, not the limit, bound the lists.
    this.b1 = new GhostList(capacity + 1);
    this.b2 = new GhostList(capacity + 1);
    this.where = new Uint8Array(capacity);
    this.pageOf = new Float64Array(capacity);
  }

  get resident(): number {
    return this.t1.size + this.t2.size;
  }

  insert(slot: number, page: number, _now: number, _write: number, _nextUse: number): void {
    invariant(this.where[slot] === 0, 'arc: insert into an occupied slot');
    const c = this.capacity;
    this.pageOf[slot] = page;
    if (this.b1.has(page)) {
      if (this.adaptedFor !== page) this.adaptUp();
      this.b1.remove(page);
      this.t2.pushBack(slot);
      this.where[slot] = IN_T2;
    } else if (this.b2.has(page)) {
      if (this.adaptedFor !== page) this.adaptDown();
      this.b2.remove(page);
      this.t2.pushBack(slot);
      this.where[slot] = IN_T2;
    } else {
      if (this.t1.size + this.b1.size >= c && this.b1.size > 0) this.b1.popOldest();
      else if (this.t1.size + this.t2.size + this.b1.size + this.b2.size >= 2 * c && this.b2.size > 0)
        this.b2.popOldest();
      this.t1.pushBack(slot);
      this.where[slot] = IN_T1;
    }
    this.adaptedFor = NO_PAGE;
  }

  touch(slot: number, _now: number, _write: number, _nextUse: number): void {
    if (this.where[slot] === IN_T1) {
      this.t1.unlink(slot);
      this.t2.pushBack(slot);
      this.where[slot] = IN_T2;
    } else {
      this.t2.moveToBack(slot);
    }
  }

  victim(_now: number, incoming: number): number {
    invariant(this.resident > 0, 'arc: victim with no resident page');
    const c = this.capacity;
    this.adaptedFor = NO_PAGE;
    if (incoming !== NO_PAGE) {
      if (this.b1.has(incoming)) {
        this.adaptUp();
        this.adaptedFor = incoming;
        return this.replace(false);
      }
      if (this.b2.has(incoming)) {
        this.adaptDown();
        this.adaptedFor = incoming;
        return this.replace(true);
      }
      if (this.t1.size + this.b1.size >= c) {
        if (this.t1.size < c) {
          this.b1.popOldest();
          return this.replace(false);
        }
        const slot = this.t1.popFront();
        this.where[slot] = 0;
        return slot;
      }
      if (this.t1.size + this.t2.size + this.b1.size + this.b2.size >= 2 * c) this.b2.popOldest();
    }
    return this.replace(false);
  }

  /** The paper's REPLACE(x, p); `xInB2` says whether the incoming page was a B2 ghost. */
  private replace(xInB2: boolean): number {
    const n1 = this.t1.size;
    let slot: number;
    if (n1 >= 1 && ((xInB2 && n1 === this.p) || n1 > this.p || this.t2.size === 0)) {
      slot = this.t1.popFront();
      this.b1.push(this.pageOf[slot]!);
    } else {
      slot = this.t2.popFront();
      this.b2.push(this.pageOf[slot]!);
    }
    this.where[slot] = 0;
    return slot;
  }

  private adaptUp(): void {
    const delta = this.b1.size >= this.b2.size ? 1 : this.b2.size / this.b1.size;
    this.p = Math.min(this.capacity, this.p + delta);
  }

  private adaptDown(): void {
    const delta = this.b2.size >= this.b1.size ? 1 : this.b1.size / this.b2.size;
    this.p = Math.max(0, this.p - delta);
  }

  remove(slot: number): void {
    const w = this.where[slot];
    invariant(w !== 0, 'arc: remove of a free slot');
    if (w === IN_T1) this.t1.unlink(slot);
    else this.t2.unlink(slot);
    this.where[slot] = 0;
  }

  reset(): void {
    this.t1.clear();
    this.t2.clear();
    this.b1.clear();
    this.b2.clear();
    this.where.fill(0);
    this.p = 0;
    this.adaptedFor = NO_PAGE;
  }

  isResident(slot: number): boolean {
    return this.where[slot] !== 0;
  }

  order(): number[] {
    return [...this.t1.toArray(), ...this.t2.toArray()];
  }

  /** The ghost ids, oldest first (for display and tests). */
  ghosts(): { b1: number[]; b2: number[] } {
    return { b1: this.b1.toArray(), b2: this.b2.toArray() };
  }

  validate(): string[] {
    const c = this.capacity;
    const errors = [
      ...this.t1.check('arc T1'),
      ...this.t2.check('arc T2'),
      ...this.b1.check('arc B1'),
      ...this.b2.check('arc B2'),
      ...checkWhere('arc', this.where, [
        [this.t1, 'T1'],
        [this.t2, 'T2'],
      ]),
    ];
    if (this.t1.size + this.b1.size > c) errors.push(`arc: |T1| + |B1| = ${this.t1.size + this.b1.size} > c`);
    if (this.resident + this.b1.size + this.b2.size > 2 * c) errors.push('arc: more than 2c pages tracked');
    if (this.p < 0 || this.p > c) errors.push(`arc: p = ${this.p} outside [0, c]`);
    return errors;
  }
}
