/**
 * Miss-ratio curves: the faults of a policy for every memory size, from one trace.
 *
 * - LRU, exact, one pass ({@link LruStackDistance}). LRU is a stack algorithm (Mattson et al.,
 *   1970): an access hits with c frames iff its *stack distance* — the number of distinct pages
 *   accessed since the previous access to the same page, itself included — is at most c. One pass
 *   yields the histogram of distances, hence the faults for every c. Distances come from a Fenwick
 *   tree over access times: each page leaves a mark at the time of its latest access, and the
 *   distance of an access is 1 + the marks after its page's previous one. Times are renumbered
 *   (compacted) when they run out, so memory follows the distinct pages, not the trace length. The
 *   8 most recent pages are kept apart in a tiny move-to-front array: most accesses of real
 *   programs fall there and cost a few compares, not a tree walk.
 * - OPT, exact, one pass over the trace plus the next-use pass ({@link OptStackDistance}). MIN is a
 *   stack algorithm too, with priority "next use" (Mattson et al.): the accessed page goes on top;
 *   the page pushed down from each level keeps going down while it is used later than the page it
 *   meets, which stays. Only pages that are used later than everything above them move, so each
 *   access costs O((records + 1) · log n): a max segment tree over stack positions finds the next
 *   position whose page is used later than the one being pushed down. Ties (pages never used
 *   again) do not change any fault count.
 * - Every other policy, one simulation per size ({@link SizeSweep}): plain functions over batches,
 *   so a caller can run sizes in parallel (`mrc-worker.ts`).
 */
import { invariant } from '../base/errors.js';
import { PageIdMap } from '../kernel/reclaim/idmap.js';
import { FAR, type PolicyOptions } from '../kernel/reclaim/policy.js';
import { createPolicy } from '../kernel/reclaim/registry.js';
import { CacheSim, type NextUses } from './cachesim.js';

/** Faults for each size, with what they were measured on. */
export interface MissRatioCurve {
  readonly policy: string;
  readonly accesses: number;
  /** Faults on first accesses (every size has at least these). */
  readonly coldFaults: number;
  /** Frame counts, increasing. */
  readonly sizes: readonly number[];
  /** `faults[i]` with `sizes[i]` frames. */
  readonly faults: readonly number[];
}

/** Powers of two from `lo` to `hi` inclusive (and `hi` itself when it is not one). */
export function powerOfTwoSizes(lo: number, hi: number): number[] {
  invariant(lo >= 1 && hi >= lo, 'mrc: bad size range');
  const out: number[] = [];
  for (let s = 2 ** Math.ceil(Math.log2(lo)); s <= hi; s *= 2) out.push(s);
  if (out.length === 0 || out[out.length - 1] !== hi) out.push(hi);
  if (out[0] !== lo) out.unshift(lo);
  return out;
}

/** The largest size a curve may ask for. */
export const MAX_CURVE_SIZE = 2 ** 26;

/** The default sizes of a curve: powers of two from 1 below the footprint, and the footprint itself. */
export function footprintSizes(footprint: number): number[] {
  return powerOfTwoSizes(1, Math.max(1, Math.min(footprint, MAX_CURVE_SIZE)));
}

/** Shared by both stack-distance passes: the histogram and the curve read from it. */
abstract class StackHistogram {
  accesses = 0;
  coldFaults = 0;
  /** `hist[d]`: accesses at stack distance d (1-based; index 0 unused). */
  protected hist = new Float64Array(64);
  protected abstract readonly policyName: string;

  /** Accesses at each stack distance, index d (a copy; index 0 is 0). */
  histogram(): Float64Array {
    return this.hist.slice();
  }

  /** Faults with `frames` frames. */
  faultsAt(frames: number): number {
    let faults = this.coldFaults;
    for (let d = frames + 1; d < this.hist.length; d++) faults += this.hist[d]!;
    return faults;
  }

