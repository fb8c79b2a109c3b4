/**
 * What `vmscope replay` prints: what was replayed and how (policy, frames, scope, allocation), the
 * totals as aligned fields, and one row per process — saying plainly when a process was killed
 * before the end of its trace, so that no figure passes for the whole trace when it is not.
 */
import Table from 'cli-table3';
import { bytes, count, counted, fields, percent } from './format.js';

/** One trace's process as the report shows it. */
export interface ReplayProcessRow {
  readonly name: string;
  /** Accesses replayed. */
  readonly accesses: number;
  /** Accesses in the whole trace (more than `accesses` when the process died first). */
  readonly traceAccesses: number;
  readonly faults: number;
  /** `finished` (its trace ran to the end), `killed`, or `running`. */
  readonly state: string;
  /** Why it died, in words. */
  readonly signal: string | null;
  readonly peakRssPages?: number;
  /** The format its trace was read as. */
  readonly format?: string;
}

/** The totals both modes report (the full system adds the rest). */
export interface ReplayTotals {
  readonly mode: 'full-system' | 'policy-only';
  readonly policy: string;
  readonly frames: number;
  readonly pageSize: number;
  readonly accesses: number;
  readonly hits: number;
  readonly faults: number;
  readonly hitRatio: number;
  readonly evictions: number;
  readonly writebacks: number;
  readonly processes: readonly ReplayProcessRow[];
  readonly complete: boolean;
  // full system
  readonly scope?: string;
  readonly allocation?: string;
  readonly swapBytes?: number;
  readonly tlbConfig?: { readonly entries: number; readonly ways: number };
  readonly minorFaults?: number;
  readonly majorFaults?: number;
  readonly tlb?: {
    readonly hits: number;
    readonly misses: number;
    readonly hitRatio: number;
    readonly walks: number;
    readonly pteReads: number;
  };
  readonly swapIns?: number;
  readonly oomKills?: number;
  // policy only
  readonly coldFaults?: number;
}

/** A process's fate in words: `killed by the OOM killer after 365,117 of 3,013,036 accesses`. */
export function processFate(p: ReplayProcessRow): string {
  if (p.state === 'killed') {
    const who = /out of memory/.test(p.signal ?? '') ? 'by the OOM killer' : `(${p.signal ?? 'a signal'})`;
    return `killed ${who} after ${count(p.accesses)} of ${counted(p.traceAccesses, 'access')}`;
  }
  return p.state === 'finished' ? 'finished: the whole trace replayed' : p.state;
}

/** The replay's report. */
export function formatReplay(s: ReplayTotals): string {
  const full = s.mode === 'full-system';
  const how = full
    ? `the whole system (x86-64, ${bytes(s.pageSize)} pages): ${s.policy}, ${counted(s.frames, 'frame')}, ${s.scope} replacement${s.scope === 'local' ? ` (${s.allocation} allocation)` : ''}, TLB ${s.tlbConfig!.entries} entries ${s.tlbConfig!.ways}-way, swap ${s.swapBytes ? bytes(s.swapBytes) : 'none'}`
    : `the policy alone (no MMU, TLB or page tables; ${bytes(s.pageSize)} pages): ${s.policy}, ${counted(s.frames, 'frame')}`;
  const rows: [string, string][] = [
    ['accesses', s.complete ? count(s.accesses) : `${count(s.accesses)} (not the whole trace: see below)`],
    ['hits', `${count(s.hits)} (${percent(s.hitRatio)})`],
    [
      'page faults',
      `${count(s.faults)}${full ? ` (${count(s.minorFaults!)} minor, ${count(s.majorFaults!)} major)` : ` (${count(s.coldFaults!)} cold)`}`,
    ],
  ];
  if (full) {
    const t = s.tlb!;
    rows.push(
      ['TLB hits', `${percent(t.hitRatio)} (${counted(t.misses, 'miss')})`],
      ['page walks', `${count(t.walks)} (${count(t.pteReads)} PTE reads)`],
    );
  }
  rows.push(['evictions', count(s.evictions)], ['dirty write-backs', count(s.writebacks)]);
  if (full) rows.push(['swap-ins', count(s.swapIns!)], ['OOM kills', count(s.oomKills!)]);
  let out = `replayed through ${how}\n${fields(rows)}`;
  const pt = new Table({
    head: ['process', 'accesses', 'faults', ...(full ? ['peak RSS'] : []), 'state'],
    style: { head: [], border: [], compact: true },
    colAligns: ['left', 'right', 'right', ...(full ? (['right'] as const) : []), 'left'],
  });
  for (const p of s.processes) {
    pt.push([
      p.format === undefined ? p.name : `${p.name} (${p.format})`,
      count(p.accesses),
      count(p.faults),
      ...(full ? [p.peakRssPages === undefined ? '-' : bytes(p.peakRssPages * s.pageSize)] : []),
      processFate(p),
    ]);
  }
  out += `${pt.toString()}\n`;
  return out;
}

/** One level of multiprogramming in the thrashing sweep. */
export interface MplPoint {
  readonly mpl: number;
  readonly accesses: number;
  readonly faults: number;
  readonly faultRate: number;
  /**
   * CPU utilization: each process is runnable a share u = a / (a + f × fault cost) of the time (a
   * accesses, f faults), and the CPU is busy while any is: 1 − Π(1 − u).
   */
  readonly utilization: number;
  /** Every process ran its trace to the end. */
  readonly complete: boolean;
}

/** The sweep as a table. */
export function formatSweep(points: readonly MplPoint[], faultCost: number): string {
  const t = new Table({
    head: [
      'processes',
      'accesses',
      'faults',
      'fault rate',
      `utilization (a fault = ${counted(faultCost, 'access')})`,
    ],
    style: { head: [], border: [], compact: true },
    colAligns: ['right', 'right', 'right', 'right', 'right'],
  });
  for (const p of points) {
    t.push([
      String(p.mpl),
      `${count(p.accesses)}${p.complete ? '' : ' *'}`,
      count(p.faults),
      percent(p.faultRate),
      percent(p.utilization),
    ]);
  }
  const note = points.some((p) => !p.complete)
    ? '* a process was killed before the end of its trace: the level covers only what ran\n'
    : '';
  return `${t.toString()}\n${note}`;
}
