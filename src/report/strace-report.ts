/**
 * What `vmscope strace` prints: the replay's summary (calls compared with Linux and how many agreed,
 * what was applied, tracked and skipped, by name), its divergences, the processes' /proc files at
 * their exit (or where the replay stopped), the JSON document, and the VmSize/VmRSS chart.
 */
import { grouped } from '../base/units.js';
import type { StraceProcess, StraceSummary } from '../sim/strace-model.js';
import { type ChartPoint, lineChartSvg } from './chart.js';
import { formatMaps, formatStatus } from './procfs.js';
import { formatSmaps } from './smaps.js';

export type StraceShow = 'maps' | 'status' | 'smaps';

/** The replay runs on an x86-64 machine. */
const REPLAY_PAGE_SIZE = 4096;

function plural(n: number, one: string, many = `${one}s`): string {
  return `${grouped(n)} ${n === 1 ? one : many}`;
}

function processState(p: StraceProcess): string {
  switch (p.state) {
    case 'exited':
      return `exited with ${p.exitCode}`;
    case 'killed':
      return `killed by ${p.signal}`;
    case 'running':
      return 'running';
    default:
      return 'not replayed (its memory is unknown)';
  }
}

/** The summary as text: counts, skipped calls by reason and name, processes, divergences. */
export function formatStraceSummary(s: StraceSummary): string {
  const lines: string[] = [];
  const diverged = s.syscalls - s.agree;
  lines.push(
    `replayed: ${plural(s.syscalls, 'call')} compared with Linux's results: ${grouped(s.agree)} agree, ${grouped(diverged)} diverge`,
  );
  if (s.signals.checked > 0)
    lines.push(
      `          (of them ${plural(s.signals.checked, 'fault')} the log shows as a signal, ${s.signals.agree} agree)`,
    );
  lines.push(
    `applied:  ${plural(s.applied, 'call')} with no result to compare (exit, exit_group, thread clones)`,
  );
  lines.push(
    `tracked:  ${plural(s.tracked, 'file call')} (open, close, dup, stat, write…: fds, paths and sizes, not compared)`,
  );
  const skippedTotal = s.skipped.reduce((n, k) => n + k.count, 0);
  lines.push(`skipped:  ${plural(skippedTotal, 'call')}`);
  const byWhy = new Map<string, string[]>();
  for (const k of s.skipped) {
    const list = byWhy.get(k.why) ?? [];
    list.push(`${k.name} ${k.count}`);
    byWhy.set(k.why, list);
  }
  for (const [why, names] of byWhy) lines.push(`  ${why}: ${names.join(', ')}`);
  lines.push('processes:');
  for (const p of s.processes) {
    const threads = p.tids.length > 1 ? ` (${p.tids.length} threads)` : '';
    lines.push(`  ${p.pid} ${p.name}${threads}: ${processState(p)}`);
  }
  if (s.stoppedAt !== null) lines.push(`stopped after line ${s.stoppedAt.line} (${s.stoppedAt.why})`);
  if (s.divergences.length > 0) {
    lines.push('divergences:');
    for (const d of s.divergences) {
      lines.push(`  line ${d.line} (pid ${d.pid}): ${d.call}`);
      lines.push(`    linux ${d.linux}, vmscope ${d.vmscope}`);
      if (d.note !== undefined) lines.push(`    (${d.note})`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** One process's /proc file, or a sentence saying why there is none. */
export function showText(p: StraceProcess, what: StraceShow): string {
  if (p.maps === null) return `(pid ${p.pid}: ${processState(p)})\n`;
  switch (what) {
    case 'maps':
      return formatMaps(p.maps);
    case 'status':
      return p.status === null ? '' : formatStatus(p.status);
    case 'smaps':
      return formatSmaps(p.smaps ?? [], REPLAY_PAGE_SIZE);
  }
}

/** The `--show` sections for the chosen processes, each under a `== pid N NAME: what` header. */
export function formatShows(s: StraceSummary, shows: readonly StraceShow[], pid: number | null): string {
  const when = s.stoppedAt === null ? 'at exit' : `after line ${s.stoppedAt.line}`;
  let out = '';
  for (const p of s.processes) {
    if (pid !== null && p.pid !== pid) continue;
    for (const what of shows) {
      const at = p.state === 'running' ? (s.stoppedAt === null ? 'at the end of the log' : when) : 'at exit';
      out += `== pid ${p.pid} ${p.name}: ${what} ${at}\n${showText(p, what)}`;
    }
  }
  return out;
}

/**
 * The JSON document: `syscalls`, `agree`, `divergences` [{line, pid, call, linux, vmscope}] with
 * addresses as hex strings, `processes` [{pid, name, state, maps (the /proc/PID/maps text), …}].
 */
export function straceJson(s: StraceSummary, shows: readonly StraceShow[], pid: number | null): unknown {
  return {
    log: s.file,
    syscalls: s.syscalls,
    agree: s.agree,
    divergences: s.divergences,
    applied: s.applied,
    tracked: s.tracked,
    skipped: s.skipped,
    signals: s.signals,
    stoppedAt: s.stoppedAt,
    warnings: s.warnings,
    processes: s.processes
      .filter((p) => pid === null || p.pid === pid)
      .map((p) => ({
        pid: p.pid,
        name: p.name,
        state: p.state,
        exitCode: p.exitCode,
        signal: p.signal,
        tids: p.tids,
        maps: p.maps === null ? null : formatMaps(p.maps),
        ...(shows.includes('status') ? { status: p.status } : {}),
        ...(shows.includes('smaps') && p.maps !== null
          ? { smaps: formatSmaps(p.smaps ?? [], REPLAY_PAGE_SIZE) }
          : {}),
      })),
  };
}

/** VmSize and VmRSS of each process over the log's calls, as an SVG chart. */
export function straceChartSvg(s: StraceSummary): Promise<string> {
  const points: ChartPoint[] = [];
  for (const x of s.samples) {
    points.push({ x: x.call, y: x.vmSize / 1024, series: `${x.pid} VmSize` });
    points.push({ x: x.call, y: x.vmRss / 1024, series: `${x.pid} VmRSS` });
  }
  return lineChartSvg({
    title: `VmSize and VmRSS over the log: ${s.file.split('/').slice(-2).join('/')}`,
    xLabel: 'replayed calls',
    yLabel: 'kB',
    points,
  });
}
