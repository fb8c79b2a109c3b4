/**
 * A sweep's folder (`--out DIR`): what makes a sweep resumable and shardable.
 *
 *   DIR/grid.json          the grid (traces, policies) and the settings every cell was computed with
 *   DIR/cells/NAME.json    one file per cell computed, written whole or not at all (temp + rename)
 *   DIR/sweep.csv, .json   the table, once every cell is there (an unsharded run, or --merge)
 *
 * Concurrent shards of one command write the same grid.json and disjoint cell files, so they need
 * no lock. A folder holding cells computed with other settings is refused rather than mixed.
 */
import { createHash } from 'node:crypto';
import {
  accessSync,
  constants,
  mkdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { InputError } from '../base/errors.js';
import { jsonText } from '../report/json.js';
import type { CellOutcome, SweepCell } from '../sim/sweep-grid.js';

/** What every cell of a sweep is computed with; cells of other settings do not mix. */
export interface SweepSettings {
  /** The sizes, or null for each trace's powers of two up to its footprint. */
  readonly frames: readonly number[] | null;
  readonly format: string;
  readonly pageSize: number | null;
  /** `--csv`'s column list. */
  readonly csv: string | null;
  readonly seed: number;
}

export interface SweepGrid {
  readonly traces: readonly string[];
  readonly policies: readonly string[];
  readonly settings: SweepSettings;
}

const GRID = 'grid.json';
const CELLS = 'cells';

/** Where the grid's description lives in `dir`. */
export const gridFile = (dir: string) => join(dir, GRID);

/** The file of a cell: readable names, and a hash of the cell's identity to keep them apart. */
export function cellFile(dir: string, cell: Pick<SweepCell, 'trace' | 'policy'>): string {
  const slug = (t: string) =>
    basename(t)
      .replace(/[^A-Za-z0-9._-]+/g, '_')
      .slice(0, 40);
  const hash = createHash('sha256').update(`${cell.trace}\0${cell.policy}`).digest('hex').slice(0, 16);
  return join(dir, CELLS, `${slug(cell.trace)}~${slug(cell.policy)}~${hash}.json`);
}

/**
 * Writes `text` to `path` whole or not at all: a temporary file beside it, renamed over it.
 * @throws InputError naming `flag` when it cannot (the temporary file removed).
 */
export function writeAtomic(flag: string, path: string, text: string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}-${threadId}.tmp`);
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // never created
    }
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new InputError('flag', `cannot write ${path} (${code})`, { file: flag });
  }
}

/**
 * Makes `dir` a sweep folder for `grid` (creating it and its cells folder when needed): refuses a
 * folder that cannot be written, or whose cells were computed with other settings; records the grid.
 * @throws InputError naming `--out`.
 */
export function openSweepDir(dir: string, grid: SweepGrid): void {
  const fail = (why: string): never => {
    throw new InputError('flag', `cannot use ${dir} for the sweep: ${why}`, { file: '--out' });
  };
  try {
    // Not recursive: Node's recursive mkdir spins forever on some paths (under /proc).
    for (const d of [dir, join(dir, CELLS)]) {
      try {
        mkdirSync(d);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || !statSync(d).isDirectory()) throw e;
      }
    }
    accessSync(join(dir, CELLS), constants.W_OK);
    accessSync(dir, constants.W_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    fail(
      code === 'EEXIST' || code === 'ENOTDIR'
        ? 'it is not a folder'
        : code === 'ENOENT'
          ? 'the folder it would be made in does not exist'
          : `it cannot be written (${code})`,
    );
  }
  const before = readGridOrNull(dir);
  if (before !== null && JSON.stringify(before.settings) !== JSON.stringify(grid.settings))
    fail(
      `its cells were computed with other settings (${describeSettings(before.settings)}; this run: ${describeSettings(grid.settings)}): give another --out, or the same settings`,
    );
  writeAtomic('--out', gridFile(dir), jsonText(grid));
}

function describeSettings(s: SweepSettings): string {
  return [
    `frames ${s.frames === null ? 'log-spaced' : s.frames.join(',')}`,
    `format ${s.format}`,
    `page size ${s.pageSize ?? 'default'}`,
    ...(s.csv === null ? [] : [`csv ${s.csv}`]),
    `seed ${s.seed}`,
  ].join(', ');
}

/** The grid recorded in `dir`, or null when there is none. @throws InputError for a damaged one. */
function readGridOrNull(dir: string): SweepGrid | null {
  let text: string;
  try {
    text = readFileSync(gridFile(dir), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new InputError('flag', `cannot read ${gridFile(dir)} (${(e as NodeJS.ErrnoException).code})`, {
      file: '--out',
    });
  }
  return parseGrid(text, gridFile(dir));
}

/** The grid recorded in `dir` (for --merge). @throws InputError when there is none or it is damaged. */
export function readGrid(dir: string): SweepGrid {
  try {
    if (!statSync(dir).isDirectory()) throw new Error('ENOTDIR');
  } catch {
    throw new InputError('flag', `${dir} is not a sweep folder (no such folder)`, { file: '--merge' });
  }
  const grid = readGridOrNull(dir);
  if (grid === null)
    throw new InputError(
      'flag',
      `${dir} is not a sweep folder (it has no ${GRID}: run vmscope sweep --out ${dir} first)`,
      {
        file: '--merge',
      },
    );
  return grid;
}

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
const isCounts = (v: unknown): v is number[] =>
  Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0);

function parseGrid(text: string, file: string): SweepGrid {
  let v: Partial<SweepGrid> & { settings?: Partial<SweepSettings> };
  try {
    v = JSON.parse(text) as typeof v;
  } catch (e) {
    throw new InputError('sweep', `not JSON: ${(e as Error).message}`, { file });
  }
  const s = v?.settings;
  if (
    !isStrings(v?.traces) ||
    !isStrings(v.policies) ||
    typeof s !== 'object' ||
    s === null ||
    !(s.frames === null || isCounts(s.frames)) ||
    typeof s.format !== 'string' ||
    !(s.pageSize === null || typeof s.pageSize === 'number') ||
    !(s.csv === null || typeof s.csv === 'string') ||
    typeof s.seed !== 'number'
  )
    throw new InputError('sweep', 'expected a sweep grid: traces, policies and settings', { file });
  return v as SweepGrid;
}

/**
 * A cell's outcome read from `dir`, or null when it has not been computed.
 * @throws InputError naming the file when it is damaged or belongs to another cell or sizes.
 */
export function readCell(dir: string, cell: SweepCell, frames: readonly number[] | null): CellOutcome | null {
  const file = cellFile(dir, cell);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new InputError('sweep', `cannot read the cell (${(e as NodeJS.ErrnoException).code})`, { file });
  }
  let o: Partial<CellOutcome>;
  try {
    o = JSON.parse(text) as Partial<CellOutcome>;
  } catch (e) {
    throw new InputError(
      'sweep',
      `not JSON: ${(e as Error).message} (delete the file to compute the cell again)`,
      {
        file,
      },
    );
  }
  const ok =
    o?.trace === cell.trace &&
    o.policy === cell.policy &&
    typeof o.name === 'string' &&
    (o.format === null || typeof o.format === 'string') &&
    typeof o.accesses === 'number' &&
    isCounts(o.sizes) &&
    isCounts(o.faults) &&
    o.sizes.length === o.faults.length &&
    (frames === null || o.sizes.join() === frames.join());
  if (!ok)
    throw new InputError(
      'sweep',
      `expected the cell of ${cell.trace} × ${cell.policy}${frames === null ? '' : ` at frames ${frames.join(',')}`} (delete the file to compute it again)`,
      { file },
    );
  return o as CellOutcome;
}

/** Writes a computed cell. @throws InputError naming `--out`. */
export function writeCell(dir: string, outcome: CellOutcome): void {
  writeAtomic('--out', cellFile(dir, outcome), `${JSON.stringify(outcome)}\n`);
}
