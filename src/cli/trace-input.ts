/**
 * Trace files as streams of page accesses, in two interchangeable forms:
 *
 * - {@link InlineStream} (`--threads 1`): the simulating thread reads, decompresses and decodes a
 *   chunk whenever it needs more accesses;
 * - {@link PipedStream} (the default on two cores or more): a worker thread does all of that ahead,
 *   into a ring in shared memory (`trace-ring.ts`), while this thread simulates.
 *
 * Both read the same bytes with the same decoders in the same order, so they hand out the same
 * accesses; `interleave` deals several streams out in a fixed round robin.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { InputError, InvariantError, invariant } from '../base/errors.js';
import type { FuturePageBatch, PageBatch } from '../workload/trace/batch.js';
import { createTraceDecoder, type DecodeOptions, type TraceDecoder } from '../workload/trace/decoder.js';
import { detectTraceFormat, FORMAT_HELP, HEAD_BYTES, type TraceFormat } from '../workload/trace/detect.js';
import { CSV_HELP, looksLikeCsv } from '../workload/trace/text-formats.js';
import { takeEarlyTraceWorker, type WatchedWorker, watchWorker } from './early-worker.js';
import { NextFileReader } from './trace-next.js';
import {
  createRing,
  RING_DONE,
  RING_FAILED,
  RING_RUNNING,
  type RingMemory,
  RingReader,
} from './trace-ring.js';
import { openTrace, sourceName, sourceSize } from './trace-source.js';

/** What a stream learns from its first bytes. */
export interface StreamInfo {
  readonly format: TraceFormat;
  readonly addressing: 'addresses' | 'ids';
  readonly pageSize: number;
  /** The trace carries each access's next use (oracleGeneral). */
  readonly hasFuture: boolean;
}

/** How to read a stream: decoder options, and where a spill's next uses are (trace-future.ts). */
export interface StreamOptions extends DecodeOptions {
  /** A spill's next-use file (16-bit distances, one per access; trace-next.ts), to attach to the accesses. */
  readonly nextFile?: string;
}

/**
 * Reads one trace through its decoder, a chunk at a time: the head first (enough bytes to tell the
 * format, unless one was given), then the rest. Shared by both kinds of stream.
 */
export class TraceReader {
  readonly path: string;
  readonly name: string;
  readonly progress: { bytes: number } = { bytes: 0 };
  decoder: TraceDecoder | null = null;
  private readonly it: AsyncGenerator<Uint8Array>;
  private readonly wanted: TraceFormat | 'auto';
  private readonly options: StreamOptions;
  private readonly sink: (b: PageBatch) => void;
  private head: Uint8Array[] = [];
  private headBytes = 0;

  constructor(
    path: string,
    wanted: TraceFormat | 'auto',
    options: StreamOptions,
    sink: (b: PageBatch) => void,
  ) {
    this.path = path;
    this.name = sourceName(path);
    this.wanted = wanted;
    this.options = options;
    if (options.nextFile === undefined) this.sink = sink;
    else {
      // Each batch gets its accesses' next uses from the file, in step.
      const nextFile = new NextFileReader(options.nextFile);
      let next = new Float64Array(1 << 16);
      this.sink = (b: PageBatch) => {
        if (next.length < b.count) next = new Float64Array(b.count);
        nextFile.read(b.count, next);
        const withNext: FuturePageBatch = { count: b.count, page: b.page, write: b.write, next };
        sink(withNext);
      };
    }
    this.it = openTrace(path, this.progress);
  }

  get records(): number {
    return this.decoder?.records ?? 0;
  }

  /** What the first bytes told (null before them). */
  get info(): StreamInfo | null {
    const d = this.decoder;
    if (d === null) return null;
    return {
      format: d.format,
      addressing: d.addressing,
      pageSize: d.pageSize,
      hasFuture: d.hasFuture || this.options.nextFile !== undefined,
    };
  }

  /** Reads and decodes one more chunk. @returns false once the trace has ended (and been checked). */
  async step(): Promise<boolean> {
    const r = await this.it.next();
    if (r.done) {
      if (this.decoder === null) this.start(true);
      this.decoder!.end();
      return false;
    }
    if (this.decoder !== null) {
      this.decoder.push(r.value);
      return true;
    }
    this.head.push(r.value.slice()); // the source may reuse the chunk
    this.headBytes += r.value.length;
    if (this.headBytes >= HEAD_BYTES) this.start(false);
    return true;
  }

  private start(whole: boolean): void {
    const head = new Uint8Array(this.headBytes);
    let at = 0;
    for (const c of this.head) {
      head.set(c, at);
      at += c.length;
    }
    this.head = [];
    const format = this.wanted === 'auto' ? detectTraceFormat(head) : this.wanted;
    if (format === null) {
      const empty = whole && head.length === 0;
      const what = empty ? 'the trace is empty' : 'cannot tell its format';
      const message = !empty && looksLikeCsv(head) ? CSV_HELP : `expected ${FORMAT_HELP} (or give --format)`;
      throw new InputError('trace', `${what}: ${message}`, {
        file: this.name,
        ...(empty ? {} : { line: 1 }),
      });
    }
    this.decoder = createTraceDecoder(format, this.name, this.options, this.sink);
    if (head.length > 0) this.decoder.push(head);
  }
}

