/**
 * `vmscope replay FILE...`: memory traces through the whole system (MMU, TLB, page tables, faults,
 * reclaim, swap), or, with --policy-only, straight into the replacement policy.
 */
import { basename } from 'node:path';
import { InputError } from '../base/errors.js';
import { isPowerOfTwo } from '../base/units.js';
import { createPolicy, describePolicy, policyNeedsFuture } from '../kernel/reclaim/registry.js';
import type { FrameAllocation, ReclaimScope } from '../kernel/reclaim.js';
import { type ChartPoint, lineChartSvg } from '../report/chart.js';
import { count } from '../report/format.js';
import { jsonText } from '../report/json.js';
import {
  formatReplay,
  formatSweep,
  type MplPoint,
  processFate,
  type ReplayTotals,
} from '../report/replay-report.js';
import { CacheSim } from '../sim/cachesim.js';
import { SystemReplay } from '../sim/replay.js';
import type { CsvSpec } from '../workload/trace/csv.js';
import type { TraceFormat } from '../workload/trace/detect.js';
import { EXIT_FAILED, EXIT_INPUT, EXIT_OK, type Io } from './io.js';
import { warn } from './options.js';
import { checkOutputPath, writeOutput } from './output.js';
import { loadPolicy } from './plugins.js';
import { terminalBar } from './progress.js';
import { decodeOptions, traceFormatOf } from './trace-formats.js';
import { FutureSpill } from './trace-future.js';
import { interleave, openPageStream, type PageSource, type StreamInfo } from './trace-input.js';

export interface ReplayFlags {
  readonly format: TraceFormat | 'auto';
  /** The columns of a CSV trace (`--csv`; implies `format` csv). */
  readonly columns?: CsvSpec;
  readonly policy: string;
  readonly frames: number;
  readonly tlb: string;
  /** Unset: a vmscope trace's own, else 4096. */
  readonly pageSize?: number;
  /** 2 or more: traces are read and decoded by worker threads ahead of the simulation. */
  readonly threads: number;
  readonly policyOnly: boolean;
  readonly json: boolean;
  readonly plot?: string;
  readonly quantum: number;
  readonly swapBytes: number;
  readonly seed: number;
  readonly scope: ReclaimScope;
  readonly allocation: FrameAllocation;
  /** Replay the first 1, 2, … N files and report fault rate and utilization per level. */
  readonly sweepMpl: boolean;
  /** What a page fault costs, in accesses (for the utilization of the MPL sweep). */
  readonly faultCost: number;
  /** --seed was given (a warning when the policy draws no random numbers). */
  readonly seedGiven?: boolean;
}

/** Policies that draw random numbers (the others ignore --seed). */
const SEEDED_POLICIES: readonly string[] = ['random', 'ostep-rand', 'ostep-clock'];

/** Keeps page ids of different traces apart in one policy-only stream. */
const PROCESS_SPAN = 2 ** 36;

export function parseTlb(text: string): { entries: number; ways: number } {
  const m = /^([0-9]+)(?:\/([0-9]+))?$/.exec(text);
  const entries = m ? Number(m[1]) : Number.NaN;
  const ways = m?.[2] ? Number(m[2]) : entries;
  if (!m || entries <= 0 || ways <= 0 || entries % ways !== 0 || !isPowerOfTwo(entries / ways)) {
    throw new InputError(
      'flag',
      `expected --tlb ENTRIES[/WAYS] with entries/ways a power of two, got '${text}'`,
      { file: '--tlb' },
    );
  }
  return { entries, ways };
}

interface ReplayReport {
  readonly stats: ReplayTotals & Record<string, unknown>;
  readonly chart: ChartPoint[];
}

type Visit = (
  p: number,
  pages: Float64Array,
  writes: Uint8Array,
  count: number,
  next: Float64Array | null,
) => boolean;

/** Opens every file (decoded ahead by worker threads with --threads 2 or more) and reads its head. */
async function openStreams(files: readonly string[], flags: ReplayFlags): Promise<PageSource[]> {
  const options = decodeOptions(flags.pageSize, flags.columns);
  const streams: PageSource[] = [];
  try {
    for (const f of files)
      streams.push(
        openPageStream(f, flags.format, options, { threads: flags.threads, minCapacity: flags.quantum }),
      );
    await Promise.all(streams.map((s) => s.fill(1)));
  } catch (e) {
    await closeAll(streams);
    throw e;
  }
  return streams;
}

