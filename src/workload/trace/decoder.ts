/**
 * One entry point from a trace format to page accesses: `createTraceDecoder(format, …)` gives a
 * push decoder (bytes in, {@link PageBatch}es out; `FuturePageBatch`es for formats that carry next uses) for every format vmscope reads, so the CLI's
 * reader, its worker thread, the scenario runner and the browser treat them all alike. A new format
 * adds a case here and a rule in `detect.ts`.
 */
import { InputError } from '../../base/errors.js';
import type { PageBatch } from './batch.js';
import type { CsvSpec } from './csv.js';
import type { TraceFormat } from './detect.js';
import { LackeyParser } from './lackey.js';
import { OracleGeneralDecoder } from './oracle-general.js';
import { PagesParser } from './pages.js';
import { LackeyPageSplitter } from './split.js';
import { createTextParser } from './text-formats.js';
import { VmtDecoder } from './vmtrace.js';

/** The page size lackey addresses are divided by when none is asked for. */
export const DEFAULT_PAGE_SIZE = 4096;

export interface DecodeOptions {
  /**
   * Bytes per page: lackey addresses are split into pages of this size, and a vmscope trace of
   * addresses must have been converted with it. Unset: the trace's own (vmscope), else 4096.
   */
  readonly pageSize?: number;
  /** The columns of a CSV trace (`--csv`): required for `csv`, ignored by the other formats. */
  readonly csv?: CsvSpec;
}

export interface TraceDecoder {
  readonly format: TraceFormat;
  /** Decodes a chunk, emitting complete batches. @throws InputError on malformed input. */
  push(chunk: Uint8Array): void;
  /** Ends the input, emitting what is left. @throws InputError when it ended early or badly. */
  end(): void;
  /** Records read so far: lines with an access, or binary records. */
  readonly records: number;
  /** `addresses`: page ids are address / page size; `ids`: opaque ids. Known once data arrived. */
  readonly addressing: 'addresses' | 'ids';
  /** The page size the ids are in (for `ids`, what was asked, or 4096). */
  readonly pageSize: number;
  /** True when the batches are {@link FuturePageBatch}es, each access with its next use. */
  readonly hasFuture: boolean;
}

/** A decoder for `format`; `file` names the input in errors. Batches are reused: see batch.ts. */
export function createTraceDecoder(
  format: TraceFormat,
  file: string,
  options: DecodeOptions,
  sink: (batch: PageBatch) => void,
): TraceDecoder {
  const asked = options.pageSize;
  const pageSize = asked ?? DEFAULT_PAGE_SIZE;
  switch (format) {
    case 'pages': {
      const p = new PagesParser(file, sink);
      return {
        format,
        push: (c) => p.push(c),
        end: () => p.end(),
        get records() {
          return p.records;
        },
        addressing: 'ids',
        pageSize,
        hasFuture: false,
      };
    }
    case 'lackey': {
      const split = new LackeyPageSplitter(pageSize, sink);
      const p = new LackeyParser(file, (b) => {
        split.push(b);
        split.flush();
      });
      return {
        format,
        push: (c) => p.push(c),
        end: () => p.end(),
        get records() {
          return p.records;
        },
        addressing: 'addresses',
        pageSize,
        hasFuture: false,
      };
    }
    case 'oracleGeneral': {
      const d = new OracleGeneralDecoder(file, sink);
      return {
        format,
        push: (c) => d.push(c),
        end: () => d.end(),
        get records() {
          return d.records;
        },
        addressing: 'ids',
        pageSize,
        hasFuture: true,
      };
    }
    case 'din':
    case 'csv':
    case 'msr':
    case 'txt': {
      const p = createTextParser(format, file, pageSize, options, sink);
      return {
        format,
        push: (c) => p.push(c),
        end: () => p.end(),
        get records() {
          return p.records;
        },
        // din holds byte addresses; the others' pages are ids of disks' or objects' own spaces.
        addressing: format === 'din' ? 'addresses' : 'ids',
        pageSize,
        hasFuture: false,
      };
    }
    case 'vmscope': {
      let checked = false;
      const d = new VmtDecoder(file, (b) => {
        if (!checked) check();
        sink(b);
      });
      const check = (): void => {
        const h = d.header!;
        checked = true;
        if (h.addressing === 'addresses' && asked !== undefined && asked !== h.pageSize) {
          throw new InputError(
            'trace',
            `the trace was converted with ${h.pageSize}-byte pages, not ${asked} (convert it again with --page-size ${asked})`,
            { file, offset: 12 },
          );
        }
      };
      return {
        format,
        push(c) {
          d.push(c);
          if (!checked && d.header !== null) check();
        },
        end: () => d.end(),
        get records() {
          return d.records;
        },
        get addressing() {
          return d.header?.addressing ?? 'ids';
        },
        get pageSize() {
          return d.header?.addressing === 'addresses' ? d.header.pageSize : pageSize;
        },
        hasFuture: false,
      };
    }
  }
}
