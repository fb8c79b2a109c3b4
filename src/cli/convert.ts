/**
 * `vmscope convert IN OUT`: a trace from any format vmscope reads into vmscope's binary format (the
 * default), libCacheSim's oracleGeneral, or a text list of page ids; optionally compressed with
 * zstd or gzip. The output appears only when the whole input converted (it is written beside OUT and
 * renamed at the end), except on standard output.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createGzip } from 'node:zlib';
import { InputError } from '../base/errors.js';
import { grouped, isPowerOfTwo } from '../base/units.js';
import { jsonText } from '../report/json.js';
import type { CsvSpec } from '../workload/trace/csv.js';
import type { TraceFormat } from '../workload/trace/detect.js';
import { OracleGeneralEncoder } from '../workload/trace/oracle-general.js';
import { VmtEncoder } from '../workload/trace/vmtrace.js';
import { EXIT_OK, type Io } from './io.js';
import { decodeOptions, traceFormatOf } from './trace-formats.js';
import { FutureSpill } from './trace-future.js';
import { openPageStream, type PageSource } from './trace-input.js';
import { STDIN, sourceName } from './trace-source.js';

export const OUTPUT_FORMATS = ['vmscope', 'oracleGeneral', 'pages'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];
export const COMPRESSIONS = ['zstd', 'gzip', 'none'] as const;

export interface ConvertFlags {
  readonly from: TraceFormat | 'auto';
  /** The columns of a CSV trace (`--csv`; implies `from` csv). */
  readonly columns?: CsvSpec;
  readonly to: OutputFormat;
  readonly pageSize?: number;
  /** Unset: from OUT's name (`.zst`, `.gz`), else none. */
  readonly compress?: (typeof COMPRESSIONS)[number];
  readonly threads: number;
  readonly json: boolean;
}

const BATCH = 1 << 16;

/** Where the converted bytes go: written in order, with backpressure, then closed. */
interface Output {
  write(bytes: Uint8Array): Promise<void>;
  end(): Promise<void>;
}

/** Writes `bytes` whole to a file (blocking). */
function writeAll(fd: number, bytes: Uint8Array): void {
  let at = 0;
  while (at < bytes.length) at += writeSync(fd, bytes, at, bytes.length - at);
}

/** A Node stream as an {@link Output}: waits for it to drain, and for it to finish. */
function streamOutput(stream: NodeJS.WritableStream, done: Promise<void>): Output {
  return {
    async write(bytes) {
      if (!stream.write(bytes)) await Promise.race([new Promise((r) => stream.once('drain', r)), done]);
    },
    async end() {
      stream.end();
      await done;
    },
  };
}

/**
 * A file descriptor (or, for null, standard output, which may be a non-blocking pipe), written
 * directly or through gzip or zstd.
 */
