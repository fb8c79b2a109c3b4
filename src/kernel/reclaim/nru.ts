/**
 * NRU as enhanced CLOCK (enhanced second chance): classes by (referenced, dirty), and a hand that
 * sweeps the frames in frame-number order.
 *
 *   class 0 (0,0) not referenced, clean   ← best victim: no write-back
 *   class 1 (0,1) not referenced, dirty
 *   class 2 (1,0) referenced, clean
 *   class 3 (1,1) referenced, dirty
 *
 * - A new page: referenced, dirty if the faulting access writes.
 * - A hit sets the referenced bit, and the dirty bit on a write.
 * - Victim, from the hand, over the occupied slots:
 *     sweep 1: take the first (0,0), changing nothing;
 *     sweep 2: take the first (0,1), clearing the referenced bit of every page passed over;
 *     then sweeps 1 and 2 again (all bits are now clear, so one of them succeeds).
 *   The hand stops just past the victim. No ties (first found in sweep order).
 * - The dirty bit is cleared only when the page leaves: this simulation has no background
 *   write-back.
 * - `order()`: occupied slots in sweep order starting at the hand.
 *
 * Kernel-implementable: the two bits are the PTE's accessed and dirty bits.
 */
import { invariant } from '../../base/errors.js';
import { HandPolicy } from './hand.js';
import type { ReplacementPolicy } from './policy.js';

export class NruPolicy extends HandPolicy implements ReplacementPolicy {
  readonly name = 'nru';
  /** Always allocated here (`dirtyBits: true`). */
  declare protected readonly dirty: Uint8Array;

  constructor(capacity: number) {
    super(capacity, { dirtyBits: true });
  }

  insert(slot: number, _page: number, _now: number, write: number, _nextUse: number): void {
    invariant(this.present[slot] === 0, 'nru: insert into an occupied slot');
    this.present[slot] = 1;
    this.ref[slot] = 1;
    this.dirty[slot] = write === 0 ? 0 : 1;
    this.resident++;
  }

  touch(slot: number, _now: number, write: number, _nextUse: number): void {
    this.ref[slot] = 1;
    if (write !== 0) this.dirty[slot] = 1;
  }

  victim(_now: number, _incoming: number): number {
    invariant(this.resident > 0, 'nru: victim with no resident page');
    for (let round = 0; round < 2; round++) {
      let slot = this.sweep(0, false);
      if (slot < 0) slot = this.sweep(1, true);
      if (slot >= 0) {
        this.present[slot] = 0;
        this.ref[slot] = 0;
        this.dirty[slot] = 0;
        this.resident--;
        this.hand = slot + 1 === this.capacity ? 0 : slot + 1;
        return slot;
      }
    }
    invariant(false, 'nru: no victim after two rounds');
  }

  /** One sweep from the hand for a page with referenced 0 and dirty `dirty`; -1 when none. */
  private sweep(dirty: number, clearRef: boolean): number {
    const cap = this.capacity;
    let s = this.hand;
    for (let i = 0; i < cap; i++) {
      if (this.present[s] === 1) {
        if (this.ref[s] === 0 && this.dirty[s] === dirty) return s;
        if (clearRef) this.ref[s] = 0;
      }
      s = s + 1 === cap ? 0 : s + 1;
    }
    return -1;
  }
}
