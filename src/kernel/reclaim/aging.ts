/**
 * Aging: an n-bit counter per page, shifted right once per tick with the referenced bit entering
 * at the top — a cheap software approximation of LRU (Tanenbaum, *Modern Operating Systems*).
 *
 * Parameters: `bits` (counter width, default 8) and `period` (accesses per tick, default 1024).
 *
 *   every tick:  counter = (counter >> 1) | (R << (bits-1));  R = 0        (all resident pages)
 *
 * - Ticks happen when `now` crosses a multiple of `period` (checked on every call; the policy needs
 *   no timer of its own).
 * - A new page: counter 0, referenced bit set (the faulting access).
 * - A hit sets the referenced bit.
 * - Victim: the smallest `(R << bits) | counter` — the referenced bit of the current, unfinished
 *   tick counts as the most recent history bit, so a page touched since the last tick is never
 *   preferred to one that was not. Ties: the first in slot order starting at a hand that stops just
 *   past each victim. O(frames) per victim.
 * - `order()`: occupied slots in scan order from the hand.
 *
 * Kernel-implementable: the kernel reads and clears accessed bits at each tick.
 */
import { invariant } from '../../base/errors.js';
import { HandPolicy } from './hand.js';
import type { ReplacementPolicy } from './policy.js';

export const AGING_DEFAULT_BITS = 8;
export const AGING_DEFAULT_PERIOD = 1024;

export class AgingPolicy extends HandPolicy implements ReplacementPolicy {
  readonly name = 'aging';
  readonly bits: number;
  readonly period: number;
  /** Time of the next tick. */
  nextTick: number;
  private readonly counter: Uint32Array;

  constructor(capacity: number, bits = AGING_DEFAULT_BITS, period = AGING_DEFAULT_PERIOD) {
    invariant(bits >= 1 && bits <= 30 && period >= 1, 'aging: bad parameters');
    super(capacity, { dirtyBits: false });
    this.bits = bits;
    this.period = period;
    this.nextTick = period;
    this.counter = new Uint32Array(capacity);
  }

  insert(slot: number, _page: number, now: number, _write: number, _nextUse: number): void {
    invariant(this.present[slot] === 0, 'aging: insert into an occupied slot');
    if (now >= this.nextTick) this.tick(now);
    this.present[slot] = 1;
    this.ref[slot] = 1;
    this.counter[slot] = 0;
    this.resident++;
  }

  touch(slot: number, now: number, _write: number, _nextUse: number): void {
    if (now >= this.nextTick) this.tick(now);
    this.ref[slot] = 1;
  }

  victim(now: number, _incoming: number): number {
    invariant(this.resident > 0, 'aging: victim with no resident page');
    if (now >= this.nextTick) this.tick(now);
    const cap = this.capacity;
    const refWeight = 2 ** this.bits;
    let best = -1;
    let bestKey = 0;
    let s = this.hand;
    for (let i = 0; i < cap; i++) {
      if (this.present[s] === 1) {
        const k = this.ref[s]! * refWeight + this.counter[s]!;
        if (best < 0 || k < bestKey) {
          best = s;
          bestKey = k;
          if (k === 0) break;
        }
      }
      s = s + 1 === cap ? 0 : s + 1;
    }
    this.present[best] = 0;
    this.ref[best] = 0;
    this.resident--;
    this.hand = best + 1 === cap ? 0 : best + 1;
    return best;
  }

  /** Applies every tick due by `now` (after `bits` ticks with no reference a counter is 0). */
  private tick(now: number): void {
    const due = Math.floor((now - this.nextTick) / this.period) + 1;
    this.nextTick += due * this.period;
    const hi = this.bits - 1;
    const extra = Math.min(due - 1, this.bits);
    for (let s = 0; s < this.capacity; s++) {
      if (this.present[s] === 0) continue;
      let c = (this.counter[s]! >>> 1) | (this.ref[s]! << hi);
      c = extra >= this.bits ? 0 : c >>> extra;
      this.counter[s] = c;
      this.ref[s] = 0;
    }
  }

  override reset(): void {
    super.reset();
    this.counter.fill(0);
    this.nextTick = this.period;
  }

  override validate(): string[] {
    const errors = super.validate();
    for (let s = 0; s < this.capacity; s++) {
      if (this.counter[s]! >= 2 ** this.bits)
        errors.push(`aging: counter of slot ${s} exceeds ${this.bits} bits`);
    }
    return errors;
  }
}
