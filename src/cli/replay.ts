/**
 * `vmscope replay FILE...`: memory traces through the whole system (MMU, TLB, page tables, faults,
 * reclaim, swap), or, with --policy-only, straight into the replacement policy.
 */
import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import cliProgress from 'cli-progress';
import Table from 'cli-table3';
import { InputError } from '../base/errors.js';
import { isPowerOfTwo } from '../base/units.js';
import { createPolicy, isPolicyName, type PolicyName, policyNames } from '../kernel/reclaim/registry.js';
import type { FrameAllocation, ReclaimScope } from '../kernel/reclaim.js';
import { type ChartPoint, lineChartSvg } from '../report/chart.js';
import { jsonText } from '../report/json.js';
import { CacheSim, NextUseBuilder, type NextUses } from '../sim/cachesim.js';
import { SystemReplay } from '../sim/replay.js';
import { suggest } from '../workload/scenario/parse.js';
import type { TraceFormat } from '../workload/trace/detect.js';
import { EXIT_OK, type Io } from './io.js';
import { interleave, PageStream } from './trace-input.js';

export interface ReplayFlags {
  readonly format: TraceFormat | 'auto';
  readonly policy: string;
  readonly frames: number;
  readonly tlb: string;
  readonly pageSize: number;
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
}

/** Keeps page ids of different traces apart in one policy-only stream. */
const PROCESS_SPAN = 2 ** 36;

export function checkPolicy(name: string): PolicyName {
  if (isPolicyName(name)) return name;
  const hint = suggest(name, policyNames);
  throw new InputError(
    'flag',
    `unknown policy '${name}' (one of ${policyNames.join(', ')})`,
    { file: '--policy' },
    hint && `did you mean '${hint}'?`,
  );
}

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
  readonly stats: Record<string, unknown> & { accesses: number; hits: number; faults: number };
  readonly chart: ChartPoint[];
}

/** Pass 1 for oracles: the next use of every access of the interleaved stream. */
async function nextUses(files: readonly string[], flags: ReplayFlags): Promise<NextUses> {
  const streams = files.map((f) => new PageStream(f, flags.format, flags.pageSize));
  const builder = new NextUseBuilder();
  const ids = new Float64Array(flags.quantum);
  await interleave(streams, flags.quantum, (p, pages, _w, count) => {
    for (let i = 0; i < count; i++) ids[i] = pages[i]! + p * PROCESS_SPAN;
    builder.push(ids, count);
    return true;
  });
  return builder.finish();
}

