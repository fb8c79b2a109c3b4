/**
 * 2Q (Johnson and Shasha, VLDB '94), the "full version": a FIFO for pages seen once (A1in), an LRU
 * list for pages seen again (Am), and a ghost FIFO of ids recently evicted from A1in (A1out).
 *
 * Parameters (the paper's recommendations): Kin = 25% of the frames (at least 1), Kout = 50% of the
 * frames (at least 1) ghost ids.
 *
 * - New page: if its id is in A1out, the ghost is dropped and the page goes to Am's MRU end;
 *   otherwise it enters the back of A1in.
 * - Hit in Am: the page moves to Am's MRU end. Hit in A1in: nothing (correlated references).
 * - Victim: if |A1in| > Kin (or Am is empty), A1in's oldest page, its id pushed onto A1out (which
 *   drops its oldest beyond Kout); otherwise Am's LRU page, with no ghost.
 * - `order()`: A1in oldest first, then Am from LRU to MRU.
 *
 * An oracle (Am is an exact LRU list).
 */
import { invariant } from '../../base/errors.js';
import { GhostList } from './ghost.js';
import type { ReplacementPolicy } from './policy.js';
import { checkWhere, SlotList } from './slotlist.js';

// `where` marks (checkWhere's numbering: the lists in order).
const IN_A1 = 1;
const IN_AM = 2;

export class TwoQPolicy implements ReplacementPolicy {
  readonly name = '2q';
  readonly kind = 'oracle';
  readonly needsFuture = false;
  readonly capacity: number;
  readonly kin: number;
  readonly kout: number;
  private readonly a1in: SlotList;
  private readonly am: SlotList;
  private readonly a1out: GhostList;
  private readonly where: Uint8Array;
  private readonly pageOf: Float64Array;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.kin = Math.max(1, Math.floor(capacity / 4));
    this.kout = Math.max(1, Math.floor(capacity / 2));
    this.a1in = new SlotList(capacity);
    this.am = new SlotList(capacity);
    this.a1out = new GhostList(this.kout);
    this.where = new Uint8Array(capacity);
    this.pageOf = new Float64Array(capacity);
  }

  get resident(): number {
    return this.a1in.size + this.am.size;
  }

  insert(slot: number, page: number, _now: number, _write: number, _nextUse: number): void {
    invariant(this.where[slot] === 0, '2q: insert into an occupied slot');
    this.pageOf[slot] = page;
    if (this.a1out.remove(page)) {
      this.am.pushBack(slot);
      this.where[slot] = IN_AM;
    } else {
      this.a1in.pushBack(slot);
      this.where[slot] = IN_A1;
    }
  }

  touch(slot: number, _now: number, _write: number, _nextUse: number): void {
    if (this.where[slot] === IN_AM) this.am.moveToBack(slot);
  }

  victim(_now: number, _incoming: number): number {
    invariant(this.resident > 0, '2q: victim with no resident page');
    let slot: number;
    if (this.a1in.size > this.kin || this.am.size === 0) {
      slot = this.a1in.popFront();
      this.a1out.push(this.pageOf[slot]!);
    } else {
      slot = this.am.popFront();
    }
    this.where[slot] = 0;
    return slot;
  }

  remove(slot: number): void {
    const w = this.where[slot];
    invariant(w !== 0, '2q: remove of a free slot');
    if (w === IN_A1) this.a1in.unlink(slot);
    else this.am.unlink(slot);
    this.where[slot] = 0;
  }

  reset(): void {
    this.a1in.clear();
    this.am.clear();
    this.a1out.clear();
    this.where.fill(0);
  }

  isResident(slot: number): boolean {
    return this.where[slot] !== 0;
  }

  order(): number[] {
    return [...this.a1in.toArray(), ...this.am.toArray()];
  }

  validate(): string[] {
    return [
      ...this.a1in.check('2q A1in'),
      ...this.am.check('2q Am'),
      ...this.a1out.check('2q A1out'),
      ...checkWhere('2q', this.where, [
        [this.a1in, 'A1in'],
        [this.am, 'Am'],
      ]),
    ];
  }
}
