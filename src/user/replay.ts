/**
 * Replays an allocation trace through an allocator and measures what the heap did.
 *
 * A trace is a sequence of operations on block ids (`a id size`, `f id`, `r id size` in the CMU
 * malloc-lab format, plus calloc and the aligned calls from shim logs). The replayer keeps the pointer
 * each id got, the live payload, and these measures:
 *
 *  - utilization = peak live payload / peak heap extent, where the heap extent at a moment is the
 *    distance from the heap start to the end of the highest live block in the brk heap, plus the
 *    bytes of mmapped chunks. It is in (0, 1]. The top pad (untouched space above the highest block,
 *    which costs no frame) is left out; `brkUtilization` divides by the break instead.
 *  - internal fragmentation at the end: 1 - live payload / bytes of the chunks holding it;
 *    external fragmentation at the end: 1 - largest free block / free bytes (the top excluded).
 *  - brk/mmap/munmap calls, operations per second (time in the allocator's calls only), and a time
 *    series of extent vs live bytes.
 *  - in kernel mode, the process's VmRSS and VmData at the peak and at the end, and its accesses.
 *  - when the trace carries the addresses glibc returned (shim logs), how many this allocator
 *    returned at the same offset from its heap start.
 *
 * The replay stops at the first operation after which the program is dead (a misuse detected, a
 * fault) or, with `check`, after which the heap walk found a problem. An allocation that returns
 * NULL is counted (the first one named) and the replay goes on, as a program checking for NULL would.
 *
 * A freed id keeps its last pointer: a trace that frees a block twice (which the parsers let through
 * only when asked to) hands the allocator that stale pointer, and the allocator dies as glibc does.
 */

import { KernelMemory } from './kernel-memory.js';
import type { Allocator } from './malloc/api.js';
import { alignedAlloc, posixMemalign, pvalloc, valloc } from './malloc/api.js';
import { HeapStop } from './stop.js';

export const OP_MALLOC = 0;
export const OP_FREE = 1;
export const OP_REALLOC = 2;
export const OP_CALLOC = 3;
export const OP_MEMALIGN = 4;
export const OP_POSIX_MEMALIGN = 5;
export const OP_ALIGNED_ALLOC = 6;
export const OP_VALLOC = 7;
export const OP_PVALLOC = 8;
export type OpKind = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8;

/** Receives a trace one operation at a time (what a streaming parser feeds). */
export interface OpSink {
  /**
   * @param size bytes (calloc: nmemb * size); @param align the alignment of the aligned calls;
   * @param expect the address glibc returned (0 when unknown); @param line the trace line (0: unknown).
   */
  op(kind: OpKind, id: number, size: number, align: number, expect: number, line?: number): void;
}

/** A whole trace held in columns (for replaying one trace through many allocators). */
export class OpColumns implements OpSink {
  count = 0;
  kind: Uint8Array = new Uint8Array(1024);
  id: Int32Array = new Int32Array(1024);
  size: Float64Array = new Float64Array(1024);
  align: Float64Array = new Float64Array(1024);
  expect: Float64Array = new Float64Array(1024);
  line: Int32Array = new Int32Array(1024);
  hasExpect = false;

  op(kind: OpKind, id: number, size: number, align: number, expect: number, line = 0): void {
    if (this.count === this.kind.length) this.grow();
    const i = this.count++;
    this.kind[i] = kind;
    this.id[i] = id;
    this.size[i] = size;
    this.align[i] = align;
    this.expect[i] = expect;
    this.line[i] = line;
    if (expect !== 0) this.hasExpect = true;
  }

  private grow(): void {
    const n = this.kind.length * 2;
    const k = new Uint8Array(n);
    k.set(this.kind);
    this.kind = k;
    const id = new Int32Array(n);
    id.set(this.id);
    this.id = id;
    const line = new Int32Array(n);
    line.set(this.line);
    this.line = line;
    for (const f of ['size', 'align', 'expect'] as const) {
      const a = new Float64Array(n);
      a.set(this[f]);
      this[f] = a;
    }
  }

