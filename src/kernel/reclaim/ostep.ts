/**
 * OSTEP's randomized policies, ported from paging-policy.py (ostep-homework, vm-beyondphys-policy)
 * so that vmscope reproduces its homework answers exactly. Both keep the script's `memory` list —
 * pages in arrival order, a victim's removal closing the gap — and draw `random.random()` from
 * CPython's generator (`pyrandom.ts`) seeded as the script seeds it (`-s`, default 0). When the
 * script generates its own addresses (`-a -1`), it draws them from the same stream first: skip as
 * many draws (`PyRandom.random()`) before replaying, or pass an already advanced generator.
 *
 * `ostep-rand` (`-p RAND`): the victim is `memory[int(random() * len(memory))]`.
 *
 * `ostep-clock` (`-p CLOCK -b B`), which is *not* the textbook CLOCK (`clock.ts`): every page has a
 * use counter, set to 1 when the page arrives and incremented on every hit, saturating at B
 * (`clockBits`, default 2). On a fault with memory full, the script repeatedly picks a random
 * resident page: a counter ≥ 1 is decremented; a page whose counter is 0 is the victim.
 *
 * `order()`: the `memory` list (arrival order). They are here to match the homework, not to model a
 * kernel: `ostep-rand` needs nothing (`kernel`), but `ostep-clock` counts every access (`oracle`; an
 * accessed bit only says whether there was one). O(frames) per eviction (the list shifts), which is
 * fine at homework sizes.
 */
import { invariant } from '../../base/errors.js';
import type { ReplacementPolicy } from './policy.js';
import { PyRandom } from './pyrandom.js';

/** The script's `memory` list of slots, shared by both ports. */
class ArrivalList {
  readonly slots: Int32Array;
  length = 0;

  constructor(capacity: number) {
    this.slots = new Int32Array(capacity);
  }

  append(slot: number): void {
    this.slots[this.length++] = slot;
  }

  /** Removes the element at index `i`, as `list.pop(i)`. @returns it. */
  popAt(i: number): number {
    const slot = this.slots[i]!;
    this.slots.copyWithin(i, i + 1, this.length);
    this.length--;
    return slot;
  }

  indexOf(slot: number): number {
    for (let i = 0; i < this.length; i++) if (this.slots[i] === slot) return i;
    return -1;
  }

  toArray(): number[] {
    return Array.from(this.slots.subarray(0, this.length));
  }
}

/**
 * What both ports share: the `memory` list, the generator and its seed, and the slow-path methods.
 * The hot methods stay in each port's class (see `hand.ts` for why).
 */
abstract class OstepPolicy {
  abstract readonly name: string;
  readonly needsFuture = false;
  readonly capacity: number;
  readonly seed: number;
  readonly rng: PyRandom;
  protected readonly memory: ArrivalList;

  constructor(capacity: number, seed: number, rng: PyRandom) {
    this.capacity = capacity;
    this.seed = seed;
    this.rng = rng;
    this.memory = new ArrivalList(capacity);
  }

  get resident(): number {
    return this.memory.length;
  }

  remove(slot: number): void {
    const i = this.memory.indexOf(slot);
    if (i < 0) invariant(false, `${this.name}: remove of a free slot`);
    this.memory.popAt(i);
  }

  reset(): void {
    this.memory.length = 0;
    this.rng.seed(this.seed);
  }

  isResident(slot: number): boolean {
    return this.memory.indexOf(slot) >= 0;
  }

  order(): number[] {
    return this.memory.toArray();
  }

  validate(): string[] {
    const errors: string[] = [];
    const seen = new Set<number>();
    for (const s of this.memory.toArray()) {
      if (s < 0 || s >= this.capacity) errors.push(`${this.name}: slot ${s} out of range`);
      if (seen.has(s)) errors.push(`${this.name}: slot ${s} listed twice`);
      seen.add(s);
    }
    return errors;
  }
}

export class OstepRandPolicy extends OstepPolicy implements ReplacementPolicy {
  readonly name = 'ostep-rand';
  readonly kind = 'kernel';

  /** @param rng the generator to draw from (default: a fresh one seeded with `seed`). */
  constructor(capacity: number, seed = 0, rng: PyRandom = new PyRandom(seed)) {
    super(capacity, seed, rng);
  }

  insert(slot: number, _page: number, _now: number, _write: number, _nextUse: number): void {
    invariant(this.memory.indexOf(slot) < 0, 'ostep-rand: insert into an occupied slot');
    this.memory.append(slot);
  }

  touch(_slot: number, _now: number, _write: number, _nextUse: number): void {}

  victim(_now: number, _incoming: number): number {
    invariant(this.memory.length > 0, 'ostep-rand: victim with no resident page');
    return this.memory.popAt(this.rng.below(this.memory.length));
  }
}

export class OstepClockPolicy extends OstepPolicy implements ReplacementPolicy {
  readonly name = 'ostep-clock';
  readonly kind = 'oracle';
  readonly clockBits: number;
  /** The script's `ref[page]`, by slot. */
  private readonly use: Int32Array;

  constructor(capacity: number, clockBits = 2, seed = 0, rng: PyRandom = new PyRandom(seed)) {
    super(capacity, seed, rng);
    this.clockBits = clockBits;
    this.use = new Int32Array(capacity);
  }

  insert(slot: number, _page: number, _now: number, _write: number, _nextUse: number): void {
    invariant(this.memory.indexOf(slot) < 0, 'ostep-clock: insert into an occupied slot');
    this.memory.append(slot);
    this.use[slot] = 1;
  }

  touch(slot: number, _now: number, _write: number, _nextUse: number): void {
    const u = this.use[slot]! + 1;
    this.use[slot] = Math.min(u, this.clockBits);
  }

  victim(_now: number, _incoming: number): number {
    const memory = this.memory;
    invariant(memory.length > 0, 'ostep-clock: victim with no resident page');
    for (;;) {
      const i = this.rng.below(memory.length);
      const slot = memory.slots[i]!;
      if (this.use[slot]! >= 1) {
        this.use[slot] = this.use[slot]! - 1;
      } else {
        memory.popAt(i);
        return slot;
      }
    }
  }

  override reset(): void {
    super.reset();
    this.use.fill(0);
  }
}
