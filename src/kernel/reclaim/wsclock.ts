/**
 * WSClock (Carr and Hennessy): the working-set rule applied by a CLOCK hand, so each fault looks at
 * only as many frames as it needs.
 *
 * Parameter: `tau`, in accesses (default: 8 × frames, as `ws`).
 *
 * - A new page: referenced, time of last use = now, dirty if the faulting access writes.
 * - A hit sets the referenced bit (and the dirty bit on a write).
 * - Victim: the hand goes round the occupied slots in slot order, at most one full turn:
 *     referenced            → clear the bit, time of last use = now, move on;
 *     age > τ and clean     → evict it (the hand stops just past it);
 *     age > τ and dirty     → schedule its write-back and move on (the first such page is kept);
 *     otherwise             → move on.
 *   After a full turn: if a write was scheduled, the first such page is evicted (its write-back
 *   has finished by now; the caller counts it, as for any dirty eviction); else the first clean page
 *   seen; else the page under the hand.
 * - Pages stay dirty until they leave: this simulation has no background write-back.
 * - `order()`: occupied slots in sweep order from the hand.
 *
 * Kernel-implementable: accessed and dirty bits and a virtual clock.
 */
import { invariant } from '../../base/errors.js';
import { HandPolicy } from './hand.js';
import type { ReplacementPolicy } from './policy.js';
import { WS_DEFAULT_TAU_PER_FRAME } from './ws.js';

export class WsClockPolicy extends HandPolicy implements ReplacementPolicy {
  readonly name = 'wsclock';
  readonly tau: number;
  /** Always allocated here (`dirtyBits: true`). */
  declare protected readonly dirty: Uint8Array;
  private readonly lastUse: Float64Array;

  constructor(capacity: number, tau = WS_DEFAULT_TAU_PER_FRAME * capacity) {
    invariant(tau >= 0, 'wsclock: tau must be non-negative');
    super(capacity, { dirtyBits: true });
    this.tau = tau;
    this.lastUse = new Float64Array(capacity);
  }

  // `insert` and `touch` are ws's too, written twice on purpose: hot methods stay monomorphic
  // (hand.ts).
  insert(slot: number, _page: number, now: number, write: number, _nextUse: number): void {
    invariant(this.present[slot] === 0, 'wsclock: insert into an occupied slot');
    this.present[slot] = 1;
    this.ref[slot] = 1;
    this.dirty[slot] = write === 0 ? 0 : 1;
    this.lastUse[slot] = now;
    this.resident++;
  }

  touch(slot: number, _now: number, write: number, _nextUse: number): void {
    this.ref[slot] = 1;
    if (write !== 0) this.dirty[slot] = 1;
  }

  victim(now: number, _incoming: number): number {
    invariant(this.resident > 0, 'wsclock: victim with no resident page');
    const cap = this.capacity;
    let scheduled = -1;
    let firstClean = -1;
    let first = -1;
    let chosen = -1;
    let s = this.hand;
    for (let i = 0; i < cap; i++) {
      if (this.present[s] === 1) {
        if (first < 0) first = s;
        if (this.ref[s] === 1) {
          this.ref[s] = 0;
          this.lastUse[s] = now;
        } else if (now - this.lastUse[s]! > this.tau) {
          if (this.dirty[s] === 0) {
            chosen = s;
            break;
          }
          if (scheduled < 0) scheduled = s;
        }
        if (firstClean < 0 && this.dirty[s] === 0) firstClean = s;
      }
      s = s + 1 === cap ? 0 : s + 1;
    }
    if (chosen < 0) chosen = scheduled >= 0 ? scheduled : firstClean >= 0 ? firstClean : first;
    this.present[chosen] = 0;
    this.ref[chosen] = 0;
    this.dirty[chosen] = 0;
    this.resident--;
    this.hand = chosen + 1 === cap ? 0 : chosen + 1;
    return chosen;
  }
}
