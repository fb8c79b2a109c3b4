/**
 * Replays a memory-access trace pushed in chunks (a file the user dropped, streamed by the worker):
 * the format is detected from the first bytes, lackey records are split into page accesses as the
 * CLI splits them (with the trace's own page size: 4 KiB for valgrind's x86-64 addresses, whatever
 * scenario is open), each batch goes through the chosen replacement policy (`CacheSim`) and the
 * miss-ratio curves are drawn for the policies asked for: LRU and OPT exact (stack distances), the
 * others one simulation per size, as `vmscope mrc` does.
 *
 * The first pass counts the footprint, the LRU curve and, when an oracle needs it, every access's
 * next use; a second pass over the same bytes (the worker streams the file again) runs what needs
 * those: OPT, the per-size simulations, a clairvoyant policy at the chosen size.
 *
 * The same classes run in Node for the tests and the benchmark that compares them with the CLI.
 */
import { InputError } from '../../../src/base/errors.js';
import { createPolicy } from '../../../src/kernel/reclaim/registry.js';
import { CacheSim, NextUseBuilder, type NextUses } from '../../../src/sim/cachesim.js';
import {
  LruStackDistance,
  type MissRatioCurve,
  OptStackDistance,
  powerOfTwoSizes,
  SizeSweep,
} from '../../../src/sim/mrc.js';
import type { PageBatch } from '../../../src/workload/trace/batch.js';
import { createTraceDecoder } from '../../../src/workload/trace/decoder.js';
import { detectTraceFormat, FORMAT_HELP, type TraceFormat } from '../../../src/workload/trace/detect.js';
import type { TraceCurve, TraceResult } from './protocol.js';

export interface TraceOptions {
  readonly frames: number;
  readonly policy: string;
  /** Bytes per page for lackey addresses (page lists are page numbers already). */
  readonly pageSize: number;
  /**
   * Policies whose miss-ratio curve to draw (default: LRU alone); `mrc: false` draws none (the
   * benchmark's plain replay).
   */
  readonly curves?: readonly string[];
  readonly mrc?: boolean;
}

/** Bytes to look at before deciding the format. */
const HEAD_BYTES = 4096;
/** At most this many sizes per simulated curve (powers of two up to the footprint). */
const MAX_CURVE_SIZES = 24;

/** A trace's bytes in, page batches out: the format found from the first bytes, lackey split into pages. */
class PageFeed {
  readonly name: string;
  format: TraceFormat | null = null;
  private readonly pageSize: number;
  private readonly sink: (b: PageBatch) => void;
  private parser: { push(chunk: Uint8Array): void; end(): void } | null = null;
  private head: Uint8Array[] = [];
  private headBytes = 0;
  bytes = 0;

  constructor(name: string, pageSize: number, sink: (b: PageBatch) => void) {
    this.name = name;
    this.pageSize = pageSize;
    this.sink = sink;
  }

  /** @throws InputError on a malformed line. */
  push(chunk: Uint8Array): void {
    this.bytes += chunk.length;
    if (this.parser !== null) {
      this.parser.push(chunk);
      return;
    }
    this.head.push(chunk);
    this.headBytes += chunk.length;
    if (this.headBytes >= HEAD_BYTES) this.start(false);
  }

  /** @throws InputError on a malformed last line, or when nothing in it is a trace. */
  end(): void {
    if (this.parser === null) this.start(true);
    this.parser!.end();
  }

  private start(whole: boolean): void {
    const head = new Uint8Array(this.headBytes);
    let off = 0;
    for (const c of this.head) {
      head.set(c, off);
      off += c.length;
    }
    this.head = [];
    const format = detectTraceFormat(head);
    if (format === null) {
      throw new InputError(
        'trace',
        whole && this.headBytes === 0
          ? 'the trace is empty'
          : `not a trace vmscope reads: expected ${FORMAT_HELP}`,
        { file: this.name, line: 1, column: 1 },
      );
    }
    this.format = format;
    this.parser = createTraceDecoder(format, this.name, { pageSize: this.pageSize }, this.sink);
    this.parser.push(head);
  }
}

/** The curves asked for, in order, without repeats; none when `mrc` is false. */
function curvePolicies(o: TraceOptions): string[] {
  if (o.mrc === false) return [];
  return [...new Set(o.curves ?? ['lru'])];
}

function needsFuture(policy: string): boolean {
  return createPolicy(policy, 1, {}).needsFuture;
}

/**
 * The first pass. @throws InputError (at construction) for an unknown policy or a bad frame count.
 */
export class TraceReplay {
  readonly name: string;
  private readonly options: TraceOptions;
  private readonly feed: PageFeed;
  /** The chosen policy at the chosen size, when it needs no future (else it runs in pass two). */
  private readonly sim: CacheSim | null;
  private readonly lru: LruStackDistance | null;
  private readonly future: NextUseBuilder | null;
  private readonly started = performance.now();

  constructor(name: string, options: TraceOptions) {
    this.name = name;
    this.options = options;
    const policy = createPolicy(options.policy, options.frames, {}, { file: 'policy' });
    for (const p of curvePolicies(options)) createPolicy(p, 1, {}, { file: 'curves' });
    const curves = curvePolicies(options);
    this.sim = policy.needsFuture ? null : new CacheSim(policy);
    this.lru = curves.length > 0 ? new LruStackDistance() : null;
    this.future = policy.needsFuture || curves.some(needsFuture) ? new NextUseBuilder() : null;
    this.feed = new PageFeed(name, options.pageSize, (b) => {
      this.sim?.run(b.page, b.write, b.count);
      this.lru?.push(b.page, b.count);
      this.future?.push(b.page, b.count);
    });
  }

