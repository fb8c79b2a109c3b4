/**
 * `vmscope mrc FILE`: miss-ratio curves — the fault rate of each policy at every memory size, from
 * one trace. Exact in one pass for LRU (stack distances) and OPT (priority stack over next uses);
 * the other policies run one simulation per size, spread over worker threads.
 */
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import Table from 'cli-table3';
import { Piscina } from 'piscina';
import { InputError } from '../base/errors.js';
import { createPolicy } from '../kernel/reclaim/registry.js';
import { type ChartPoint, lineChartSvg } from '../report/chart.js';
import { jsonText } from '../report/json.js';
import { NextUseBuilder, type NextUses } from '../sim/cachesim.js';
import { LruStackDistance, type MissRatioCurve, OptStackDistance, powerOfTwoSizes } from '../sim/mrc.js';
import type { TraceFormat } from '../workload/trace/detect.js';
import { EXIT_OK, type Io } from './io.js';
import { type MrcTask, tracePass as pass } from './mrc-thread.js';
import { checkPolicy } from './replay.js';

export interface MrcFlags {
  readonly policies: string;
  readonly frames: string;
  readonly format: TraceFormat | 'auto';
  readonly pageSize: number;
  readonly json: boolean;
  readonly csv?: string;
  readonly plot?: string;
  readonly threads: number;
}

/** `16..65536` (powers of two between) or `16,24,32` (exactly these). */
export function parseSizes(text: string): number[] {
  const range = /^([0-9]+)\.\.([0-9]+)$/.exec(text);
  if (range) {
    const lo = Number(range[1]);
    const hi = Number(range[2]);
    if (lo >= 1 && hi >= lo && hi <= 2 ** 26) return powerOfTwoSizes(lo, hi);
  } else if (/^[0-9]+(,[0-9]+)*$/.test(text)) {
    const sizes = [...new Set(text.split(',').map(Number))].sort((a, b) => a - b);
    if (sizes.every((s) => s >= 1 && s <= 2 ** 26)) return sizes;
  }
  throw new InputError(
    'flag',
    `expected --frames LO..HI or a list such as 16,32,64 (1..67108864), got '${text}'`,
    { file: '--frames' },
  );
}

/** The other policies: one simulation per size, the sizes dealt out to worker threads. */
async function sweep(
  file: string,
  policy: string,
  sizes: readonly number[],
  future: NextUses | null,
  flags: MrcFlags,
): Promise<MissRatioCurve> {
  const threads = Math.max(1, Math.min(flags.threads, sizes.length));
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  const pool = new Piscina({
    filename: new URL(`./mrc-thread${ext}`, import.meta.url).href,
    maxThreads: threads,
    minThreads: threads,
    ...(ext === '.ts' ? { execArgv: ['--import', 'tsx'] } : {}),
  });
  try {
    const far = future ? farPairs(future) : null;
    const parts: MissRatioCurve[] = await Promise.all(
      Array.from({ length: threads }, (_, i) =>
        pool.run({
          file,
          format: flags.format,
          pageSize: flags.pageSize,
          policy,
          sizes: sizes.filter((_, j) => j % threads === i),
          future: future ? { distance: future.distance, far } : null,
        } satisfies MrcTask),
      ),
    );
    const faults = new Map<number, number>();
    for (const c of parts) for (let i = 0; i < c.sizes.length; i++) faults.set(c.sizes[i]!, c.faults[i]!);
    const first = parts[0]!;
    return {
      policy,
      accesses: first.accesses,
      coldFaults: first.coldFaults,
      sizes: [...sizes],
      faults: sizes.map((s) => faults.get(s)!),
    };
  } finally {
    await pool.destroy();
  }
}

/** The far next-use distances as pairs, for a worker (they are rare). */
function farPairs(future: NextUses): [number, number][] {
  const out: [number, number][] = [];
  for (let t = 0; t < future.length; t++) if (future.distance[t] === 0xffff) out.push([t, future.at(t) - t]);
  return out;
}

export async function runMrc(file: string, flags: MrcFlags, io: Io): Promise<number> {
  const policies = [
    ...new Set(
      flags.policies
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean),
    ),
  ].map(checkPolicy);
  if (policies.length === 0)
    throw new InputError('flag', 'expected at least one policy', { file: '--policies' });
  const sizes = parseSizes(flags.frames);
  const curves: MissRatioCurve[] = [];
  let future: NextUses | null = null;
  if (policies.some((p) => createPolicy(p, 1, {}).needsFuture)) {
    const b = new NextUseBuilder();
    await pass(file, flags, (pages, _w, count) => b.push(pages, count));
    future = b.finish();
  }
  for (const policy of policies) {
    if (policy === 'lru') {
      const lru = new LruStackDistance();
      await pass(file, flags, (pages, _w, count) => lru.push(pages, count));
      curves.push(lru.curve(sizes));
    } else if (policy === 'opt') {
      const opt = new OptStackDistance(future!);
      await pass(file, flags, (pages, _w, count) => opt.push(pages, count));
      curves.push(opt.curve(sizes));
    } else {
      curves.push(
        await sweep(file, policy, sizes, createPolicy(policy, 1, {}).needsFuture ? future : null, flags),
      );
    }
  }
  const rows = curves.flatMap((c) =>
    c.sizes.map((frames, i) => ({
      policy: c.policy,
      frames,
      faults: c.faults[i]!,
      missRatio: c.accesses === 0 ? 0 : c.faults[i]! / c.accesses,
    })),
  );
  if (flags.csv)
    writeFileSync(
      flags.csv,
      `policy,frames,faults,miss_ratio\n${rows.map((r) => `${r.policy},${r.frames},${r.faults},${r.missRatio}`).join('\n')}\n`,
    );
  if (flags.plot) {
    const points: ChartPoint[] = rows.map((r) => ({ x: r.frames, y: r.missRatio, series: r.policy }));
    writeFileSync(
      flags.plot,
      lineChartSvg({
        title: `miss-ratio curves: ${file.split('/').pop()}`,
        xLabel: 'frames',
        yLabel: 'miss ratio',
        points,
        xType: 'log',
        yDomain: [0, 1],
      }),
    );
  }
  if (flags.json) {
    io.out(jsonText({ file, accesses: curves[0]!.accesses, curves }));
    return EXIT_OK;
  }
  const t = new Table({
    head: ['frames', ...curves.map((c) => c.policy)],
    style: { head: [], border: [], compact: true },
  });
  sizes.forEach((s, i) => {
    t.push([
      String(s),
      ...curves.map((c) => `${((100 * c.faults[i]!) / Math.max(1, c.accesses)).toFixed(3)}%`),
    ]);
  });
  io.out(
    `miss ratio of ${file} (${curves[0]!.accesses.toLocaleString('en-US')} accesses)\n${t.toString()}\n`,
  );
  return EXIT_OK;
}

export const DEFAULT_THREADS = availableParallelism();