function output(fd: number | null, compress: 'zstd' | 'gzip' | 'none', name: string): Output {
  if (compress === 'none') {
    if (fd !== null) return { write: async (bytes) => writeAll(fd, bytes), end: async () => {} };
    return streamOutput(process.stdout, new Promise<void>((res) => process.stdout.once('finish', res)));
  }
  if (compress === 'gzip') {
    const z = createGzip({ level: 6 });
    const done = new Promise<void>((res, rej) => {
      z.on('error', rej);
      if (fd !== null) {
        z.on('data', (c: Uint8Array) => writeAll(fd, c));
        z.on('end', res);
      } else {
        z.pipe(process.stdout);
        z.on('end', res);
      }
    });
    return streamOutput(z, done);
  }
  const child = spawn('zstd', ['-q', '-c', '-T0'], { stdio: ['pipe', fd ?? 'inherit', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  child.stdin!.on('error', () => {}); // a zstd that died says why in its status
  const done = new Promise<void>((res, rej) => {
    child.on('error', () =>
      rej(
        new InputError('flag', 'zstd output needs the zstd program (apt-get install zstd)', { file: name }),
      ),
    );
    child.on('close', (code) =>
      code === 0 ? res() : rej(new InputError('flag', `zstd failed: ${err.trim()}`, { file: name })),
    );
  });
  return streamOutput(child.stdin!, done);
}

/** Every access of `source` to `each`, in batches; then the source is closed. */
async function drain(
  source: PageSource,
  each: (pages: Float64Array, writes: Uint8Array, count: number, next: Float64Array | null) => Promise<void>,
): Promise<void> {
  try {
    for (;;) {
      await source.fill(BATCH);
      const { pages, writes, next, count } = source.take(BATCH);
      if (count > 0) await each(pages, writes, count, next);
      if (source.eof && source.pending === 0) return;
    }
  } finally {
    await source.close();
  }
}

export async function runConvert(input: string, out: string, flags: ConvertFlags, io: Io): Promise<number> {
  if (flags.pageSize !== undefined && !isPowerOfTwo(flags.pageSize))
    throw new InputError('flag', `--page-size must be a power of two, got ${flags.pageSize}`, {
      file: '--page-size',
    });
  const compress = flags.compress ?? (out.endsWith('.zst') ? 'zstd' : out.endsWith('.gz') ? 'gzip' : 'none');
  const toStdout = out === STDIN;
  if (!toStdout && out === input)
    throw new InputError('flag', 'the output would overwrite the input', { file: out });
  const options = decodeOptions(flags.pageSize, flags.columns);
  const from = traceFormatOf(flags.from, flags.columns);
  const source = openPageStream(input, from, options, { threads: flags.threads, minCapacity: BATCH });
  await source.fill(1).catch(async (e) => {
    await source.close();
    throw e;
  });
  const info = source.info!;
  // Written beside OUT and renamed at the end, so that a failure leaves nothing half-written.
  const temp = toStdout ? '' : join(dirname(out), `.${out.split('/').pop()}.${process.pid}.part`);
  let fd: number | null;
  try {
    fd = toStdout ? null : openSync(temp, 'w');
  } catch (e) {
    await source.close();
    throw new InputError('flag', `cannot write it (${(e as NodeJS.ErrnoException).code})`, { file: out });
  }
  const sink = output(fd, compress, out);
  let records = 0;
  let spill: FutureSpill | null = null;
  try {
    if (flags.to === 'vmscope') {
      const pending: Uint8Array[] = [];
      // Formats that say which accesses write; the others read only.
      const hasWrites = !['pages', 'txt', 'oracleGeneral'].includes(info.format);
      const enc = new VmtEncoder(
        { addressing: info.addressing, pageSize: info.pageSize, writes: hasWrites },
        (b) => pending.push(b),
      );
      await drain(source, async (pages, writes, count) => {
        enc.push(pages, writes, count);
        for (const b of pending.splice(0)) await sink.write(b);
      });
      enc.end();
      for (const b of pending.splice(0)) await sink.write(b);
      records = enc.records;
    } else if (flags.to === 'pages') {
      await drain(source, async (pages, _w, count) => {
        let text = '';
        for (let i = 0; i < count; i++) text += `${pages[i]}\n`;
        await sink.write(new TextEncoder().encode(text));
        records += count;
      });
    } else {
      const pending: Uint8Array[] = [];
      const enc = new OracleGeneralEncoder(info.pageSize, (b) => pending.push(b));
      const write = async (pages: Float64Array, count: number, next: Float64Array) => {
        enc.push(pages, next, count);
        for (const b of pending.splice(0)) await sink.write(b);
      };
      if (info.hasFuture) await drain(source, (pages, _w, count, next) => write(pages, count, next!));
      else {
        // The next uses come from a backward pass over the stream's ids, and then the input is read
        // again beside them, or a copy of it when that would cost more (trace-future.ts).
        const s = new FutureSpill({ addressing: info.addressing, pageSize: info.pageSize }, 0, {
          path: input,
          format: from,
          options,
        });
        spill = s;
        await drain(source, async (pages, writes, count) => s.push(0, pages, writes, count));
        s.computeNextUses();
        await drain(s.open(flags.threads, BATCH), (pages, _w, count, next) => write(pages, count, next!));
      }
      records = enc.records;
    }
    await sink.end();
    if (fd !== null) {
      closeSync(fd);
      renameSync(temp, out);
    }
  } catch (e) {
    if (fd !== null) {
      closeSync(fd);
      rmSync(temp, { force: true });
    }
    throw e;
  } finally {
    spill?.dispose();
    await source.close();
  }
  const summary = {
    input: sourceName(input),
    from: info.format,
    output: toStdout ? '<stdout>' : out,
    to: flags.to,
    compression: compress,
    records,
    pageSize: info.pageSize,
    addressing: info.addressing,
  };
  // With the trace on standard output, the summary goes to standard error.
  const say = (text: string) => (toStdout ? io.err(text) : io.out(text));
  if (flags.json) say(jsonText(summary));
  else
    say(
      `${summary.input} (${info.format}) → ${summary.output} (${flags.to}${compress === 'none' ? '' : `, ${compress}`}): ${grouped(records)} accesses\n`,
    );
  return EXIT_OK;
}
