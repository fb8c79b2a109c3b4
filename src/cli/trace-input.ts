/**
 * Trace files as streams of page accesses: plain, gzip or zstd, read in 1 MiB chunks (never whole),
 * parsed by the byte-level parsers of src/workload/trace, queued per file so that several traces can
 * be interleaved.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, statSync } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { InputError } from '../base/errors.js';
import type { PageBatch } from '../workload/trace/batch.js';
import { detectTraceFormat, type TraceFormat } from '../workload/trace/detect.js';
import { LackeyParser } from '../workload/trace/lackey.js';
import { PagesParser } from '../workload/trace/pages.js';
import { LackeyPageSplitter } from '../workload/trace/split.js';

const CHUNK = 1 << 20;

let zstdCli: boolean | undefined;
const hasZstdCli = (): boolean => {
  zstdCli ??= spawnSync('zstd', ['--version'], { stdio: 'ignore' }).status === 0;
  return zstdCli;
};

/** The bytes of a trace file, decompressed by its extension. Counts compressed bytes read in `progress`. */
export async function* openTrace(path: string, progress: { bytes: number }): AsyncGenerator<Uint8Array> {
  try {
    if (!statSync(path).isFile()) throw new InputError('trace', 'not a regular file', { file: path });
  } catch (e) {
    if (e instanceof InputError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError('trace', code === 'ENOENT' ? 'no such file' : `cannot read it (${code})`, {
      file: path,
    });
  }
  const raw = createReadStream(path, { highWaterMark: CHUNK });
  raw.on('data', (c) => {
    progress.bytes += c.length;
  });
  try {
    if (path.endsWith('.gz')) {
      yield* raw.pipe(createGunzip({ chunkSize: 1 << 18 })) as AsyncIterable<Uint8Array>;
    } else if (path.endsWith('.zst')) {
      if (!hasZstdCli())
        throw new InputError('trace', '.zst traces need the zstd program (apt-get install zstd)', {
          file: path,
        });
      raw.destroy();
      const child = spawn('zstd', ['-dcq', '--', path], { stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
      });
      const exited = new Promise<number | null>((res) => child.on('close', res));
      for await (const c of child.stdout as AsyncIterable<Uint8Array>) {
        progress.bytes += c.length / 4; // compressed bytes are unknown here; a rough share
        yield c;
      }
      if ((await exited) !== 0)
        throw new InputError('trace', `zstd could not decompress it: ${err.trim()}`, { file: path });
    } else {
      yield* raw as AsyncIterable<Uint8Array>;
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    const { code, message } = e as NodeJS.ErrnoException;
    // zlib's errors (Z_DATA_ERROR, Z_BUF_ERROR) say what is wrong with the file in their message.
    if (code?.startsWith('Z_'))
      throw new InputError('trace', `not a valid gzip file (${message})`, { file: path });
    throw new InputError('trace', `cannot read it (${code ?? message})`, { file: path });
  }
}

/** One trace file as a queue of page accesses (ids and write flags). */
export class PageStream {
  readonly path: string;
  readonly sizeBytes: number;
  format: TraceFormat | null = null;
  /** Records (lines with an access) parsed. */
  records = 0;
  readonly progress = { bytes: 0 };
  private readonly it: AsyncGenerator<Uint8Array>;
  private readonly wanted: TraceFormat | 'auto';
  private readonly pageSize: number;
  private parser: LackeyParser | PagesParser | null = null;
  private pages = new Float64Array(1 << 16);
  private writes = new Uint8Array(1 << 16);
  private head = 0;
  private tail = 0;
  eof = false;

  constructor(path: string, format: TraceFormat | 'auto', pageSize: number) {
    this.path = path;
    this.wanted = format;
    this.pageSize = pageSize;
    this.it = openTrace(path, this.progress);
    let size = 0;
    try {
      size = statSync(path).size;
    } catch {
      size = 0; // openTrace reports it
    }
    this.sizeBytes = size;
  }

  get pending(): number {
    return this.tail - this.head;
  }

  private append = (b: PageBatch): void => {
    const n = b.count;
    if (this.tail + n > this.pages.length) {
      const live = this.tail - this.head;
      if (live + n > this.pages.length / 2) {
        const size = 2 ** Math.ceil(Math.log2((live + n) * 2));
        const p = new Float64Array(size);
        const w = new Uint8Array(size);
        p.set(this.pages.subarray(this.head, this.tail));
        w.set(this.writes.subarray(this.head, this.tail));
        this.pages = p;
        this.writes = w;
      } else {
        this.pages.copyWithin(0, this.head, this.tail);
        this.writes.copyWithin(0, this.head, this.tail);
      }
      this.tail = live;
      this.head = 0;
    }
    this.pages.set(b.page.subarray(0, n), this.tail);
    this.writes.set(b.write.subarray(0, n), this.tail);
    this.tail += n;
  };

  private startParser(first: Uint8Array): void {
    const format = this.wanted === 'auto' ? detectTraceFormat(first) : this.wanted;
    if (format === null) {
      throw new InputError(
        'trace',
        'cannot tell its format: expected valgrind lackey lines (I/L/S/M) or one page number per line (use --format)',
        {
          file: this.path,
          line: 1,
        },
      );
    }
    this.format = format;
    if (format === 'pages') {
      this.parser = new PagesParser(this.path, this.append);
    } else {
      const splitter = new LackeyPageSplitter(this.pageSize, this.append);
      this.parser = new LackeyParser(this.path, (b) => {
        splitter.push(b);
        splitter.flush();
      });
    }
  }

  /** Reads until at least `n` accesses wait (or the file ends). */
  async fill(n: number): Promise<void> {
    while (this.pending < n && !this.eof) {
      const r = await this.it.next();
      if (r.done) {
        if (this.parser === null) this.startParser(new Uint8Array(0));
        this.parser!.end();
        this.records = this.parser!.records;
        this.eof = true;
        break;
      }
      if (this.parser === null) this.startParser(r.value);
      this.parser!.push(r.value);
      this.records = this.parser!.records;
    }
  }

  /** Takes up to `n` waiting accesses (views valid until the next fill). */
  take(n: number): { pages: Float64Array; writes: Uint8Array; count: number } {
    const count = Math.min(n, this.pending);
    const out = {
      pages: this.pages.subarray(this.head, this.head + count),
      writes: this.writes.subarray(this.head, this.head + count),
      count,
    };
    this.head += count;
    return out;
  }
}

/**
 * Feeds several streams to `visit` in a round robin of `quantum` accesses each, until all end.
 * Deterministic: the same files and quantum give the same interleaving (OPT replays it twice).
 */
export async function interleave(
  streams: readonly PageStream[],
  quantum: number,
  visit: (p: number, pages: Float64Array, writes: Uint8Array, count: number) => boolean,
): Promise<void> {
  const done = streams.map(() => false);
  let left = streams.length;
  while (left > 0) {
    for (let p = 0; p < streams.length; p++) {
      if (done[p]) continue;
      const s = streams[p]!;
      await s.fill(quantum);
      const { pages, writes, count } = s.take(quantum);
      const more = count > 0 && visit(p, pages, writes, count);
      if (!more || (s.eof && s.pending === 0)) {
        if (!done[p]) left--;
        done[p] = true;
      }
    }
  }
}
