/** `vmscope sweep --plot`: one line per trace × policy, miss ratio against frames. */
import { basename } from 'node:path';
import { lineChartSvg } from '../report/chart.js';
import { count } from '../report/format.js';
import type { SweepRow } from '../sim/sweep-grid.js';
import { writeChartFile } from './chart-file.js';

/** A trace's short name for the legend: its file name without compression and trace suffixes. */
function shortName(trace: string): string {
  return basename(trace)
    .replace(/\.(gz|zst)$/i, '')
    .replace(/\.(pages|dpages|lackey|trace|txt|csv)$/i, '');
}

/** The chart's SVG: series named by policy alone for one trace, else `trace policy`. */
export function sweepChartSvg(rows: readonly SweepRow[], traces: number): Promise<string> {
  const sizes = [...new Set(rows.map((r) => r.frames))].sort((a, b) => a - b);
  const policies = new Set(rows.map((r) => r.policy)).size;
  return lineChartSvg({
    title: `miss ratios: ${traces === 1 ? basename(rows[0]?.trace ?? '') : `${count(traces)} traces`} × ${count(policies)} polic${policies === 1 ? 'y' : 'ies'}`,
    xLabel: 'frames',
    yLabel: 'miss ratio',
    points: rows.map((r) => ({
      x: r.frames,
      y: r.missRatio,
      series: traces === 1 ? r.policy : `${shortName(r.trace)} ${r.policy}`,
    })),
    ...(sizes.length > 1 && sizes.at(-1)! / sizes[0]! >= 16
      ? { xType: 'log' as const }
      : { xIntegers: sizes.length <= 12 }),
  });
}

/** Writes the chart (SVG, or PNG by the name). @throws InputError naming `flag`. */
export async function writeChart(
  flag: string,
  path: string,
  rows: readonly SweepRow[],
  traces: number,
): Promise<void> {
  await writeChartFile(flag, path, await sweepChartSvg(rows, traces));
}
