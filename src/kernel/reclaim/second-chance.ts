/**
 * Second chance: FIFO that spares pages referenced since they last reached the front.
 *
 * - A new page enters at the back of the queue with its referenced bit set (the faulting access
 *   references it).
 * - A hit sets the referenced bit. Nothing moves.
 * - Victim: look at the front page; if its referenced bit is set, clear it and move the page to the
 *   back (its second chance) and look again; otherwise evict it. At most one pass over the queue
 *   clears every bit, so the search ends. No ties.
 * - `order()`: queue order, front (next to be examined) first.
 *
 * Kernel-implementable: it uses only the accessed bit. It makes the same choices as CLOCK as long as
 * every new page takes the slot of the page just evicted; they differ when pages leave by `remove`
 * and come back into other slots (CLOCK's hand follows slot numbers, this queue follows arrivals).
 */
import { invariant } from '../../base/errors.js';
import type { ReplacementPolicy } from './policy.js';
import { ListPolicy } from './slotlist.js';

export class SecondChancePolicy extends ListPolicy implements ReplacementPolicy {
  readonly name = 'second-chance';
  readonly kind = 'kernel';
  /** Referenced (accessed) bit per slot. */
  private readonly ref: Uint8Array;

  constructor(capacity: number) {
    super(capacity);
    this.ref = new Uint8Array(capacity);
  }

  insert(slot: number, _page: number, _now: number, _write: number, _nextUse: number): void {
    this.present[slot] = 1;
    this.ref[slot] = 1;
    this.list.pushBack(slot);
  }

  touch(slot: number, _now: number, _write: number, _nextUse: number): void {
    this.ref[slot] = 1;
  }

  victim(_now: number, _incoming: number): number {
    const queue = this.list;
    const ref = this.ref;
    invariant(queue.size > 0, 'second-chance: victim with no resident page');
    for (;;) {
      const slot = queue.head;
      if (ref[slot] === 0) {
        queue.unlink(slot);
        this.present[slot] = 0;
        return slot;
      }
      ref[slot] = 0;
      queue.moveToBack(slot);
    }
  }

  override remove(slot: number): void {
    super.remove(slot);
    this.ref[slot] = 0;
  }

  override reset(): void {
    super.reset();
    this.ref.fill(0);
  }
}