  /** Feeds every operation to `sink`; stops early when `stop()` says so. */
  replayInto(sink: OpSink, stop: () => boolean = () => false): void {
    for (let i = 0; i < this.count && !stop(); i++)
      sink.op(
        this.kind[i] as OpKind,
        this.id[i]!,
        this.size[i]!,
        this.align[i]!,
        this.expect[i]!,
        this.line[i]!,
      );
  }
}

export interface SeriesPoint {
  /** Operations done. */
  readonly op: number;
  readonly liveBytes: number;
  readonly extentBytes: number;
  /** brk - heap start. */
  readonly heapBytes: number;
  readonly mmapBytes: number;
}

export interface VmSample {
  /** Bytes; null in direct mode (no frames). */
  readonly VmRSS: number | null;
  readonly VmData: number;
}

export interface GlibcComparison {
  /** Allocations with a glibc address to compare. */
  readonly compared: number;
  /** Returned at the same offset from the heap start as glibc's (or, for mmapped chunks, mmapped too). */
  readonly matched: number;
  readonly firstMismatch: { readonly op: number; readonly ours: number; readonly glibc: number } | null;
}

export interface ReplayResult {
  readonly allocator: string;
  readonly trace: string;
  readonly mode: 'direct' | 'kernel';
  /** Operations replayed. */
  readonly ops: number;
  readonly opsPerSecond: number;
  readonly peakLiveBytes: number;
  readonly peakExtentBytes: number;
  readonly utilization: number;
  /** Peak of (brk - heap start + mmapped bytes). */
  readonly peakHeapBytes: number;
  readonly brkUtilization: number;
  readonly internalFragmentation: number;
  readonly externalFragmentation: number;
  readonly largestFreeBytes: number;
  readonly brkCalls: number;
  readonly mmapCalls: number;
  readonly munmapCalls: number;
  readonly endLiveBlocks: number;
  readonly endLiveBytes: number;
  readonly vmPeak: VmSample;
  readonly vmEnd: VmSample;
  /** Loads and stores the allocator made through the MMU (kernel mode), else null. */
  readonly accesses: { readonly reads: number; readonly writes: number } | null;
  readonly series: readonly SeriesPoint[];
  /** The program's death: after which operation (and trace line, 0 when unknown), and why. */
  readonly died: {
    readonly op: number;
    readonly line: number;
    readonly signal: number;
    readonly reason: string;
  } | null;
  /**
   * Allocations that returned NULL (the program got memory in the trace, the allocator had none
   * here): how many, and the first — its operation, trace line and size. Later operations on its
   * id act on NULL, as the program's would.
   */
  readonly failedAllocations: {
    readonly count: number;
    readonly first: { readonly op: number; readonly line: number; readonly size: number };
  } | null;
  readonly checkFailure: { readonly op: number; readonly problems: readonly string[] } | null;
  readonly glibc: GlibcComparison | null;
}

export interface ReplayOptions {
  /** Walk the heap after every operation (true) or every N operations. */
  readonly check?: boolean | number;
  /** Write one byte per page of each new block, as a program filling its memory would (default: kernel mode). */
  readonly touch?: boolean;
  /** Points kept in the time series (default 600). */
  readonly seriesPoints?: number;
}

/** A max-heap of block ends with lazy deletion: an entry counts while its id still ends there. */
class EndHeap {
  private ends = new Float64Array(1024);
  private ids = new Int32Array(1024);
  private n = 0;