  /** The curve at `sizes` (increasing). One pass over the histogram. */
  curve(sizes: readonly number[]): MissRatioCurve {
    const hist = this.hist;
    // faults(c) = cold + Σ_{d > c} hist[d], walked from the largest size down.
    const faults = new Array<number>(sizes.length);
    let d = hist.length - 1;
    let tail = 0;
    for (let i = sizes.length - 1; i >= 0; i--) {
      const c = sizes[i]!;
      invariant(i === sizes.length - 1 || c < sizes[i + 1]!, 'mrc: sizes must increase');
      while (d > c) tail += hist[d--]!;
      faults[i] = this.coldFaults + tail;
    }
    return {
      policy: this.policyName,
      accesses: this.accesses,
      coldFaults: this.coldFaults,
      sizes: [...sizes],
      faults,
    };
  }

  protected count(distance: number): void {
    if (distance >= this.hist.length) {
      let size = this.hist.length;
      while (size <= distance) size *= 2;
      const bigger = new Float64Array(size);
      bigger.set(this.hist);
      this.hist = bigger;
    }
    this.hist[distance]!++;
  }
}

/** How many of the most recent pages LRU keeps out of the Fenwick tree. */
const TOP = 8;
const UNSEEN = -1;
const IN_TOP = -2;

/**
 * Exact LRU stack distances in one pass. Memory: O(distinct pages). Time: a few compares for an
 * access among the 8 most recent pages, else O(log distinct pages).
 */
export class LruStackDistance extends StackHistogram {
  protected readonly policyName = 'lru';
  private readonly ids = new PageIdMap(1024);
  /** Dense id → its mark's time in the tree, or UNSEEN / IN_TOP. */
  private time = new Int32Array(1024).fill(UNSEEN);
  /** The most recent pages, most recent first: dense ids, and page ids. */
  private readonly top = new Int32Array(TOP);
  private readonly topPage = new Float64Array(TOP).fill(-1);
  private topLength = 0;
  // The Fenwick tree over times 0..span-1 (1-based inside), and who owns each time.
  private span = 1024;
  private tree = new Int32Array(1024 + 1);
  private owner = new Int32Array(1024);
  private clock = 0;
  private marks = 0;

  /** Distinct pages seen. */
  get distinctPages(): number {
    return this.ids.size;
  }

  push(pages: Float64Array, count: number): void {
    const top = this.top;
    const topPage = this.topPage;
    // Distances up to TOP always fit (the histogram starts larger); deeper ones may grow it.
    let hist = this.hist;
    let topLength = this.topLength;
    for (let i = 0; i < count; i++) {
      const page = pages[i]!;
      // Among the most recent pages (by id: no hashing): its distance is its place.
      let j = 0;
      while (j < topLength && topPage[j] !== page) j++;
      if (j < topLength) {
        hist[j + 1]!++;
        if (j > 0) {
          const x = top[j]!;
          for (; j > 0; j--) {
            top[j] = top[j - 1]!;
            topPage[j] = topPage[j - 1]!;
          }
          top[0] = x;
          topPage[0] = page;
        }
        continue;
      }
      const fresh = this.ids.size;
      let x = this.ids.getOrAdd(page, fresh);
      if (x < 0) {
        x = fresh;
        if (x >= this.time.length) this.growIds();
        this.coldFaults++;
      } else {
        const t = this.time[x]!;
        this.count(topLength + this.marks - this.prefix(t) + 1);
        hist = this.hist;
        this.add(t, -1);
        this.marks--;
      }
      this.time[x] = IN_TOP;
      const full = topLength === TOP;
      const y = top[TOP - 1]!;
      if (!full) topLength++;
      for (let k = topLength - 1; k > 0; k--) {
        top[k] = top[k - 1]!;
        topPage[k] = topPage[k - 1]!;
      }
      top[0] = x;
      topPage[0] = page;
      if (full) this.mark(y);
    }
    this.topLength = topLength;
    this.accesses += count;
  }

  /** Gives `y`, just pushed out of the top, the newest time in the tree. */
  private mark(y: number): void {
    if (this.clock === this.span) this.compact();
    const t = this.clock++;
    this.owner[t] = y;
    this.time[y] = t;
    this.add(t, 1);
    this.marks++;
  }

