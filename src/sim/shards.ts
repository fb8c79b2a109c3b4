/**
 * Sampled miss-ratio curves for traces too long (or too wide) for the exact ones.
 *
 * - **SHARDS** (Waldspurger, Park, Garthwaite, Ahmad, "Efficient MRC Construction with SHARDS",
 *   FAST'15) for LRU. Spatial sampling: a page is in the sample iff `hash(page) < T`, so the sample
 *   keeps *every* access of a fixed set of pages, a fraction R = T / 2^32 of them. LRU stack
 *   distances among sampled pages, divided by R, estimate the distances in the whole trace.
 *   - fixed rate (`{ rate }`): T is fixed.
 *   - fixed size (`{ pages: smax }`, SHARDS_max): at most smax pages are tracked; when one more
 *     arrives, T drops to the largest hash in the set and the pages at or above it leave the sample
 *     (and the stack). R starts at 1, so a trace whose footprint fits is exact.
 *   Each sampled access counts with weight 1/R, R the rate when it was sampled (a Horvitz–Thompson
 *   estimate of the count it stands for), and the curve is normalised by the true number of
 *   accesses N. With a fixed rate this is the paper's SHARDS_adj: the difference between the
 *   expected (N·R) and actual number of samples goes to the smallest distance.
 * - **MINISIM** (Waldspurger, Saemundsson, Ahmad, Park, "Cache Modeling and Optimization using
 *   Miniature Simulations", USENIX ATC'17) for every other policy: the sampled stream (at the final
 *   rate R: a page under the final threshold was under every threshold, so all its accesses were
 *   kept) replayed on a cache of round(C·R) frames estimates the miss ratio of size C. OPT, a stack
 *   algorithm, gets its stack distances on the sampled stream, scaled as LRU's.
 *
 * Sizes under about 1/R frames cannot be told apart: a sampled distance of 1 stands for 1/R pages
 * (and a miniature cache has at least one frame). Curves say so through their `sample` field.
 */
import { InputError, invariant } from '../base/errors.js';
import { PageIdMap } from '../kernel/reclaim/idmap.js';
import type { PolicyOptions } from '../kernel/reclaim/policy.js';
import { createPolicy } from '../kernel/reclaim/registry.js';
import { CacheSim, NextUseBuilder } from './cachesim.js';
import type { MissRatioCurve } from './mrc.js';
import { OptStackDistance } from './mrc.js';

/** How to sample: a fixed rate in (0, 1], or at most `pages` distinct pages. */
export type SampleSpec = { readonly rate: number } | { readonly pages: number };

/** What a sampled curve was estimated from. */
export interface SampleInfo {
  /** 'shards' (LRU), 'minisim' (other policies). */
  readonly method: 'shards' | 'minisim';
  /** 'rate' or 'size' (`--sample` or `--sample-size`). */
  readonly mode: 'rate' | 'size';
  /** The final sampling rate. */
  readonly rate: number;
  /** Accesses sampled (SHARDS: each at the rate of its time; MINISIM: at the final rate) and pages in the final sample. */
  readonly sampledAccesses: number;
  readonly sampledPages: number;
}

/** A curve estimated from a sample: faults are estimates (rounded), the sample says from what. */
export interface SampledCurve extends MissRatioCurve {
  readonly sample: SampleInfo;
}

const HASH_SPACE = 2 ** 32;

/**
 * A uniform 32-bit hash of a page id (a non-negative safe integer): MurmurHash3's finaliser over
 * both halves. Unlike the tables' Fibonacci hash its low bits are as good as its high ones, which
 * a threshold test needs.
 */