/** What both kinds of stream offer. Views returned by `take` are valid until the next `fill` or `take`. */
export interface PageSource {
  readonly path: string;
  /** The file's size, for progress (0 for a pipe). */
  readonly sizeBytes: number;
  /** Known after the first `fill`. */
  readonly info: StreamInfo | null;
  readonly format: TraceFormat | null;
  /** Source bytes read so far (compressed bytes for a compressed trace). */
  readonly bytesRead: number;
  /** Records decoded so far. */
  readonly records: number;
  /** Accesses decoded and not yet taken. */
  readonly pending: number;
  /** True once the whole trace has been decoded. */
  readonly eof: boolean;
  /** Decodes until at least `n` accesses wait, or the trace ends. @throws InputError. */
  fill(n: number): Promise<void>;
  /** Takes up to `n` waiting accesses (`next` holds next uses when the trace carries them). */
  take(n: number): { pages: Float64Array; writes: Uint8Array; next: Float64Array | null; count: number };
  /** Stops reading (a worker is ended). */
  close(): Promise<void>;
}

/** A trace decoded on the calling thread, chunk by chunk as accesses are needed. */
export class InlineStream implements PageSource {
  readonly path: string;
  readonly sizeBytes: number;
  private readonly reader: TraceReader;
  private pages = new Float64Array(1 << 16);
  private writes = new Uint8Array(1 << 16);
  private next: Float64Array | null = null;
  private head = 0;
  private tail = 0;
  eof = false;

  constructor(path: string, format: TraceFormat | 'auto', options: StreamOptions) {
    this.path = path;
    this.sizeBytes = sourceSize(path);
    this.reader = new TraceReader(path, format, options, this.append);
  }

  get info(): StreamInfo | null {
    return this.reader.info;
  }

  get format(): TraceFormat | null {
    return this.reader.decoder?.format ?? null;
  }

  get bytesRead(): number {
    return this.reader.progress.bytes;
  }

  get records(): number {
    return this.reader.records;
  }

  get pending(): number {
    return this.tail - this.head;
  }

  private append = (b: PageBatch): void => {
    const n = b.count;
    const next = 'next' in b ? (b as FuturePageBatch).next : null;
    if (next !== null && this.next === null) this.next = new Float64Array(this.pages.length);
    if (this.tail + n > this.pages.length) {
      const live = this.tail - this.head;
      // Compacting while a quarter stays free after it, else doubling: the most a fill holds is one
      // chunk's accesses (trace-source.ts), so the arrays stay near that, whatever the trace's length.
      if (live + n > this.pages.length * 0.75) {
        let size = this.pages.length * 2;
        while (size < live + n) size *= 2;
        const p = new Float64Array(size);
        const w = new Uint8Array(size);
        p.set(this.pages.subarray(this.head, this.tail));
        w.set(this.writes.subarray(this.head, this.tail));
        this.pages = p;
        this.writes = w;
        if (this.next !== null) {
          const x = new Float64Array(size);
          x.set(this.next.subarray(this.head, this.tail));
          this.next = x;
        }
      } else {
        this.pages.copyWithin(0, this.head, this.tail);
        this.writes.copyWithin(0, this.head, this.tail);
        this.next?.copyWithin(0, this.head, this.tail);
      }
      this.tail = live;
      this.head = 0;
    }
    this.pages.set(b.page.subarray(0, n), this.tail);
    this.writes.set(b.write.subarray(0, n), this.tail);
    if (next !== null) this.next!.set(next.subarray(0, n), this.tail);
    this.tail += n;
  };

  async fill(n: number): Promise<void> {
    while (this.pending < n && !this.eof) if (!(await this.reader.step())) this.eof = true;
  }

  take(n: number) {
    const count = Math.min(n, this.pending);
    const out = {
      pages: this.pages.subarray(this.head, this.head + count),
      writes: this.writes.subarray(this.head, this.head + count),
      next: this.next === null ? null : this.next.subarray(this.head, this.head + count),
      count,
    };
    this.head += count;
    return out;
  }

  async close(): Promise<void> {}
}

/** The worker's task (see trace-worker.ts). */
export interface WorkerTask {
  readonly path: string;
  readonly format: TraceFormat | 'auto';
  readonly options: StreamOptions;
  readonly ring: RingMemory;
}

/** A serialized failure from the worker: an input error, or a bug. */
export type WorkerError =
  | {
      readonly input: {
        code: string;
        message: string;
        span: InputError['span'];
        hint: string | undefined;
      };
    }
  | { readonly bug: string };

/** How long the reading thread may block before it lets the event loop run (to notice a dead worker). */
const WAIT_SLICE_MS = 50;

/**
 * The worker thread for `task`. From the TypeScript sources (tests, `npm run vmscope`), the worker
 * registers tsx's loader before it imports its module: `--import tsx` in a worker's execArgv does
 * not reach the worker's own entry module on Node 20.
 */