  /** Marks at times 0..t. */
  private prefix(t: number): number {
    const tree = this.tree;
    let sum = 0;
    for (let i = t + 1; i > 0; i -= i & -i) sum += tree[i]!;
    return sum;
  }

  private add(t: number, delta: number): void {
    const tree = this.tree;
    const n = this.span;
    for (let i = t + 1; i <= n; i += i & -i) tree[i]! += delta;
  }

  /**
   * Renumbers the live marks 0..marks-1 in time order, in place (k never passes t), and doubling
   * the span when half full. A trace of few pages compacts every span's worth of misses below the
   * top: new arrays each time were garbage that V8 let pile up off its heap.
   */
  private compact(): void {
    const oldSpan = this.span;
    if (this.marks * 2 > oldSpan) {
      this.span = oldSpan * 2;
      const owner = new Int32Array(this.span);
      owner.set(this.owner);
      this.owner = owner;
      this.tree = new Int32Array(this.span + 1);
    }
    const owner = this.owner;
    const time = this.time;
    let k = 0;
    for (let t = 0; t < oldSpan; t++) {
      const y = owner[t]!;
      if (time[y] === t) {
        owner[k] = y;
        time[y] = k;
        k++;
      }
    }
    invariant(k === this.marks, 'mrc: marks lost in compaction');
    // A tree of k ones at times 0..k-1: node i covers (i - lowbit(i), i].
    const tree = this.tree;
    for (let i = 1; i <= this.span; i++) {
      const lo = i - (i & -i);
      tree[i] = Math.max(0, Math.min(i, k) - lo);
    }
    this.clock = k;
  }

  private growIds(): void {
    const bigger = new Int32Array(this.time.length * 2).fill(UNSEEN);
    bigger.set(this.time);
    this.time = bigger;
  }
}

/**
 * Exact OPT (Belady's MIN) stack distances in one pass, given the next use of every access: with
 * each batch (`push`'s `next`), or for the whole stream from `NextUseBuilder`. Memory: O(distinct
 * pages) besides a whole-stream future.
 */
export class OptStackDistance extends StackHistogram {
  protected readonly policyName = 'opt';
  private readonly future: NextUses | null;
  private readonly ids = new PageIdMap(1024);
  /** Dense id → stack position + 1 (0: not on the stack yet). */
  private pos = new Int32Array(1024);
  /** Stack position → dense id. */
  private at = new Int32Array(1024);
  private depth = 0;
  /** Max segment tree over positions: leaves at [leaves, 2·leaves), keys = next-use times. */
  private leaves = 1024;
  private seg = new Float64Array(2 * 1024).fill(Number.NEGATIVE_INFINITY);

  constructor(future: NextUses | null = null) {
    super();
    this.future = future;
  }

  /** `next[i]`: the time of the page's next access (`NEVER` when none); from the future when absent. */
  push(pages: Float64Array, count: number, next: Float64Array | null = null): void {
    const future = this.future;
    invariant(
      next !== null || (future !== null && future.length >= this.accesses + count),
      'mrc: OPT needs the next use of every access',
    );
    const ids = this.ids;
    let now = this.accesses;
    for (let i = 0; i < count; i++, now++) {
      const fresh = ids.size;
      let x = ids.getOrAdd(pages[i]!, fresh);
      if (x < 0) {
        x = fresh;
        if (x >= this.pos.length) this.growIds();
      }
      let key: number;
      if (next !== null) key = next[i]!;
      else {
        const d = future!.distance[now]!;
        key = d === 0 ? Number.POSITIVE_INFINITY : d !== FAR ? now + d : future!.at(now);
      }
      let target: number;
      if (this.pos[x] === 0) {
        this.coldFaults++;
        target = this.depth;
        if (target >= this.leaves) this.growTree();
        this.depth++;
      } else {
        target = this.pos[x]! - 1;
        this.count(target + 1);
      }
      if (target > 0) {
        // Push the old top down: at each page used later than the carried one, they swap.
        let carry = this.at[0]!;
        let carryKey = this.seg[this.leaves]!;
        let from = 1;
        while (from < target) {
          const r = this.firstAbove(from, carryKey);
          if (r < 0 || r >= target) break;
          const next = this.at[r]!;
          const nextKey = this.seg[this.leaves + r]!;
          this.place(r, carry, carryKey);
          carry = next;
          carryKey = nextKey;
          from = r + 1;
        }
        this.place(target, carry, carryKey);
      }
      this.place(0, x, key);
    }
    this.accesses = now;
  }