export function sampleHash(page: number): number {
  const lo = page >>> 0;
  const hi = (page - lo) * 2.3283064365386963e-10;
  let h = lo ^ Math.imul(hi ^ 0x9e3779b9, 0x85ebca6b);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** @throws InputError naming `flag` unless `spec` is a rate in (0, 1] or a size of at least 1. */
export function checkSampleSpec(spec: SampleSpec, flag: string): void {
  if ('rate' in spec) {
    if (!(spec.rate > 0 && spec.rate <= 1))
      throw new InputError('flag', `expected a sampling rate in (0, 1], got ${spec.rate}`, { file: flag });
  } else if (!(Number.isInteger(spec.pages) && spec.pages >= 1))
    throw new InputError('flag', `expected a sample size of at least 1 page, got ${spec.pages}`, {
      file: flag,
    });
}

/**
 * LRU stack distances over a set of pages that can lose members (the fixed-size sample): a Fenwick
 * tree over access times with one mark per page at its latest access. Times are renumbered when
 * they run out, so memory follows the pages tracked.
 */
class RemovableStack {
  /** Page → the time of its mark (a JS Map of doubles is slow under deletes: hundreds of times). */
  private readonly time = new PageIdMap(1024);
  private span = 1024;
  private tree = new Int32Array(1024 + 1);
  private owner = new Float64Array(1024);
  private clock = 0;

  get size(): number {
    return this.time.size;
  }

  /** Records an access to `page`. @returns its stack distance (1 = the most recent page), 0 if new. */
  access(page: number): number {
    const t = this.time.get(page);
    let distance = 0;
    if (t >= 0) {
      // Its own mark is among the `size` marks, at or before t: it counts itself.
      distance = this.time.size - this.prefix(t) + 1;
      this.add(t, -1);
      this.time.delete(page);
    }
    if (this.clock === this.span) this.compact();
    const now = this.clock++;
    this.owner[now] = page;
    this.time.set(page, now);
    this.add(now, 1);
    return distance;
  }

  remove(page: number): void {
    const t = this.time.delete(page);
    invariant(t >= 0, 'shards: removing a page not in the sample');
    this.add(t, -1);
  }

  /** Marks at times 0..t. */
  private prefix(t: number): number {
    let sum = 0;
    for (let i = t + 1; i > 0; i -= i & -i) sum += this.tree[i]!;
    return sum;
  }

  private add(t: number, delta: number): void {
    for (let i = t + 1; i <= this.span; i += i & -i) this.tree[i]! += delta;
  }

  /** Renumbers the live marks 0..k-1 in time order (doubling the span when half full with one more). */
  private compact(): void {
    if ((this.time.size + 1) * 2 > this.span) this.span *= 2;
    const owner = new Float64Array(this.span);
    let k = 0;
    for (let t = 0; t < this.clock; t++) {
      const page = this.owner[t]!;
      if (this.time.get(page) === t) {
        owner[k] = page;
        this.time.set(page, k);
        k++;
      }
    }
    this.owner = owner;
    const tree = new Int32Array(this.span + 1);
    for (let i = 1; i <= this.span; i++) tree[i] = Math.max(0, Math.min(i, k) - (i - (i & -i)));
    this.tree = tree;
    this.clock = k;
  }
}

/** A max-heap of (hash, page): the sampled page with the largest hash leaves first. */
class HashHeap {
  private hash = new Float64Array(256);
  private page = new Float64Array(256);
  size = 0;

  topHash(): number {
    return this.hash[0]!;
  }

  push(h: number, page: number): void {
    if (this.size === this.hash.length) {
      const hash = new Float64Array(this.size * 2);
      hash.set(this.hash);
      this.hash = hash;
      const pages = new Float64Array(this.size * 2);
      pages.set(this.page);
      this.page = pages;
    }
    let i = this.size++;
    while (i > 0) {
      const up = (i - 1) >> 1;
      if (this.hash[up]! >= h) break;
      this.hash[i] = this.hash[up]!;
      this.page[i] = this.page[up]!;
      i = up;
    }
    this.hash[i] = h;
    this.page[i] = page;
  }

  /** Removes the top. @returns its page. */
  pop(): number {
    const top = this.page[0]!;
    const n = --this.size;
    const h = this.hash[n]!;
    const p = this.page[n]!;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && this.hash[c + 1]! > this.hash[c]!) c++;
      if (this.hash[c]! <= h) break;
      this.hash[i] = this.hash[c]!;
      this.page[i] = this.page[c]!;
      i = c;
    }
    this.hash[i] = h;
    this.page[i] = p;
    return top;
  }
}

/** Histogram buckets kept before adjacent ones are merged (the width doubles). */
const MAX_BUCKETS = 1 << 20;

/**
 * The sampling pass: SHARDS for LRU on the fly, and (with `keepTrace`) the sampled stream for the
 * miniature simulations of other policies. Feed it every access (`push`), then read the curves.
 */
export class ShardsSampler {
  readonly mode: 'rate' | 'size';
  /** Pages with `sampleHash(page) < threshold` are sampled. */
  threshold: number;
  /** Every access seen, sampled or not. */
  accesses = 0;
  private readonly maxPages: number;
  private readonly stack = new RemovableStack();
  private readonly heap: HashHeap | null;
  private readonly keepTrace: boolean;
  // The weighted histogram of scaled distances: bucket b holds distances in (b·width, (b+1)·width].
  private hist = new Float64Array(1024);
  private width = 1;
  private coldWeight = 0;
  /** Accesses sampled, each at the rate of its time. */
  private sampled = 0;
  // The sampled stream (pages, writes, hashes) while sampling, filtered to the final threshold.
  private tracePages = new Float64Array(1024);
  private traceWrites = new Uint8Array(1024);
  private traceHashes = new Float64Array(1024);
  private traceLength = 0;
  private traceFilteredAt = 0;

