/**
 * vmscope's binary trace format (`.vmt`): page accesses, compact and fast to read, for repeated
 * experiments on the same trace (`vmscope convert IN OUT.vmt`). Little-endian throughout:
 *
 *   offset 0   8 bytes  magic 89 56 4d 54 0d 0a 1a 0a  ("\x89VMT\r\n\x1a\n", as PNG's: a high bit, CRLF, ^Z)
 *          8   u16      version (1)
 *         10   u16      flags: bit 0 = page ids are address / page size (converted from lackey),
 *                       else opaque ids; bit 1 = the trace carries write flags
 *         12   u32      page size in bytes (a power of two)
 *         16   blocks, each: u32 payload bytes, u32 records, then the payload; the last block has
 *              0 records and an 8-byte payload holding the total record count (u64). Nothing follows.
 *
 * A record is one varint (LEB128, 7 bits a byte, low first): `v = zz·8 + mode·2 + write`.
 *   mode 0: page = the previous access's page + d;   mode 1: page = the page before that one + d,
 *   where "the page before" is the most recent page different from the previous one, and d is the
 *   zigzag-decoded zz (0, -1, 1, -2, … for zz = 0, 1, 2, 3, …);   mode 2: zz is 0 and a second
 *   varint holds the page itself (for jumps of 2^49 pages or more). Both references start at 0.
 * Real programs alternate between an instruction page and a data page, and most accesses repeat
 * one of the two: they take one byte. The corpus's traces average 1.1 bytes per access.
 *
 * The block structure lets a reader decode whole blocks without a bounds check per byte, and tells
 * a truncated file (no end block) from a complete one. Blocks hold at most `MAX_BLOCK_RECORDS`.
 */
import { InputError, invariant } from '../../base/errors.js';
import { isPowerOfTwo } from '../../base/units.js';
import { newPageBatch, type PageBatch, type PageSink } from './batch.js';

export const VMT_MAGIC = Uint8Array.of(0x89, 0x56, 0x4d, 0x54, 0x0d, 0x0a, 0x1a, 0x0a);
export const VMT_VERSION = 1;
export const VMT_HEADER_BYTES = 16;
/** Header flag: page ids are addresses divided by the page size. */
export const VMT_ADDRESSES = 1;
/** Header flag: the records' write bits are meaningful. */
export const VMT_WRITES = 2;
export const MAX_BLOCK_RECORDS = 65536;
/** A record takes at most two varints of 8 bytes. */
const MAX_RECORD_BYTES = 16;
const BLOCK_HEADER_BYTES = 8;
/** |zz| below this keeps v = zz·8 + … exact in a double. */
const ZZ_LIMIT = 2 ** 50;

/** What a vmscope trace's header says. */
export interface VmtHeader {
  /** `addresses`: page ids are address / page size (from lackey); `ids`: opaque ids. */
  readonly addressing: 'addresses' | 'ids';
  readonly pageSize: number;
  /** Whether the write flags mean anything (a pages file has none). */
  readonly writes: boolean;
}

/** True when `head` starts with the vmscope trace magic. */
export function isVmtrace(head: Uint8Array): boolean {
  if (head.length < VMT_MAGIC.length) return false;
  for (let i = 0; i < VMT_MAGIC.length; i++) if (head[i] !== VMT_MAGIC[i]) return false;
  return true;
}

/** How a {@link VmtEncoder} hands out what it writes. */
export interface VmtEncoderOptions {
  /**
   * `out` gets a view of the encoder's own buffer, valid only during the call (for a writer that
   * copies at once, as a synchronous file write does): a block costs no allocation.
   */
  readonly lend?: boolean;
}

/**
 * Writes page accesses as a vmscope trace. `out` receives the bytes in pieces (a fresh array each
 * time, so it may keep them, unless `lend`): the header at once, then a block every
 * `MAX_BLOCK_RECORDS` records, and the rest with the end block at {@link end}.
 */
