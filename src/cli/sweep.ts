/**
 * `vmscope sweep`: miss ratios over a grid of traces × policies × sizes, one cell (a trace and a
 * policy: the whole curve in one pass) per worker task. With `--out DIR` each cell is kept in DIR
 * as it is done, so a run resumes where it stopped, `--shard I/N` computes one slice of the cells
 * (the body of a batch system's job array), and `--merge DIR` joins them into the table.
 */
import { statSync } from 'node:fs';
import { basename, join } from 'node:path';
import Table from 'cli-table3';
import { InputError } from '../base/errors.js';
import { describePolicy } from '../kernel/reclaim/registry.js';
import { count, percent } from '../report/format.js';
import { jsonText } from '../report/json.js';
import {
  type CellOutcome,
  cellOutcome,
  enumerateCells,
  mergeCells,
  parseShard,
  type Shard,
  type SweepCell,
  type SweepRow,
  shardCells,
  sweepCsv,
} from '../sim/sweep-grid.js';
import type { CsvSpec } from '../workload/trace/csv.js';
import type { TraceFormat } from '../workload/trace/detect.js';
import { parseFrames } from './frames.js';
import { EXIT_FAILED, EXIT_INPUT, EXIT_OK, type Io } from './io.js';
import { curvePool } from './mrc.js';
import type { CellResult, CellTask } from './mrc-thread.js';
import { checkOutputPath } from './output.js';
import { loadPolicies } from './plugins.js';
import { terminalBar } from './progress.js';
import { writeChart } from './sweep-chart.js';
import {
  openSweepDir,
  readCell,
  readGrid,
  type SweepGrid,
  type SweepSettings,
  writeAtomic,
  writeCell,
} from './sweep-dir.js';
import { decodeOptions, traceFormatOf } from './trace-formats.js';
import { openPageStream } from './trace-input.js';
import { STDIN } from './trace-source.js';
import { unwrap } from './worker-result.js';

export interface SweepFlags {
  readonly traces?: string;
  readonly policies?: string;
  /** The sizes as frames.ts reads them; absent or `log-spaced`: each trace's powers of two. */
  readonly frames?: string;
  readonly format: TraceFormat | 'auto';
  readonly columns?: CsvSpec;
  readonly pageSize?: number;
  readonly threads: number;
  readonly seed: number;
  readonly out?: string;
  readonly shard?: string;
  readonly merge?: string;
  readonly json: boolean;
  /** Write the table as CSV here (`-`: standard output). */
  readonly table?: string;
  readonly plot?: string;
  readonly quiet: boolean;
}

/** A comma-separated flag's values. */
const list = (text: string | undefined) =>
  (text ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);

/**
 * Each trace is a regular file (every cell reads it again) whose format can be told: checked before
 * any cell runs. @throws InputError naming the file.
 */
async function checkTraces(traces: readonly string[], flags: SweepFlags): Promise<void> {
  const format = traceFormatOf(flags.format, flags.columns);
  for (const t of traces) {
    let why: string | null = null;
    try {
      if (t === STDIN || !statSync(t).isFile())
        why = 'not a regular file (each cell reads its trace again: a pipe or standard input cannot be)';
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      why = code === 'ENOENT' ? 'no such file' : `cannot read it (${code})`;
    }
    if (why !== null) throw new InputError('flag', `trace ${t}: ${why}`, { file: '--traces' });
    const probe = openPageStream(t, format, decodeOptions(flags.pageSize, flags.columns), {
      threads: 1,
      minCapacity: 1,
    });
    try {
      await probe.fill(1);
    } finally {
      await probe.close();
    }
  }
}

