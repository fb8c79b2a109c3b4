/**
 * The worker side of `vmscope mrc` (a piscina task): reads the trace itself and runs one simulation
 * per size for its share of the sizes.
 */
import { PageIdMap } from '../kernel/reclaim/idmap.js';
import { isPluginSpec } from '../kernel/reclaim/registry.js';
import { NextUses } from '../sim/cachesim.js';
import { type MissRatioCurve, SizeSweep } from '../sim/mrc.js';
import type { TraceFormat } from '../workload/trace/detect.js';
import { loadPolicy } from './plugins.js';
import { PageStream } from './trace-input.js';
import { catchInputError, type WorkerResult } from './worker-result.js';

export interface MrcTask {
  readonly file: string;
  readonly format: TraceFormat | 'auto';
  readonly pageSize: number;
  /** A built-in name, or a plug-in's absolute path (the worker loads it). */
  readonly policy: string;
  readonly sizes: readonly number[];
  /** Seed of the random policies. */
  readonly seed: number;
  /** Next uses for policies that need the future: the distances and the far ones as pairs. */
  readonly future: {
    readonly distance: Uint16Array;
    readonly far: readonly (readonly [number, number])[] | null;
  } | null;
}

/** Reads the whole trace once, handing each batch to `each`. */
export async function tracePass(
  file: string,
  flags: { readonly format: TraceFormat | 'auto'; readonly pageSize: number },
  each: (pages: Float64Array, writes: Uint8Array, count: number) => void,
): Promise<void> {
  const s = new PageStream(file, flags.format, flags.pageSize);
  for (;;) {
    await s.fill(1 << 16);
    const { pages, writes, count } = s.take(1 << 16);
    if (count > 0) each(pages, writes, count);
    if (s.eof && s.pending === 0) return;
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
  await tracePass(task.file, task, (pages, writes, count) => sweep.push(pages, writes, count));
  return sweep.curve();
}