async function closeAll(streams: readonly PageSource[]): Promise<void> {
  await Promise.all(streams.map((s) => s.close()));
}

/**
 * Runs the streams through `visit` in their round robin. With `withFuture`, each access comes with
 * its next use: from the trace itself when a single trace carries them (oracleGeneral), otherwise
 * computed from a copy of the interleaved stream on disk (trace-future.ts), in flat memory.
 */
async function drive(
  streams: readonly PageSource[],
  flags: ReplayFlags,
  withFuture: boolean,
  visit: Visit,
): Promise<void> {
  try {
    if (!withFuture || (streams.length === 1 && streams[0]!.info!.hasFuture)) {
      await interleave(
        streams,
        flags.quantum,
        withFuture ? visit : (p, pages, writes, count) => visit(p, pages, writes, count, null),
      );
      return;
    }
    const first = streams[0]!.info!;
    // One trace may be read again beside its next uses instead of copied (trace-future.ts).
    const one =
      streams.length === 1
        ? {
            path: streams[0]!.path,
            format: flags.format,
            options: decodeOptions(flags.pageSize, flags.columns),
          }
        : null;
    const spill = new FutureSpill(
      {
        addressing: streams.every((s) => s.info!.addressing === 'addresses') ? 'addresses' : 'ids',
        pageSize: first.pageSize,
      },
      PROCESS_SPAN,
      one,
    );
    try {
      await interleave(streams, flags.quantum, (p, pages, writes, count) => {
        spill.push(p, pages, writes, count);
        return true;
      });
      await closeAll(streams);
      spill.computeNextUses();
      const source = spill.open(flags.threads, flags.quantum);
      try {
        await spill.replay(source, flags.quantum, visit);
      } finally {
        await source.close();
      }
    } finally {
      spill.dispose();
    }
  } finally {
    await closeAll(streams);
  }
}

function progressBar(streams: readonly PageSource[], io: Io): { tick(): void; stop(): void } {
  const total = streams.reduce((s, x) => s + x.sizeBytes, 0);
  const bar = terminalBar(
    io,
    'replay [{bar}] {percentage}% | {value}/{total} MB read | {accesses} accesses',
    Math.ceil(total / 1e6),
    { accesses: 0 },
  );
  if (bar === null) return { tick() {}, stop() {} };
  let last = 0;
  return {
    tick() {
      const now = Date.now();
      if (now - last < 200) return;
      last = now;
      bar.update(Math.floor(streams.reduce((s, x) => s + x.bytesRead, 0) / 1e6), {
        accesses: count(streams.reduce((s, x) => s + x.records, 0)),
      });
    },
    stop() {
      bar.stop();
    },
  };
}

async function policyOnly(
  files: readonly string[],
  policy: string,
  flags: ReplayFlags,
  io: Io,
): Promise<ReplayReport> {
  const sim = new CacheSim(createPolicy(policy, flags.frames, { seed: flags.seed }));
  const streams = await openStreams(files, flags);
  const infos = streams.map((s) => s.info!);
  const perProcess = files.map(() => ({ accesses: 0, faults: 0 }));
  const ids = new Float64Array(flags.quantum);
  const chart: ChartPoint[] = [];
  let nextPoint = 0;
  const bar = progressBar(streams, io);
  await drive(streams, flags, sim.policy.needsFuture, (p, pages, writes, count, next) => {
    const before = sim.faults;
    if (files.length === 1) sim.run(pages, writes, count, next);
    else {
      for (let i = 0; i < count; i++) ids[i] = pages[i]! + p * PROCESS_SPAN;
      sim.run(ids, writes, count, next);
    }
    perProcess[p]!.accesses += count;
    perProcess[p]!.faults += sim.faults - before;
    if (sim.now >= nextPoint) {
      chart.push({ x: sim.now, y: sim.faults, series: 'faults' });
      nextPoint = sim.now + Math.max(flags.quantum, Math.floor(sim.now / 500));
    }
    bar.tick();
    return true;
  });
  bar.stop();
  chart.push({ x: sim.now, y: sim.faults, series: 'faults' });
  const stats = {
    mode: 'policy-only' as const,
    policy: sim.policy.name,
    frames: flags.frames,
    pageSize: infos[0]!.pageSize,
    accesses: sim.now,
    hits: sim.hits,
    faults: sim.faults,
    hitRatio: sim.now === 0 ? 0 : sim.hits / sim.now,
    coldFaults: sim.coldFaults,
    evictions: sim.evictions,
    writebacks: sim.writebacks,
    complete: true,
    processes: files.map((f, i) => ({
      name: basename(f),
      file: f,
      ...perProcess[i]!,
      traceAccesses: perProcess[i]!.accesses,
      state: 'finished',
      signal: null,
      format: infos[i]!.format,
    })),
  };
  return { stats, chart };
}