export class VmtEncoder {
  readonly header: VmtHeader;
  /** Records written so far. */
  records = 0;
  private readonly out: (bytes: Uint8Array) => void;
  private buf = new Uint8Array(BLOCK_HEADER_BYTES + MAX_BLOCK_RECORDS * MAX_RECORD_BYTES);
  private at = BLOCK_HEADER_BYTES;
  private inBlock = 0;
  private r0 = 0;
  private r1 = 0;
  private ended = false;
  private readonly lend: boolean;

  constructor(header: VmtHeader, out: (bytes: Uint8Array) => void, options: VmtEncoderOptions = {}) {
    this.lend = options.lend ?? false;
    invariant(isPowerOfTwo(header.pageSize), 'vmtrace: the page size must be a power of two');
    this.header = header;
    this.out = out;
    const h = new Uint8Array(VMT_HEADER_BYTES);
    h.set(VMT_MAGIC);
    const dv = new DataView(h.buffer);
    dv.setUint16(8, VMT_VERSION, true);
    dv.setUint16(
      10,
      (header.addressing === 'addresses' ? VMT_ADDRESSES : 0) | (header.writes ? VMT_WRITES : 0),
      true,
    );
    dv.setUint32(12, header.pageSize, true);
    out(h);
  }

  /** Appends `count` accesses: `pages[i]` (safe integers ≥ 0), written where `writes[i]` is non-zero. */
  push(pages: Float64Array, writes: Uint8Array | null, count: number): void {
    invariant(!this.ended, 'vmtrace: push after end');
    const buf = this.buf;
    let at = this.at;
    let r0 = this.r0;
    let r1 = this.r1;
    let inBlock = this.inBlock;
    for (let i = 0; i < count; i++) {
      if (inBlock === MAX_BLOCK_RECORDS) {
        this.at = at;
        this.inBlock = inBlock;
        this.flushBlock();
        at = this.at;
        inBlock = 0;
      }
      const page = pages[i]!;
      const w = writes !== null && writes[i] !== 0 ? 1 : 0;
      const d0 = page - r0;
      const d1 = page - r1;
      let mode = 0;
      let d = d0;
      if ((d1 < 0 ? -d1 : d1) < (d0 < 0 ? -d0 : d0)) {
        mode = 1;
        d = d1;
      }
      const zz = d >= 0 ? 2 * d : -2 * d - 1;
      if (zz < 2 ** 25 && (zz | 0) === zz && page >= 0) {
        // 32-bit integer arithmetic: v < 2^28, at most four bytes.
        let v = (zz << 3) | (mode << 1) | w;
        while (v >= 128) {
          buf[at++] = (v & 127) | 128;
          v >>>= 7;
        }
        buf[at++] = v;
      } else {
        invariant(page >= 0 && Number.isSafeInteger(page), 'vmtrace: page ids are safe integers ≥ 0');
        if (zz < ZZ_LIMIT) {
          at = writeVarint(buf, at, zz * 8 + mode * 2 + w);
        } else {
          at = writeVarint(buf, at, 4 + w);
          at = writeVarint(buf, at, page);
        }
      }
      if (page !== r0) {
        r1 = r0;
        r0 = page;
      }
      inBlock++;
    }
    this.at = at;
    this.r0 = r0;
    this.r1 = r1;
    this.inBlock = inBlock;
    this.records += count;
  }

  /** Writes what is pending and the end block. Call once. */
  end(): void {
    invariant(!this.ended, 'vmtrace: end called twice');
    if (this.inBlock > 0) this.flushBlock();
    this.ended = true;
    const e = new Uint8Array(BLOCK_HEADER_BYTES + 8);
    const dv = new DataView(e.buffer);
    dv.setUint32(0, 8, true);
    dv.setUint32(4, 0, true);
    dv.setUint32(8, this.records % 2 ** 32, true);
    dv.setUint32(12, Math.floor(this.records / 2 ** 32), true);
    this.out(e);
  }

  private flushBlock(): void {
    const dv = new DataView(this.buf.buffer);
    dv.setUint32(0, this.at - BLOCK_HEADER_BYTES, true);
    dv.setUint32(4, this.inBlock, true);
    this.out(this.lend ? this.buf.subarray(0, this.at) : this.buf.slice(0, this.at));
    this.at = BLOCK_HEADER_BYTES;
    this.inBlock = 0;
  }
}

