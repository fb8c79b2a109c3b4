/**
 * Next uses for oracles (OPT) with memory flat in the trace's length: the stream goes to disk, the
 * next uses are computed backwards from there, and the replay reads both.
 *
 *   pass A (forward)   every access of the (interleaved) stream → a vmscope trace in a temporary
 *                      folder, plus which process ran each turn; and
 *                      each access's page as a dense 32-bit id (the order of first sight: a table
 *                      of the distinct pages) in a second file;
 *   pass B (backward)  the second file chunk by chunk from the last, each backwards: the next use of
 *                      an access is the time at which its id was last seen (an array by id),
 *                      written to a third file as a 16-bit distance (0 = never; `FAR` = 65535 or
 *                      more, the distance then in a fourth file of (access, distance) pairs, in
 *                      descending order of access); the ids' file then goes;
 *   pass C (forward)   the stream again from the first file, each access with its next use from
 *                      the second (read by a {@link PageSource}: in a worker thread, when it has one).
 *
 * Pass B reads no trace: pass A's thread waits for the decoder of the input text anyway, so the
 * ids cost little there, while decoding the stream again backwards and hashing every page there
 * took about a quarter of an OPT replay.
 *
 * A single trace in a regular, uncompressed file needs no copy (`readsAgain`): pass C reads the
 * file itself again with the next uses beside it. Encoding the copy took pass A's thread as long
 * as its simulating thread took in pass C.
 *
 * Memory: a chunk, a table of distinct pages, a few numbers per block and per turn. Disk: about
 * 1.1 bytes per access for the stream, 4 for the ids (until pass B is done) and 2 for the next
 * uses (plus 8 per far one: under 0.1% of the corpus's accesses). Writing the next uses as 32-bit
 * distances over the ids was a fifth of an OPT replay's simulating thread (writes to the page
 * cache), and pass C read twice the bytes. The files go when `dispose` is called.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError, invariant } from '../base/errors.js';
import { PageIdMap } from '../kernel/reclaim/idmap.js';
import { FAR } from '../kernel/reclaim/policy.js';
import type { DecodeOptions } from '../workload/trace/decoder.js';
import type { TraceFormat } from '../workload/trace/detect.js';
import { VmtEncoder, type VmtHeader } from '../workload/trace/vmtrace.js';
import { openPageStream, type PageSource } from './trace-input.js';
import { farFile } from './trace-next.js';
import { cheapToReadAgain } from './trace-source.js';

/** A trace file, as a command reads it. */
export interface TraceFile {
  readonly path: string;
  readonly format: TraceFormat | 'auto';
  readonly options: DecodeOptions;
}

/** The longest stream a spill takes (next-use distances are 32-bit). */
export const MAX_SPILL_ACCESSES = 2 ** 32 - 2;

/** Accesses in a chunk of the ids' and next uses' files (pass A's writes, pass B's reads and writes). */
const CHUNK = 1 << 18;
/** Far distances written at a time. */
const FAR_CHUNK = 1 << 14;

export class FutureSpill {
  /** The stream, as a vmscope trace ('' when it is not kept: {@link readsAgain}). */
  readonly streamFile: string;
  /** The trace pass C reads again beside the next uses, or null when it reads the copy. */
  readonly readsAgain: TraceFile | null;
  /**
   * One little-endian u16 per access: how many accesses later its page comes again (0: never;
   * `FAR`: the distance is in {@link farFile(nextFile)}).
   */
  readonly nextFile: string;
  /** Accesses spilled. */
  records = 0;
  private readonly dir: string;
  private readonly fd: number | null;
  /** The ids' file (pass A's output, pass B's input). */
  private readonly idsFile: string;
  private readonly idsFd: number;
  private readonly encoder: VmtEncoder | null;
  /** Page → dense id (its order of first sight). */
  private ids: PageIdMap | null = new PageIdMap(4096);
  /** Ids of the latest accesses, not yet written. */
  private readonly idChunk = new Uint32Array(CHUNK);
  private readonly idBytes = new Uint8Array(this.idChunk.buffer);
  private idFill = 0;
  // The two pages met last and their ids: most accesses are one of them.
  private page0 = -1;
  private id0 = -1;
  private page1 = -1;
  private id1 = -1;
  /** The turns of the interleaving: process, accesses; process, accesses; … */
  private turns: number[] = [];
  private state: 'writing' | 'written' | 'ready' | 'gone' = 'writing';