  constructor(spec: SampleSpec, options: { keepTrace?: boolean } = {}) {
    checkSampleSpec(spec, 'rate' in spec ? '--sample' : '--sample-size');
    this.keepTrace = options.keepTrace ?? false;
    if ('rate' in spec) {
      this.mode = 'rate';
      this.threshold = Math.round(spec.rate * HASH_SPACE);
      this.maxPages = Number.POSITIVE_INFINITY;
      this.heap = null;
    } else {
      this.mode = 'size';
      this.threshold = HASH_SPACE;
      this.maxPages = spec.pages;
      this.heap = new HashHeap();
    }
  }

  /** The current sampling rate. */
  get rate(): number {
    return this.threshold / HASH_SPACE;
  }

  /** Distinct pages in the sample now. */
  get sampledPages(): number {
    return this.stack.size;
  }

  /** The footprint estimated from the sample: distinct sampled pages / R. */
  get estimatedFootprint(): number {
    return this.rate === 0 ? 0 : Math.round(this.stack.size / this.rate);
  }

  push(pages: Float64Array, writes: Uint8Array | null, count: number): void {
    this.accesses += count;
    for (let i = 0; i < count; i++) {
      const page = pages[i]!;
      const h = sampleHash(page);
      if (h < this.threshold) this.sampleOne(page, writes === null ? 0 : writes[i]!, h);
    }
  }

  private sampleOne(page: number, write: number, h: number): void {
    const weight = HASH_SPACE / this.threshold;
    this.sampled++;
    const d = this.stack.access(page);
    if (d === 0) {
      this.coldWeight += weight;
      if (this.heap !== null) {
        this.heap.push(h, page);
        if (this.heap.size > this.maxPages) this.lowerThreshold();
      }
    } else this.count(Math.max(1, Math.round(d * weight)), weight);
    if (this.keepTrace && h < this.threshold) this.record(page, write, h);
  }

  /** SHARDS_max: the threshold drops to the largest hash sampled; its pages leave. */
  private lowerThreshold(): void {
    const heap = this.heap!;
    const t = heap.topHash();
    while (heap.size > 0 && heap.topHash() >= t) this.stack.remove(heap.pop());
    this.threshold = t;
  }

  private count(distance: number, weight: number): void {
    let b = Math.ceil(distance / this.width) - 1;
    while (b >= MAX_BUCKETS) {
      this.mergeBuckets();
      b = Math.ceil(distance / this.width) - 1;
    }
    if (b >= this.hist.length) {
      let size = this.hist.length;
      while (size <= b) size *= 2;
      const bigger = new Float64Array(Math.min(size, MAX_BUCKETS));
      bigger.set(this.hist);
      this.hist = bigger;
    }
    this.hist[b]! += weight;
  }

  /** Doubles the bucket width: bucket b of the new histogram is buckets 2b and 2b+1 of the old. */
  private mergeBuckets(): void {
    const merged = new Float64Array(this.hist.length);
    for (let b = 0; b < this.hist.length; b++) merged[b >> 1]! += this.hist[b]!;
    this.hist = merged;
    this.width *= 2;
  }

  private record(page: number, write: number, h: number): void {
    if (this.traceLength === this.tracePages.length) {
      // Drop accesses to pages that have left the sample before growing (fixed size only).
      if (this.mode === 'size' && this.traceLength > 2 * this.traceFilteredAt) this.filterTrace();
      if (this.traceLength === this.tracePages.length) this.growTrace();
    }
    this.tracePages[this.traceLength] = page;
    this.traceWrites[this.traceLength] = write;
    this.traceHashes[this.traceLength] = h;
    this.traceLength++;
  }

  private filterTrace(): void {
    let k = 0;
    for (let i = 0; i < this.traceLength; i++) {
      if (this.traceHashes[i]! < this.threshold) {
        this.tracePages[k] = this.tracePages[i]!;
        this.traceWrites[k] = this.traceWrites[i]!;
        this.traceHashes[k] = this.traceHashes[i]!;
        k++;
      }
    }
    this.traceLength = k;
    this.traceFilteredAt = k;
  }

