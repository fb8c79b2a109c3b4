/**
 * The trace-format flags every trace-reading command shares: `--format` (a name, or `auto` to tell
 * by content) and `--csv COLUMNS` (the columns of a CSV trace, which implies `--format csv`).
 */
import { InputError } from '../base/errors.js';
import { type CsvSpec, parseCsvSpec } from '../workload/trace/csv.js';
import type { DecodeOptions } from '../workload/trace/decoder.js';
import type { TraceFormat } from '../workload/trace/detect.js';

/** `--csv COLUMNS`, checked as it is parsed (a commander argument parser). */
export function csvColumnsArg(value: string): CsvSpec {
  if (/[/\\]|\.csv$/i.test(value) && !value.includes(',')) {
    throw new InputError(
      'flag',
      `'${value}' is not a list of columns: --csv names the columns of a CSV trace, such as 'time,addr,op' (mrc writes its table with --table FILE)`,
      { file: '--csv' },
    );
  }
  return parseCsvSpec(value);
}

/**
 * The format to read with, given `--format` and `--csv`.
 * @throws InputError when `--csv` contradicts `--format`.
 */
export function traceFormatOf(format: TraceFormat | 'auto', csv: CsvSpec | undefined): TraceFormat | 'auto' {
  if (csv === undefined) return format;
  if (format !== 'auto' && format !== 'csv')
    throw new InputError('flag', `--csv names CSV columns, but --format is ${format}`, { file: '--csv' });
  return 'csv';
}

/** The decoder options of `--page-size` (unset: the trace's own or 4096) and `--csv`. */
export function decodeOptions(pageSize: number | undefined, csv: CsvSpec | undefined): DecodeOptions {
  return {
    ...(pageSize === undefined ? {} : { pageSize }),
    ...(csv === undefined ? {} : { csv }),
  };
}