function writeVarint(buf: Uint8Array, at: number, v: number): number {
  while (v >= 128) {
    buf[at++] = (v % 128) | 128;
    v = Math.floor(v / 128);
  }
  buf[at++] = v;
  return at;
}

/**
 * Reads a vmscope trace pushed in chunks of any size, emitting one batch per block. Malformed input
 * (a bad header, a block that does not decode to its record count, a page id out of range, bytes
 * after the end block, no end block) is an {@link InputError} naming the byte offset.
 */
export class VmtDecoder {
  readonly file: string;
  /** The header, once read. */
  header: VmtHeader | null = null;
  /** Records decoded so far. */
  records = 0;
  /** Bytes pushed so far. */
  bytes = 0;
  private readonly sink: PageSink;
  private readonly batch: PageBatch = newPageBatch(MAX_BLOCK_RECORDS);
  /** Bytes of a header or block cut by a chunk boundary. */
  private carry = new Uint8Array(BLOCK_HEADER_BYTES + 4096);
  private carryLength = 0;
  /** Offset in the file of the next byte to be parsed (the start of `carry` when it holds bytes). */
  private offset = 0;
  private done = false;
  private ended = false;
  /** The two references: [0] the previous access's page, [1] the page before it. */
  private readonly refs = new Float64Array(2);

  constructor(file: string, sink: PageSink) {
    this.file = file;
    this.sink = sink;
  }

  /** Decodes every whole block in `chunk` (with bytes carried from earlier ones). */
  push(chunk: Uint8Array): void {
    invariant(!this.ended, `${this.file}: push after end`);
    this.bytes += chunk.length;
    let start = 0;
    // Complete the carried piece first (the header, or one block), a block's header before its payload.
    while (this.carryLength > 0) {
      const need = this.needed(this.carry, 0, this.carryLength);
      if (this.carryLength < need) {
        const take = Math.min(chunk.length - start, need - this.carryLength);
        this.append(chunk, start, start + take);
        start += take;
        if (this.carryLength < need && start === chunk.length) return;
        continue;
      }
      const used = this.parse(this.carry, 0, this.carryLength);
      invariant(used === this.carryLength, 'vmtrace: a carried piece is one header or block');
      this.carryLength = 0;
    }
    const used = this.parse(chunk, start, chunk.length);
    if (start + used < chunk.length) this.append(chunk, start + used, chunk.length);
  }

  /** Checks that the trace ended where it says. Call once, at the end of the input. */
  end(): void {
    invariant(!this.ended, `${this.file}: end called twice`);
    this.ended = true;
    if (this.done) return;
    if (this.header === null && this.bytes < VMT_HEADER_BYTES)
      throw this.error('the file ends inside the 16-byte header', this.bytes);
    throw this.error(
      `the trace ends early, after ${this.records} records: no end block (is the file truncated?)`,
      this.bytes,
    );
  }

  /** Bytes the piece starting at `buf[at]` needs in all (header or block), or its header's size if unknown. */
  private needed(buf: Uint8Array, at: number, end: number): number {
    if (this.header === null) return VMT_HEADER_BYTES;
    if (end - at < BLOCK_HEADER_BYTES) return BLOCK_HEADER_BYTES;
    return BLOCK_HEADER_BYTES + this.blockPayload(buf, at);
  }

  /**
   * The payload size the block header at `buf[at]` gives, checked before any of the payload is
   * awaited, so a corrupt header is refused alike however the file is cut into chunks.
   */
  private blockPayload(buf: Uint8Array, at: number): number {
    const payload = u32(buf, at);
    const count = u32(buf, at + 4);
    if (count > MAX_BLOCK_RECORDS || payload > count * MAX_RECORD_BYTES + (count === 0 ? 8 : 0))
      throw this.error(`a corrupt block header (${count} records in ${payload} bytes)`, this.offset);
    return payload;
  }