function startWorker(task: WorkerTask): Worker {
  if (!import.meta.url.endsWith('.ts'))
    return new Worker(new URL('./trace-worker.js', import.meta.url), { workerData: task });
  const api = pathToFileURL(
    createRequire(import.meta.url)
      .resolve('tsx/esm/api')
      .replace(/\.cjs$/, '.mjs'),
  ).href;
  const entry = new URL('./trace-worker.ts', import.meta.url).href;
  const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(code, { eval: true, workerData: task });
}

/**
 * The ring's least capacity, in accesses (17 bytes each: page, write bit, next use): 4.5 MB, a few
 * milliseconds of simulation ahead. A ring of 2^20 held 17 MB, a sixth of an OPT replay's memory,
 * without making the pipeline faster.
 */
const RING_MIN_ACCESSES = 1 << 18;

/** A trace decoded ahead by a worker thread into a shared ring. */
export class PipedStream implements PageSource {
  readonly path: string;
  readonly sizeBytes: number;
  private readonly ring: RingReader;
  private readonly thread: WatchedWorker;
  private taken = 0;
  private info_: StreamInfo | null = null;
  eof = false;

  /** @param minCapacity the most accesses one `fill` will ask for. */
  constructor(path: string, format: TraceFormat | 'auto', options: StreamOptions, minCapacity: number) {
    this.path = path;
    this.sizeBytes = sourceSize(path);
    const memory = createRing(Math.max(RING_MIN_ACCESSES, 2 * minCapacity + (1 << 17)));
    this.ring = new RingReader(memory);
    const task: WorkerTask = { path, format, options, ring: memory };
    const early = takeEarlyTraceWorker();
    if (early !== null) early.worker.postMessage(task);
    this.thread = early ?? watchWorker(startWorker(task));
  }

  get info(): StreamInfo | null {
    this.info_ ??= this.ring.info() as StreamInfo | null;
    return this.info_;
  }

  get format(): TraceFormat | null {
    return this.info?.format ?? null;
  }

  get bytesRead(): number {
    return this.ring.bytesRead;
  }

  get records(): number {
    return this.ring.recordsRead;
  }

  get pending(): number {
    return this.ring.available() - this.taken;
  }

  async fill(n: number): Promise<void> {
    this.ring.release(this.taken);
    this.taken = 0;
    for (;;) {
      if (this.ring.waitFor(n, WAIT_SLICE_MS)) break;
      // Let the event loop run: a worker that died without a word shows up there.
      await new Promise((res) => setImmediate(res));
      if (this.thread.exited && this.ring.state() === RING_RUNNING && this.ring.available() < n) {
        throw new InvariantError(
          `the trace reader thread stopped: ${String(this.thread.error ?? 'no reason')}`,
        );
      }
    }
    const state = this.ring.state();
    if (state === RING_FAILED && this.ring.available() < n) throw this.failure();
    this.eof = state === RING_DONE;
  }

  take(n: number) {
    const count = Math.min(n, this.pending);
    const v = this.ring.view(count);
    // Earlier takes since the last fill come first in the ring.
    invariant(this.taken === 0, 'piped stream: take twice without fill');
    this.taken = count;
    return { pages: v.pages, writes: v.writes, next: this.info?.hasFuture ? v.next : null, count };
  }

  private failure(): Error {
    const e = this.ring.error() as WorkerError;
    if ('input' in e) return new InputError(e.input.code, e.input.message, e.input.span, e.input.hint);
    return new InvariantError(`the trace reader thread failed: ${e.bug}`);
  }

  async close(): Promise<void> {
    if (!this.thread.exited) await this.thread.worker.terminate();
  }
}

export { DEFAULT_READ_THREADS } from './early-worker.js';

/**
 * A page stream for `path`, decoded ahead in a worker when `threads` ≥ 2. `minCapacity` is the
 * most accesses one `fill` asks for.
 */
export function openPageStream(
  path: string,
  format: TraceFormat | 'auto',
  options: StreamOptions,
  opts: { threads: number; minCapacity: number },
): PageSource {
  if (opts.threads >= 2) return new PipedStream(path, format, options, opts.minCapacity);
  return new InlineStream(path, format, options);
}

/**
 * Feeds several streams to `visit` in a round robin of `quantum` accesses each, until all end.
 * Deterministic: the same files and quantum give the same interleaving, with either kind of stream.
 */
export async function interleave(
  streams: readonly PageSource[],
  quantum: number,
  visit: (
    p: number,
    pages: Float64Array,
    writes: Uint8Array,
    count: number,
    next: Float64Array | null,
  ) => boolean,
): Promise<void> {
  const done = streams.map(() => false);
  let left = streams.length;
  while (left > 0) {
    for (let p = 0; p < streams.length; p++) {
      if (done[p]) continue;
      const s = streams[p]!;
      await s.fill(quantum);
      const { pages, writes, next, count } = s.take(quantum);
      const more = count > 0 && visit(p, pages, writes, count, next);
      if (!more || (s.eof && s.pending === 0)) {
        if (!done[p]) left--;
        done[p] = true;
      }
    }
  }
}
