/**
 * A push parser for plain page-number traces: one decimal page number per line (the corpus's
 * `*.pages` files, OSTEP's `-f` files). The numbers are opaque page ids; every one of them, 0
 * included, is a valid page. Blanks around the number, blank lines and CRLF line ends are accepted;
 * anything else is an input error naming the line, the column and what was expected. Page ids must
 * be below 2^53.
 *
 * Byte scanning, one reused {@link PageBatch} (its `write` flags stay 0: the format has no kinds),
 * no allocation per line.
 */
import { DEFAULT_BATCH, newPageBatch, type PageBatch, type PageSink } from './batch.js';
import { describeByte, LineParser } from './lines.js';

const SPACE = 32;
const TAB = 9;
const CR = 13;
const LF = 10;

/** `skippedLines` counts blank lines. */
export class PagesParser extends LineParser<PageBatch> {
  /** Page numbers parsed so far. */
  records = 0;

  /** @param file the input's name, for errors; @param sink receives each batch (see batch.ts). */
  constructor(file: string, sink: PageSink, batchSize: number = DEFAULT_BATCH) {
    super(file, sink, newPageBatch(batchSize));
  }

  protected parseLines(buf: Uint8Array, start: number, end: number): void {
    const batch = this.batch;
    const pages = batch.page;
    const cap = pages.length;
    let n = batch.count;
    let line = this.line;
    let records = 0;
    let p = start;
    while (p < end) {
      line++;
      // Fast path: digits, then the newline.
      let c = buf[p]!;
      let d = c - 48;
      if (d >>> 0 <= 9) {
        const lineStart = p;
        let page = d;
        c = buf[++p]!;
        d = c - 48;
        while (d >>> 0 <= 9) {
          page = page * 10 + d;
          c = buf[++p]!;
          d = c - 48;
        }
        if (c === LF && page <= Number.MAX_SAFE_INTEGER) {
          p++;
          if (n === cap) {
            batch.count = n;
            this.sink(batch);
            n = 0;
          }
          pages[n++] = page;
          records++;
          continue;
        }
        p = lineStart;
      }
      // Everything else, and every error.
      this.line = line;
      this.records += records;
      records = 0;
      batch.count = n;
      p = this.parseLine(buf, p);
      n = batch.count;
    }
    batch.count = n;
    this.line = line;
    this.records += records;
  }

  /** The general case of one line starting at `p` (line number `this.line`). @returns the next line's start. */
  private parseLine(buf: Uint8Array, p: number): number {
    const lineStart = p;
    let c = buf[p]!;
    while (c === SPACE || c === TAB) c = buf[++p]!;
    const digits = p;
    let page = 0;
    while (c >= 48 && c <= 57) {
      page = page * 10 + (c - 48);
      c = buf[++p]!;
    }
    const ndigits = p - digits;
    while (c === SPACE || c === TAB || c === CR) c = buf[++p]!;
    if (page > Number.MAX_SAFE_INTEGER) throw this.fail(lineStart, 'page number is 2^53 or more', digits);
    if (c !== LF) {
      const message =
        ndigits === 0
          ? `expected a decimal page number, found ${describeByte(c)}`
          : `unexpected ${describeByte(c)} after the page number`;
      throw this.fail(lineStart, message, p);
    }
    if (ndigits === 0) {
      this.skippedLines++;
      return p + 1;
    }
    const batch = this.batch;
    if (batch.count === batch.page.length) this.flush();
    batch.page[batch.count++] = page;
    this.records++;
    return p + 1;
  }
}
