/**
 * `vmscope mrc FILE`: miss-ratio curves — the fault rate of each policy at every memory size, from
 * one trace. Exact in one pass for LRU (stack distances) and OPT (priority stack over next uses);
 * the other policies run one simulation per size, spread over worker threads.
 */
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { basename } from 'node:path';
import Table from 'cli-table3';
import type { Piscina } from 'piscina';
import { InputError } from '../base/errors.js';
import { describePolicy, policyNeedsFuture } from '../kernel/reclaim/registry.js';
import { type ChartPoint, lineChartSvg } from '../report/chart.js';
import { count, percent } from '../report/format.js';
import { jsonText } from '../report/json.js';
import { footprintSizes, LruStackDistance, type MissRatioCurve, OptStackDistance } from '../sim/mrc.js';
import { checkSampleSpec, type SampleInfo, type SampleSpec, ShardsSampler } from '../sim/shards.js';
import type { CsvSpec } from '../workload/trace/csv.js';
import type { TraceFormat } from '../workload/trace/detect.js';
import { writeChartFile } from './chart-file.js';
import { parseFrames } from './frames.js';
import { EXIT_INPUT, EXIT_OK, type Io } from './io.js';
import { futureInput, type Input, type MrcTask, tracePass } from './mrc-thread.js';
import { checkOutputPath, writeOutput } from './output.js';
import { loadPolicies } from './plugins.js';
import { terminalBar } from './progress.js';
import { decodeOptions, traceFormatOf } from './trace-formats.js';
import { FutureSpill } from './trace-future.js';
import { openPageStream } from './trace-input.js';
import { STDIN } from './trace-source.js';
import { unwrap } from './worker-result.js';

export interface MrcFlags {
  readonly policies: string;
  /** The sizes (frames.ts); absent or log-spaced: powers of two from 1 up to the footprint, and the footprint. */
  readonly frames?: string;
  readonly format: TraceFormat | 'auto';
  /** The columns of a CSV trace (`--csv`; implies `format` csv). */
  readonly columns?: CsvSpec;
  /** Unset: a vmscope trace's own, else 4096. */
  readonly pageSize?: number;
  readonly json: boolean;
  /** Write the curves as CSV rows here (`--table`). */
  readonly table?: string;
  readonly plot?: string;
  readonly threads: number;
  /** Seed of the random policies. */
  readonly seed?: number;
  /** Estimate from a spatial sample at this rate (`--sample`). */
  readonly sample?: number;
  /** Estimate from a sample of at most this many pages (`--sample-size`). */
  readonly sampleSize?: number;
}

/** The default sizes: powers of two from 1 below the footprint, and the footprint itself. */
export const defaultSizes = footprintSizes;

/**
 * Worker threads running mrc-thread.ts's tasks (`mrc`'s sizes, `sweep`'s cells), under tsx when
 * vmscope itself runs from its sources.
 */
export function curvePool(threads: number): Piscina {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  // Loaded here, not at start-up, where it cost every command some 20 ms.
  const { Piscina: Pool } = createRequire(import.meta.url)('piscina') as typeof import('piscina');
  return new Pool({
    filename: new URL(`./mrc-thread${ext}`, import.meta.url).href,
    maxThreads: threads,
    minThreads: threads,
    ...(ext === '.ts' ? { execArgv: ['--import', 'tsx'] } : {}),
  });
}

/** The other policies: one simulation per size, the sizes dealt out to worker threads. */
async function sweep(
  input: Input,
  policy: string,
  sizes: readonly number[],
  flags: MrcFlags,
  progress: Progress,
): Promise<MissRatioCurve> {
  const threads = Math.max(1, Math.min(flags.threads, sizes.length));
  const pool = curvePool(threads);
  try {
    // One task per thread (each reads the trace itself), the sizes dealt out in turn.
    const parts: MissRatioCurve[] = await Promise.all(
      Array.from({ length: threads }, async (_, i) => {
        const taskSizes = sizes.filter((_, j) => j % threads === i);
        const c = unwrap<MissRatioCurve>(
          await pool.run({
            ...input,
            policy,
            sizes: taskSizes,
            seed: flags.seed ?? 0,
          } satisfies MrcTask),
        );
        progress.done(describePolicy(policy).name, taskSizes.length);
        return c;
      }),
    );
    const faults = new Map<number, number>();
    for (const c of parts) for (let i = 0; i < c.sizes.length; i++) faults.set(c.sizes[i]!, c.faults[i]!);
    const first = parts[0]!;
    return {
      policy: describePolicy(policy).name,
      accesses: first.accesses,
      coldFaults: first.coldFaults,
      sizes: [...sizes],
      faults: sizes.map((s) => faults.get(s)!),
    };
  } finally {
    await pool.destroy();
  }
}

