/**
 * libCacheSim's `oracleGeneral` binary traces (its `traceConv` writes them; `cachesim TRACE
 * oracleGeneral …` reads them): packed little-endian records of 24 bytes and nothing else, no header.
 *
 *   offset 0   u32  clock_time          (seconds in libCacheSim's traces; vmscope writes the access index)
 *          4   u64  obj_id              (vmscope: the page id)
 *         12   u32  obj_size            (vmscope writes the page size; it reads no size)
 *         16   i64  next_access_vtime   1-based index of the object's next request: the record at
 *                                       0-based index j gives j + 1; -1 (or INT64_MAX) when none
 *
 * So an `oracleGeneral` trace brings its own future: OPT reads next uses from it instead of making
 * a pass of its own. The format has no operation field, so every access reads. Object ids must be
 * below 2^53 (page ids are doubles); a next access must lie after its record. Anything else is an
 * {@link InputError} naming the byte offset of the record. (Records are read and written through
 * typed arrays, in the host's byte order: every platform Node and the browsers run on is little-endian.)
 */
import { InputError, invariant } from '../../base/errors.js';
import { NEVER } from '../../kernel/reclaim/policy.js';
import { DEFAULT_BATCH, type FuturePageBatch, newFuturePageBatch } from './batch.js';

export const ORACLE_RECORD_BYTES = 24;

/**
 * True when `head` (at least one record, no text) reads as oracleGeneral records: every whole record
 * in it has an id below 2^53 and a next access that is "never" or after the record. Text never
 * qualifies (its bytes would make ids and next accesses far too large).
 */
export function looksLikeOracleGeneral(head: Uint8Array): boolean {
  const n = Math.floor(head.length / ORACLE_RECORD_BYTES);
  if (n === 0) return false;
  const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  let anyZero = false;
  for (let i = 0; i < head.length && i < 4096; i++) if (head[i] === 0) anyZero = true;
  if (!anyZero) return false;
  for (let i = 0; i < Math.min(n, 256); i++) {
    const at = i * ORACLE_RECORD_BYTES;
    if (dv.getUint32(at + 8, true) >= 2 ** 21) return false;
    const lo = dv.getUint32(at + 16, true);
    const hi = dv.getInt32(at + 20, true);
    const never = (hi === -1 && lo === 0xffffffff) || (hi === 0x7fffffff && lo === 0xffffffff);
    if (never) continue;
    if (hi < 0 || hi >= 2 ** 21) return false;
    if (hi * 2 ** 32 + lo < i + 2) return false;
  }
  return true;
}

/**
 * Reads oracleGeneral records pushed in chunks of any size; emits page batches whose `next` holds
 * each access's next use as a 0-based index (`NEVER` when none), and `write` all 0.
 */
export class OracleGeneralDecoder {
  readonly file: string;
  /** Records decoded so far. */
  records = 0;
  bytes = 0;
  private readonly sink: (batch: FuturePageBatch) => void;
  private readonly batch: FuturePageBatch;
  /** An aligned copy of the bytes being decoded (chunks come at any offset), with the cut record's head. */
  private words = new Uint32Array(0);
  private carry = new Uint8Array(ORACLE_RECORD_BYTES);
  private carryLength = 0;
  private ended = false;

  constructor(file: string, sink: (batch: FuturePageBatch) => void, batchSize: number = DEFAULT_BATCH) {
    this.file = file;
    this.sink = sink;
    this.batch = newFuturePageBatch(batchSize);
  }

