/**
 * The dial shared by the policies whose hand sweeps the frames in slot order (`clock`, `nru`,
 * `aging`, `ws`, `wsclock`): per slot an occupied bit, a referenced (accessed) bit and, for the
 * policies that prefer clean victims, a dirty bit; the resident count; and the hand. All of them
 * are kernel-implementable: those bits are the PTE's accessed and dirty bits.
 *
 * {@link HandPolicy} holds that state and the slow-path methods over it. The hot methods — `insert`,
 * `touch`, and `victim` with its sweep — stay in each policy's class, even where two policies' are
 * alike (`ws` and `wsclock`): a method inherited by several classes sees objects of several shapes,
 * which makes V8's property loads in it polymorphic, while a method each class owns keeps one shape
 * and inlines into the caller's per-access loop.
 */
import { invariant } from '../../base/errors.js';

export abstract class HandPolicy {
  abstract readonly name: string;
  readonly kind = 'kernel';
  readonly needsFuture = false;
  readonly capacity: number;
  resident = 0;
  /** The slot the hand points at. */
  hand = 0;
  protected readonly present: Uint8Array;
  /** Referenced (accessed) bit per slot. */
  protected readonly ref: Uint8Array;
  /** Dirty bit per slot (cleared when the page leaves), or null for a policy that ignores writes. */
  protected readonly dirty: Uint8Array | null;

  constructor(capacity: number, options: { readonly dirtyBits: boolean }) {
    this.capacity = capacity;
    this.present = new Uint8Array(capacity);
    this.ref = new Uint8Array(capacity);
    this.dirty = options.dirtyBits ? new Uint8Array(capacity) : null;
  }

  remove(slot: number): void {
    // The message is built only on failure: `remove` runs on every unmap.
    if (this.present[slot] !== 1) invariant(false, `${this.name}: remove of a free slot`);
    this.present[slot] = 0;
    this.ref[slot] = 0;
    if (this.dirty !== null) this.dirty[slot] = 0;
    this.resident--;
  }

  reset(): void {
    this.present.fill(0);
    this.ref.fill(0);
    this.dirty?.fill(0);
    this.resident = 0;
    this.hand = 0;
  }

  isResident(slot: number): boolean {
    return this.present[slot] === 1;
  }

  /** Occupied slots in sweep order from the hand. */
  order(): number[] {
    const out: number[] = [];
    const cap = this.capacity;
    for (let i = 0; i < cap; i++) {
      const s = (this.hand + i) % cap;
      if (this.present[s] === 1) out.push(s);
    }
    return out;
  }

  /** The resident count must match the present bits and the hand must be on the dial. */
  validate(): string[] {
    const errors: string[] = [];
    let n = 0;
    for (let s = 0; s < this.capacity; s++) if (this.present[s] === 1) n++;
    if (n !== this.resident) errors.push(`${this.name}: ${n} slots present, resident says ${this.resident}`);
    if (!(this.hand >= 0 && this.hand < Math.max(1, this.capacity)))
      errors.push(`${this.name}: hand ${this.hand} off the dial`);
    return errors;
  }
}
