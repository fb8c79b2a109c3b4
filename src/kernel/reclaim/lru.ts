/**
 * Exact LRU: evict the page whose last access is oldest.
 *
 * - A new page enters at the most-recently-used end.
 * - A hit moves the page to the most-recently-used end.
 * - The victim is the least-recently-used page. No ties (accesses are totally ordered).
 * - `order()`: least recently used first (OSTEP's `memory` list for LRU).
 *
 * An oracle: it needs the order of every access, which no MMU reports (a kernel approximates it with
 * accessed bits: CLOCK, aging, Linux's active/inactive lists). O(1) per access with an intrusive
 * doubly linked list in typed arrays.
 */
import { invariant } from '../../base/errors.js';
import type { ReplacementPolicy } from './policy.js';
import { ListPolicy } from './slotlist.js';

export class LruPolicy extends ListPolicy implements ReplacementPolicy {
  readonly name = 'lru';
  readonly kind = 'oracle';

  // `insert` and `touch` are MRU's too, written twice on purpose: hot methods stay monomorphic
  // (hand.ts). Only the victim's end of the list differs.
  insert(slot: number, _page: number, _now: number, _write: number, _nextUse: number): void {
    this.present[slot] = 1;
    this.list.pushBack(slot);
  }

  touch(slot: number, _now: number, _write: number, _nextUse: number): void {
    this.list.moveToBack(slot);
  }

  victim(_now: number, _incoming: number): number {
    const slot = this.list.popFront();
    invariant(slot >= 0, 'lru: victim with no resident page');
    this.present[slot] = 0;
    return slot;
  }
}