  private growTrace(): void {
    const n = this.tracePages.length * 2;
    const pages = new Float64Array(n);
    pages.set(this.tracePages);
    this.tracePages = pages;
    const writes = new Uint8Array(n);
    writes.set(this.traceWrites);
    this.traceWrites = writes;
    const hashes = new Float64Array(n);
    hashes.set(this.traceHashes);
    this.traceHashes = hashes;
  }

  /** The sampled stream at the final rate (needs `keepTrace`). */
  sampledTrace(): { readonly pages: Float64Array; readonly writes: Uint8Array; readonly count: number } {
    invariant(this.keepTrace, 'shards: the sampled trace was not kept');
    this.filterTrace();
    return {
      pages: this.tracePages.subarray(0, this.traceLength),
      writes: this.traceWrites.subarray(0, this.traceLength),
      count: this.traceLength,
    };
  }

  private info(method: SampleInfo['method'], sampledAccesses: number): SampleInfo {
    return { method, mode: this.mode, rate: this.rate, sampledAccesses, sampledPages: this.stack.size };
  }

  /** SHARDS's LRU curve at `sizes` (increasing): faults estimated as N × the sampled miss ratio. */
  lruCurve(sizes: readonly number[]): SampledCurve {
    const faults = new Array<number>(sizes.length);
    // faults(c) = cold + Σ weights of distances > c; a bucket straddling c counts in proportion.
    let b = this.hist.length - 1;
    let tail = 0;
    for (let i = sizes.length - 1; i >= 0; i--) {
      const c = sizes[i]!;
      invariant(i === sizes.length - 1 || c < sizes[i + 1]!, 'shards: sizes must increase');
      while (b >= 0 && b * this.width >= c) tail += this.hist[b--]!;
      // Bucket b covers (b·width, (b+1)·width] and holds c: the part above c.
      const part = b >= 0 ? (this.hist[b]! * ((b + 1) * this.width - c)) / this.width : 0;
      faults[i] = this.estimate(this.coldWeight + tail + Math.max(0, part));
    }
    return {
      policy: 'lru',
      accesses: this.accesses,
      coldFaults: this.estimate(this.coldWeight),
      sizes: [...sizes],
      faults,
      sample: this.info('shards', this.sampled),
    };
  }

  /** A weighted count of faults as a fault count: rounded, at most every access. */
  private estimate(weight: number): number {
    return Math.min(this.accesses, Math.round(weight));
  }

  /**
   * MINISIM: `policy`'s curve at `sizes` from miniature simulations of the sampled stream (OPT: its
   * stack distances, scaled). Needs `keepTrace`. @throws InputError for an unknown policy.
   */
  miniCurve(policy: string, sizes: readonly number[], options: PolicyOptions = {}): SampledCurve {
    const trace = this.sampledTrace();
    const rate = this.rate;
    const scale = (sampledFaults: number): number => this.estimate(sampledFaults / rate);
    if (policy === 'opt') return this.optCurve(trace, sizes);
    let coldFaults = 0;
    const faults = sizes.map((c, i) => {
      const frames = Math.max(1, Math.round(c * rate));
      const sim = new CacheSim(createPolicy(policy, frames, options), { trackCold: i === 0 });
      sim.run(trace.pages, trace.writes, trace.count);
      if (i === 0) coldFaults = sim.coldFaults;
      return scale(sim.faults);
    });
    return {
      policy,
      accesses: this.accesses,
      coldFaults: scale(coldFaults),
      sizes: [...sizes],
      faults,
      sample: this.info('minisim', trace.count),
    };
  }

  private optCurve(
    trace: { readonly pages: Float64Array; readonly count: number },
    sizes: readonly number[],
  ): SampledCurve {
    const rate = this.rate;
    const future = new NextUseBuilder(Math.max(16, trace.count));
    future.push(trace.pages, trace.count);
    const opt = new OptStackDistance(future.finish());
    opt.push(trace.pages, trace.count);
    const hist = opt.histogram();
    // A sampled distance d stands for d / R pages: it hits with c frames when round(d / R) <= c.
    const faults = sizes.map((c) => {
      let f = opt.coldFaults;
      for (let d = 1; d < hist.length; d++) if (Math.max(1, Math.round(d / rate)) > c) f += hist[d]!;
      return this.estimate(f / rate);
    });
    return {
      policy: 'opt',
      accesses: this.accesses,
      coldFaults: this.estimate(opt.coldFaults / rate),
      sizes: [...sizes],
      faults,
      sample: this.info('minisim', trace.count),
    };
  }
}