/** Whether the trace can be read again: a regular file, not a pipe, `<(…)` or standard input. */
function rereadable(file: string): boolean {
  if (file === STDIN) return false;
  try {
    return statSync(file).isFile();
  } catch {
    return true; // the pass names the file and why it cannot be read
  }
}

/**
 * The LRU pass over a trace that can be read only once, copying it to disk on the way (with its
 * next uses), so that the other policies' passes read the copy.
 */
async function spillingPass(
  trace: Input,
  lru: LruStackDistance,
  readThreads: number,
): Promise<{ format: TraceFormat | null; future: { input: Input; spill: FutureSpill } }> {
  const s = openPageStream(trace.file, trace.format, decodeOptions(trace.pageSize, trace.csv), {
    threads: readThreads,
    minCapacity: 1 << 16,
  });
  let spill: FutureSpill | null = null;
  try {
    for (;;) {
      await s.fill(1 << 16);
      const info = s.info;
      spill ??= new FutureSpill(
        { addressing: info?.addressing ?? 'ids', pageSize: info?.pageSize ?? 4096 },
        0,
      );
      const { pages, writes, count: n } = s.take(1 << 16);
      if (n > 0) {
        lru.push(pages, n);
        spill.push(0, pages, writes, n);
      }
      if (s.eof && s.pending === 0) break;
    }
    spill.computeNextUses();
    const input: Input = { file: spill.streamFile, format: 'vmscope', nextFile: spill.nextFile };
    return { format: s.format, future: { input, spill } };
  } catch (e) {
    spill?.dispose();
    throw e;
  } finally {
    await s.close();
  }
}

/** Progress on a terminal: sizes done out of all, by policy. */
interface Progress {
  done(policy: string, sizes: number): void;
  stop(): void;
}

function progressBar(total: number, io: Io): Progress {
  const bar = terminalBar(io, 'mrc [{bar}] {value}/{total} sizes | {policy}', total, { policy: '' });
  if (bar === null) return { done() {}, stop() {} };
  let n = 0;
  return {
    done(policy, sizes) {
      n += sizes;
      bar.update(n, { policy });
    },
    stop() {
      bar.stop();
    },
  };
}

/**
 * Runs the command: flags and output paths checked first, then one pass for the footprint (and
 * LRU), the curves, the table (or JSON), and last the files. @returns 0, or 2 when a file could not
 * be written (the results are printed all the same).
 */