function progressBar(streams: readonly PageStream[], io: Io): { tick(): void; stop(): void } {
  const total = streams.reduce((s, x) => s + x.sizeBytes, 0);
  if (!io.isTTY || total === 0) return { tick() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      format: 'replay [{bar}] {percentage}% | {value}/{total} MB read | {accesses} accesses',
      hideCursor: true,
      stream: process.stderr,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(Math.ceil(total / 1e6), 0, { accesses: 0 });
  let last = 0;
  return {
    tick() {
      const now = Date.now();
      if (now - last < 200) return;
      last = now;
      bar.update(Math.floor(streams.reduce((s, x) => s + x.progress.bytes, 0) / 1e6), {
        accesses: streams.reduce((s, x) => s + x.records, 0),
      });
    },
    stop() {
      bar.stop();
    },
  };
}

async function policyOnly(
  files: readonly string[],
  policy: PolicyName,
  flags: ReplayFlags,
  io: Io,
): Promise<ReplayReport> {
  const sim = new CacheSim(createPolicy(policy, flags.frames, { seed: flags.seed }));
  if (sim.policy.needsFuture) sim.setFuture(await nextUses(files, flags));
  const streams = files.map((f) => new PageStream(f, flags.format, flags.pageSize));
  const perProcess = files.map(() => ({ accesses: 0, faults: 0 }));
  const ids = new Float64Array(flags.quantum);
  const chart: ChartPoint[] = [];
  let nextPoint = 0;
  const bar = progressBar(streams, io);
  await interleave(streams, flags.quantum, (p, pages, writes, count) => {
    const before = sim.faults;
    if (files.length === 1) sim.run(pages, writes, count);
    else {
      for (let i = 0; i < count; i++) ids[i] = pages[i]! + p * PROCESS_SPAN;
      sim.run(ids, writes, count);
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
    mode: 'policy-only',
    policy,
    frames: flags.frames,
    pageSize: flags.pageSize,
    accesses: sim.now,
    hits: sim.hits,
    faults: sim.faults,
    hitRatio: sim.now === 0 ? 0 : sim.hits / sim.now,
    coldFaults: sim.coldFaults,
    evictions: sim.evictions,
    writebacks: sim.writebacks,
    processes: files.map((f, i) => ({
      name: basename(f),
      file: f,
      ...perProcess[i]!,
      format: streams[i]!.format,
    })),
  };
  return { stats, chart };
}

async function fullSystem(
  files: readonly string[],
  policy: PolicyName,
  flags: ReplayFlags,
  io: Io,
): Promise<ReplayReport> {
  if (flags.pageSize !== 4096) {
    throw new InputError(
      'flag',
      'the full system replays on x86-64 with 4096-byte pages; other page sizes need --policy-only',
      {
        file: '--page-size',
      },
    );
  }
  const tlb = parseTlb(flags.tlb);
  const future = createPolicy(policy, 1, {}).needsFuture ? await nextUses(files, flags) : null;
  const streams = files.map((f) => new PageStream(f, flags.format, flags.pageSize));
  // A first read tells each file's format, which decides how page ids become addresses.
  await Promise.all(streams.map((s) => s.fill(1)));
  const addressing = streams.every((s) => s.format === 'lackey') ? 'addresses' : 'ids';
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
  let t = 0;
  await interleave(streams, flags.quantum, (p, pages, writes, count) => {
    const ran = replay.run(p, pages, writes, count, future, t);
    t += count;
    bar.tick();
    return ran === count;
  });
  bar.stop();
  const stats = replay.stats();
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
      tlbConfig: tlb,
      processes: stats.processes.map((p, i) => ({ ...p, file: files[i], format: streams[i]!.format })),
    },
    chart,
  };
}

function pct(x: number): string {
  return `${(x * 100).toFixed(2)}%`;
}

function formatTable(stats: ReplayReport['stats']): string {
  const s = stats as Record<string, unknown> & {
    accesses: number;
    hits: number;
    faults: number;
    hitRatio: number;
    processes: Record<string, unknown>[];
  };
  const t = new Table({ head: ['', 'value'], style: { head: [], border: [], compact: true } });
  const rows: [string, string][] = [
    ['mode', String(s['mode'])],
    ['policy', String(s['policy'])],
    ['frames', String(s['frames'])],
    ['accesses', s.accesses.toLocaleString('en-US')],
    ['hits', s.hits.toLocaleString('en-US')],
    ['page faults', s.faults.toLocaleString('en-US')],
    ['hit ratio', pct(s.hitRatio)],
  ];
  if (s['mode'] === 'full-system') {
    const tlb = s['tlb'] as {
      hits: number;
      misses: number;
      hitRatio: number;
      walks: number;
      pteReads: number;
    };
    rows.push(
      ['  minor / major', `${String(s['minorFaults'])} / ${String(s['majorFaults'])}`],
      ['TLB hit ratio', `${pct(tlb.hitRatio)} (${tlb.misses.toLocaleString('en-US')} misses)`],
      [
        'page walks',
        `${tlb.walks.toLocaleString('en-US')} (${tlb.pteReads.toLocaleString('en-US')} PTE reads)`,
      ],
      ['evictions', String(s['evictions'])],
      ['dirty write-backs', String(s['writebacks'])],
      ['swap-ins', String(s['swapIns'])],
    );
  } else {
    rows.push(
      ['cold faults', String(s['coldFaults'])],
      ['evictions', String(s['evictions'])],
      ['dirty write-backs', String(s['writebacks'])],
    );
  }
  for (const r of rows) t.push(r);
  let out = `${t.toString()}\n`;
  if (s.processes.length > 1 || s['mode'] === 'full-system') {
    const pt = new Table({
      head: ['process', 'accesses', 'faults', 'peak RSS', 'state'],
      style: { head: [], border: [], compact: true },
    });
    for (const p of s.processes) {
      const peak =
        p['peakRssPages'] === undefined
          ? '-'
          : `${((p['peakRssPages'] as number) * 4).toLocaleString('en-US')} kB`;
      pt.push([
        String(p['name']),
        String(p['accesses']),
        String(p['faults']),
        peak,
        String(p['state'] ?? '-'),
      ]);
    }
    out += `${pt.toString()}\n`;
  }
  return out;
}

/** One level of multiprogramming in the thrashing sweep. */
interface MplPoint {
  readonly mpl: number;
  readonly accesses: number;
  readonly faults: number;
  readonly faultRate: number;
  /**
   * CPU utilization: each process is runnable a share u = a / (a + f × fault cost) of the time (a
   * accesses, f faults), and the CPU is busy while any is: 1 − Π(1 − u).
   */
  readonly utilization: number;
}

/** Thrashing shown: the same traces at rising multiprogramming levels on the same frames. */
async function sweepMpl(
  files: readonly string[],
  policy: PolicyName,
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
    for (const p of stats['processes'] as { accesses: number; faults: number }[]) {
      if (p.accesses > 0) idle *= 1 - p.accesses / (p.accesses + p.faults * flags.faultCost);
    }
    points.push({ mpl, accesses: stats.accesses, faults: stats.faults, faultRate, utilization: 1 - idle });
  }
  return points;
}

