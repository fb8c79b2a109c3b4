/**
 * MRU: evict the page accessed most recently.
 *
 * - A new page enters at the most-recently-used end (so, with no hit in between, the next fault
 *   evicts the page the previous fault brought in).
 * - A hit moves the page to the most-recently-used end.
 * - The victim is the most-recently-used page. No ties.
 * - `order()`: least recently used first, as OSTEP prints it (the victim is the last one).
 *
 * An oracle, like exact LRU. It suits loops larger than memory, where LRU evicts exactly the page
 * needed next. OSTEP's paging-policy.py supports it (`-p MRU`) although its help does not list it.
 */
import { invariant } from '../../base/errors.js';
import type { ReplacementPolicy } from './policy.js';
import { ListPolicy } from './slotlist.js';

export class MruPolicy extends ListPolicy implements ReplacementPolicy {
  readonly name = 'mru';
  readonly kind = 'oracle';

  // `insert` and `touch` are LRU's too, written twice on purpose: hot methods stay monomorphic
  // (hand.ts). Only the victim's end of the list differs.
  insert(slot: number, _page: number, _now: number, _write: number, _nextUse: number): void {
    this.present[slot] = 1;
    this.list.pushBack(slot);
  }

  touch(slot: number, _now: number, _write: number, _nextUse: number): void {
    this.list.moveToBack(slot);
  }

  victim(_now: number, _incoming: number): number {
    const slot = this.list.tail;
    invariant(slot >= 0, 'mru: victim with no resident page');
    this.list.unlink(slot);
    this.present[slot] = 0;
    return slot;
  }
}
