/**
 * What the field-oriented text formats share (Dinero `din`, CSV with named columns, MSR Cambridge,
 * libCacheSim `txt`): each line is cut into fields — by one delimiter byte (`,` or a tab), or by
 * runs of blanks — whose byte ranges go into reused arrays, and a format reads its fields from
 * them. Numbers are parsed from the bytes; requests become page accesses through {@link emitPages}.
 * Blank lines are skipped; CRLF line ends are accepted; a field in double quotes loses its quotes.
 */
import { newPageBatch, type PageBatch, type PageSink } from './batch.js';
import { describeByte, LineParser } from './lines.js';

/** How fields are separated: one delimiter byte, or runs of spaces and tabs. */
export type Delimiter = ',' | '\t' | ' ';

const MAX_FIELDS = 64;
const SPACE = 32;
const TAB = 9;
const CR = 13;
const LF = 10;
const QUOTE = 34;

export abstract class FieldParser extends LineParser<PageBatch> {
  /** Records (requests) read so far. */
  records = 0;
  /** Page accesses emitted. */
  pageAccesses = 0;
  protected delimiter: Delimiter;
  /** Field i of the current line is `buf[fieldStart[i], fieldEnd[i])`, quotes and blanks around it removed. */
  protected readonly fieldStart = new Int32Array(MAX_FIELDS);
  protected readonly fieldEnd = new Int32Array(MAX_FIELDS);
  protected fields = 0;
  /** The line being parsed starts at this byte of `buf`, for column numbers. */
  protected lineStart = 0;

  constructor(file: string, sink: PageSink, delimiter: Delimiter) {
    super(file, sink, newPageBatch());
    this.delimiter = delimiter;
  }

  /** Reads the fields of one line (`this.fieldStart`/`this.fieldEnd`/`this.fields`); called for non-blank lines. */
  protected abstract record(buf: Uint8Array): void;

  protected parseLines(buf: Uint8Array, start: number, end: number): void {
    let p = start;
    while (p < end) {
      this.line++;
      const lineStart = p;
      let lineEnd = buf.indexOf(LF, p);
      if (lineEnd < 0 || lineEnd >= end) lineEnd = end - 1;
      p = lineEnd + 1;
      let e = lineEnd;
      if (e > lineStart && buf[e - 1] === CR) e--;
      this.lineStart = lineStart;
      if (!this.split(buf, lineStart, e)) {
        this.skippedLines++;
        continue;
      }
      this.record(buf);
    }
  }

  /** Cuts `buf[from, to)` into fields. @returns false for a blank line. */
  private split(buf: Uint8Array, from: number, to: number): boolean {
    let n = 0;
    const start = this.fieldStart;
    const end = this.fieldEnd;
    if (this.delimiter === ' ') {
      let p = from;
      for (;;) {
        while (p < to && (buf[p] === SPACE || buf[p] === TAB)) p++;
        if (p >= to) break;
        if (n === MAX_FIELDS) throw this.failAt(p, `more than ${MAX_FIELDS} fields on one line`);
        start[n] = p;
        while (p < to && buf[p] !== SPACE && buf[p] !== TAB) p++;
        end[n++] = p;
      }
    } else {
      const d = this.delimiter.charCodeAt(0);
      let blank = true;
      for (let q = from; q < to; q++) {
        if (buf[q] !== SPACE && buf[q] !== TAB) {
          blank = false;
          break;
        }
      }
      if (blank) return false;
      let p = from;
      for (;;) {
        if (n === MAX_FIELDS) throw this.failAt(p, `more than ${MAX_FIELDS} fields on one line`);
        let q = p;
        while (q < to && buf[q] !== d) q++;
        let s = p;
        let e = q;
        while (s < e && (buf[s] === SPACE || buf[s] === TAB)) s++;
        while (e > s && (buf[e - 1] === SPACE || buf[e - 1] === TAB)) e--;
        if (e - s >= 2 && buf[s] === QUOTE && buf[e - 1] === QUOTE) {
          s++;
          e--;
        }
        start[n] = s;
        end[n++] = e;
        if (q >= to) break;
        p = q + 1;
      }
    }
    this.fields = n;
    return n > 0;
  }

  /** An input error at byte `at` of the current line. */
  protected failAt(at: number, message: string): Error {
    return this.error(message, this.line, at - this.lineStart + 1);
  }

  /** The text of field `i` (slow path: errors, names). */
  protected text(buf: Uint8Array, i: number): string {
    let s = '';
    for (let p = this.fieldStart[i]!; p < this.fieldEnd[i]!; p++) s += String.fromCharCode(buf[p]!);
    return s;
  }

  /** What an error shows for field `i`: its text, or that it is empty. */
  protected shown(buf: Uint8Array, i: number): string {
    const t = this.text(buf, i);
    if (t === '') return 'an empty field';
    return t.length > 40 ? `'${t.slice(0, 40)}…'` : `'${t}'`;
  }

  /**
   * Field `i` as a non-negative integer: decimal, or hexadecimal with `0x` (or always hexadecimal
   * when `hex`). @returns NaN when it is not one, or is 2^53 or more.
   */
  protected number(buf: Uint8Array, i: number, hex = false): number {
    let p = this.fieldStart[i]!;
    const e = this.fieldEnd[i]!;
    let base = hex ? 16 : 10;
    if (e - p > 2 && buf[p] === 48 && (buf[p + 1] === 120 || buf[p + 1] === 88)) {
      base = 16;
      p += 2;
    }
    if (p >= e) return Number.NaN;
    let v = 0;
    for (; p < e; p++) {
      const d = digit(buf[p]!);
      if (d < 0 || d >= base) return Number.NaN;
      v = v * base + d;
    }
    return v <= Number.MAX_SAFE_INTEGER ? v : Number.NaN;
  }

  /** Appends one page access. */
  protected emit(page: number, write: number): void {
    const b = this.batch;
    if (b.count === b.page.length) this.flush();
    b.page[b.count] = page;
    b.write[b.count++] = write;
    this.pageAccesses++;
  }

  /** Appends accesses to pages `first..last` (in order), each written when `write`. */
  protected emitPages(first: number, last: number, write: number): void {
    for (let page = first; page <= last; page++) this.emit(page, write);
  }

  /** Describes the byte that ends a bad number, for messages. */
  protected badByte(buf: Uint8Array, i: number): string {
    for (let p = this.fieldStart[i]!; p < this.fieldEnd[i]!; p++) {
      if (digit(buf[p]!) < 0) return describeByte(buf[p]);
    }
    return 'a number too large';
  }
}

/** The value of a hexadecimal digit byte, or -1. */
function digit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20;
  if (l >= 97 && l <= 102) return l - 87;
  return -1;
}

/** Which delimiter a line uses: a comma if it has one, else a tab, else blanks. */
export function delimiterOf(line: string): Delimiter {
  if (line.includes(',')) return ',';
  if (line.includes('\t')) return '\t';
  return ' ';
}
