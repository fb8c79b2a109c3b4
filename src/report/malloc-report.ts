/**
 * What `vmscope malloc` prints: one row per (allocator, trace) replay as a terminal table or JSON, and
 * a chart of heap extent against live bytes over the run as a standalone SVG (Observable Plot on
 * linkedom's DOM: no browser).
 */
import * as Plot from '@observablehq/plot';
import Table from 'cli-table3';
import { parseHTML } from 'linkedom';
import { SIGNAL_NAMES } from '../kernel/errno.js';
import type { ReplayResult } from '../user/replay.js';

/** Bytes the way people read them: `812 B`, `13.4 KiB`, `9.46 MiB`. */
export function humanBytes(n: number | null): string {
  if (n === null) return '-';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${units[i]}`;
}

function rate(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M/s`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k/s`;
  return `${n} /s`;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** How a replay ended: ok, the program's death, or a failed heap check. */
export function outcome(r: ReplayResult): string {
  if (r.checkFailure) return `check failed after op ${r.checkFailure.op}: ${r.checkFailure.problems[0]}`;
  if (r.died)
    return `${SIGNAL_NAMES[r.died.signal] ?? `signal ${r.died.signal}`} after op ${r.died.op}: ${r.died.reason}`;
  return 'ok';
}

/** The table shown on a terminal. */
export function mallocTable(results: readonly ReplayResult[]): string {
  const glibc = results.some((r) => r.glibc !== null);
  const head = [
    'allocator',
    'trace',
    'ops',
    'util',
    'int frag',
    'ext frag',
    'largest free',
    'brk',
    'mmap',
    'VmRSS peak/end',
    'VmData peak/end',
    'ops/s',
    ...(glibc ? ['glibc addr'] : []),
    'outcome',
  ];
  const table = new Table({ head, style: { head: [], border: [] } });
  for (const r of results) {
    table.push([
      r.allocator,
      r.trace,
      String(r.ops),
      r.utilization.toFixed(3),
      pct(r.internalFragmentation),
      pct(r.externalFragmentation),
      humanBytes(r.largestFreeBytes),
      String(r.brkCalls),
      `${r.mmapCalls}/${r.munmapCalls}`,
      `${humanBytes(r.vmPeak.VmRSS)} / ${humanBytes(r.vmEnd.VmRSS)}`,
      `${humanBytes(r.vmPeak.VmData)} / ${humanBytes(r.vmEnd.VmData)}`,
      rate(r.opsPerSecond),
      ...(glibc ? [r.glibc ? pct(r.glibc.matched / r.glibc.compared) : '-'] : []),
      outcome(r),
    ]);
  }
  return `${table.toString()}\n`;
}

/** The JSON document: one object per (allocator, trace), the time series included. */
export function mallocJson(results: readonly ReplayResult[]): object[] {
  return results.map((r) => ({ ...r, outcome: outcome(r) }));
}

interface Row {
  readonly op: number;
  readonly bytes: number;
  readonly series: string;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
const PANEL_WIDTH = 820;
const PANEL_HEIGHT = 300;
const LEGEND_WIDTH = 150;

/**
 * One panel per trace: the heap extent of each allocator and the live bytes (dashed) over the
 * operations, with a legend in the right margin. @returns an SVG document.
 */
export function mallocChartSvg(results: readonly ReplayResult[]): string {
  const { document } = parseHTML('<!doctype html><html><body></body></html>');
  const traces = [...new Set(results.map((r) => r.trace))];
  const allocators = [...new Set(results.map((r) => r.allocator))];
  const outer = document.createElementNS(SVG_NS, 'svg');
  outer.setAttribute('xmlns', SVG_NS);
  outer.setAttribute('width', String(PANEL_WIDTH));
  outer.setAttribute('height', String(PANEL_HEIGHT * traces.length));
  outer.setAttribute('viewBox', `0 0 ${PANEL_WIDTH} ${PANEL_HEIGHT * traces.length}`);
  traces.forEach((trace, i) => {
    const runs = results.filter((r) => r.trace === trace);
    const extent: Row[] = runs.flatMap((r) =>
      r.series.map((p) => ({ op: p.op, bytes: p.extentBytes, series: r.allocator })),
    );
    const live: Row[] = (runs[0]?.series ?? []).map((p) => ({
      op: p.op,
      bytes: p.liveBytes,
      series: 'live bytes',
    }));
    const el = Plot.plot({
      document: document as unknown as Plot.PlotOptions['document'],
      width: PANEL_WIDTH,
      height: PANEL_HEIGHT,
      marginLeft: 70,
      marginRight: LEGEND_WIDTH,
      marginTop: 34,
      style: { fontFamily: 'DejaVu Sans, sans-serif', fontSize: '11px', background: 'white', color: 'black' },
      x: { label: 'operations →', grid: true },
      y: { label: '↑ MiB', grid: true, transform: (bytes: number) => bytes / 2 ** 20 },
      color: { domain: allocators, scheme: 'tableau10' },
      marks: [
        Plot.ruleY([0]),
        Plot.lineY(extent, { x: 'op', y: 'bytes', z: 'series', stroke: 'series', strokeWidth: 1.4 }),
        Plot.lineY(live, { x: 'op', y: 'bytes', stroke: 'black', strokeDasharray: '4,3', strokeWidth: 1.4 }),
        Plot.text([`${trace}: heap extent per allocator, and live bytes`], {
          frameAnchor: 'top-left',
          dy: -22,
          fontSize: 13,
          fontWeight: 'bold',
        }),
      ],
    });
    const svg = el.tagName.toLowerCase() === 'svg' ? el : el.querySelector('svg')!;
    const colors =
      (el as unknown as { scale(name: string): { range?: readonly string[] } }).scale('color').range ?? [];
    const legend = document.createElementNS(SVG_NS, 'g');
    legend.setAttribute('transform', `translate(${PANEL_WIDTH - LEGEND_WIDTH + 16}, 40)`);
    const entries = [
      ...runs.map((r) => [
        r.allocator,
        colors[allocators.indexOf(r.allocator) % colors.length] ?? 'gray',
        '',
      ]),
      ['live bytes', 'black', '4,3'],
    ];
    entries.forEach(([name, color, dash], j) => {
      const line = document.createElementNS(SVG_NS, 'line');
      for (const [k, v] of [
        ['x1', '0'],
        ['x2', '18'],
        ['y1', String(j * 16)],
        ['y2', String(j * 16)],
        ['stroke', color!],
        ['stroke-width', '2'],
      ])
        line.setAttribute(k!, v!);
      if (dash) line.setAttribute('stroke-dasharray', dash);
      const text = document.createElementNS(SVG_NS, 'text');
      text.setAttribute('x', '24');
      text.setAttribute('text-anchor', 'start');
      text.setAttribute('y', String(j * 16 + 4));
      text.textContent = name!;
      legend.appendChild(line);
      legend.appendChild(text);
    });
    svg.appendChild(legend);
    svg.setAttribute('y', String(i * PANEL_HEIGHT));
    outer.appendChild(svg);
  });
  return `${outer.outerHTML}\n`;
}
