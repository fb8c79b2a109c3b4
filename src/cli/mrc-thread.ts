/**
 * The worker side of `vmscope mrc` (a piscina task): reads the trace itself and runs one simulation
 * per size for its share of the sizes.
 */
import { PageIdMap } from '../kernel/reclaim/idmap.js';
import { isPluginSpec } from '../kernel/reclaim/registry.js';
import { NextUses } from '../sim/cachesim.js';
import { type MissRatioCurve, SizeSweep } from '../sim/mrc.js';
import type { CsvSpec } from '../workload/trace/csv.js';
import type { TraceFormat } from '../workload/trace/detect.js';
import { loadPolicy } from './plugins.js';
import { decodeOptions } from './trace-formats.js';
import { openPageStream } from './trace-input.js';
import { catchInputError, type WorkerResult } from './worker-result.js';

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
