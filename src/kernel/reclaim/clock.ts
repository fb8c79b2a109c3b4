/**
 * CLOCK: a hand sweeps over the frames in frame-number order and evicts the first page whose
 * referenced bit is clear, clearing the bits it passes.
 *
 * - A new page gets its referenced bit set (the faulting access references it). Where it sits on
 *   the dial is its slot number: in the usual case (the new page takes the victim's slot) that is
 *   just behind the hand, the textbook picture.
 * - A hit sets the referenced bit.
 * - Victim: starting at the hand, skip free slots; a page with the bit set has it cleared and the
 *   hand moves on; the first page with the bit clear is evicted and the hand stops just past it.
 *   Two sweeps at most. No ties.
 * - `order()`: occupied slots in sweep order starting at the hand.
 *
 * Kernel-implementable: the referenced bit is the PTE's accessed bit; this is the policy of many
 * real kernels (BSD's, and Linux's lists use the same idea). OSTEP's `-p CLOCK` is a different,
 * randomized algorithm: see `ostep.ts`.
 */
import { invariant } from '../../base/errors.js';
import { HandPolicy } from './hand.js';
import type { ReplacementPolicy } from './policy.js';

export class ClockPolicy extends HandPolicy implements ReplacementPolicy {
  readonly name = 'clock';

  constructor(capacity: number) {
    super(capacity, { dirtyBits: false });
  }

  insert(slot: number, _page: number, _now: number, _write: number, _nextUse: number): void {
    invariant(this.present[slot] === 0, 'clock: insert into an occupied slot');
    this.present[slot] = 1;
    this.ref[slot] = 1;
    this.resident++;
  }

  touch(slot: number, _now: number, _write: number, _nextUse: number): void {
    this.ref[slot] = 1;
  }

  victim(_now: number, _incoming: number): number {
    invariant(this.resident > 0, 'clock: victim with no resident page');
    const present = this.present;
    const ref = this.ref;
    const cap = this.capacity;
    let hand = this.hand;
    for (;;) {
      if (present[hand] === 1) {
        if (ref[hand] === 0) break;
        ref[hand] = 0;
      }
      hand = hand + 1 === cap ? 0 : hand + 1;
    }
    present[hand] = 0;
    this.resident--;
    this.hand = hand + 1 === cap ? 0 : hand + 1;
    return hand;
  }
}