/** The full system runs x86-64 with 4096-byte pages: traces of addresses must be in those pages. */
function checkFullSystemPages(
  files: readonly string[],
  infos: readonly StreamInfo[],
  flags: ReplayFlags,
): void {
  if (flags.pageSize !== undefined && flags.pageSize !== 4096) {
    throw new InputError(
      'flag',
      'the full system replays on x86-64 with 4096-byte pages; other page sizes need --policy-only',
      { file: '--page-size' },
    );
  }
  infos.forEach((info, i) => {
    if (info.addressing === 'addresses' && info.pageSize !== 4096) {
      throw new InputError(
        'trace',
        `its pages are ${info.pageSize} bytes; the full system replays x86-64's 4096-byte pages (use --policy-only)`,
        { file: files[i]! },
      );
    }
  });
}

async function fullSystem(
  files: readonly string[],
  policy: string,
  flags: ReplayFlags,
  io: Io,
): Promise<ReplayReport> {
  if (flags.pageSize !== undefined) checkFullSystemPages(files, [], flags);
  const tlb = parseTlb(flags.tlb);
  const streams = await openStreams(files, flags);
  const infos = streams.map((s) => s.info!);
  try {
    checkFullSystemPages(files, infos, flags);
  } catch (e) {
    await closeAll(streams);
    throw e;
  }
  // Each file's format decides how page ids become addresses.
  const addressing = infos.every((i) => i.addressing === 'addresses') ? 'addresses' : 'ids';
  const replay = new SystemReplay({
    frames: flags.frames,
    policy,
    policyOptions: { seed: flags.seed },
    tlbEntries: tlb.entries,
    tlbWays: tlb.ways,
    swapBytes: flags.swapBytes,
    names: files.map((f) => basename(f)),
    addressing,
    scope: flags.scope,
    allocation: flags.allocation,
  });
  const bar = progressBar(streams, io);
  // Every access of every trace is counted, also those a killed process never ran, so that the
  // report can say how much of each trace it covers.
  const traceAccesses = files.map(() => 0);
  await drive(streams, flags, policyNeedsFuture(policy), (p, pages, writes, count, next) => {
    if (replay.alive(p)) replay.run(p, pages, writes, count, next);
    traceAccesses[p]! += count;
    bar.tick();
    return true;
  });
  bar.stop();
  const stats = replay.stats();
  const processes = stats.processes.map((p, i) => ({
    ...p,
    traceAccesses: traceAccesses[i]!,
    state: p.state === 'running' && p.accesses === traceAccesses[i] ? 'finished' : p.state,
    file: files[i],
    format: infos[i]!.format,
  }));
  const chart: ChartPoint[] = [];
  for (const s of replay.samples) {
    s.rss.forEach((rss, i) => {
      chart.push({ x: s.t, y: (rss * 4096) / 1024, series: `RSS ${replay.procs[i]!.name}` });
    });
  }
  return {
    stats: {
      ...stats,
      pageSize: 4096,
      scope: flags.scope,
      allocation: flags.allocation,
      swapBytes: flags.swapBytes,
      tlbConfig: tlb,
      complete: processes.every((p) => p.state === 'finished'),
      processes,
    },
    chart,
  };
}