  /** Keeps the page ids of different processes apart in the spilled stream: process p adds p × span. */
  private readonly span: number;
  private scratch = new Float64Array(0);

  /**
   * @param header what the stream's page ids are (kept in the spilled trace); @param span more than
   * any page id of one process (the ids of process p are spilled as id + p × span); @param trace
   * the one trace file being spilled, if it is one: when it can be read again cheaply (see
   * {@link cheapToReadAgain}) only the next uses are kept, and pass C reads the trace itself again.
   */
  constructor(header: Omit<VmtHeader, 'writes'>, span: number, trace: TraceFile | null = null) {
    this.span = span;
    this.readsAgain = trace !== null && cheapToReadAgain(trace.path) ? trace : null;
    try {
      this.dir = mkdtempSync(join(tmpdir(), 'vmscope-future-'));
    } catch (e) {
      throw new InputError(
        'tmpdir',
        `cannot make a temporary folder here for the trace's next uses (${(e as NodeJS.ErrnoException).code}): set TMPDIR to a folder that can be written`,
        { file: tmpdir() },
      );
    }
    this.idsFile = join(this.dir, 'ids.u32');
    this.idsFd = openSync(this.idsFile, 'w+');
    this.nextFile = join(this.dir, 'next.u16');
    if (this.readsAgain !== null) {
      this.streamFile = '';
      this.fd = null;
      this.encoder = null;
      return;
    }
    this.streamFile = join(this.dir, 'stream.vmt');
    const fd = openSync(this.streamFile, 'w');
    this.fd = fd;
    this.encoder = new VmtEncoder(
      { ...header, writes: true },
      (bytes) => {
        writeSync(fd, bytes);
      },
      { lend: true },
    );
  }

  /** Pass A: appends a turn of process `p` (its ids as the replay will see them). */
  push(p: number, pages: Float64Array, writes: Uint8Array, count: number): void {
    invariant(this.state === 'writing', 'spill: push after the stream was closed');
    if (this.records + count > MAX_SPILL_ACCESSES) {
      throw new InputError(
        'replay',
        `the trace has more than ${MAX_SPILL_ACCESSES} accesses: too long for OPT`,
        {
          file: '--policy',
        },
      );
    }
    const spilled = p === 0 ? pages : this.shifted(pages, count, p * this.span);
    this.encoder?.push(spilled, writes, count);
    this.pushIds(spilled, count);
    this.records += count;
    const n = this.turns.length;
    if (n > 0 && this.turns[n - 2] === p) this.turns[n - 1]! += count;
    else this.turns.push(p, count);
  }

  /** Pass A: the dense ids of `pages[0..count)`, to the next-use file a chunk at a time. */
  private pushIds(pages: Float64Array, count: number): void {
    const ids = this.ids!;
    const chunk = this.idChunk;
    let fill = this.idFill;
    let page0 = this.page0;
    let id0 = this.id0;
    let page1 = this.page1;
    let id1 = this.id1;
    for (let i = 0; i < count; i++) {
      const page = pages[i]!;
      if (page !== page0) {
        let id: number;
        if (page === page1) id = id1;
        else {
          const fresh = ids.size;
          id = ids.getOrAdd(page, fresh);
          if (id < 0) id = fresh;
        }
        page1 = page0;
        id1 = id0;
        page0 = page;
        id0 = id;
      }
      chunk[fill++] = id0;
      if (fill === CHUNK) {
        writeSync(this.idsFd, this.idBytes, 0, CHUNK * 4);
        fill = 0;
      }
    }
    this.idFill = fill;
    this.page0 = page0;
    this.id0 = id0;
    this.page1 = page1;
    this.id1 = id1;
  }

  /** Pass B: the next use of every access, computed backwards from pass A's ids. */
  computeNextUses(): void {
    invariant(this.state === 'writing', 'spill: next uses computed twice');
    this.encoder?.end();
    if (this.fd !== null) closeSync(this.fd);
    this.state = 'written';
    const next = openSync(this.nextFile, 'w');
    const far = openSync(farFile(this.nextFile), 'w');
    try {
      this.idsToDistances(this.idsFd, next, far);
    } finally {
      closeSync(far);
      closeSync(next);
      closeSync(this.idsFd);
      rmSync(this.idsFile, { force: true });
    }
    this.state = 'ready';
  }

