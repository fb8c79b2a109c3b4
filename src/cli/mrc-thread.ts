/**
 * The worker side of `vmscope mrc` and `vmscope sweep` (piscina tasks), each reading the trace
 * itself: `mrc` runs one simulation per size for its share of the sizes (the default export);
 * `sweep` computes one cell, a policy's whole curve on one trace (`runCell`).
 */
import { PageIdMap } from '../kernel/reclaim/idmap.js';
import { isPluginSpec, policyNeedsFuture } from '../kernel/reclaim/registry.js';
import { NextUses } from '../sim/cachesim.js';
import {
  footprintSizes,
  LruStackDistance,
  type MissRatioCurve,
  OptStackDistance,
  SizeSweep,
} from '../sim/mrc.js';
import type { CsvSpec } from '../workload/trace/csv.js';
import type { TraceFormat } from '../workload/trace/detect.js';
import { loadPolicy } from './plugins.js';
import { decodeOptions } from './trace-formats.js';
import { FutureSpill } from './trace-future.js';
import { openPageStream, type StreamInfo } from './trace-input.js';
import { catchInputError, type WorkerResult } from './worker-result.js';

/** Where a pass reads the trace, and its next uses when the policy needs them. */
export interface Input {
  readonly file: string;
  readonly format: TraceFormat | 'auto';
  readonly pageSize?: number;
  readonly csv?: CsvSpec;
  readonly nextFile?: string;
}

/**
 * Where the policies that need the future read the trace with its next uses: the trace itself when
 * it carries them (oracleGeneral), else the trace or a copy on disk with a file of next uses
 * (trace-future.ts).
 */
export async function futureInput(
  trace: Input,
  readThreads: number,
): Promise<{ input: Input; spill: FutureSpill | null; format: TraceFormat | null }> {
  const probe = openPageStream(trace.file, trace.format, decodeOptions(trace.pageSize, trace.csv), {
    threads: 1,
    minCapacity: 1,
  });
  let info: StreamInfo | null;
  let format: TraceFormat | null;
  try {
    await probe.fill(1);
    info = probe.info;
    format = probe.format;
  } finally {
    await probe.close();
  }
  if (info!.hasFuture) return { input: trace, spill: null, format };
  const spill = new FutureSpill({ addressing: info!.addressing, pageSize: info!.pageSize }, 0, {
    path: trace.file,
    format: trace.format,
    options: decodeOptions(trace.pageSize, trace.csv),
  });
  try {
    format = await tracePass(
      trace.file,
      trace,
      (pages, writes, n) => spill.push(0, pages, writes, n),
      readThreads,
    );
    spill.computeNextUses();
  } catch (e) {
    spill.dispose();
    throw e;
  }
  // The trace read again with the next uses beside it, or the copy.
  const input: Input = spill.readsAgain
    ? { ...trace, nextFile: spill.nextFile }
    : { file: spill.streamFile, format: 'vmscope', nextFile: spill.nextFile };
  return { input, spill, format };
}

export interface MrcTask {
  readonly file: string;
  readonly format: TraceFormat | 'auto';
  readonly pageSize?: number;
  /** The columns of a CSV trace (`--csv`). */
  readonly csv?: CsvSpec;
  /** A built-in name, or a plug-in's absolute path (the worker loads it). */
  readonly policy: string;
  readonly sizes: readonly number[];
  /** Seed of the random policies. */
  readonly seed: number;
  /** For policies that need the future: a file of next uses to read beside the trace (trace-future.ts). */
  readonly nextFile?: string;
  /** Or next uses in memory: the distances and the far ones as pairs. */
  readonly future?: {
    readonly distance: Uint16Array;
    readonly far: readonly (readonly [number, number])[] | null;
  } | null;
}

/**
 * Reads the whole trace once (decoded ahead by a worker with `threads` ≥ 2), handing each batch to
 * `each`. @returns the format it was read as (null for an empty trace given no format).
 */