/** Runs the command. @returns 0; 1 when --merge finds cells missing; 2 when a file cannot be written. */
export async function runSweep(flags: SweepFlags, io: Io): Promise<number> {
  if (flags.table !== undefined && flags.table !== '-') checkOutputPath('--table', flags.table);
  if (flags.plot !== undefined) checkPlotPath(flags.plot);
  if (flags.merge !== undefined) return merge(flags.merge, flags, io);
  const traces = list(flags.traces);
  if (traces.length === 0)
    throw new InputError('flag', 'expected --traces A,B,… (or --merge DIR)', { file: '--traces' });
  const policies = await loadPolicies(list(flags.policies ?? 'lru,fifo,clock,opt'), process.cwd(), {
    file: '--policies',
  });
  if (policies.length === 0)
    throw new InputError('flag', 'expected at least one policy', { file: '--policies' });
  const frames = flags.frames === undefined ? null : parseFrames(flags.frames);
  const shard = flags.shard === undefined ? null : parseShard(flags.shard);
  if (shard !== null && flags.out === undefined)
    throw new InputError('flag', '--shard needs --out DIR: the shards meet there (then --merge DIR)', {
      file: '--shard',
    });
  if (!(flags.threads >= 1))
    throw new InputError('flag', `--threads must be at least 1, got ${flags.threads}`, { file: '--threads' });
  await checkTraces(traces, flags);
  const settings: SweepSettings = {
    frames,
    format: traceFormatOf(flags.format, flags.columns),
    pageSize: flags.pageSize ?? null,
    csv: flags.columns?.text ?? null,
    seed: flags.seed,
  };
  const grid: SweepGrid = { traces, policies, settings };
  const dir = flags.out ?? null;
  if (dir !== null) openSweepDir(dir, grid);
  const cells = enumerateCells(traces, policies);
  const mine = shardCells(cells, shard);
  const done = new Map<number, CellOutcome>();
  for (const cell of mine) {
    const o = dir === null ? null : readCell(dir, cell, frames);
    if (o !== null) done.set(cell.index, o);
  }
  const todo = mine.filter((c) => !done.has(c.index));
  if (!flags.quiet) say(io, shard, cells.length, mine.length, done, todo, flags.threads, dir);
  await compute(todo, settings, flags, io, (cell, o) => {
    if (dir !== null) writeCell(dir, o);
    done.set(cell.index, o);
  });
  if (shard !== null) {
    if (!flags.quiet)
      io.err(
        `sweep: shard ${shard.index}/${shard.count} done; when every shard is: vmscope sweep --merge ${dir}\n`,
      );
    return EXIT_OK;
  }
  const { rows } = mergeCells(cells, (c) => done.get(c.index) ?? null);
  return output(rows, grid, dir, flags, io);
}

/** What the run will do, on stderr: the cells of this shard, those already in DIR (skipped). */
function say(
  io: Io,
  shard: Shard | null,
  total: number,
  mine: number,
  done: ReadonlyMap<number, CellOutcome>,
  todo: readonly SweepCell[],
  threads: number,
  dir: string | null,
): void {
  const of =
    shard === null
      ? `${count(total)} cells`
      : `shard ${shard.index}/${shard.count}: ${count(mine)} of ${count(total)} cells`;
  const skipped =
    done.size === 0
      ? ''
      : `; ${count(done.size)} already in ${dir}, skipped (${[...done.values()]
          .slice(0, 4)
          .map((o) => `${basename(o.trace)} × ${o.name}`)
          .join(', ')}${done.size > 4 ? ', …' : ''})`;
  const threadsUsed = Math.max(1, Math.min(threads, todo.length));
  // On a resume, the cells computed again are named too: the ones whose files went missing.
  const again =
    done.size === 0 || todo.length === 0
      ? ''
      : ` (${todo
          .slice(0, 4)
          .map((c) => `${basename(c.trace)} × ${describePolicy(c.policy).name}`)
          .join(', ')}${todo.length > 4 ? ', …' : ''})`;
  io.err(
    `sweep: ${of}${skipped}; computing ${count(todo.length)}${again} on ${threadsUsed} thread${threadsUsed === 1 ? '' : 's'}\n`,
  );
}

