/**
 * A push parser for valgrind lackey traces (`valgrind --tool=lackey --trace-mem=yes`):
 *
 *   I  04010173,3        instruction fetch: 'I', spaces, hex address, ',', decimal size
 *    L 1ffefffd48,8      load
 *    S 1ffefffd48,8      store
 *    M 0421d2e8,4        modify: a load then a store of the same bytes
 *
 * Leading and trailing blanks and CRLF line ends are accepted. Blank lines and valgrind's own lines
 * (`==PID== …`, `--PID-- …`) are skipped. Anything else is an input error naming the line, the
 * column and what was expected. Addresses must be below 2^53 (x86-64 user addresses are 47 bits).
 * A size above {@link MAX_LACKEY_ACCESS} is an error too: lackey records one instruction's access
 * (the largest valgrind makes, an XSAVE area, is well under a page), and a 4 KB file of 4 GiB
 * accesses would otherwise expand into billions of page touches.
 *
 * The parser scans bytes (no strings, no regular expressions) and writes records into one reused
 * {@link LackeyBatch}; it allocates nothing per line. It reports each record as lackey printed it
 * (address, size, kind): splitting an access into pages, and `M` into a read then a write, is the
 * replayer's job (`split.ts`).
 */
import {
  DEFAULT_BATCH,
  LACKEY_INSTR,
  LACKEY_KIND_NAMES,
  LACKEY_LOAD,
  LACKEY_MODIFY,
  LACKEY_STORE,
  type LackeyBatch,
  type LackeySink,
  newLackeyBatch,
} from './batch.js';
import { describeByte, LineParser } from './lines.js';

/** The largest access size accepted, in bytes: one 4 KiB page. */
export const MAX_LACKEY_ACCESS = 4096;

const SPACE = 32;
const TAB = 9;
const CR = 13;
const LF = 10;
const COMMA = 44;

/** `skippedLines` counts blank lines and valgrind's own. */
export class LackeyParser extends LineParser<LackeyBatch> {
  /** Records by kind: I, L, S, M. */
  readonly counts = new Float64Array(4);

  /** @param file the input's name, for errors; @param sink receives each batch (see batch.ts). */
  constructor(file: string, sink: LackeySink, batchSize: number = DEFAULT_BATCH) {
    super(file, sink, newLackeyBatch(batchSize));
  }

  /** Records parsed so far. */
  get records(): number {
    return this.counts[0]! + this.counts[1]! + this.counts[2]! + this.counts[3]!;
  }

  protected parseLines(buf: Uint8Array, start: number, end: number): void {
    const batch = this.batch;
    const address = batch.address;
    const size = batch.size;
    const kinds = batch.kind;
    const cap = address.length;
    const counts = this.counts;
    let n = batch.count;
    let line = this.line;
    let p = start;
    while (p < end) {
      line++;
      // Fast path, lackey's own layout: "I  addr,size" or " K addr,size" (K = L, S or M).
      const lineStart = p;
      // The kind from the first two bytes by table, not by branches ("I " and " L" etc. mix).
      const kind = buf[p + 2] === SPACE ? FAST_KIND[(buf[p]! << 8) | buf[p + 1]!]! : -1;
      if (kind >= 0) {
        p += 3;
        // Lackey prints at least 8 hex digits (%08lx): those 8 at once, in a 32-bit integer and
        // without a branch per digit (a digit's -1 makes the or negative), then any more one by one.
        const h0 = HEX[buf[p]!]!;
        const h1 = HEX[buf[p + 1]!]!;
        const h2 = HEX[buf[p + 2]!]!;
        const h3 = HEX[buf[p + 3]!]!;
        const h4 = HEX[buf[p + 4]!]!;
        const h5 = HEX[buf[p + 5]!]!;
        const h6 = HEX[buf[p + 6]!]!;
        const h7 = HEX[buf[p + 7]!]!;
        const d8 =
          (h0 << 28) | (h1 << 24) | (h2 << 20) | (h3 << 16) | (h4 << 12) | (h5 << 8) | (h6 << 4) | h7;
        const bad = h0 | h1 | h2 | h3 | h4 | h5 | h6 | h7;
        if (bad >= 0) {
          let addr = d8 >>> 0;
          p += 8;
          let v = HEX[buf[p]!]!;
          while (v >= 0) {
            addr = addr * 16 + v;
            v = HEX[buf[++p]!]!;
          }
          if (buf[p] === COMMA) {
            let c = buf[++p]!;
            let d = c - 48;
            if (d >>> 0 <= 9) {
              let bytes = d;
              c = buf[++p]!;
              d = c - 48;
              while (d >>> 0 <= 9) {
                bytes = bytes * 10 + d;
                c = buf[++p]!;
                d = c - 48;
              }
              if (c === LF && addr <= Number.MAX_SAFE_INTEGER && bytes <= MAX_LACKEY_ACCESS) {
                p++;
                if (n === cap) {
                  batch.count = n;
                  this.sink(batch);
                  n = 0;
                }
                address[n] = addr;
                size[n] = bytes;
                kinds[n] = kind;
                counts[kind]!++;
                n++;
                continue;
              }
            }
          }
        }
        p = lineStart;
      }
      // Everything else (other spacing, CRLF, skipped lines) and every error.
      this.line = line;
      batch.count = n;
      p = this.parseLine(buf, p);
      n = batch.count;
    }
    batch.count = n;
    this.line = line;
  }