export async function tracePass(
  file: string,
  flags: {
    readonly format: TraceFormat | 'auto';
    readonly pageSize?: number;
    readonly csv?: CsvSpec;
    readonly nextFile?: string;
  },
  each: (pages: Float64Array, writes: Uint8Array, count: number, next: Float64Array | null) => void,
  threads = 1,
): Promise<TraceFormat | null> {
  const options = {
    ...decodeOptions(flags.pageSize, flags.csv),
    ...(flags.nextFile === undefined ? {} : { nextFile: flags.nextFile }),
  };
  const s = openPageStream(file, flags.format, options, { threads, minCapacity: 1 << 16 });
  try {
    for (;;) {
      await s.fill(1 << 16);
      const { pages, writes, next, count } = s.take(1 << 16);
      if (count > 0) each(pages, writes, count, next);
      if (s.eof && s.pending === 0) return s.format;
    }
  } finally {
    await s.close();
  }
}

export default function runTask(task: MrcTask): Promise<WorkerResult<MissRatioCurve>> {
  return catchInputError(() => sweepSizes(task));
}

async function sweepSizes(task: MrcTask): Promise<MissRatioCurve> {
  if (isPluginSpec(task.policy)) await loadPolicy(task.policy, '/', { file: '--policies' });
  const sweep = new SizeSweep(task.policy, task.sizes, { seed: task.seed });
  if (task.future) {
    const far = new PageIdMap(Math.max(16, task.future.far?.length ?? 0));
    for (const [t, d] of task.future.far ?? []) far.set(t, d);
    sweep.setFuture(new NextUses(task.future.distance.length, task.future.distance, far));
  }
  await tracePass(task.file, task, (pages, writes, count, next) => sweep.push(pages, writes, count, next));
  return sweep.curve();
}

/** One cell of a sweep: a policy's curve on one trace. */
export interface CellTask extends Input {
  /** A built-in name, or a plug-in's absolute path (the worker loads it). */
  readonly policy: string;
  /** The sizes; null: powers of two up to the trace's footprint (and the footprint). */
  readonly sizes: readonly number[] | null;
  /** Seed of the random policies: the same for every cell, whichever thread or shard runs it. */
  readonly seed: number;
}

export interface CellResult {
  /** The format the trace was read as (null: an empty trace given no format). */
  readonly format: TraceFormat | null;
  readonly curve: MissRatioCurve;
}

/**
 * A cell computed in this thread: LRU from one stack-distance pass, OPT from its priority stack
 * over next uses, any other policy one simulation per size in one pass (with next uses when it
 * needs them). Sizes by footprint take an LRU pass first, which is LRU's own curve.
 * @throws InputError for a bad trace or plug-in.
 */
export async function cellCurve(task: CellTask): Promise<CellResult> {
  if (isPluginSpec(task.policy)) await loadPolicy(task.policy, '/', { file: '--policies' });
  const trace: Input = {
    file: task.file,
    format: task.format,
    ...(task.pageSize === undefined ? {} : { pageSize: task.pageSize }),
    ...(task.csv === undefined ? {} : { csv: task.csv }),
  };
  let sizes = task.sizes;
  let format: TraceFormat | null = null;
  let lru: LruStackDistance | null = null;
  if (task.policy === 'lru' || sizes === null) {
    const stack = new LruStackDistance();
    format = await tracePass(trace.file, trace, (pages, _w, n) => stack.push(pages, n));
    sizes ??= footprintSizes(stack.distinctPages);
    lru = stack;
  }
  if (task.policy === 'lru') return { format, curve: lru!.curve(sizes) };
  const future = policyNeedsFuture(task.policy) ? await futureInput(trace, 1) : null;
  const input = future?.input ?? trace;
  const spill = future?.spill ?? null;
  format ??= future?.format ?? null;
  try {
    if (task.policy === 'opt') {
      const opt = new OptStackDistance();
      const read = await tracePass(input.file, input, (pages, _w, n, next) => opt.push(pages, n, next));
      return { format: future === null ? read : format, curve: opt.curve(sizes) };
    }
    const sweep = new SizeSweep(task.policy, sizes, { seed: task.seed });
    const read = await tracePass(input.file, input, (pages, writes, n, next) =>
      sweep.push(pages, writes, n, next),
    );
    return { format: future === null ? read : format, curve: sweep.curve() };
  } finally {
    spill?.dispose();
  }
}

/** `vmscope sweep`'s task (piscina's `name: 'runCell'`). */
export function runCell(task: CellTask): Promise<WorkerResult<CellResult>> {
  return catchInputError(() => cellCurve(task));
}