  private idsToDistances(fd: number, next: number, farFd: number): void {
    if (this.idFill > 0) writeSync(fd, this.idBytes, 0, this.idFill * 4);
    /** Id → the time its page is next accessed (the latest seen, going backwards), or -1. */
    const seen = new Float64Array(Math.max(1, this.ids!.size)).fill(-1);
    this.ids = null;
    const chunk = this.idChunk;
    const bytes = this.idBytes;
    const out = new Uint16Array(CHUNK);
    const outBytes = new Uint8Array(out.buffer);
    const far = new Uint32Array(2 * FAR_CHUNK);
    const farBytes = new Uint8Array(far.buffer);
    let farFill = 0;
    let end = this.records;
    while (end > 0) {
      const start = Math.max(0, end - CHUNK);
      const n = end - start;
      const got = readSync(fd, bytes, 0, n * 4, start * 4);
      invariant(got === n * 4, 'spill: short read of the ids');
      for (let i = n - 1; i >= 0; i--) {
        const id = chunk[i]!;
        const t = start + i;
        const later = seen[id]!;
        const d = later < 0 ? 0 : later - t;
        if (d < FAR) out[i] = d;
        else {
          out[i] = FAR;
          far[farFill++] = t;
          far[farFill++] = d;
          if (farFill === far.length) {
            writeSync(farFd, farBytes, 0, farFill * 4);
            farFill = 0;
          }
        }
        seen[id] = t;
      }
      writeSync(next, outBytes, 0, n * 2, start * 2);
      end = start;
    }
    if (farFill > 0) writeSync(farFd, farBytes, 0, farFill * 4);
  }

  /**
   * Pass C: the stream with next uses, as a page source (decoded in a worker when `threads` ≥ 2):
   * the trace read again, or the copy.
   */
  open(threads: number, minCapacity: number): PageSource {
    invariant(this.state === 'ready', 'spill: next uses not computed');
    const again = this.readsAgain;
    if (again !== null) {
      return openPageStream(
        again.path,
        again.format,
        { ...again.options, nextFile: this.nextFile },
        { threads, minCapacity },
      );
    }
    return openPageStream(this.streamFile, 'vmscope', { nextFile: this.nextFile }, { threads, minCapacity });
  }

  /**
   * Pass C, turn by turn as pass A saw them: `visit(p, pages, writes, count, next)` with process
   * p's own page ids, in pieces of at most `quantum` accesses. Once `visit` returns false for a
   * process, its later turns are skipped (their accesses keep their places in time).
   */
  async replay(
    source: PageSource,
    quantum: number,
    visit: (p: number, pages: Float64Array, writes: Uint8Array, count: number, next: Float64Array) => boolean,
  ): Promise<void> {
    const stopped = new Set<number>();
    const turns = this.turns;
    for (let k = 0; k < turns.length; k += 2) {
      const p = turns[k]!;
      let left = turns[k + 1]!;
      while (left > 0) {
        const n = Math.min(left, quantum);
        await source.fill(n);
        const got = source.take(n);
        if (got.count < n && this.readsAgain !== null) {
          throw new InputError(
            'trace',
            'the trace changed while it was replayed: it ended early when read again',
            {
              file: source.path,
            },
          );
        }
        invariant(got.count === n && got.next !== null, 'spill: the stream ended early');
        if (stopped.has(p)) continue;
        const pages = p === 0 ? got.pages : this.shifted(got.pages, n, -p * this.span);
        if (!visit(p, pages, got.writes, n, got.next)) stopped.add(p);
        left -= n;
      }
    }
  }

  /** `pages[0..count)` plus `delta`, in a scratch array. */
  private shifted(pages: Float64Array, count: number, delta: number): Float64Array {
    if (this.scratch.length < count) this.scratch = new Float64Array(count);
    const out = this.scratch;
    for (let i = 0; i < count; i++) out[i] = pages[i]! + delta;
    return out;
  }

  /** Removes the files. */
  dispose(): void {
    if (this.state === 'gone') return;
    if (this.state === 'writing') {
      if (this.fd !== null) closeSync(this.fd);
      closeSync(this.idsFd);
    }
    this.state = 'gone';
    rmSync(this.dir, { recursive: true, force: true });
  }
}
