/**
 * OPT (Belady's MIN): evict the page whose next access is furthest in the future. And its mirror,
 * UNOPT, which evicts the page needed soonest (the worst clairvoyant choice; OSTEP's `-p UNOPT`).
 *
 * - The caller passes each access's `nextUse` (the time of the page's next access, `NEVER` when
 *   there is none) to `insert` and `touch`. `sim/cachesim.ts` computes them in a first pass over
 *   the trace (`NextUseBuilder`, 4 bytes per access), so the second pass costs O(log frames) per
 *   access instead of a scan of the future.
 * - A hit only updates the page's next use.
 * - Victim (OPT): the largest next use. Two resident pages never share a finite next use, so ties
 *   are only among pages never used again; among those the one brought in *last* is evicted — as
 *   paging-policy.py does (it scans memory in arrival order and keeps the last maximum, `>=`).
 *   Which never-again page goes does not change the number of faults.
 * - Victim (UNOPT): the smallest next use; pages never used again count as furthest, and among
 *   them the one brought in *first* is evicted (paging-policy.py's strict `<`).
 * - `order()`: arrival order (when each page was brought in), as OSTEP prints memory.
 *
 * An oracle: it needs the future, so it runs only in trace replay. The priority queue is a binary
 * max-heap of slots keyed by next use (with `NEVER` mapped to 2^52 + arrival time, which encodes
 * the tie rule; keys are unique, so the victim does not depend on the heap's shape). A hit only
 * stores the new key and notes the slot as changed; the heap is repaired when it is next needed
 * (a victim, a removal), so a page hit a hundred times between two faults costs one sift, not a
 * hundred. With OPT's real next uses every change is an increase (a page's key goes from "now" to
 * its next use), and increases are repaired by sifting the changed slots up in order of position,
 * shallowest first; any decrease (UNOPT, or a caller's arbitrary `nextUse`), or many changes,
 * rebuilds the heap bottom-up instead.
 */
import { invariant } from '../../base/errors.js';
import { NEVER, type ReplacementPolicy } from './policy.js';

/** Keys of pages never used again start here: above any real time, ordered by arrival. */
const NEVER_BASE = 2 ** 52;

export class OptPolicy implements ReplacementPolicy {
  readonly name: 'opt' | 'unopt';
  readonly kind = 'oracle';
  readonly needsFuture = true;
  readonly capacity: number;
  resident = 0;
  /** +1 for OPT (evict the largest key), -1 for UNOPT (the smallest). */
  private readonly sign: number;
  private readonly heap: Int32Array;
  /** Slot → heap index, or -1. */
  private readonly pos: Int32Array;
  private readonly key: Float64Array;
  /** When each slot's page was brought in. */
  private readonly arrival: Float64Array;
  /** Slots whose key changed since the heap was last repaired (flag, and list). */
  private readonly changed: Uint8Array;
  private readonly changedList: Int32Array;
  private changedCount = 0;
  /** Some key went down since the last repair: only a rebuild is sure to restore the heap. */
  private decreased = false;
  /** Positions to repair (scratch). */
  private readonly positions: Int32Array;

  constructor(capacity: number, opts: { pessimal?: boolean } = {}) {
    this.capacity = capacity;
    this.name = opts.pessimal ? 'unopt' : 'opt';
    this.sign = opts.pessimal ? -1 : 1;
    this.heap = new Int32Array(capacity);
    this.pos = new Int32Array(capacity).fill(-1);
    this.key = new Float64Array(capacity);
    this.arrival = new Float64Array(capacity);
    this.changed = new Uint8Array(capacity);
    this.changedList = new Int32Array(capacity);
    this.positions = new Int32Array(capacity);
  }

  insert(slot: number, _page: number, now: number, _write: number, nextUse: number): void {
    if (this.pos[slot] !== -1) invariant(false, `${this.name}: insert into an occupied slot`);
    this.arrival[slot] = now;
    this.key[slot] = this.sign * (nextUse === NEVER ? NEVER_BASE + now : nextUse);
    const i = this.resident++;
    this.heap[i] = slot;
    this.pos[slot] = i;
    this.changed[slot] = 1;
    this.changedList[this.changedCount++] = slot;
  }

  touch(slot: number, _now: number, _write: number, nextUse: number): void {
    const k = this.sign * (nextUse === NEVER ? NEVER_BASE + this.arrival[slot]! : nextUse);
    if (k < this.key[slot]!) this.decreased = true;
    this.key[slot] = k;
    if (this.changed[slot] === 0) {
      this.changed[slot] = 1;
      this.changedList[this.changedCount++] = slot;
    }
  }