  /** The general case of one line starting at `p` (line number `this.line`). @returns the next line's start. */
  private parseLine(buf: Uint8Array, p: number): number {
    const lineStart = p;
    let c = buf[p]!;
    while (c === SPACE || c === TAB) c = buf[++p]!;
    let kind: number;
    if (c === 73) kind = LACKEY_INSTR;
    else if (c === 76) kind = LACKEY_LOAD;
    else if (c === 83) kind = LACKEY_STORE;
    else if (c === 77) kind = LACKEY_MODIFY;
    else {
      // Blank lines and valgrind's `==PID==` / `--PID--` lines.
      if (c === CR) c = buf[++p]!;
      const banner = (c === 61 || c === 45) && buf[p + 1] === c;
      if (c !== LF && !banner) {
        throw this.fail(
          lineStart,
          `expected a lackey record ('I', 'L', 'S' or 'M', then an address and a size), found ${describeByte(c)}`,
          p,
        );
      }
      while (buf[p] !== LF) p++;
      this.skippedLines++;
      return p + 1;
    }
    c = buf[++p]!;
    if (c !== SPACE && c !== TAB) {
      throw this.fail(
        lineStart,
        `expected a space after '${LACKEY_KIND_NAMES[kind]}', found ${describeByte(c)}`,
        p,
      );
    }
    while (c === SPACE || c === TAB) c = buf[++p]!;
    const hexStart = p;
    let addr = 0;
    let v = HEX[c]!;
    while (v >= 0) {
      addr = addr * 16 + v;
      c = buf[++p]!;
      v = HEX[c]!;
    }
    if (p === hexStart)
      throw this.fail(lineStart, `expected a hexadecimal address, found ${describeByte(c)}`, p);
    if (addr > Number.MAX_SAFE_INTEGER)
      throw this.fail(lineStart, 'address is 2^53 or more; vmscope replays addresses below 2^53', hexStart);
    if (c !== COMMA)
      throw this.fail(lineStart, `expected ',' after the address, found ${describeByte(c)}`, p);
    c = buf[++p]!;
    const sizeStart = p;
    let bytes = 0;
    while (c >= 48 && c <= 57) {
      bytes = bytes * 10 + (c - 48);
      c = buf[++p]!;
    }
    if (p === sizeStart)
      throw this.fail(lineStart, `expected a decimal size after ',', found ${describeByte(c)}`, p);
    if (bytes > MAX_LACKEY_ACCESS)
      throw this.fail(
        lineStart,
        `access size ${p - sizeStart > 15 ? `${String.fromCharCode(...buf.subarray(sizeStart, sizeStart + 15))}…` : bytes} is larger than any one instruction makes (at most ${MAX_LACKEY_ACCESS} bytes in a lackey record)`,
        sizeStart,
      );
    while (c === SPACE || c === TAB || c === CR) c = buf[++p]!;
    if (c !== LF) throw this.fail(lineStart, `unexpected ${describeByte(c)} after the size`, p);
    const batch = this.batch;
    if (batch.count === batch.address.length) this.flush();
    const n = batch.count++;
    batch.address[n] = addr;
    batch.size[n] = bytes;
    batch.kind[n] = kind;
    this.counts[kind]!++;
    return p + 1;
  }
}

/** Hex digit value by byte, -1 for anything else. Indexing with `undefined` (past the end) gives undefined, never ≥ 0. */
const HEX = (() => {
  const t = new Int8Array(256).fill(-1);
  for (let i = 0; i < 10; i++) t[48 + i] = i;
  for (let i = 0; i < 6; i++) {
    t[65 + i] = 10 + i;
    t[97 + i] = 10 + i;
  }
  return t;
})();

/** Lackey's own line openings, by their first two bytes (`b0 << 8 | b1`): "I " and " L", " S", " M". */
const FAST_KIND = (() => {
  const t = new Int8Array(65536).fill(-1);
  t[(73 << 8) | SPACE] = LACKEY_INSTR;
  t[(SPACE << 8) | 76] = LACKEY_LOAD;
  t[(SPACE << 8) | 83] = LACKEY_STORE;
  t[(SPACE << 8) | 77] = LACKEY_MODIFY;
  return t;
})();
