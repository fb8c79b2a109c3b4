/**
 * FIFO: evict the page that has been resident longest.
 *
 * - A new page enters at the back of the queue.
 * - A hit changes nothing.
 * - The victim is the front of the queue (the oldest arrival). No ties.
 * - `order()`: oldest first (OSTEP's `memory` list for FIFO).
 *
 * Kernel-implementable (needs no accessed bits at all). Shows Belady's anomaly: more frames can mean
 * more faults (1,2,3,4,1,2,5,1,2,3,4,5: 9 faults with 3 frames, 10 with 4).
 */
import { invariant } from '../../base/errors.js';
import type { ReplacementPolicy } from './policy.js';
import { ListPolicy } from './slotlist.js';

export class FifoPolicy extends ListPolicy implements ReplacementPolicy {
  readonly name = 'fifo';
  readonly kind = 'kernel';

  insert(slot: number, _page: number, _now: number, _write: number, _nextUse: number): void {
    this.present[slot] = 1;
    this.list.pushBack(slot);
  }

  touch(_slot: number, _now: number, _write: number, _nextUse: number): void {}

  victim(_now: number, _incoming: number): number {
    const slot = this.list.popFront();
    invariant(slot >= 0, 'fifo: victim with no resident page');
    this.present[slot] = 0;
    return slot;
  }
}
