/**
 * libCacheSim's `txt` traces: one object id per line — a number (decimal, or hex with `0x`) or any
 * other text — each line one request for one page. Ids are renumbered densely as first seen (numbers
 * equal in value, `42` and `0x2a`, are one object), so page ids stay small whatever the ids were:
 * 64-bit hashes, URLs, keys. Blank lines are skipped; the whole line, blanks around it removed, is the id.
 */
import { PageIdMap } from '../../kernel/reclaim/idmap.js';
import type { PageSink } from './batch.js';
import { FieldParser } from './fields.js';

export class TxtParser extends FieldParser {
  private readonly numbers = new PageIdMap(1024);
  private readonly names = new Map<string, number>();
  private next = 0;

  constructor(file: string, sink: PageSink) {
    super(file, sink, ' ');
  }

  /** Distinct objects seen. */
  get objects(): number {
    return this.next;
  }

  protected record(buf: Uint8Array): void {
    let id: number;
    const n = this.fields === 1 ? this.number(buf, 0) : Number.NaN;
    if (!Number.isNaN(n)) {
      const got = this.numbers.getOrAdd(n, this.next);
      if (got >= 0) id = got;
      else id = this.next++;
    } else {
      let name = '';
      for (let p = this.fieldStart[0]!; p < this.fieldEnd[this.fields - 1]!; p++)
        name += String.fromCharCode(buf[p]!);
      const got = this.names.get(name);
      if (got !== undefined) id = got;
      else {
        id = this.next++;
        this.names.set(name, id);
      }
    }
    this.records++;
    this.emit(id, 0);
  }
}