  push(end: number, id: number): void {
    if (this.n === this.ends.length) {
      const e = new Float64Array(this.n * 2);
      e.set(this.ends);
      this.ends = e;
      const d = new Int32Array(this.n * 2);
      d.set(this.ids);
      this.ids = d;
    }
    let i = this.n++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.ends[parent]! >= end) break;
      this.ends[i] = this.ends[parent]!;
      this.ids[i] = this.ids[parent]!;
      i = parent;
    }
    this.ends[i] = end;
    this.ids[i] = id;
  }

  /** The highest end still valid per `valid(end, id)`, or 0. */
  max(valid: (end: number, id: number) => boolean): number {
    while (this.n > 0 && !valid(this.ends[0]!, this.ids[0]!)) this.pop();
    return this.n > 0 ? this.ends[0]! : 0;
  }

  private pop(): void {
    const n = --this.n;
    const end = this.ends[n]!;
    const id = this.ids[n]!;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && this.ends[c + 1]! > this.ends[c]!) c++;
      if (this.ends[c]! <= end) break;
      this.ends[i] = this.ends[c]!;
      this.ids[i] = this.ids[c]!;
      i = c;
    }
    this.ends[i] = end;
    this.ids[i] = id;
  }
}

/** Replays operations into an allocator (an {@link OpSink}); {@link finish} gives the measures. */
export class Replayer implements OpSink {
  readonly allocator: Allocator;
  readonly trace: string;
  /** Per id: its pointer (kept after a free, for a trace that misuses it), size, and liveness. */
  private ptrs = new Float64Array(1024);
  private sizes = new Float64Array(1024);
  private live = new Uint8Array(1024);
  private ops = 0;
  private failed = 0;
  private firstFailed: { op: number; line: number; size: number } | null = null;
  private liveBytes = 0;
  private liveBlocks = 0;
  private peakLive = 0;
  private peakExtent = 0;
  private peakHeap = 0;
  private peakData = 0;
  private readonly ends = new EndHeap();
  private readonly validEnd = (end: number, id: number) =>
    this.live[id] === 1 && this.ptrs[id]! + this.sizes[id]! === end;
  private readonly series: SeriesPoint[] = [];
  private seriesEvery = 1;
  private readonly seriesMax: number;
  private readonly checkEvery: number;
  private readonly touch: boolean;
  private readonly kernel: KernelMemory | null;
  private elapsedMs = 0;
  private died: ReplayResult['died'] = null;
  private checkFailure: ReplayResult['checkFailure'] = null;
  private compared = 0;
  private matched = 0;
  private firstMismatch: GlibcComparison['firstMismatch'] = null;
  private glibcHeap = -1;

  constructor(allocator: Allocator, trace: string, options: ReplayOptions = {}) {
    this.allocator = allocator;
    this.trace = trace;
    this.kernel = allocator.mem instanceof KernelMemory ? allocator.mem : null;
    this.touch = options.touch ?? this.kernel !== null;
    this.seriesMax = options.seriesPoints ?? 600;
    this.checkEvery = options.check === true ? 1 : typeof options.check === 'number' ? options.check : 0;
  }

  /** True once the replay cannot go on (the program died or the heap check failed). */
  get stopped(): boolean {
    return this.died !== null || this.checkFailure !== null;
  }

  op(kind: OpKind, id: number, size: number, align: number, expect: number, line = 0): void {
    if (this.stopped) return;
    if (id >= this.ptrs.length) this.growIds(id);
    const a = this.allocator;
    const t0 = performance.now();
    let p = 0;
    switch (kind) {
      case OP_FREE:
        a.free(this.ptrs[id]!);
        this.retire(id);
        break;
      case OP_REALLOC:
        p = a.realloc(this.ptrs[id]!, size);
        if (p !== 0 || size === 0) this.retire(id);
        break;
      case OP_CALLOC:
        p = a.calloc(1, size);
        break;
      case OP_MEMALIGN:
        p = a.memalign(align, size);
        break;
      case OP_POSIX_MEMALIGN:
        p = Math.max(0, posixMemalign(a, align, size));
        break;
      case OP_ALIGNED_ALLOC:
        p = alignedAlloc(a, align, size);
        break;
      case OP_VALLOC:
        p = valloc(a, size);
        break;
      case OP_PVALLOC:
        p = pvalloc(a, size);
        break;
      default:
        p = a.malloc(size);
    }
    this.elapsedMs += performance.now() - t0;
    if (p !== 0) {
      this.ptrs[id] = p;
      this.sizes[id] = size;
      this.live[id] = 1;
      this.liveBytes += size;
      this.liveBlocks++;
      if (this.touch && a.signal === null) this.touchBlock(p, size);
    }
    this.ops++;
    if (expect !== 0 && kind !== OP_FREE) this.compare(p, expect);
    if (a.signal !== null) {
      this.died = { op: this.ops, line, signal: a.signal.signal, reason: a.signal.reason };
      return;
    }
    if (p === 0 && kind !== OP_FREE && !(kind === OP_REALLOC && size === 0)) {
      this.failed++;
      this.firstFailed ??= { op: this.ops, line, size };
    }
    this.measure(p !== 0 ? id : -1);
    if (this.checkEvery > 0 && this.ops % this.checkEvery === 0) {
      const problems = a.check();
      if (problems.length > 0) this.checkFailure = { op: this.ops, problems };
    }
  }

