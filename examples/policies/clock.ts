/**
 * The textbook CLOCK as a plug-in, in TypeScript: a template to start from, and a check that the
 * plug-in path is exact (on any trace it faults exactly as the built-in `clock`).
 *
 *   node --import tsx $(npm root)/vmscope/dist/cli/main.js replay --policy ./clock.ts --policy-only trace.gz
 *
 * A hand sweeps the slots in order; a page's referenced bit is set when it comes in and on every hit;
 * the victim is the first page at or after the hand whose bit is clear (the bits the hand passes
 * are cleared), and the hand stops just past it.
 */
import type { Policy, PolicyPlugin } from 'vmscope';

class Clock implements Policy {
  private readonly capacity: number;
  private readonly present: Uint8Array;
  private readonly referenced: Uint8Array;
  private hand = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.present = new Uint8Array(capacity);
    this.referenced = new Uint8Array(capacity);
  }

  insert(slot: number): void {
    this.present[slot] = 1;
    this.referenced[slot] = 1;
  }

  touch(slot: number): void {
    this.referenced[slot] = 1;
  }

  victim(): number {
    for (;;) {
      const slot = this.hand;
      this.hand = (this.hand + 1) % this.capacity;
      if (this.present[slot] !== 1) continue;
      if (this.referenced[slot] === 0) {
        this.present[slot] = 0;
        return slot;
      }
      this.referenced[slot] = 0;
    }
  }

  remove(slot: number): void {
    this.present[slot] = 0;
    this.referenced[slot] = 0;
  }

  /** Sweep order from the hand: the next victims first, if nothing is touched meanwhile. */
  order(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.capacity; i++) {
      const slot = (this.hand + i) % this.capacity;
      if (this.present[slot] === 1) out.push(slot);
    }
    return out;
  }
}

const plugin: PolicyPlugin = {
  name: 'my-clock',
  kind: 'kernel',
  summary: 'the textbook CLOCK, as a plug-in',
  create: (capacity) => new Clock(capacity),
};

export default plugin;
