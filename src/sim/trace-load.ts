/** A whole (small) trace held in memory as page accesses: for scenarios and the browser. */
import { InputError } from '../base/errors.js';
import type { PageBatch } from '../workload/trace/batch.js';
import { detectTraceFormat } from '../workload/trace/detect.js';
import { LackeyParser } from '../workload/trace/lackey.js';
import { PagesParser } from '../workload/trace/pages.js';
import { LackeyPageSplitter } from '../workload/trace/split.js';

export interface LoadedTrace {
  readonly pages: Float64Array;
  readonly writes: Uint8Array;
  /** Lackey page ids are address / page size; page lists are opaque ids. */
  readonly addressing: 'addresses' | 'ids';
}

/** Parses `bytes` (lackey or a page list, by content) into page accesses. @throws InputError. */
export function loadTrace(file: string, bytes: Uint8Array, pageSize: number): LoadedTrace {
  const format = detectTraceFormat(bytes);
  if (format === null) {
    throw new InputError('trace', 'expected valgrind lackey lines (I/L/S/M) or one page number per line', {
      file,
      line: 1,
    });
  }
  const pages: number[] = [];
  const writes: number[] = [];
  const sink = (b: PageBatch): void => {
    for (let i = 0; i < b.count; i++) {
      pages.push(b.page[i]!);
      writes.push(b.write[i]!);
    }
  };
  if (format === 'pages') {
    const p = new PagesParser(file, sink);
    p.push(bytes);
    p.end();
  } else {
    const split = new LackeyPageSplitter(pageSize, sink);
    const p = new LackeyParser(file, (b) => split.push(b));
    p.push(bytes);
    p.end();
    split.flush();
  }
  return {
    pages: Float64Array.from(pages),
    writes: Uint8Array.from(writes),
    addressing: format === 'pages' ? 'ids' : 'addresses',
  };
}
