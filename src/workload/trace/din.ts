/**
 * Dinero's `din` traces (Dinero III and IV's default input): one access per line, `LABEL ADDRESS`,
 * the rest of the line ignored (it may carry a comment).
 *
 *   2 0          LABEL 0 read data, 1 write data, 2 instruction fetch,
 *   0 1000             3 escape record (an access of unknown type: read here),
 *   1 70f60890         4 escape record (cache flush: no access; counted in `flushes`)
 *
 * ADDRESS is hexadecimal without `0x` (a `0x` is accepted). Each access touches the page holding its
 * address (din records carry no size). Blank lines are skipped; anything else is an input error
 * naming the line, the column and what was expected.
 */
import type { PageSink } from './batch.js';
import { FieldParser } from './fields.js';

/** `skippedLines` counts blank lines and flush records. */
export class DinParser extends FieldParser {
  readonly pageSize: number;
  /** Label-4 (flush) records seen. */
  flushes = 0;

  /** @param pageSize bytes per page: page id = address / pageSize. */
  constructor(file: string, sink: PageSink, pageSize: number) {
    super(file, sink, ' ');
    this.pageSize = pageSize;
  }

  protected record(buf: Uint8Array): void {
    const s = this.fieldStart[0]!;
    const label = this.fieldEnd[0]! - s === 1 ? buf[s]! - 48 : -1;
    if (label < 0 || label > 4) {
      throw this.failAt(
        s,
        `expected a Dinero label (0 read, 1 write, 2 fetch, 3 unknown, 4 flush), found ${this.shown(buf, 0)}`,
      );
    }
    if (label === 4) {
      this.flushes++;
      this.skippedLines++;
      return;
    }
    if (this.fields < 2)
      throw this.failAt(this.fieldEnd[0]!, 'expected a hexadecimal address after the label');
    const addr = this.number(buf, 1, true);
    if (Number.isNaN(addr)) {
      throw this.failAt(this.fieldStart[1]!, `expected a hexadecimal address, found ${this.shown(buf, 1)}`);
    }
    this.records++;
    this.emit(Math.floor(addr / this.pageSize), label === 1 ? 1 : 0);
  }
}