export async function runMrc(file: string, flags: MrcFlags, io: Io): Promise<number> {
  const policies = await loadPolicies(
    flags.policies
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean),
    process.cwd(),
    { file: '--policies' },
  );
  if (policies.length === 0)
    throw new InputError('flag', 'expected at least one policy', { file: '--policies' });
  if (!(flags.threads >= 1))
    throw new InputError('flag', `--threads must be at least 1, got ${flags.threads}`, { file: '--threads' });
  const given = flags.frames === undefined ? null : parseFrames(flags.frames);
  if (flags.table !== undefined) checkOutputPath('--table', flags.table);
  if (flags.plot !== undefined) checkOutputPath('--plot', flags.plot);
  const trace: Input = {
    file,
    format: traceFormatOf(flags.format, flags.columns),
    ...(flags.pageSize === undefined ? {} : { pageSize: flags.pageSize }),
    ...(flags.columns === undefined ? {} : { csv: flags.columns }),
  };
  // Passes on this thread decode the trace in a worker when there is a second thread to use.
  const readThreads = Math.min(flags.threads, 2);
  const spec = sampleSpecOf(flags);
  if (spec !== null) return sampledMrc(file, trace, spec, policies, given, flags, readThreads, io);
  // LRU's pass comes first: it is exact for every size at once, and it counts the footprint.
  const lru = new LruStackDistance();
  let format: TraceFormat | null;
  let future: { input: Input; spill: FutureSpill | null } | null = null;
  let pass: Input = trace;
  if (rereadable(file)) {
    format = await tracePass(file, trace, (pages, _w, n) => lru.push(pages, n), readThreads);
    if (policies.some((p) => policyNeedsFuture(p))) future = await futureInput(trace, readThreads);
  } else {
    // A pipe or standard input is read once: the first pass keeps a copy on disk for the others.
    const spilled = await spillingPass(trace, lru, readThreads);
    format = spilled.format;
    future = spilled.future;
    pass = { file: future.input.file, format: 'vmscope' };
  }
  const footprint = lru.distinctPages;
  const sizes = given ?? defaultSizes(footprint);
  const simulated = policies.filter((p) => p !== 'lru' && p !== 'opt');
  const progress = progressBar(simulated.length * sizes.length, io);
  const curves: MissRatioCurve[] = [];
  try {
    for (const policy of policies) {
      if (policy === 'lru') curves.push(lru.curve(sizes));
      else if (policy === 'opt') {
        const opt = new OptStackDistance();
        const input = future!.input;
        await tracePass(input.file, input, (pages, _w, n, next) => opt.push(pages, n, next), readThreads);
        curves.push(opt.curve(sizes));
      } else {
        curves.push(
          await sweep(policyNeedsFuture(policy) ? future!.input : pass, policy, sizes, flags, progress),
        );
      }
    }
  } finally {
    progress.stop();
    future?.spill?.dispose();
  }
  if (flags.json)
    io.out(jsonText({ file, format, accesses: lru.accesses, footprint, coldFaults: lru.coldFaults, curves }));
  else io.out(mrcTable(file, format, lru.accesses, footprint, sizes, curves, null));
  return writeFiles(file, lru.accesses, footprint, sizes, curves, flags, io, '');
}

/** `--sample`/`--sample-size` as a spec, or null. @throws InputError when both are given or one is out of range. */
function sampleSpecOf(flags: MrcFlags): SampleSpec | null {
  if (flags.sample !== undefined && flags.sampleSize !== undefined)
    throw new InputError('flag', 'give --sample RATE or --sample-size N, not both', { file: '--sample' });
  const spec: SampleSpec | null =
    flags.sample !== undefined
      ? { rate: flags.sample }
      : flags.sampleSize !== undefined
        ? { pages: flags.sampleSize }
        : null;
  if (spec !== null) checkSampleSpec(spec, flags.sample !== undefined ? '--sample' : '--sample-size');
  return spec;
}

/**
 * The sampled curves: one pass through SHARDS (LRU on the fly; the sampled stream kept for the
 * other policies' miniature simulations, which run here: they are small).
 */
async function sampledMrc(
  file: string,
  trace: Input,
  spec: SampleSpec,
  policies: readonly string[],
  given: number[] | null,
  flags: MrcFlags,
  readThreads: number,
  io: Io,
): Promise<number> {
  const sampler = new ShardsSampler(spec, { keepTrace: policies.some((p) => p !== 'lru') });
  const format = await tracePass(
    file,
    trace,
    (pages, writes, n) => sampler.push(pages, writes, n),
    readThreads,
  );
  const footprint = sampler.estimatedFootprint;
  const sizes = given ?? defaultSizes(Math.max(1, footprint));
  const curves: MissRatioCurve[] = policies.map((p) => {
    const curve =
      p === 'lru' ? sampler.lruCurve(sizes) : sampler.miniCurve(p, sizes, { seed: flags.seed ?? 0 });
    return { ...curve, policy: describePolicy(p).name };
  });
  const accesses = sampler.accesses;
  const shards = sampler.lruCurve(sizes).sample;
  if (flags.json)
    io.out(
      jsonText({
        file,
        format,
        accesses,
        footprint,
        estimated: true,
        coldFaults: sampler.lruCurve(sizes).coldFaults,
        curves,
      }),
    );
  else io.out(mrcTable(file, format, accesses, footprint, sizes, curves, shards));
  return writeFiles(
    file,
    accesses,
    footprint,
    sizes,
    curves,
    flags,
    io,
    `sampled at rate ${formatRate(shards.rate)}, `,
  );
}