/** Thrashing shown: the same traces at rising multiprogramming levels on the same frames. */
async function sweepMpl(
  files: readonly string[],
  policy: string,
  flags: ReplayFlags,
  io: Io,
): Promise<MplPoint[]> {
  const points: MplPoint[] = [];
  for (let mpl = 1; mpl <= files.length; mpl++) {
    const subset = files.slice(0, mpl);
    const { stats } = flags.policyOnly
      ? await policyOnly(subset, policy, flags, io)
      : await fullSystem(subset, policy, flags, io);
    const faultRate = stats.accesses === 0 ? 0 : stats.faults / stats.accesses;
    let idle = 1;
    for (const p of stats.processes) {
      if (p.accesses > 0) idle *= 1 - p.accesses / (p.accesses + p.faults * flags.faultCost);
    }
    points.push({
      mpl,
      accesses: stats.accesses,
      faults: stats.faults,
      faultRate,
      utilization: 1 - idle,
      complete: stats.complete,
    });
  }
  return points;
}

/**
 * Runs the command: checks every flag and the output path first, replays, prints the report (and
 * then writes the chart). @returns 0 when every trace ran to its end, 1 when a process was killed
 * first (it says so on stderr), 2 when the chart could not be written.
 */
export async function runReplay(files: readonly string[], flags: ReplayFlags, io: Io): Promise<number> {
  flags = { ...flags, format: traceFormatOf(flags.format, flags.columns) };
  const policy = await loadPolicy(flags.policy, process.cwd(), { file: '--policy' });
  const policyName = describePolicy(policy).name;
  if (!Number.isSafeInteger(flags.frames) || flags.frames < 1) {
    throw new InputError('flag', `--frames must be a positive number, got ${flags.frames}`, {
      file: '--frames',
    });
  }
  if (flags.pageSize !== undefined && !isPowerOfTwo(flags.pageSize))
    throw new InputError('flag', `--page-size must be a power of two, got ${flags.pageSize}`, {
      file: '--page-size',
    });
  if (!Number.isSafeInteger(flags.threads) || flags.threads < 1)
    throw new InputError('flag', `--threads must be 1 or more, got ${flags.threads}`, { file: '--threads' });
  if (flags.quantum < 1) throw new InputError('flag', '--quantum must be at least 1', { file: '--quantum' });
  if (flags.policyOnly && flags.scope === 'local') {
    throw new InputError('flag', 'local replacement needs the full system: drop --policy-only', {
      file: '--scope',
    });
  }
  if (!flags.policyOnly) parseTlb(flags.tlb);
  if (flags.plot !== undefined) checkOutputPath('--plot', flags.plot);
  // A plug-in may use options.seed: only built-ins are known not to.
  if (flags.seedGiven && !SEEDED_POLICIES.includes(policy) && describePolicy(policy).file === null)
    warn(io, 'replay', `--seed does nothing with ${policy}: it draws no random numbers`);
  if (flags.sweepMpl) {
    const points = await sweepMpl(files, policy, flags, io);
    io.out(flags.json ? jsonText(points) : formatSweep(points, flags.faultCost));
    if (flags.plot) {
      const chart: ChartPoint[] = points.flatMap((p) => [
        { x: p.mpl, y: p.faultRate * 100, series: 'fault rate %' },
        { x: p.mpl, y: p.utilization * 100, series: 'utilization %' },
      ]);
      const svg = await lineChartSvg({
        title: `thrashing: ${policyName}, ${flags.frames} frames`,
        xLabel: 'processes',
        yLabel: '%',
        points: chart,
        xIntegers: true,
      });
      if (!writeOutput('--plot', flags.plot, svg, io)) return EXIT_INPUT;
    }
    return points.every((p) => p.complete) ? EXIT_OK : EXIT_FAILED;
  }
  const report = flags.policyOnly
    ? await policyOnly(files, policy, flags, io)
    : await fullSystem(files, policy, flags, io);
  io.out(flags.json ? jsonText(report.stats) : formatReplay(report.stats));
  for (const p of report.stats.processes)
    if (p.state !== 'finished')
      io.err(`vmscope replay: ${p.name} was ${processFate(p)}; the figures cover only what ran\n`);
  if (flags.plot) {
    const title = flags.policyOnly
      ? `faults over time: ${policyName}, ${flags.frames} frames`
      : `RSS over time: ${policyName}, ${flags.frames} frames`;
    const svg = await lineChartSvg({
      title,
      xLabel: 'accesses',
      yLabel: flags.policyOnly ? 'faults' : 'kB',
      points: report.chart,
    });
    if (!writeOutput('--plot', flags.plot, svg, io)) return EXIT_INPUT;
  }
  return report.stats.complete ? EXIT_OK : EXIT_FAILED;
}
