/**
 * A dropped allocation trace (CMU malloc-lab `.rep`, or the shim's raw log): parsed as it streams,
 * replayed through every allocator as `vmscope malloc --mode direct` replays it, and the heap of
 * one allocator shown after any operation — its free blocks in the order it keeps them.
 *
 * A double free in the trace is let through (`--allow-misuse`): the allocator gets the freed
 * pointer and the program dies as under glibc, which the page shows.
 */
import { alignUp } from '../../../src/base/units.js';
import { outcome } from '../../../src/report/malloc-outcome.js';
import { ALLOCATOR_NAMES, type AllocatorName, isAllocatorName } from '../../../src/user/malloc/api.js';
import { createAllocator } from '../../../src/user/malloc/registry.js';
import { DirectMemory } from '../../../src/user/memory.js';
import {
  OP_CALLOC,
  OP_FREE,
  OP_MALLOC,
  OP_REALLOC,
  OpColumns,
  type OpKind,
  Replayer,
  replay,
} from '../../../src/user/replay.js';
import { RepParser } from '../../../src/workload/alloc/rep.js';
import { ShimLogParser } from '../../../src/workload/alloc/shimlog.js';
import { type AllocResult, type AllocRun, FREE_LIST_LIMIT, type HeapAt } from './protocol.js';

const OP_WORDS: Readonly<Record<number, string>> = {
  [OP_MALLOC]: 'malloc',
  [OP_FREE]: 'free',
  [OP_REALLOC]: 'realloc',
  [OP_CALLOC]: 'calloc',
};

export class AllocTrace {
  readonly name: string;
  readonly format: 'rep' | 'shim-log';
  private readonly ops = new OpColumns();
  private readonly parser: RepParser | ShimLogParser;
  private ended = false;
  /** Bytes of simulated memory per replay: room for the peak live bytes several times over. */
  private memoryBytes = 0;

  constructor(name: string, format: 'rep' | 'shim-log') {
    this.name = name;
    this.format = format;
    this.parser =
      format === 'rep'
        ? new RepParser(name, this.ops, { allowMisuse: true })
        : new ShimLogParser(name, this.ops);
  }

  /** @throws InputError on a malformed line. */
  push(chunk: Uint8Array): void {
    this.parser.push(chunk);
  }

  /** @throws InputError on a malformed end (header counts that disagree…). */
  end(): void {
    this.parser.end();
    this.ended = true;
    let live = 0;
    let peak = 0;
    const sizes = new Map<number, number>();
    const o = this.ops;
    for (let i = 0; i < o.count; i++) {
      const id = o.id[i]!;
      if (o.kind[i] === OP_FREE || o.kind[i] === OP_REALLOC) live -= sizes.get(id) ?? 0;
      if (o.kind[i] !== OP_FREE) {
        sizes.set(id, o.size[i]!);
        live += o.size[i]!;
      } else sizes.delete(id);
      if (live > peak) peak = live;
    }
    this.memoryBytes = alignUp(Math.min(2 ** 30, Math.max(32 << 20, peak * 4 + (32 << 20))), 4096);
  }

  get opCount(): number {
    return this.ops.count;
  }

  private memory(): DirectMemory {
    return new DirectMemory({ sizeBytes: this.memoryBytes });
  }

  /** Every allocator, one after the other (each on a fresh memory). */
  replayAll(onProgress?: (done: number, total: number) => void): AllocResult {
    const started = performance.now();
    const runs: AllocRun[] = [];
    for (const [i, name] of ALLOCATOR_NAMES.entries()) {
      const r = replay(createAllocator(name, this.memory()), this.name, this.ops, { seriesPoints: 400 });
      runs.push({
        allocator: r.allocator,
        ops: r.ops,
        utilization: r.utilization,
        internalFragmentation: r.internalFragmentation,
        externalFragmentation: r.externalFragmentation,
        largestFreeBytes: r.largestFreeBytes,
        peakLiveBytes: r.peakLiveBytes,
        peakExtentBytes: r.peakExtentBytes,
        brkCalls: r.brkCalls,
        mmapCalls: r.mmapCalls,
        outcome: outcome(r),
        series: r.series.map((p) => ({ op: p.op, liveBytes: p.liveBytes, extentBytes: p.extentBytes })),
      });
      onProgress?.(i + 1, ALLOCATOR_NAMES.length);
    }
    return {
      name: this.name,
      format: this.format,
      ops: this.ops.count,
      runs,
      ms: performance.now() - started,
    };
  }

  /** `allocator`'s heap after the first `op` operations (replayed again on a fresh memory). */
  heapAt(allocator: string, op: number): HeapAt {
    const name: AllocatorName = isAllocatorName(allocator) ? allocator : 'binned';
    const n = Math.max(0, Math.min(this.ops.count, Math.floor(op)));
    const a = createAllocator(name, this.memory());
    const r = new Replayer(a, this.name);
    let done = 0;
    this.ops.replayInto(r, () => done++ >= n || r.stopped);
    const alive = a.signal === null;
    const stats = alive ? a.stats() : null;
    const free = alive ? a.freeList() : [];
    return {
      allocator: name,
      op: n,
      heapStart: a.mem.heapStart,
      brk: a.mem.brk(),
      usedBlocks: stats?.usedBlocks ?? 0,
      usedBytes: stats?.usedBytes ?? 0,
      freeBlocks: stats?.freeBlocks ?? 0,
      freeBytes: stats?.freeBytes ?? 0,
      topBytes: stats?.topBytes ?? 0,
      largestFree: stats?.largestFree ?? 0,
      freeList: free.slice(0, FREE_LIST_LIMIT).map((b) => ({ va: b.va, sizeBytes: b.sizeBytes })),
      opText: n === 0 ? null : this.opText(n - 1),
      died: a.signal?.reason ?? null,
    };
  }

  /** Operation `i` in words: `line 9: malloc(32) for block 7`. */
  private opText(i: number): string {
    const o = this.ops;
    const kind = o.kind[i] as OpKind;
    const word = OP_WORDS[kind] ?? 'memalign';
    const args = kind === OP_FREE ? '' : String(o.size[i]);
    const line = o.line[i] ? `line ${o.line[i]}: ` : '';
    return `${line}${word}(${args}) for block ${o.id[i]}`;
  }

  get done(): boolean {
    return this.ended;
  }
}