/** Runs `cells` on worker threads, handing each outcome to `each` as it arrives. */
async function compute(
  cells: readonly SweepCell[],
  settings: SweepSettings,
  flags: SweepFlags,
  io: Io,
  each: (cell: SweepCell, o: CellOutcome) => void,
): Promise<void> {
  if (cells.length === 0) return;
  const bar =
    flags.quiet || !process.stdout.isTTY
      ? null
      : terminalBar(io, 'sweep [{bar}] {value}/{total} cells | {cell}', cells.length, { cell: '' });
  const pool = curvePool(Math.max(1, Math.min(flags.threads, cells.length)));
  let n = 0;
  try {
    await Promise.all(
      cells.map(async (cell) => {
        const task: CellTask = {
          file: cell.trace,
          format: settings.format as TraceFormat | 'auto',
          ...(flags.pageSize === undefined ? {} : { pageSize: flags.pageSize }),
          ...(flags.columns === undefined ? {} : { csv: flags.columns }),
          policy: cell.policy,
          sizes: settings.frames,
          seed: settings.seed,
        };
        const r = unwrap<CellResult>(await pool.run(task, { name: 'runCell' }));
        const o = cellOutcome(cell, r.format, { ...r.curve, policy: describePolicy(cell.policy).name });
        each(cell, o);
        bar?.update(++n, { cell: `${basename(cell.trace)} × ${o.name}` });
      }),
    );
  } finally {
    bar?.stop();
    await pool.destroy();
  }
}

/** `--merge DIR`: the table from the cells in DIR. @returns 1 when cells are missing (listed). */
async function merge(dir: string, flags: SweepFlags, io: Io): Promise<number> {
  for (const [flag, v] of [
    ['--traces', flags.traces],
    ['--policies', flags.policies],
    ['--frames', flags.frames],
    ['--shard', flags.shard],
    ['--out', flags.out],
  ] as const)
    if (v !== undefined)
      throw new InputError('flag', `--merge takes the grid from ${dir}: leave out ${flag}`, { file: flag });
  const grid = readGrid(dir);
  const cells = enumerateCells(grid.traces, grid.policies);
  const { rows, missing } = mergeCells(cells, (c) => readCell(dir, c, grid.settings.frames));
  if (missing.length > 0) {
    io.err(
      `sweep: ${count(missing.length)} of ${count(cells.length)} cells are missing from ${dir} (no table written):\n${missing
        .map((c) => `  cell ${c.index + 1}: ${c.trace} × ${c.policy}\n`)
        .join('')}`,
    );
    return EXIT_FAILED;
  }
  return output(rows, grid, dir, flags, io);
}

/** The complete table: DIR/sweep.csv and .json, standard output, --table and --plot. */
async function output(
  rows: readonly SweepRow[],
  grid: SweepGrid,
  dir: string | null,
  flags: SweepFlags,
  io: Io,
): Promise<number> {
  const csv = sweepCsv(rows);
  const json = jsonText(rows);
  if (dir !== null) {
    writeAtomic('--out', join(dir, 'sweep.csv'), csv);
    writeAtomic('--out', join(dir, 'sweep.json'), json);
  }
  if (flags.json) io.out(json);
  else if (flags.table === '-') io.out(csv);
  else io.out(humanTable(rows, grid));
  let status = EXIT_OK;
  try {
    if (flags.table !== undefined && flags.table !== '-') writeAtomic('--table', flags.table, csv);
    if (flags.plot !== undefined) await writeChart('--plot', flags.plot, rows, new Set(grid.traces).size);
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    io.err(`${e.format()}\n`);
    status = EXIT_INPUT;
  }
  return status;
}

function humanTable(rows: readonly SweepRow[], grid: SweepGrid): string {
  const t = new Table({
    head: ['trace', 'format', 'policy', 'frames', 'faults', 'miss ratio'],
    style: { head: [], border: [], compact: true },
    colAligns: ['left', 'left', 'left', 'right', 'right', 'right'],
  });
  for (const r of rows)
    t.push([
      basename(r.trace),
      r.format,
      r.policy,
      count(r.frames),
      count(r.faults),
      percent(r.missRatio, 3),
    ]);
  const nTraces = new Set(grid.traces).size;
  const nPolicies = new Set(grid.policies).size;
  return `sweep of ${nTraces} trace${nTraces === 1 ? '' : 's'} × ${nPolicies} polic${nPolicies === 1 ? 'y' : 'ies'}: ${count(rows.length)} miss ratios\n${t.toString()}\n`;
}

/** `--plot` ends in .svg or .png and can be written. @throws InputError naming --plot. */
function checkPlotPath(path: string): void {
  if (!/\.(svg|png)$/i.test(path))
    throw new InputError('flag', `expected a file ending in .svg or .png, got '${path}'`, { file: '--plot' });
  checkOutputPath('--plot', path);
}
