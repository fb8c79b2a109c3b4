/**
 * The one interface every page-replacement policy implements.
 *
 * A policy orders the pages that occupy a fixed set of *slots* — page frames in the kernel, cache
 * slots in the pure cache simulation (`sim/cachesim.ts`) — numbered 0..capacity-1. It never chooses
 * where a page goes (the caller's frame allocator or free list does) and never sees memory; it is
 * told what happens to slots and, when memory is full, names the slot to empty.
 *
 * The protocol, for every slot:
 *
 *              insert(slot, page, now, write, nextUse)
 *     free ─────────────────────────────────────────────► occupied ◄─┐ touch(slot, now, write, nextUse)
 *       ▲                                                    │   └───┘  (a hit the caller lets it see)
 *       └──────── victim(now, incoming) returns slot ────────┤
 *       └──────── remove(slot) ──────────────────────────────┘  (unmap, exit: not a replacement)
 *
 * (DESIGN's `onMap`, `onAccess`, `victim` and `onUnmap` are `insert`, `touch`, `victim` and `remove`.)
 *
 * - `victim` both chooses and forgets: the returned slot is free when it returns, and the caller
 *   must empty it (write it back, unmap it). A policy with history (ARC, 2Q, S3-FIFO) remembers the
 *   page as a ghost; `remove` leaves no ghost. `victim` requires at least one occupied slot.
 * - `now` is a logical clock that never goes backwards: the cache simulation passes the index of the
 *   access (0, 1, 2, …), the kernel its access counter. Time-based parameters (the working-set
 *   window τ, the aging period) are in these units.
 * - `write` is 1 when the access writes the page (it sets the page's dirty bit), else 0.
 * - `page` and `incoming` are opaque page ids (≥ 0; see `idmap.ts`); `incoming` is the page about
 *   to be brought in, or `NO_PAGE` when reclaim is not for a particular page. Only policies with
 *   ghosts look at them.
 * - `nextUse` is the time of the page's next access after `now`, or `NEVER` (also the value to
 *   pass when the future is unknown). Only oracles (`needsFuture`) read it: the cache simulation
 *   computes it in a first pass over the trace (`sim/cachesim.ts`, `NextUseBuilder`).
 *
 * Hot methods (`touch`, `insert`, `victim`) allocate nothing and throw only on a broken protocol
 * that `validate` would also report. State is struct-of-arrays in typed arrays indexed by slot, with
 * intrusive lists by slot number (-1 = none); there is no object per page.
 *
 * What a real kernel can run: it sees a page's accessed and dirty bits (set by the MMU, cleared by
 * the kernel), never the exact order of accesses. Policies marked `kernel` use only that — in them,
 * `touch` just sets bits. Policies marked `oracle` need every access in order (exact LRU, LFU, MRU,
 * ARC, 2Q) or the future (OPT), and run only in simulation.
 */

/** `incoming` when reclaim is not on behalf of a particular page. */
export const NO_PAGE = -1;

/** `nextUse` of a page that is never accessed again, or whose future is unknown. */
export const NEVER = Number.POSITIVE_INFINITY;

/**
 * A next-use distance stored in 16 bits that means "65535 accesses or more: the distance is kept
 * apart" (in memory, NextUses' table of far ones; on disk, a spill's far file).
 */
export const FAR = 0xffff;

/** What a policy needs from the hardware: only accessed/dirty bits (`kernel`), or more (`oracle`). */
export type PolicyKind = 'kernel' | 'oracle';

export interface ReplacementPolicy {
  /** The registry name (`lru`, `clock`, …). */
  readonly name: string;
  /** Slots 0..capacity-1. */
  readonly capacity: number;
  readonly kind: PolicyKind;
  /** True when the caller must pass real `nextUse` values (OPT and its pessimal twin). */
  readonly needsFuture: boolean;
  /** Occupied slots. */
  readonly resident: number;

  /**
   * A page was brought into free `slot` at time `now` (its first access, which counts as a
   * reference; `write` when that access writes).
   */
  insert(slot: number, page: number, now: number, write: number, nextUse: number): void;

  /** An occupied slot's page was accessed again (a hit the caller chose to make visible). */
  touch(slot: number, now: number, write: number, nextUse: number): void;

  /**
   * Chooses a page to replace and forgets it. Precondition: `resident > 0`.
   * @returns an occupied slot, now free; deterministic given the call sequence (and seed).
   */
  victim(now: number, incoming: number): number;

  /** Occupied `slot` empties for a reason other than replacement (unmap, exit). No ghost is kept. */
  remove(slot: number): void;

  /** Back to empty, as constructed (same seed). */
  reset(): void;

  /** True when `slot` is occupied. Slow path. */
  isResident(slot: number): boolean;

  /**
   * The occupied slots in the policy's display order (documented per policy; usually the order in
   * which they would be evicted if nothing changed, FIFO's oldest first). Slow path, allocates.
   */
  order(): number[];

  /** Every broken internal invariant, as text; empty when consistent. For tests and `--check`. */
  validate(): string[];
}

/** Tunables, each used by the policies that name it (defaults in each policy's file). */
export interface PolicyOptions {
  /** `random`, `ostep-rand`, `ostep-clock`: the random seed (an integer ≥ 0). */
  readonly seed?: number;
  /** `aging`: counter width in bits (1..30). */
  readonly bits?: number;
  /** `aging`: accesses per tick (the counters shift once per tick). */
  readonly period?: number;
  /** `ws`, `wsclock`: the working-set window τ, in accesses. */
  readonly tau?: number;
  /** `ostep-clock`: the saturating use counter's maximum (OSTEP's `-b`). */
  readonly clockBits?: number;
}