  /** Parses whole pieces of `buf[start, end)`. @returns the bytes used. */
  private parse(buf: Uint8Array, start: number, end: number): number {
    let at = start;
    if (this.header === null) {
      if (end - at < VMT_HEADER_BYTES) return 0;
      this.readHeader(buf, at);
      at += VMT_HEADER_BYTES;
      this.offset += VMT_HEADER_BYTES;
    }
    while (at < end) {
      if (this.done) throw this.error('bytes after the end of the trace', this.offset);
      if (end - at < BLOCK_HEADER_BYTES) break;
      const payload = this.blockPayload(buf, at);
      const count = u32(buf, at + 4);
      if (end - at < BLOCK_HEADER_BYTES + payload) break;
      if (count === 0) this.readEnd(buf, at + BLOCK_HEADER_BYTES, payload);
      else this.decodeBlock(buf, at + BLOCK_HEADER_BYTES, payload, count);
      at += BLOCK_HEADER_BYTES + payload;
      this.offset += BLOCK_HEADER_BYTES + payload;
    }
    return at - start;
  }

  private readHeader(buf: Uint8Array, at: number): void {
    if (!isVmtrace(buf.subarray(at, at + VMT_MAGIC.length)))
      throw this.error('not a vmscope trace (bad magic bytes)', 0);
    const version = buf[at + 8]! | (buf[at + 9]! << 8);
    if (version !== VMT_VERSION)
      throw this.error(`vmscope trace version ${version}; this vmscope reads version ${VMT_VERSION}`, 8);
    const flags = buf[at + 10]! | (buf[at + 11]! << 8);
    if ((flags & ~(VMT_ADDRESSES | VMT_WRITES)) !== 0)
      throw this.error(`unknown header flags 0x${flags.toString(16)}`, 10);
    const pageSize = u32(buf, at + 12);
    if (!isPowerOfTwo(pageSize)) throw this.error(`the page size ${pageSize} is not a power of two`, 12);
    this.header = {
      addressing: flags & VMT_ADDRESSES ? 'addresses' : 'ids',
      pageSize,
      writes: (flags & VMT_WRITES) !== 0,
    };
  }

  private readEnd(buf: Uint8Array, at: number, payload: number): void {
    const total = payload === 8 ? u32(buf, at) + u32(buf, at + 4) * 2 ** 32 : -1;
    if (total !== this.records)
      throw this.error(`the end block says ${total} records, the blocks hold ${this.records}`, this.offset);
    this.done = true;
  }

