/**
 * What `vmscope malloc` prints: one row per (allocator, trace) replay as a terminal table or JSON, and
 * a chart of heap extent against live bytes over the run as a standalone SVG (Observable Plot on
 * linkedom's DOM: no browser).
 */
import type * as PlotModule from '@observablehq/plot';
import Table from 'cli-table3';
import { SIGNAL_NAMES } from '../kernel/errno.js';
import type { ReplayResult } from '../user/replay.js';
import { appendLegend, chartKit, LEGEND_WIDTH, seriesColors } from './chart.js';
import { bytes, count, fields, percent } from './format.js';
import { outcome } from './malloc-outcome.js';

export { outcome };

function rate(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M/s`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k/s`;
  return `${n} /s`;
}

const pct = (x: number) => percent(x, 1);

/** The outcome in a table cell: `ok`, `SIGABRT`, `NULL ×2`, with the full story in a note. */
function shortOutcome(r: ReplayResult): string {
  if (r.checkFailure) return 'check failed';
  const parts: string[] = [];
  if (r.failedAllocations) parts.push(`NULL ×${count(r.failedAllocations.count)}`);
  if (r.died) parts.push(SIGNAL_NAMES[r.died.signal] ?? `signal ${r.died.signal}`);
  return parts.length === 0 ? 'ok' : parts.join(', ');
}

/** A trace name in at most `max` characters (the middle elided). */
function shortName(name: string, max = 24): string {
  return name.length <= max ? name : `${name.slice(0, 10)}…${name.slice(-(max - 11))}`;
}

/**
 * The table shown on a terminal: the columns that fit 100 characters (every column with `wide`),
 * what they mean, and a note for each replay that did not end well.
 */
export function mallocTable(
  results: readonly ReplayResult[],
  options: { readonly wide?: boolean } = {},
): string {
  const wide = options.wide ?? false;
  const glibc = wide && results.some((r) => r.glibc !== null);
  const head = [
    'allocator',
    'trace',
    'ops',
    'util',
    'int frag',
    'ext frag',
    'brk',
    'mmap',
    ...(wide ? ['largest free', 'VmRSS peak/end', 'VmData peak/end', 'ops/s'] : []),
    ...(glibc ? ['glibc addr'] : []),
    'outcome',
  ];
  const table = new Table({
    head,
    chars: PLAIN,
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 2 },
    colAligns: head.map((h) => (['allocator', 'trace', 'outcome'].includes(h) ? 'left' : 'right')),
  });
  const notes: string[] = [];
  for (const r of results) {
    let cell = shortOutcome(r);
    if (cell !== 'ok') {
      notes.push(`[${notes.length + 1}] ${r.allocator} on ${r.trace}: ${outcome(r)}`);
      cell += ` [${notes.length}]`;
    }
    table.push([
      r.allocator,
      shortName(r.trace),
      count(r.ops),
      r.utilization.toFixed(3),
      pct(r.internalFragmentation),
      pct(r.externalFragmentation),
      count(r.brkCalls),
      `${count(r.mmapCalls)}/${count(r.munmapCalls)}`,
      ...(wide
        ? [
            bytes(r.largestFreeBytes),
            `${bytes(r.vmPeak.VmRSS)} / ${bytes(r.vmEnd.VmRSS)}`,
            `${bytes(r.vmPeak.VmData)} / ${bytes(r.vmEnd.VmData)}`,
            rate(r.opsPerSecond),
          ]
        : []),
      ...(glibc ? [r.glibc ? pct(r.glibc.matched / r.glibc.compared) : '-'] : []),
      cell,
    ]);
  }
  const legend: [string, string][] = [
    ['util', 'peak live bytes / peak heap extent (1: not a byte wasted)'],
    ['int frag', 'bytes of the chunks holding live blocks that were not asked for, at the end'],
    ['ext frag', '1 - largest free block / free bytes, at the end'],
    ['brk, mmap', 'system calls: brk; mmap/munmap'],
  ];
  if (wide) {
    legend.push(
      ['largest free', 'the largest free block (or the top chunk), at the end'],
      ['VmRSS, VmData', 'the process at its peak / at the end'],
      ['ops/s', 'operations per second inside the allocator'],
    );
    if (glibc) legend.push(['glibc addr', 'allocations at the offset glibc 2.36 returned (shim logs)']);
  }
  const more = wide
    ? 'Everything, with the time series, with --json.'
    : '--wide adds the largest free block, VmRSS, VmData, speed and glibc addresses; --json has it all.';
  const rows = table
    .toString()
    .split('\n')
    .map((l) => l.trimEnd());
  return `${[...rows, ...notes].join('\n')}\n\n${fields(legend)}${more}\n`;
}

/** cli-table3 with no borders: columns separated by spaces. */
const PLAIN = {
  top: '',
  'top-mid': '',
  'top-left': '',
  'top-right': '',
  bottom: '',
  'bottom-mid': '',
  'bottom-left': '',
  'bottom-right': '',
  left: '',
  'left-mid': '',
  mid: '',
  'mid-mid': '',
  right: '',
  'right-mid': '',
  middle: '',
};

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

/**
 * One panel per trace: the heap extent of each allocator and the live bytes (dashed) over the
 * operations, with a legend in the right margin. @returns an SVG document.
 */
export async function mallocChartSvg(results: readonly ReplayResult[]): Promise<string> {
  const { Plot, parseHTML } = await chartKit();
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
      document: document as unknown as PlotModule.PlotOptions['document'],
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
    const colors = seriesColors(el);
    appendLegend(document, svg, PANEL_WIDTH, [
      ...runs.map((r) => ({
        name: r.allocator,
        color: colors[allocators.indexOf(r.allocator) % Math.max(1, colors.length)] ?? 'gray',
      })),
      { name: 'live bytes', color: 'black', dash: '4,3' },
    ]);
    svg.setAttribute('y', String(i * PANEL_HEIGHT));
    outer.appendChild(svg);
  });
  return `${outer.outerHTML}\n`;
}
