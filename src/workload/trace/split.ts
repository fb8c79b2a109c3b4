/**
 * From lackey records to the page stream a replay feeds to the memory system or a cache simulation.
 *
 * - An access covers the bytes [address, address + size); every page it touches is accessed, in
 *   address order (a size of 0 touches the address's page).
 * - `I` (fetch) and `L` (load) read; `S` (store) writes; `M` (modify) is a read of every page it
 *   touches followed by a write of the same pages.
 *
 * So one record gives 1 page access (2 for `M`) unless it straddles a page boundary. Both the
 * policy-only replay and the full-system replay use this, so their streams, and counts, agree.
 */
import { invariant } from '../../base/errors.js';
import { isPowerOfTwo } from '../../base/units.js';
import {
  DEFAULT_BATCH,
  LACKEY_MODIFY,
  LACKEY_STORE,
  type LackeyBatch,
  newPageBatch,
  type PageBatch,
  type PageSink,
} from './batch.js';

export class LackeyPageSplitter {
  readonly pageSize: number;
  /** Page accesses emitted. */
  pageAccesses = 0;
  /** Records that touched more than one page. */
  straddling = 0;
  private readonly batch: PageBatch;
  private readonly sink: PageSink;

  constructor(pageSize: number, sink: PageSink, batchSize: number = DEFAULT_BATCH) {
    invariant(isPowerOfTwo(pageSize), 'split: the page size must be a power of two');
    invariant(batchSize >= 2, 'split: batches hold at least two accesses');
    this.pageSize = pageSize;
    this.sink = sink;
    this.batch = newPageBatch(batchSize);
  }

  /** Converts a batch of records (a {@link LackeySink}: pass `(b) => splitter.push(b)`). */
  push(records: LackeyBatch): void {
    const size = this.pageSize;
    const batch = this.batch;
    const out = batch.page;
    const writes = batch.write;
    const cap = out.length;
    let n = batch.count;
    const count = records.count;
    for (let i = 0; i < count; i++) {
      const addr = records.address[i]!;
      const kind = records.kind[i]!;
      const first = Math.floor(addr / size);
      const bytes = records.size[i]!;
      const last = bytes <= 1 ? first : Math.floor((addr + bytes - 1) / size);
      if (first === last) {
        if (n + 2 > cap) {
          batch.count = n;
          this.emit();
          n = 0;
        }
        if (kind === LACKEY_MODIFY) {
          out[n] = first;
          writes[n++] = 0;
          out[n] = first;
          writes[n++] = 1;
        } else {
          out[n] = first;
          writes[n++] = kind === LACKEY_STORE ? 1 : 0;
        }
        continue;
      }
      batch.count = n;
      this.straddle(first, last, kind);
      n = batch.count;
    }
    batch.count = n;
  }

  /** Hands on what is pending. Call at the end of the stream (and whenever a caller wants it). */
  flush(): void {
    if (this.batch.count > 0) this.emit();
  }

  private straddle(first: number, last: number, kind: number): void {
    this.straddling++;
    const passes = kind === LACKEY_MODIFY ? 2 : 1;
    for (let pass = 0; pass < passes; pass++) {
      const write = kind === LACKEY_STORE || (kind === LACKEY_MODIFY && pass === 1) ? 1 : 0;
      for (let page = first; page <= last; page++) {
        if (this.batch.count === this.batch.page.length) this.emit();
        this.batch.page[this.batch.count] = page;
        this.batch.write[this.batch.count++] = write;
      }
    }
  }

  private emit(): void {
    this.pageAccesses += this.batch.count;
    this.sink(this.batch);
    this.batch.count = 0;
  }
}