  push(chunk: Uint8Array): void {
    invariant(!this.ended, `${this.file}: push after end`);
    this.bytes += chunk.length;
    const total = this.carryLength + chunk.length;
    const n = Math.floor(total / ORACLE_RECORD_BYTES);
    if (n > 0) {
      const bytes = n * ORACLE_RECORD_BYTES;
      if (this.words.length * 4 < bytes) this.words = new Uint32Array(Math.max(bytes / 4, 1 << 16));
      const view = new Uint8Array(this.words.buffer, 0, bytes);
      view.set(this.carry.subarray(0, this.carryLength));
      view.set(chunk.subarray(0, bytes - this.carryLength), this.carryLength);
      this.decode(this.words, n);
      const rest = chunk.subarray(bytes - this.carryLength);
      this.carry.set(rest);
      this.carryLength = rest.length;
    } else {
      this.carry.set(chunk, this.carryLength);
      this.carryLength = total;
    }
  }

  end(): void {
    invariant(!this.ended, `${this.file}: end called twice`);
    this.ended = true;
    if (this.carryLength !== 0) {
      throw new InputError(
        'trace',
        `the trace ends inside a record: ${this.carryLength} of its ${ORACLE_RECORD_BYTES} bytes (is the file truncated?)`,
        { file: this.file, offset: this.records * ORACLE_RECORD_BYTES },
      );
    }
  }

  private decode(words: Uint32Array, n: number): void {
    const batch = this.batch;
    const pages = batch.page;
    const next = batch.next;
    const cap = pages.length;
    let k = batch.count;
    let index = this.records;
    for (let r = 0, w = 0; r < n; r++, w += 6, index++) {
      const idHi = words[w + 2]!;
      const nextLo = words[w + 4]!;
      const nextHi = words[w + 5]! | 0;
      if (idHi >= 2 ** 21) this.fail(index, 'an object id of 2^53 or more; vmscope replays ids below 2^53');
      let at: number;
      if (nextHi === -1 || nextHi === 0x7fffffff) {
        if (nextLo !== 0xffffffff) this.fail(index, 'a next access before its record');
        at = NEVER;
      } else {
        const vtime = nextHi * 2 ** 32 + nextLo;
        if (nextHi < 0 || vtime < index + 2)
          this.fail(index, `a next access (${vtime}) that is not after the record`);
        at = vtime - 1;
      }
      if (k === cap) {
        batch.count = k;
        this.sink(batch);
        k = 0;
      }
      pages[k] = idHi * 2 ** 32 + words[w + 1]!;
      next[k++] = at;
    }
    this.records = index;
    batch.count = k;
    if (k > 0) {
      this.sink(batch);
      batch.count = 0;
    }
  }

  private fail(index: number, what: string): never {
    throw new InputError('trace', `record ${index + 1} has ${what}`, {
      file: this.file,
      offset: index * ORACLE_RECORD_BYTES,
    });
  }
}

/**
 * Writes oracleGeneral records: `out` receives a fresh array per call of {@link push}. The caller
 * gives each access's next use (0-based index, `NEVER` when none), as {@link FuturePageBatch} holds.
 */
export class OracleGeneralEncoder {
  records = 0;
  private readonly out: (bytes: Uint8Array) => void;
  private readonly objectSize: number;

  constructor(objectSize: number, out: (bytes: Uint8Array) => void) {
    this.out = out;
    this.objectSize = objectSize;
  }

  push(pages: Float64Array, next: Float64Array, count: number): void {
    const words = new Uint32Array(count * 6);
    let t = this.records;
    for (let i = 0, w = 0; i < count; i++, w += 6, t++) {
      const page = pages[i]!;
      const lo = page % 2 ** 32;
      words[w] = t % 2 ** 32;
      words[w + 1] = lo;
      words[w + 2] = (page - lo) / 2 ** 32;
      words[w + 3] = this.objectSize;
      const at = next[i]!;
      if (at === NEVER) {
        words[w + 4] = 0xffffffff;
        words[w + 5] = 0xffffffff;
      } else {
        invariant(at > t, 'oracleGeneral: a next use must come after its access');
        const v = at + 1;
        const vlo = v % 2 ** 32;
        words[w + 4] = vlo;
        words[w + 5] = (v - vlo) / 2 ** 32;
      }
    }
    this.records = t;
    this.out(new Uint8Array(words.buffer));
  }
}
