/**
 * Naive models of some built-in policies, written the obvious way over pages (arrays, linear
 * scans), for `vmscope policy check`'s exactness check: the fast policy must give the same hit or
 * miss and hold the same pages after every access. They double as examples of the
 * `ReferenceCache` a plug-in may declare (`kernel/reclaim/plugin.ts`).
 *
 * Each one follows the rules stated in the policy's own file, ties included; where a rule depends
 * on slots (CLOCK's hand sweeps frames in slot order), the model assigns slots as the cache
 * simulation does: the lowest free slot while memory fills, then the victim's slot.
 */
import type { ReferenceCache } from '../kernel/reclaim/plugin.js';
import { NEVER } from '../kernel/reclaim/policy.js';

/** FIFO: evict the oldest arrival; hits change nothing. */
function naiveFifo(capacity: number): ReferenceCache {
  const queue: number[] = [];
  return {
    access(page) {
      if (queue.includes(page)) return true;
      if (queue.length === capacity) queue.shift();
      queue.push(page);
      return false;
    },
    pages: () => queue,
  };
}

/** LRU (`mru: false`) or MRU: a recency list, least recent first; evict its front or its back. */
function naiveRecency(capacity: number, mru: boolean): ReferenceCache {
  const list: number[] = [];
  return {
    access(page) {
      const at = list.indexOf(page);
      if (at >= 0) {
        list.splice(at, 1);
        list.push(page);
        return true;
      }
      if (list.length === capacity) {
        if (mru) list.pop();
        else list.shift();
      }
      list.push(page);
      return false;
    },
    pages: () => list,
  };
}

/** OPT: evict the furthest next use; among pages never used again, the one brought in last. */
function naiveOpt(capacity: number): ReferenceCache {
  const memory: { page: number; next: number }[] = []; // arrival order
  return {
    access(page, _write, _now, nextUse) {
      const held = memory.find((m) => m.page === page);
      if (held) {
        held.next = nextUse;
        return true;
      }
      if (memory.length === capacity) {
        let best = 0;
        memory.forEach((m, i) => {
          const b = memory[best]!;
          if (m.next > b.next || (m.next === NEVER && b.next === NEVER)) best = i;
        });
        memory.splice(best, 1);
      }
      memory.push({ page, next: nextUse });
      return false;
    },
    pages: () => memory.map((m) => m.page),
  };
}

/** CLOCK: a hand over the slots; evict the first page with its referenced bit clear. */
function naiveClock(capacity: number): ReferenceCache {
  const frame: (number | null)[] = new Array(capacity).fill(null);
  const referenced: boolean[] = new Array(capacity).fill(false);
  let hand = 0;
  return {
    access(page) {
      const at = frame.indexOf(page);
      if (at >= 0) {
        referenced[at] = true;
        return true;
      }
      let slot = frame.indexOf(null);
      if (slot < 0) {
        while (referenced[hand]) {
          referenced[hand] = false;
          hand = (hand + 1) % capacity;
        }
        slot = hand;
        hand = (hand + 1) % capacity;
      }
      frame[slot] = page;
      referenced[slot] = true;
      return false;
    },
    pages: () => frame.filter((p): p is number => p !== null),
  };
}

/** The built-in policies that have a naive model here, by name. */
export const NAIVE_REFERENCES: Readonly<Record<string, (capacity: number) => ReferenceCache>> = {
  fifo: naiveFifo,
  lru: (c) => naiveRecency(c, false),
  mru: (c) => naiveRecency(c, true),
  opt: naiveOpt,
  clock: naiveClock,
};