  private retire(id: number): void {
    if (this.live[id] === 0) return;
    this.liveBytes -= this.sizes[id]!;
    this.liveBlocks--;
    this.live[id] = 0;
  }

  private growIds(id: number): void {
    let n = this.ptrs.length;
    while (n <= id) n *= 2;
    const p = new Float64Array(n);
    p.set(this.ptrs);
    this.ptrs = p;
    const s = new Float64Array(n);
    s.set(this.sizes);
    this.sizes = s;
    const l = new Uint8Array(n);
    l.set(this.live);
    this.live = l;
  }

  /**
   * A byte written in each page of a new block (a program initialising it). The program may die
   * doing so (the OOM killer, with no frame left for the page): the memory records the signal and
   * stops the write, and the caller sees the death in `signal`.
   */
  private touchBlock(p: number, size: number): void {
    const mem = this.allocator.mem;
    const ps = mem.pageSize;
    if (size === 0) return;
    try {
      for (let va = p; va < p + size; va = va - (va % ps) + ps) {
        mem.write32(va - (va % 4), 0);
        if (this.allocator.signal !== null) return;
      }
    } catch (e) {
      if (!(e instanceof HeapStop)) throw e;
    }
  }

  private compare(p: number, glibc: number): void {
    const mem = this.allocator.mem;
    const glibcMmapped = glibc >= 0x7f0000000000;
    const ours = p - mem.heapStart;
    const oursMmapped = p !== 0 && (p < mem.heapStart || p >= mem.brk());
    if (!glibcMmapped && this.glibcHeap < 0) this.glibcHeap = glibc - (glibc % 4096);
    const same = glibcMmapped
      ? oursMmapped && p % 4096 === glibc % 4096
      : !oursMmapped && ours === glibc - this.glibcHeap;
    this.compared++;
    if (same) this.matched++;
    else if (this.firstMismatch === null) this.firstMismatch = { op: this.ops, ours: p, glibc };
  }

  private measure(newId: number): void {
    const mem = this.allocator.mem;
    if (newId >= 0 && this.ptrs[newId]! >= mem.heapStart && this.ptrs[newId]! < mem.brk())
      this.ends.push(this.ptrs[newId]! + this.sizes[newId]!, newId);
    const top = this.ends.max(this.validEnd);
    const mmapBytes = mem.counters.mmapBytes;
    const extent = (top > 0 ? top - mem.heapStart : 0) + mmapBytes;
    const heap = mem.brk() - mem.heapStart + mmapBytes;
    if (this.liveBytes > this.peakLive) this.peakLive = this.liveBytes;
    if (extent > this.peakExtent) this.peakExtent = extent;
    if (heap > this.peakHeap) this.peakHeap = heap;
    if (this.kernel !== null) {
      const mm = this.kernel.proc.mm!;
      const data = mm.dataVm * mm.pageSize;
      if (data > this.peakData) this.peakData = data;
    } else if (heap > this.peakData) {
      this.peakData = heap;
    }
    if (this.ops % this.seriesEvery === 0) {
      this.series.push({
        op: this.ops,
        liveBytes: this.liveBytes,
        extentBytes: extent,
        heapBytes: mem.brk() - mem.heapStart,
        mmapBytes,
      });
      if (this.series.length >= this.seriesMax) {
        // Keep every other point and sample half as often from now on.
        let j = 0;
        for (let i = 0; i < this.series.length; i += 2) this.series[j++] = this.series[i]!;
        this.series.length = j;
        this.seriesEvery *= 2;
      }
    }
  }

