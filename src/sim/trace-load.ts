/** A whole (small) trace held in memory as page accesses: for scenarios and the browser. */
import { InputError } from '../base/errors.js';
import type { PageBatch } from '../workload/trace/batch.js';
import { createTraceDecoder } from '../workload/trace/decoder.js';
import { detectTraceFormat, FORMAT_HELP } from '../workload/trace/detect.js';

export interface LoadedTrace {
  readonly pages: Float64Array;
  readonly writes: Uint8Array;
  /** Lackey and din page ids are address / page size; the other formats' are opaque ids. */
  readonly addressing: 'addresses' | 'ids';
}

/** Decodes `bytes` (any format vmscope reads, told by content) into page accesses. @throws InputError. */
export function loadTrace(file: string, bytes: Uint8Array, pageSize: number): LoadedTrace {
  const format = detectTraceFormat(bytes);
  if (format === null) throw new InputError('trace', `expected ${FORMAT_HELP}`, { file, line: 1 });
  const pages: number[] = [];
  const writes: number[] = [];
  const sink = (b: PageBatch): void => {
    for (let i = 0; i < b.count; i++) {
      pages.push(b.page[i]!);
      writes.push(b.write[i]!);
    }
  };
  const d = createTraceDecoder(format, file, { pageSize }, sink);
  d.push(bytes);
  d.end();
  return { pages: Float64Array.from(pages), writes: Uint8Array.from(writes), addressing: d.addressing };
}
