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
import { checkListMembership, SlotList } from './slotlist.js';

export class FifoPolicy implements ReplacementPolicy {
  readonly name = 'fifo';
  readonly kind = 'kernel';
  readonly needsFuture = false;
  readonly capacity: number;
  private readonly queue: SlotList;
  private readonly present: Uint8Array;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.queue = new SlotList(capacity);
    this.present = new Uint8Array(capacity);
  }

  get resident(): number {
    return this.queue.size;
  }

  insert(slot: number, _page: number, _now: number, _write: number, _nextUse: number): void {
    this.present[slot] = 1;
    this.queue.pushBack(slot);
  }

  touch(_slot: number, _now: number, _write: number, _nextUse: number): void {}

  victim(_now: number, _incoming: number): number {
    const slot = this.queue.popFront();
    invariant(slot >= 0, 'fifo: victim with no resident page');
    this.present[slot] = 0;
    return slot;
  }

  remove(slot: number): void {
    this.queue.unlink(slot);
    this.present[slot] = 0;
  }

  reset(): void {
    this.queue.clear();
    this.present.fill(0);
  }

  isResident(slot: number): boolean {
    return this.present[slot] === 1;
  }

  order(): number[] {
    return this.queue.toArray();
  }

  validate(): string[] {
    return checkListMembership(this.queue, this.present, 'fifo');
  }
}