function formatSweep(points: readonly MplPoint[], flags: ReplayFlags): string {
  const t = new Table({
    head: [
      'processes',
      'accesses',
      'faults',
      'fault rate',
      `utilization (fault = ${flags.faultCost} accesses)`,
    ],
    style: { head: [], border: [], compact: true },
  });
  for (const p of points) {
    t.push([
      String(p.mpl),
      p.accesses.toLocaleString('en-US'),
      p.faults.toLocaleString('en-US'),
      pct(p.faultRate),
      pct(p.utilization),
    ]);
  }
  return `${t.toString()}\n`;
}

export async function runReplay(files: readonly string[], flags: ReplayFlags, io: Io): Promise<number> {
  const policy = checkPolicy(flags.policy);
  if (!Number.isSafeInteger(flags.frames) || flags.frames < 1) {
    throw new InputError('flag', `--frames must be a positive number, got ${flags.frames}`, {
      file: '--frames',
    });
  }
  if (!isPowerOfTwo(flags.pageSize))
    throw new InputError('flag', `--page-size must be a power of two, got ${flags.pageSize}`, {
      file: '--page-size',
    });
  if (flags.quantum < 1) throw new InputError('flag', '--quantum must be at least 1', { file: '--quantum' });
  if (flags.policyOnly && flags.scope === 'local') {
    throw new InputError('flag', 'local replacement needs the full system: drop --policy-only', {
      file: '--scope',
    });
  }
  if (flags.sweepMpl) {
    const points = await sweepMpl(files, policy, flags, io);
    if (flags.plot) {
      const chart: ChartPoint[] = points.flatMap((p) => [
        { x: p.mpl, y: p.faultRate * 100, series: 'fault rate %' },
        { x: p.mpl, y: p.utilization * 100, series: 'utilization %' },
      ]);
      writeFileSync(
        flags.plot,
        lineChartSvg({
          title: `thrashing: ${policy}, ${flags.frames} frames`,
          xLabel: 'processes',
          yLabel: '%',
          points: chart,
        }),
      );
    }
    io.out(flags.json ? jsonText(points) : formatSweep(points, flags));
    return EXIT_OK;
  }
  const report = flags.policyOnly
    ? await policyOnly(files, policy, flags, io)
    : await fullSystem(files, policy, flags, io);
  if (flags.plot) {
    const title = flags.policyOnly
      ? `faults over time: ${policy}, ${flags.frames} frames`
      : `RSS over time: ${policy}, ${flags.frames} frames`;
    writeFileSync(
      flags.plot,
      lineChartSvg({
        title,
        xLabel: 'accesses',
        yLabel: flags.policyOnly ? 'faults' : 'kB',
        points: report.chart,
      }),
    );
  }
  io.out(flags.json ? jsonText(report.stats) : formatTable(report.stats));
  return EXIT_OK;
}