  /** Accesses replayed so far. */
  get accesses(): number {
    return this.sim?.accesses ?? this.lru?.accesses ?? this.future?.count ?? 0;
  }

  /** Feeds the next bytes of the trace. @throws InputError on a malformed line. */
  push(chunk: Uint8Array): void {
    this.feed.push(chunk);
  }

  /** True when {@link end} leaves work for a second pass over the same bytes. */
  get needsSecondPass(): boolean {
    return this.sim === null || curvePolicies(this.options).some((p) => p !== 'lru');
  }

  /**
   * Ends the first pass. @returns what it counted, and — when {@link needsSecondPass} — the pass
   * to feed the same bytes again. @throws InputError on a malformed last line.
   */
  end(): TraceResult & { readonly second: TraceSecondPass | null } {
    this.feed.end();
    const curves: TraceCurve[] = [];
    const footprint =
      this.lru?.distinctPages ?? this.future?.distinctPages ?? this.sim!.stats().distinctPages;
    const sizes = curveSizes(footprint);
    if (this.lru !== null && this.lru.accesses > 0) curves.push(curveOf(this.lru.curve(sizes)));
    const future = this.future?.finish() ?? null;
    const s = this.sim?.stats() ?? null;
    const accesses = this.accesses;
    const base: TraceResult = {
      name: this.name,
      format: this.feed.format ?? 'unknown',
      pageSize: this.feed.format === 'lackey' ? this.options.pageSize : null,
      accesses,
      distinctPages: footprint,
      frames: this.options.frames,
      policy: this.options.policy,
      hits: s?.hits ?? 0,
      faults: s?.faults ?? 0,
      evictions: s?.evictions ?? 0,
      writebacks: s?.writebacks ?? 0,
      curves,
      ms: performance.now() - this.started,
      bytes: this.feed.bytes,
    };
    const second =
      this.needsSecondPass && accesses > 0
        ? new TraceSecondPass(this.name, this.options, base, sizes, future)
        : null;
    return { ...base, second };
  }
}

/** The sizes of a curve: powers of two up to the footprint, and the footprint. */
function curveSizes(footprint: number): number[] {
  const all = powerOfTwoSizes(1, Math.max(2, footprint));
  return all.length <= MAX_CURVE_SIZES ? all : all.slice(all.length - MAX_CURVE_SIZES);
}

function curveOf(c: MissRatioCurve): TraceCurve {
  return {
    policy: c.policy,
    sizes: [...c.sizes],
    faults: [...c.faults],
    missRatio: c.faults.map((f) => (c.accesses === 0 ? 0 : f / c.accesses)),
  };
}

/** The second pass: OPT, the per-size simulations, and a clairvoyant chosen policy. */
export class TraceSecondPass {
  private readonly first: TraceResult;
  private readonly feed: PageFeed;
  private readonly sim: CacheSim | null;
  private readonly opt: OptStackDistance | null;
  private readonly sweeps: SizeSweep[];
  private readonly order: readonly string[];
  private readonly started = performance.now();

  constructor(
    name: string,
    options: TraceOptions,
    first: TraceResult,
    sizes: readonly number[],
    future: NextUses | null,
  ) {
    this.first = first;
    this.order = curvePolicies(options);
    const policy = createPolicy(options.policy, options.frames, {}, { file: 'policy' });
    this.sim = policy.needsFuture ? new CacheSim(policy) : null;
    if (this.sim !== null && future !== null) this.sim.setFuture(future);
    this.opt = this.order.includes('opt') && future !== null ? new OptStackDistance(future) : null;
    this.sweeps = this.order
      .filter((p) => p !== 'lru' && p !== 'opt')
      .map((p) => {
        const sweep = new SizeSweep(p, sizes);
        if (sweep.needsFuture && future !== null) sweep.setFuture(future);
        return sweep;
      });
    this.feed = new PageFeed(name, options.pageSize, (b) => {
      this.sim?.run(b.page, b.write, b.count);
      this.opt?.push(b.page, b.count);
      for (const s of this.sweeps) s.push(b.page, b.write, b.count);
    });
  }

  push(chunk: Uint8Array): void {
    this.feed.push(chunk);
  }

  /** @returns the first pass's result completed. */
  end(): TraceResult {
    this.feed.end();
    const sizes = this.first.curves[0]?.sizes ?? curveSizes(this.first.distinctPages);
    const made = new Map<string, TraceCurve>(this.first.curves.map((c) => [c.policy, c]));
    if (this.opt !== null) made.set('opt', curveOf(this.opt.curve(sizes)));
    for (const s of this.sweeps) made.set(s.policy, curveOf(s.curve()));
    const s = this.sim?.stats();
    return {
      ...this.first,
      ...(s ? { hits: s.hits, faults: s.faults, evictions: s.evictions, writebacks: s.writebacks } : {}),
      curves: this.order.flatMap((p) => made.get(p) ?? []),
      ms: this.first.ms + (performance.now() - this.started),
    };
  }
}
