/**
 * The grid of a sweep: traces × policies × sizes, computed cell by cell. A cell is one trace and one
 * policy, and gives the policy's faults at every size in one pass over the trace (a curve), so the
 * cell, not the size, is the unit of work, of sharding and of resuming.
 *
 * Cells are numbered in one order that depends only on the grid (sorted by trace, then policy), so
 * every shard of a job array, given the same command, agrees on which cells are whose: shard I of N
 * runs the cells whose index is I-1 modulo N. What a cell computes depends only on the cell and the
 * run's settings (sizes, trace format, page size, seed), never on the shard or thread running it.
 */
import { InputError } from '../base/errors.js';
import type { MissRatioCurve } from './mrc.js';

/** One trace × one policy. */
export interface SweepCell {
  /** The position in the grid's order, from 0. */
  readonly index: number;
  /** The trace as the command names it. */
  readonly trace: string;
  /** The policy as it is created: a built-in name or a plug-in's path. */
  readonly policy: string;
}

/** A cell computed: what its file in the sweep's folder holds. */
export interface CellOutcome {
  readonly trace: string;
  readonly policy: string;
  /** The policy's own name (a plug-in's `name`). */
  readonly name: string;
  /** The format the trace was read as (null: empty, given no format). */
  readonly format: string | null;
  readonly accesses: number;
  readonly sizes: readonly number[];
  readonly faults: readonly number[];
}

/** One row of the sweep's table. */
export interface SweepRow {
  readonly trace: string;
  readonly format: string;
  readonly policy: string;
  readonly frames: number;
  readonly accesses: number;
  readonly faults: number;
  readonly missRatio: number;
}

/** The sweep's cells in their one order: by trace, then policy (code-unit order, not locale). */
export function enumerateCells(traces: readonly string[], policies: readonly string[]): SweepCell[] {
  const byCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const ts = [...new Set(traces)].sort(byCodeUnits);
  const ps = [...new Set(policies)].sort(byCodeUnits);
  return ts.flatMap((trace, i) => ps.map((policy, j) => ({ index: i * ps.length + j, trace, policy })));
}

/** Shard I of N (1-based, as job arrays number their tasks). */
export interface Shard {
  readonly index: number;
  readonly count: number;
}

/** `I/N` with 1 ≤ I ≤ N. @throws InputError naming `--shard`. */
export function parseShard(text: string): Shard {
  const m = /^\s*([0-9]+)\s*\/\s*([0-9]+)\s*$/.exec(text);
  const index = m ? Number(m[1]) : Number.NaN;
  const count = m ? Number(m[2]) : Number.NaN;
  if (!(Number.isSafeInteger(count) && count >= 1 && index >= 1 && index <= count))
    throw new InputError(
      'flag',
      `expected --shard I/N with 1 <= I <= N (such as 3/8: the third of eight slices), got '${text}'`,
      { file: '--shard' },
    );
  return { index, count };
}

/** The cells shard `shard` runs: those whose index is `shard.index - 1` modulo `shard.count`. */
export function shardCells(cells: readonly SweepCell[], shard: Shard | null): SweepCell[] {
  if (shard === null) return [...cells];
  return cells.filter((c) => c.index % shard.count === shard.index - 1);
}

/** A computed curve as a cell's outcome. */
export function cellOutcome(cell: SweepCell, format: string | null, curve: MissRatioCurve): CellOutcome {
  return {
    trace: cell.trace,
    policy: cell.policy,
    name: curve.policy,
    format,
    accesses: curve.accesses,
    sizes: [...curve.sizes],
    faults: [...curve.faults],
  };
}

/**
 * The table of a whole grid from its cells' outcomes, in the grid's order, sizes increasing within
 * a cell. @returns the rows, and the cells with no outcome (the table is complete only without).
 */
export function mergeCells(
  cells: readonly SweepCell[],
  outcomeOf: (cell: SweepCell) => CellOutcome | null,
): { rows: SweepRow[]; missing: SweepCell[] } {
  const rows: SweepRow[] = [];
  const missing: SweepCell[] = [];
  for (const cell of cells) {
    const o = outcomeOf(cell);
    if (o === null) {
      missing.push(cell);
      continue;
    }
    o.sizes.forEach((frames, i) => {
      const faults = o.faults[i]!;
      rows.push({
        trace: o.trace,
        format: o.format ?? 'empty',
        policy: o.name,
        frames,
        accesses: o.accesses,
        faults,
        missRatio: o.accesses === 0 ? 0 : faults / o.accesses,
      });
    });
  }
  return { rows, missing };
}

/** A CSV field, quoted when it holds a comma, a quote or a line break (RFC 4180). */
function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The table as CSV, with a header line. */
export function sweepCsv(rows: readonly SweepRow[]): string {
  const lines = rows.map((r) =>
    [csvField(r.trace), r.format, csvField(r.policy), r.frames, r.accesses, r.faults, r.missRatio].join(','),
  );
  return `trace,format,policy,frames,accesses,faults,miss_ratio\n${lines.map((l) => `${l}\n`).join('')}`;
}
