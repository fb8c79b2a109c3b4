/**
 * Working set (WS) replacement with window τ: evict a page that has left the working set — not
 * referenced in the last τ accesses — as in Tanenbaum's working-set page replacement algorithm.
 *
 * Parameter: `tau`, in accesses (default: 8 × frames).
 *
 * Each page has a referenced bit R and a "time of last use" that the kernel updates only when it
 * looks (it never sees individual accesses):
 *
 * - A new page: R set, time of last use = now, dirty if the faulting access writes.
 * - A hit sets R (and the dirty bit on a write).
 * - Victim: scan every occupied slot once, starting at a hand (the slot after the previous victim):
 *     R = 1           → time of last use = now, R = 0 (it is in the working set);
 *     R = 0, age > τ  → the first such page is the victim (the scan still updates the rest);
 *     R = 0, age ≤ τ  → remember the oldest (ties: first in scan order).
 *   With no page older than τ, evict the oldest R = 0 page; if every page had R = 1, evict the
 *   first clean page in scan order, else the first page.
 * - `order()`: occupied slots in scan order from the hand.
 *
 * Kernel-implementable: it needs the accessed and dirty bits and a virtual clock. This is the
 * fixed-allocation form; the variable-allocation working-set model (a process keeps exactly its
 * working set) belongs to the kernel's per-process frame allocation.
 */
import { invariant } from '../../base/errors.js';
import { HandPolicy } from './hand.js';
import type { ReplacementPolicy } from './policy.js';

/** Default τ as a multiple of the frame count. */
export const WS_DEFAULT_TAU_PER_FRAME = 8;

export class WorkingSetPolicy extends HandPolicy implements ReplacementPolicy {
  readonly name = 'ws';
  readonly tau: number;
  /** Always allocated here (`dirtyBits: true`). */
  declare protected readonly dirty: Uint8Array;
  private readonly lastUse: Float64Array;

  constructor(capacity: number, tau = WS_DEFAULT_TAU_PER_FRAME * capacity) {
    invariant(tau >= 0, 'ws: tau must be non-negative');
    super(capacity, { dirtyBits: true });
    this.tau = tau;
    this.lastUse = new Float64Array(capacity);
  }

  // `insert` and `touch` are wsclock's too, written twice on purpose: hot methods stay monomorphic
  // (hand.ts).
  insert(slot: number, _page: number, now: number, write: number, _nextUse: number): void {
    invariant(this.present[slot] === 0, 'ws: insert into an occupied slot');
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
    invariant(this.resident > 0, 'ws: victim with no resident page');
    const cap = this.capacity;
    let chosen = -1;
    let oldest = -1;
    let firstClean = -1;
    let first = -1;
    let s = this.hand;
    for (let i = 0; i < cap; i++) {
      if (this.present[s] === 1) {
        if (first < 0) first = s;
        if (firstClean < 0 && this.dirty[s] === 0) firstClean = s;
        if (this.ref[s] === 1) {
          this.lastUse[s] = now;
          this.ref[s] = 0;
        } else if (chosen < 0) {
          if (now - this.lastUse[s]! > this.tau) chosen = s;
          else if (oldest < 0 || this.lastUse[s]! < this.lastUse[oldest]!) oldest = s;
        }
      }
      s = s + 1 === cap ? 0 : s + 1;
    }
    if (chosen < 0) chosen = oldest >= 0 ? oldest : firstClean >= 0 ? firstClean : first;
    this.present[chosen] = 0;
    this.ref[chosen] = 0;
    this.dirty[chosen] = 0;
    this.resident--;
    this.hand = chosen + 1 === cap ? 0 : chosen + 1;
    return chosen;
  }
}