  /** Puts page `id` with next use `key` at stack position `p`. */
  private place(p: number, id: number, key: number): void {
    this.at[p] = id;
    this.pos[id] = p + 1;
    const seg = this.seg;
    let node = this.leaves + p;
    seg[node] = key;
    node >>= 1;
    while (node >= 1) {
      const l = seg[2 * node]!;
      const r = seg[2 * node + 1]!;
      const m = Math.max(l, r);
      if (seg[node] === m) break;
      seg[node] = m;
      node >>= 1;
    }
  }

  /** The first position ≥ `lo` whose key exceeds `v`, or -1. */
  private firstAbove(lo: number, v: number): number {
    const seg = this.seg;
    let node = this.leaves + lo;
    if (seg[node]! > v) return lo;
    for (;;) {
      while (node & 1) node >>= 1;
      if (node === 0) return -1;
      node++;
      if (seg[node]! > v) break;
    }
    while (node < this.leaves) {
      node <<= 1;
      if (!(seg[node]! > v)) node++;
    }
    return node - this.leaves;
  }

  private growTree(): void {
    const old = this.seg;
    const oldLeaves = this.leaves;
    this.leaves *= 2;
    this.seg = new Float64Array(2 * this.leaves).fill(Number.NEGATIVE_INFINITY);
    this.seg.set(old.subarray(oldLeaves, 2 * oldLeaves), this.leaves);
    for (let node = this.leaves - 1; node >= 1; node--) {
      const l = this.seg[2 * node]!;
      const r = this.seg[2 * node + 1]!;
      this.seg[node] = Math.max(l, r);
    }
    const at = new Int32Array(this.leaves);
    at.set(this.at);
    this.at = at;
  }

  private growIds(): void {
    const bigger = new Int32Array(this.pos.length * 2);
    bigger.set(this.pos);
    this.pos = bigger;
  }
}

/**
 * One cache simulation per size, fed the same batches: the curve of any policy. Runs sizes in
 * lockstep in this thread; split `sizes` among workers for parallelism (`mrc-worker.ts`).
 */
export class SizeSweep {
  readonly policy: string;
  readonly sims: readonly CacheSim[];

  /** @throws InputError for an unknown policy, a bad size or option. */
  constructor(policy: string, sizes: readonly number[], options: PolicyOptions = {}) {
    this.policy = policy;
    // Only the first simulation counts cold faults: they are the same at every size.
    this.sims = sizes.map(
      (frames, i) => new CacheSim(createPolicy(policy, frames, options), { trackCold: i === 0 }),
    );
  }

  get needsFuture(): boolean {
    return this.sims.some((s) => s.policy.needsFuture);
  }

  /** Next uses of the whole stream, for OPT (from `NextUseBuilder`). */
  setFuture(nextUse: NextUses): void {
    for (const sim of this.sims) sim.setFuture(nextUse);
  }

  /** `next`: each access's next use, for policies that need the future (or set it with setFuture). */
  push(
    pages: Float64Array,
    writes: Uint8Array | null,
    count: number,
    next: Float64Array | null = null,
  ): void {
    for (const sim of this.sims) sim.run(pages, writes, count, next);
  }

  curve(): MissRatioCurve {
    const first = this.sims[0];
    return {
      policy: first ? first.policy.name : this.policy,
      accesses: first ? first.accesses : 0,
      coldFaults: first ? first.coldFaults : 0,
      sizes: this.sims.map((s) => s.frames),
      faults: this.sims.map((s) => s.faults),
    };
  }
}