  victim(_now: number, _incoming: number): number {
    if (this.resident <= 0) invariant(false, `${this.name}: victim with no resident page`);
    this.repair();
    const slot = this.heap[0]!;
    this.removeAt(0);
    return slot;
  }

  remove(slot: number): void {
    const i = this.pos[slot]!;
    if (i < 0) invariant(false, `${this.name}: remove of a free slot`);
    this.repair();
    this.removeAt(this.pos[slot]!);
  }

  reset(): void {
    this.pos.fill(-1);
    this.changed.fill(0);
    this.changedCount = 0;
    this.decreased = false;
    this.resident = 0;
  }

  /**
   * Restores the heap after key changes. Increases only: sift the changed slots up, in increasing
   * order of position — a sift moves only the slot's ancestors, which come earlier, so the later
   * positions still hold their changed slots, and a changed ancestor is already in place when its
   * descendants rise past it. Otherwise (a decrease, or over an eighth of the heap changed): Floyd's
   * bottom-up rebuild.
   */
  private repair(): void {
    const n = this.changedCount;
    if (n === 0) return;
    const list = this.changedList;
    if (this.decreased || n * 8 > this.resident) {
      for (let i = (this.resident >> 1) - 1; i >= 0; i--) this.siftDown(i);
    } else {
      const at = this.positions;
      let m = 0;
      for (let i = 0; i < n; i++) {
        const p = this.pos[list[i]!]!;
        if (p >= 0) at[m++] = p;
      }
      if (m <= 32) {
        for (let i = 1; i < m; i++) {
          const v = at[i]!;
          let j = i - 1;
          while (j >= 0 && at[j]! > v) {
            at[j + 1] = at[j]!;
            j--;
          }
          at[j + 1] = v;
        }
      } else {
        at.subarray(0, m).sort();
      }
      for (let i = 0; i < m; i++) this.siftUp(at[i]!);
    }
    for (let i = 0; i < n; i++) this.changed[list[i]!] = 0;
    this.changedCount = 0;
    this.decreased = false;
  }

  isResident(slot: number): boolean {
    return this.pos[slot]! >= 0;
  }

  order(): number[] {
    const slots = Array.from(this.heap.subarray(0, this.resident));
    return slots.sort((a, b) => this.arrival[a]! - this.arrival[b]!);
  }

  /** Checks the heap as it will be used (after the pending repair). */
  validate(): string[] {
    this.repair();
    const errors: string[] = [];
    for (let i = 0; i < this.resident; i++) {
      const s = this.heap[i]!;
      if (this.pos[s] !== i) errors.push(`${this.name}: heap[${i}] = ${s} but pos[${s}] = ${this.pos[s]}`);
      if (i > 0 && this.key[this.heap[(i - 1) >> 1]!]! < this.key[s]!)
        errors.push(`${this.name}: heap order broken at ${i}`);
    }
    let n = 0;
    for (let s = 0; s < this.capacity; s++) if (this.pos[s]! >= 0) n++;
    if (n !== this.resident)
      errors.push(`${this.name}: ${n} slots in the heap, resident says ${this.resident}`);
    return errors;
  }

  private removeAt(i: number): void {
    const heap = this.heap;
    const slot = heap[i]!;
    this.pos[slot] = -1;
    this.changed[slot] = 0;
    const last = --this.resident;
    if (i === last) return;
    const moved = heap[last]!;
    heap[i] = moved;
    this.pos[moved] = i;
    if (i > 0 && this.key[moved]! > this.key[heap[(i - 1) >> 1]!]!) this.siftUp(i);
    else this.siftDown(i);
  }

  private siftUp(i: number): void {
    const heap = this.heap;
    const key = this.key;
    const pos = this.pos;
    const slot = heap[i]!;
    const k = key[slot]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const ps = heap[parent]!;
      if (key[ps]! >= k) break;
      heap[i] = ps;
      pos[ps] = i;
      i = parent;
    }
    heap[i] = slot;
    pos[slot] = i;
  }

  private siftDown(i: number): void {
    const heap = this.heap;
    const key = this.key;
    const pos = this.pos;
    const n = this.resident;
    const slot = heap[i]!;
    const k = key[slot]!;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      let cs = heap[child]!;
      let ck = key[cs]!;
      if (child + 1 < n) {
        const rs = heap[child + 1]!;
        const rk = key[rs]!;
        if (rk > ck) {
          child++;
          cs = rs;
          ck = rk;
        }
      }
      if (ck <= k) break;
      heap[i] = cs;
      pos[cs] = i;
      i = child;
    }
    heap[i] = slot;
    pos[slot] = i;
  }
}
