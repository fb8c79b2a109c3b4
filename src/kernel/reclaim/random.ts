/**
 * Random: evict a page chosen uniformly among the resident ones.
 *
 * - New pages and hits change nothing but membership.
 * - Victim: the resident slots are kept in a dense array (a removed slot's place is taken by the
 *   last one); the victim is `members[floor(random() * resident)]`, with `random()` CPython's
 *   generator seeded with `seed` (default 0). Deterministic given the seed and the call sequence.
 * - `order()`: the dense array's order.
 *
 * Kernel-implementable (it needs nothing). OSTEP's `-p RAND` picks by position in a list kept in
 * arrival order, so its choices differ from this one's for the same seed: `ostep-rand` reproduces it.
 */
import { invariant } from '../../base/errors.js';
import type { ReplacementPolicy } from './policy.js';
import { PyRandom } from './pyrandom.js';

export class RandomPolicy implements ReplacementPolicy {
  readonly name = 'random';
  readonly kind = 'kernel';
  readonly needsFuture = false;
  readonly capacity: number;
  readonly seed: number;
  resident = 0;
  private readonly members: Int32Array;
  /** Slot → index in `members`, or -1. */
  private readonly index: Int32Array;
  private readonly rng: PyRandom;

  constructor(capacity: number, seed = 0) {
    this.capacity = capacity;
    this.seed = seed;
    this.members = new Int32Array(capacity);
    this.index = new Int32Array(capacity).fill(-1);
    this.rng = new PyRandom(seed);
  }

  insert(slot: number, _page: number, _now: number, _write: number, _nextUse: number): void {
    invariant(this.index[slot] === -1, 'random: insert into an occupied slot');
    this.index[slot] = this.resident;
    this.members[this.resident++] = slot;
  }

  touch(_slot: number, _now: number, _write: number, _nextUse: number): void {}

  victim(_now: number, _incoming: number): number {
    invariant(this.resident > 0, 'random: victim with no resident page');
    const slot = this.members[this.rng.below(this.resident)]!;
    this.remove(slot);
    return slot;
  }

  remove(slot: number): void {
    const i = this.index[slot]!;
    invariant(i >= 0, 'random: remove of a free slot');
    const last = this.members[--this.resident]!;
    this.members[i] = last;
    this.index[last] = i;
    this.index[slot] = -1;
  }

  reset(): void {
    this.index.fill(-1);
    this.resident = 0;
    this.rng.seed(this.seed);
  }

  isResident(slot: number): boolean {
    return this.index[slot]! >= 0;
  }

  order(): number[] {
    return Array.from(this.members.subarray(0, this.resident));
  }

  validate(): string[] {
    const errors: string[] = [];
    for (let i = 0; i < this.resident; i++) {
      const s = this.members[i]!;
      if (this.index[s] !== i) errors.push(`random: members[${i}] = ${s} but index[${s}] = ${this.index[s]}`);
    }
    let n = 0;
    for (let s = 0; s < this.capacity; s++) if (this.index[s]! >= 0) n++;
    if (n !== this.resident) errors.push(`random: ${n} slots indexed, resident says ${this.resident}`);
    return errors;
  }
}
