/**
 * The text formats beside lackey and page lists — Dinero `din`, CSV with named columns, MSR
 * Cambridge block traces, libCacheSim `txt` — as one family: how `--format auto` recognizes each
 * from a file's first lines ({@link detectTextFormat}, called by `detect.ts`) and the parser for
 * each ({@link createTextParser}).
 */
import { InputError } from '../../base/errors.js';
import type { PageSink } from './batch.js';
import { CsvParser, type CsvSpec, MSR_SPEC, parseCsvSpec } from './csv.js';
import { DinParser } from './din.js';
import type { FieldParser } from './fields.js';
import { TxtParser } from './txt.js';

export type TextFormat = 'din' | 'csv' | 'msr' | 'txt';

export const TEXT_FORMATS: readonly TextFormat[] = ['din', 'csv', 'msr', 'txt'];

/** What a text format needs besides the bytes. */
export interface TextFormatOptions {
  /** The `--csv` column spec (required for `csv`). */
  readonly csv?: CsvSpec | undefined;
}

const DIN_LINE = /^\s*[0-4]\s+(0[xX])?[0-9a-fA-F]+(\s.*)?$/;
const MSR_HEADER =
  /^\s*timestamp\s*,\s*hostname\s*,\s*disknumber\s*,\s*type\s*,\s*offset\s*,\s*size\s*,\s*responsetime\s*$/i;
const TOKEN = /^\s*[^\s,]+\s*$/;

function isMsrLine(line: string): boolean {
  const f = line.split(',').map((x) => x.trim());
  return (
    f.length === 7 &&
    /^(read|write)$/i.test(f[3]!) &&
    /^[0-9]+$/.test(f[2]!) &&
    /^[0-9]+$/.test(f[4]!) &&
    /^[0-9]+$/.test(f[5]!)
  );
}

/**
 * Which text format the first lines of a file are (blank lines ignored; up to 20 looked at, the
 * last possibly cut short). @returns null when none fits all of them.
 */
export function detectTextFormat(lines: readonly string[]): TextFormat | null {
  const data = lines.filter((l) => l.trim() !== '').slice(0, 20);
  if (data.length === 0) return null;
  // The last line may be cut by the end of the head: judge it only when it is the only one.
  const whole = data.length > 1 ? data.slice(0, -1) : data;
  if (whole.every((l) => DIN_LINE.test(l))) return 'din';
  const body = MSR_HEADER.test(whole[0]!) ? whole.slice(1) : whole;
  if (body.length > 0 && body.every(isMsrLine)) return 'msr';
  if (whole.every((l) => TOKEN.test(l))) return 'txt';
  return null;
}

/** What to say of a file whose format is not told but which looks like CSV. */
export const CSV_HELP =
  "it looks like CSV; name its columns with --csv 'time,addr,op' (or --format msr for MSR Cambridge)";

/** True when the first lines of `head` look like CSV (so an error can ask for `--csv`). */
export function looksLikeCsv(head: Uint8Array): boolean {
  const lines = new TextDecoder('latin1').decode(head.subarray(0, 65536)).split('\n');
  const data = lines.filter((l) => l.trim() !== '').slice(0, 6);
  // The first line may be a header of any shape.
  const rows = data.length > 1 ? data.slice(1) : data;
  return rows.length > 0 && rows.every((l) => l.includes(',') || l.includes('\t'));
}

/**
 * A parser of `format` for `file`, emitting page accesses (`pageSize` bytes per page).
 * @throws InputError when `csv` comes without a column spec.
 */
export function createTextParser(
  format: TextFormat,
  file: string,
  pageSize: number,
  options: TextFormatOptions,
  sink: PageSink,
): FieldParser {
  switch (format) {
    case 'din':
      return new DinParser(file, sink, pageSize);
    case 'txt':
      return new TxtParser(file, sink);
    case 'msr':
      return new CsvParser(file, sink, parseCsvSpec(MSR_SPEC), pageSize, ',');
    case 'csv':
      if (!options.csv)
        throw new InputError(
          'trace',
          "CSV traces need their columns named: --csv 'time,addr,op' (see the README's trace formats)",
          { file },
        );
      return new CsvParser(file, sink, options.csv, pageSize);
  }
}
