/**
 * Line charts as standalone SVG files, drawn by Observable Plot on linkedom's DOM (no browser). The
 * same marks render in the browser with the real document.
 */
import * as Plot from '@observablehq/plot';
import { parseHTML } from 'linkedom';

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
  readonly yDomain?: readonly [number, number];
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

/** One chart as an SVG document (marks only: a title inside the plot as text, no HTML figure). */
export function lineChartSvg(spec: ChartSpec): string {
  const { document } = parseHTML('<!doctype html><html><body></body></html>');
  const points = thin(spec.points, 1500);
  const el = Plot.plot({
    document: document as unknown as Plot.PlotOptions['document'],
    width: 760,
    height: 420,
    marginLeft: 64,
    marginRight: 110,
    marginTop: 36,
    style: { fontFamily: 'DejaVu Sans, sans-serif', fontSize: '11px', background: 'white', color: 'black' },
    x: { type: spec.xType ?? 'linear', label: `${spec.xLabel} →`, grid: true },
    y: { label: `↑ ${spec.yLabel}`, grid: true, ...(spec.yDomain ? { domain: [...spec.yDomain] } : {}) },
    marks: [
      Plot.ruleY([0]),
      Plot.lineY(points, { x: 'x', y: 'y', stroke: 'series' }),
      Plot.text(
        points,
        Plot.selectLast({
          x: 'x',
          y: 'y',
          z: 'series',
          text: 'series',
          fill: 'series',
          textAnchor: 'start',
          dx: 6,
        }),
      ),
      Plot.text([spec.title], { frameAnchor: 'top-left', dy: -24, fontSize: 13, fontWeight: 'bold' }),
    ],
  });
  const svg = el.tagName.toLowerCase() === 'svg' ? el : (el.querySelector('svg:last-of-type') ?? el);
  svg.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  return `${svg.outerHTML}\n`;
}
