/**
 * SIEVE (Zhang et al., NSDI '24): one FIFO queue, a visited bit per page, and a hand that moves from
 * the oldest page towards the newest and never moves pages.
 *
 * - A new page enters at the newest end with its visited bit *clear* (unlike CLOCK).
 * - A hit sets the visited bit. Nothing moves.
 * - Victim: from the hand (or the oldest page when the hand is unset), clear visited bits while
 *   moving towards newer pages, wrapping to the oldest after the newest; the first page with the
 *   bit clear is evicted and the hand rests on the next newer page (unset past the newest).
 *   A page that survives keeps its place, so new pages are sifted out quickly.
 * - `remove` of the page under the hand moves the hand to the next newer page first.
 * - `order()`: oldest first.
 *
 * Kernel-implementable in principle (the visited bit is an accessed bit); it was designed for web
 * caches.
 */
import { invariant } from '../../base/errors.js';
import type { ReplacementPolicy } from './policy.js';
import { ListPolicy } from './slotlist.js';

export class SievePolicy extends ListPolicy implements ReplacementPolicy {
  readonly name = 'sieve';
  readonly kind = 'kernel';
  /** The slot under the hand, or -1 (start from the oldest). */
  hand = -1;
  private readonly visited: Uint8Array;

  constructor(capacity: number) {
    super(capacity);
    this.visited = new Uint8Array(capacity);
  }

  insert(slot: number, _page: number, _now: number, _write: number, _nextUse: number): void {
    invariant(this.present[slot] === 0, 'sieve: insert into an occupied slot');
    this.present[slot] = 1;
    this.visited[slot] = 0;
    this.list.pushBack(slot);
  }

  touch(slot: number, _now: number, _write: number, _nextUse: number): void {
    this.visited[slot] = 1;
  }

  victim(_now: number, _incoming: number): number {
    const queue = this.list;
    invariant(queue.size > 0, 'sieve: victim with no resident page');
    let s = this.hand >= 0 ? this.hand : queue.head;
    while (this.visited[s] === 1) {
      this.visited[s] = 0;
      s = queue.next[s]!;
      if (s === -1) s = queue.head;
    }
    this.hand = queue.next[s]!;
    queue.unlink(s);
    this.present[s] = 0;
    return s;
  }

  override remove(slot: number): void {
    invariant(this.present[slot] === 1, 'sieve: remove of a free slot');
    if (this.hand === slot) this.hand = this.list.next[slot]!;
    super.remove(slot);
    this.visited[slot] = 0;
  }

  override reset(): void {
    super.reset();
    this.visited.fill(0);
    this.hand = -1;
  }

  override validate(): string[] {
    const errors = super.validate();
    if (this.hand !== -1 && this.present[this.hand] !== 1)
      errors.push(`sieve: hand on free slot ${this.hand}`);
    return errors;
  }
}