function formatRate(rate: number): string {
  return rate >= 0.001 ? String(Number(rate.toPrecision(3))) : rate.toExponential(2);
}

/** The --table and --plot files. @returns 0, or 2 when one could not be written. */
async function writeFiles(
  file: string,
  accesses: number,
  footprint: number,
  sizes: readonly number[],
  curves: readonly MissRatioCurve[],
  flags: MrcFlags,
  io: Io,
  sampled: string,
): Promise<number> {
  const rows = curves.flatMap((c) =>
    c.sizes.map((frames, i) => ({
      policy: c.policy,
      frames,
      faults: c.faults[i]!,
      missRatio: c.accesses === 0 ? 0 : c.faults[i]! / c.accesses,
    })),
  );
  let status = EXIT_OK;
  if (flags.table !== undefined) {
    const csv = `policy,frames,faults,miss_ratio\n${rows.map((r) => `${r.policy},${r.frames},${r.faults},${r.missRatio}`).join('\n')}\n`;
    if (!writeOutput('--table', flags.table, csv, io)) status = EXIT_INPUT;
  }
  if (flags.plot !== undefined) {
    const points: ChartPoint[] = rows.map((r) => ({ x: r.frames, y: r.missRatio, series: r.policy }));
    const svg = await lineChartSvg({
      title: `miss-ratio curves: ${basename(file)} (${count(accesses)} accesses, ${sampled}footprint ${sampled ? '≈' : ''}${count(footprint)} pages)`,
      xLabel: 'frames',
      yLabel: 'miss ratio',
      points,
      ...(sizes.length > 1 && sizes.at(-1)! / sizes[0]! >= 16
        ? { xType: 'log' as const } // ticks at powers of two
        : { xIntegers: sizes.length <= 12 }),
    });
    try {
      await writeChartFile('--plot', flags.plot, svg);
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      io.err(`${e.format()}\n`);
      status = EXIT_INPUT;
    }
  }
  return status;
}

/** The curves as a table: faults and miss ratio per size and policy, the footprint above. */
function mrcTable(
  file: string,
  format: TraceFormat | null,
  accesses: number,
  footprint: number,
  sizes: readonly number[],
  curves: readonly MissRatioCurve[],
  sample: SampleInfo | null,
): string {
  const t = new Table({
    head: ['frames', ...curves.map((c) => `${c.policy} faults (miss ratio)`)],
    style: { head: [], border: [], compact: true },
    colAligns: ['right', ...curves.map(() => 'right' as const)],
  });
  sizes.forEach((s, i) => {
    t.push([
      count(s),
      ...curves.map((c) => `${count(c.faults[i]!)} (${percent(c.faults[i]! / Math.max(1, c.accesses), 3)})`),
    ]);
  });
  if (sample !== null) {
    const how = sample.mode === 'rate' ? 'fixed rate' : 'fixed size';
    return `${basename(file)} (${format ?? 'empty'}): ${count(accesses)} accesses, footprint ≈ ${count(footprint)} distinct pages; estimated from a sample (SHARDS ${how}, rate ${formatRate(sample.rate)}: ${count(sample.sampledPages)} pages, ${count(sample.sampledAccesses)} accesses), sizes under ${count(Math.ceil(1 / sample.rate))} frames not resolved\n${t.toString()}\n`;
  }
  return `${basename(file)} (${format ?? 'empty'}): ${count(accesses)} accesses, footprint ${count(footprint)} distinct pages: from ${count(footprint)} frames up, only the ${count(curves[0]?.coldFaults ?? footprint)} cold misses remain\n${t.toString()}\n`;
}

export const DEFAULT_THREADS = availableParallelism();
