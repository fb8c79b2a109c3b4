/**
 * Next uses for oracles (OPT) with memory flat in the trace's length: the stream goes to disk, the
 * next uses are computed backwards from there, and the replay reads both.
 *
 *   pass A (forward)   every access of the (interleaved) stream → a vmscope trace in a temporary
 *                      folder, in blocks of 65,536 accesses, plus which process ran each turn;
 *   pass B (backward)  block by block from the last, each backwards: the next use of an access is
 *                      the time at which its page was last seen (a table of the distinct pages),
 *                      written as a 32-bit distance (0 = never) at the block's place in a second file;
 *   pass C (forward)   the stream again from the first file, each access with its next use from
 *                      the second (read by a {@link PageSource}: in a worker thread, when it has one).
 *
 * Memory: one block, a table of distinct pages, a few numbers per block and per turn. Disk: about
 * 1.1 bytes per access for the stream and 4 for the next uses. The files go when `dispose` is called.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError, invariant } from '../base/errors.js';
import { PageIdMap } from '../kernel/reclaim/idmap.js';
import {
  MAX_BLOCK_RECORDS,
  type VmtBlock,
  VmtDecoder,
  VmtEncoder,
  type VmtHeader,
} from '../workload/trace/vmtrace.js';
import { openPageStream, type PageSource } from './trace-input.js';

/** The longest stream a spill takes (next-use distances are 32-bit). */
export const MAX_SPILL_ACCESSES = 2 ** 32 - 2;

export class FutureSpill {
  /** The stream, as a vmscope trace. */
  readonly streamFile: string;
  /** One little-endian u32 per access: how many accesses later its page comes again (0: never). */
  readonly nextFile: string;
  /** Accesses spilled. */
  records = 0;
  private readonly dir: string;
  private readonly fd: number;
  private readonly encoder: VmtEncoder;
  private readonly blocks: VmtBlock[] = [];
  /** The turns of the interleaving: process, accesses; process, accesses; … */
  private turns: number[] = [];
  private state: 'writing' | 'written' | 'ready' | 'gone' = 'writing';

  /** Keeps the page ids of different processes apart in the spilled stream: process p adds p × span. */
  private readonly span: number;
  private scratch = new Float64Array(0);

  /**
   * @param header what the stream's page ids are (kept in the spilled trace); @param span more than
   * any page id of one process (the ids of process p are spilled as id + p × span).
   */
  constructor(header: Omit<VmtHeader, 'writes'>, span: number) {
    this.span = span;
    try {
      this.dir = mkdtempSync(join(tmpdir(), 'vmscope-future-'));
    } catch (e) {
      throw new InputError(
        'tmpdir',
        `cannot make a temporary folder here for the trace's next uses (${(e as NodeJS.ErrnoException).code}): set TMPDIR to a folder that can be written`,
        { file: tmpdir() },
      );
    }
    this.streamFile = join(this.dir, 'stream.vmt');
    this.nextFile = join(this.dir, 'next.u32');
    this.fd = openSync(this.streamFile, 'w');
    this.encoder = new VmtEncoder(
      { ...header, writes: true },
      (bytes) => {
        writeSync(this.fd, bytes);
      },
      { onBlock: (block) => this.blocks.push(block), lend: true },
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
    this.encoder.push(p === 0 ? pages : this.shifted(pages, count, p * this.span), writes, count);
    this.records += count;
    const n = this.turns.length;
    if (n > 0 && this.turns[n - 2] === p) this.turns[n - 1]! += count;
    else this.turns.push(p, count);
  }

  /** Pass B: the next use of every access, computed backwards. */
  computeNextUses(): void {
    invariant(this.state === 'writing', 'spill: next uses computed twice');
    this.encoder.end();
    closeSync(this.fd);
    this.state = 'written';
    const header = this.encoder.header;
    const input = openSync(this.streamFile, 'r');
    const output = openSync(this.nextFile, 'w');
    try {
      const ids = new PageIdMap(4096);
      /** Dense id → the time its page is next accessed (the latest seen, going backwards). */
      let seen = new Float64Array(4096);
      const pages = new Float64Array(MAX_BLOCK_RECORDS);
      const distance = new Uint32Array(MAX_BLOCK_RECORDS);
      let bytes = new Uint8Array(1 << 20);
      let n = 0;
      const decoder = VmtDecoder.seeded(
        this.streamFile,
        (b) => {
          pages.set(b.page.subarray(0, b.count), n);
          n += b.count;
        },
        header,
        this.blocks[0] ?? { offset: 0, bytes: 0, records: 0, r0: 0, r1: 0 },
      );
      let end = this.records;
      // The two pages met last (going backwards) and their dense ids: most accesses are one of them.
      let page0 = -1;
      let id0 = -1;
      let page1 = -1;
      let id1 = -1;
      for (let k = this.blocks.length - 1; k >= 0; k--) {
        const block = this.blocks[k]!;
        if (bytes.length < block.bytes) bytes = new Uint8Array(block.bytes * 2);
        const got = readSync(input, bytes, 0, block.bytes, block.offset);
        invariant(got === block.bytes, 'spill: short read of the stream');
        n = 0;
        decoder.seek(block);
        decoder.push(bytes.subarray(0, block.bytes));
        invariant(n === block.records, 'spill: a block decoded to the wrong count');
        const start = end - n;
        for (let i = n - 1; i >= 0; i--) {
          const page = pages[i]!;
          const t = start + i;
          let id: number;
          if (page === page0) id = id0;
          else {
            if (page === page1) id = id1;
            else {
              const fresh = ids.size;
              id = ids.getOrAdd(page, fresh);
              if (id < 0) {
                id = fresh;
                if (id >= seen.length) {
                  const bigger = new Float64Array(seen.length * 2);
                  bigger.set(seen);
                  seen = bigger;
                }
                seen[id] = -1;
              }
            }
            page1 = page0;
            id1 = id0;
            page0 = page;
            id0 = id;
          }
          const later = seen[id]!;
          distance[i] = later < 0 ? 0 : later - t;
          seen[id] = t;
        }
        writeSync(output, new Uint8Array(distance.buffer, 0, n * 4), 0, n * 4, start * 4);
        end = start;
      }
      invariant(end === 0, 'spill: blocks do not cover the stream');
    } finally {
      closeSync(input);
      closeSync(output);
    }
    this.state = 'ready';
  }

  /** Pass C: the stream with next uses, as a page source (decoded in a worker when `threads` ≥ 2). */
  open(threads: number, minCapacity: number): PageSource {
    invariant(this.state === 'ready', 'spill: next uses not computed');
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
    if (this.state === 'writing') closeSync(this.fd);
    this.state = 'gone';
    rmSync(this.dir, { recursive: true, force: true });
  }
}
