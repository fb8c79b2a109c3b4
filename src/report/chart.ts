/**
 * Line charts as standalone SVG files, drawn by Observable Plot on linkedom's DOM (no browser). The
 * same marks render in the browser with the real document.
 *
 * Plot and linkedom are loaded on the first chart, not with this module: together they are most of
 * the CLI's start-up time and memory (about 0.3 s and 40 MB), which a command that draws no chart
 * should not pay.
 */
import type * as PlotModule from '@observablehq/plot';
import type * as LinkedomModule from 'linkedom';

/** The two libraries a chart is drawn with. */
export interface ChartKit {
  readonly Plot: typeof PlotModule;
  readonly parseHTML: typeof LinkedomModule.parseHTML;
}

let kit: Promise<ChartKit> | null = null;

/** Loads Observable Plot and linkedom (once). */
export function chartKit(): Promise<ChartKit> {
  kit ??= Promise.all([import('@observablehq/plot'), import('linkedom')]).then(([Plot, linkedom]) => ({
    Plot,
    parseHTML: linkedom.parseHTML,
  }));
  return kit;
}

export interface ChartPoint {
  readonly x: number;
  readonly y: number;
  /** The series (process, policy…). */
  readonly series: string;
}

export interface ChartSpec {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly points: readonly ChartPoint[];
  readonly xType?: 'linear' | 'log';
  /** The y range; by default fitted to the data, from 0. */
  readonly yDomain?: readonly [number, number];
  /** The x values are counts (processes…): ticks only at integers. */
  readonly xIntegers?: boolean;
}

/** Downsamples each series to at most `max` points (first, last and evenly spread between). */
function thin(points: readonly ChartPoint[], max: number): ChartPoint[] {
  const bySeries = new Map<string, ChartPoint[]>();
  for (const p of points) {
    const s = bySeries.get(p.series);
    if (s) s.push(p);
    else bySeries.set(p.series, [p]);
  }
  const out: ChartPoint[] = [];
  for (const s of bySeries.values()) {
    if (s.length <= max) out.push(...s);
    else for (let i = 0; i < max; i++) out.push(s[Math.round((i * (s.length - 1)) / (max - 1))]!);
  }
  return out;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
/** Width of the right margin that holds the legend. */
export const LEGEND_WIDTH = 150;

type Doc = ReturnType<typeof LinkedomModule.parseHTML>['document'];
/** What the legend needs of an SVG element (Node has no DOM types). */
interface Parent {
  appendChild(node: never): unknown;
}

/**
 * A legend in the right margin: a swatch and a name per series, one per row, so that every line
 * is named and no two names overlap (end labels pile up where curves meet).
 */
export function appendLegend(
  document: Doc,
  svg: Parent,
  width: number,
  entries: readonly { readonly name: string; readonly color: string; readonly dash?: string }[],
): void {
  const legend = document.createElementNS(SVG_NS, 'g');
  legend.setAttribute('transform', `translate(${width - LEGEND_WIDTH + 16}, 40)`);
  entries.forEach(({ name, color, dash }, j) => {
    const line = document.createElementNS(SVG_NS, 'line');
    for (const [k, v] of [
      ['x1', '0'],
      ['x2', '18'],
      ['y1', String(j * 16)],
      ['y2', String(j * 16)],
      ['stroke', color],
      ['stroke-width', '2'],
    ] as const)
      line.setAttribute(k, v);
    if (dash) line.setAttribute('stroke-dasharray', dash);
    const text = document.createElementNS(SVG_NS, 'text');
    text.setAttribute('x', '24');
    text.setAttribute('y', String(j * 16 + 4));
    text.setAttribute('text-anchor', 'start');
    text.textContent = name.length > 18 ? `${name.slice(0, 17)}…` : name;
    legend.appendChild(line);
    legend.appendChild(text);
  });
  svg.appendChild(legend as never);
}

/** The colours Plot gave the series of a chart (its ordinal colour scale). */
export function seriesColors(el: unknown): readonly string[] {
  return (el as unknown as { scale(name: string): { range?: readonly string[] } }).scale('color').range ?? [];
}

/** One chart as an SVG document: marks, a title inside the plot as text, and a legend. */
export async function lineChartSvg(spec: ChartSpec): Promise<string> {
  const { Plot, parseHTML } = await chartKit();
  const { document } = parseHTML('<!doctype html><html><body></body></html>');
  const points = thin(spec.points, 1500);
  const series = [...new Set(points.map((p) => p.series))];
  const width = 760;
  const xs = [...new Set(points.map((p) => p.x))].sort((a, b) => a - b);
  const el = Plot.plot({
    document: document as unknown as PlotModule.PlotOptions['document'],
    width,
    height: 420,
    marginLeft: 64,
    marginRight: LEGEND_WIDTH,
    marginTop: 52,
    style: { fontFamily: 'DejaVu Sans, sans-serif', fontSize: '11px', background: 'white', color: 'black' },
    x: {
      type: spec.xType ?? 'linear',
      label: `${spec.xLabel} →`,
      grid: true,
      ...(spec.xType === 'log' ? { base: 2 } : {}),
      ...(spec.xIntegers ? { ticks: xs, tickFormat: 'd' } : {}),
    },
    y: {
      label: `↑ ${spec.yLabel}`,
      grid: true,
      nice: true,
      ...(spec.yDomain ? { domain: [...spec.yDomain] } : {}),
    },
    color: { domain: series },
    marks: [
      Plot.ruleY([0]),
      Plot.lineY(points, {
        x: 'x',
        y: 'y',
        z: 'series',
        stroke: 'series',
        marker: xs.length <= 40 ? 'circle' : null,
      }),
      Plot.text([spec.title], { frameAnchor: 'top-left', dy: -30, fontSize: 13, fontWeight: 'bold' }),
    ],
  });
  const svg = el.tagName.toLowerCase() === 'svg' ? el : (el.querySelector('svg:last-of-type') ?? el);
  svg.setAttribute('xmlns', SVG_NS);
  const colors = seriesColors(el);
  appendLegend(
    document,
    svg,
    width,
    series.map((name, i) => ({ name, color: colors[i % Math.max(1, colors.length)] ?? 'gray' })),
  );
  return `${svg.outerHTML}\n`;
}