  /** Decodes one block's `count` records from `buf[at, at + payload)` into the batch and emits it. */
  private decodeBlock(buf: Uint8Array, at: number, payload: number, count: number): void {
    const end = at + payload;
    const pages = this.batch.page;
    const writes = this.batch.write;
    const refs = this.refs;
    let p = at;
    let n = 0;
    // A block's leading run of one-byte records of mode 0 or 1 (bits 7 and 2 clear), without a
    // branch on the data: the reference is picked by index, and a new page makes the previous one
    // "the page before" (a repeat keeps it). Measured: with this loop ahead of the general one the
    // whole decode runs at 207-212 M records/s, against 160-205 without (bimodal, by how V8 compiled
    // the general loop), though only some 8% of the records go through it.
    for (; n < count && p < end; n++) {
      const v = buf[p]!;
      if ((v & 0x84) !== 0) break;
      const zz = v >> 3;
      const page = refs[(v >> 1) & 1]! + ((zz >> 1) ^ -(zz & 1));
      if (page < 0) break;
      refs[1] = refs[page === refs[0] ? 1 : 0]!;
      refs[0] = page;
      p++;
      pages[n] = page;
      writes[n] = v & 1;
    }
    let r0 = refs[0]!;
    let r1 = refs[1]!;
    for (; n < count; n++) {
      // The common case first: a one-byte record relative to one of the two references.
      let v = buf[p]!;
      if (v < 128 && p < end) {
        p++;
        const zz = v >> 3;
        const d = zz & 1 ? -((zz + 1) >> 1) : zz >> 1;
        const page = ((v & 6) === 0 ? r0 : r1) + d;
        if ((v & 4) === 0 && page >= 0) {
          if (page !== r0) {
            r1 = r0;
            r0 = page;
          }
          pages[n] = page;
          writes[n] = v & 1;
          continue;
        }
        p--;
      }
      const start = p;
      // Two to four bytes, in 32-bit integer arithmetic.
      if (v >= 128 && p + 4 <= end) {
        let b = buf[p + 1]!;
        v = (v & 127) | ((b & 127) << 7);
        let len = 2;
        if (b >= 128) {
          b = buf[p + 2]!;
          v |= (b & 127) << 14;
          len = 3;
          if (b >= 128) {
            b = buf[p + 3]!;
            v |= (b & 127) << 21;
            len = 4;
          }
        }
        if (b < 128 && (v & 6) !== 6) {
          const zz = v >>> 3;
          const d = zz & 1 ? -((zz + 1) >>> 1) : zz >>> 1;
          const page = (v & 6) === 0 ? r0 + d : (v & 6) === 2 ? r1 + d : -1;
          if (page >= 0) {
            p += len;
            if (page !== r0) {
              r1 = r0;
              r0 = page;
            }
            pages[n] = page;
            writes[n] = v & 1;
            continue;
          }
        }
      }
      // Anything longer (mode 2, huge jumps), and every error.
      v = 0;
      let scale = 1;
      let b = 128;
      while (b >= 128) {
        if (p >= end || scale > 2 ** 49) throw this.corrupt(start - at, n);
        b = buf[p++]!;
        v += (b & 127) * scale;
        scale *= 128;
      }
      const w = v % 2;
      const mode = Math.floor(v / 2) % 4;
      const zz = Math.floor(v / 8);
      let page: number;
      if (mode === 2) {
        if (zz !== 0) throw this.corrupt(start - at, n);
        let id = 0;
        scale = 1;
        b = 128;
        while (b >= 128) {
          if (p >= end || scale > 2 ** 49) throw this.corrupt(start - at, n);
          b = buf[p++]!;
          id += (b & 127) * scale;
          scale *= 128;
        }
        page = id;
      } else if (mode === 3) {
        throw this.corrupt(start - at, n);
      } else {
        const d = zz % 2 === 1 ? -(zz + 1) / 2 : zz / 2;
        page = (mode === 0 ? r0 : r1) + d;
      }
      if (page < 0 || page > Number.MAX_SAFE_INTEGER) throw this.corrupt(start - at, n);
      if (page !== r0) {
        r1 = r0;
        r0 = page;
      }
      pages[n] = page;
      writes[n] = w;
    }
    if (p !== end)
      throw this.error(
        `a corrupt block: ${count} records end ${end - p} bytes before the block does`,
        this.offset,
      );
    refs[0] = r0;
    refs[1] = r1;
    this.records += count;
    this.batch.count = count;
    this.sink(this.batch);
    this.batch.count = 0;
  }

  private corrupt(within: number, record: number): InputError {
    return this.error(
      `a corrupt record (record ${this.records + record + 1} of the trace)`,
      this.offset + BLOCK_HEADER_BYTES + within,
    );
  }

  private error(message: string, offset: number): InputError {
    return new InputError('trace', message, { file: this.file, offset });
  }

  private append(chunk: Uint8Array, from: number, to: number): void {
    const n = to - from;
    if (this.carryLength + n > this.carry.length) {
      let size = this.carry.length;
      while (size < this.carryLength + n) size *= 2;
      const bigger = new Uint8Array(size);
      bigger.set(this.carry.subarray(0, this.carryLength));
      this.carry = bigger;
    }
    this.carry.set(chunk.subarray(from, to), this.carryLength);
    this.carryLength += n;
  }
}

function u32(buf: Uint8Array, at: number): number {
  return (buf[at]! | (buf[at + 1]! << 8) | (buf[at + 2]! << 16) | (buf[at + 3]! << 24)) >>> 0;
}