  finish(): ReplayResult {
    const a = this.allocator;
    const mem = a.mem;
    const c = mem.counters;
    const alive = a.signal === null;
    const stats = alive ? a.stats() : null;
    const held = stats ? stats.usedBytes + stats.mmapBytes : 0;
    const kernel = this.kernel;
    let vmEnd: VmSample;
    let vmPeak: VmSample;
    if (kernel !== null) {
      const st = kernel.kernel.status(kernel.proc);
      vmEnd = { VmRSS: st.VmRSS, VmData: st.VmData };
      vmPeak = { VmRSS: st.VmHWM, VmData: Math.max(this.peakData, st.VmData) };
    } else {
      vmEnd = { VmRSS: null, VmData: mem.brk() - mem.heapStart + c.mmapBytes };
      vmPeak = { VmRSS: null, VmData: this.peakData };
    }
    const last = this.series[this.series.length - 1];
    if (last === undefined || last.op !== this.ops) {
      const top = this.ends.max(this.validEnd);
      this.series.push({
        op: this.ops,
        liveBytes: this.liveBytes,
        extentBytes: (top > 0 ? top - mem.heapStart : 0) + c.mmapBytes,
        heapBytes: mem.brk() - mem.heapStart,
        mmapBytes: c.mmapBytes,
      });
    }
    return {
      allocator: a.name,
      trace: this.trace,
      mode: kernel !== null ? 'kernel' : 'direct',
      ops: this.ops,
      opsPerSecond: this.elapsedMs > 0 ? Math.round((this.ops / this.elapsedMs) * 1000) : 0,
      peakLiveBytes: this.peakLive,
      peakExtentBytes: this.peakExtent,
      utilization: this.peakExtent > 0 ? Math.min(1, this.peakLive / this.peakExtent) : 1,
      peakHeapBytes: this.peakHeap,
      brkUtilization: this.peakHeap > 0 ? Math.min(1, this.peakLive / this.peakHeap) : 1,
      internalFragmentation: held > 0 ? Math.max(0, 1 - this.liveBytes / held) : 0,
      externalFragmentation: stats && stats.freeBytes > 0 ? 1 - stats.largestFree / stats.freeBytes : 0,
      largestFreeBytes: stats ? Math.max(stats.largestFree, stats.topBytes) : 0,
      brkCalls: c.brkCalls,
      mmapCalls: c.mmapCalls,
      munmapCalls: c.munmapCalls,
      endLiveBlocks: this.liveBlocks,
      endLiveBytes: this.liveBytes,
      vmPeak,
      vmEnd,
      accesses: kernel !== null ? { reads: c.reads, writes: c.writes } : null,
      series: this.series,
      died: this.died,
      failedAllocations: this.firstFailed !== null ? { count: this.failed, first: this.firstFailed } : null,
      checkFailure: this.checkFailure,
      glibc:
        this.compared > 0
          ? { compared: this.compared, matched: this.matched, firstMismatch: this.firstMismatch }
          : null,
    };
  }
}

/** Replays a whole trace held in columns. */
export function replay(
  allocator: Allocator,
  trace: string,
  ops: OpColumns,
  options: ReplayOptions = {},
): ReplayResult {
  const r = new Replayer(allocator, trace, options);
  ops.replayInto(r, () => r.stopped);
  return r.finish();
}
