/**
 * The batches trace parsers emit: struct-of-arrays records in typed arrays that the parser reuses.
 * A sink sees `count` valid entries and must consume them before returning (the arrays are
 * overwritten by the next batch).
 */

/** Kinds of lackey record (`kind` values). */
export const LACKEY_INSTR = 0;
export const LACKEY_LOAD = 1;
export const LACKEY_STORE = 2;
export const LACKEY_MODIFY = 3;
export const LACKEY_KIND_NAMES = ['I', 'L', 'S', 'M'] as const;

/** Accesses as valgrind lackey printed them: where, how many bytes, and which kind. */
export interface LackeyBatch {
  count: number;
  /** Byte addresses (below 2^53). */
  readonly address: Float64Array;
  /** Access sizes in bytes, as printed (0 is possible and touches the address's page). */
  readonly size: Uint32Array;
  /** `LACKEY_INSTR`, `LACKEY_LOAD`, `LACKEY_STORE` or `LACKEY_MODIFY`. */
  readonly kind: Uint8Array;
}

/** Page-level accesses: page ids and write flags. */
export interface PageBatch {
  count: number;
  /** Page ids (non-negative safe integers). */
  readonly page: Float64Array;
  /** 1 where the access writes. All 0 for a pages file, which carries no kinds. */
  readonly write: Uint8Array;
}

/** Page-level accesses with each one's next use, for oracles (OPT): from a trace that carries them. */
export interface FuturePageBatch extends PageBatch {
  /** The index in the stream of the same page's next access, or `NEVER` (+Infinity) when none. */
  readonly next: Float64Array;
}

export type LackeySink = (batch: LackeyBatch) => void;
export type PageSink = (batch: PageBatch) => void;

/** Default entries per batch. */
export const DEFAULT_BATCH = 8192;

export function newLackeyBatch(capacity: number = DEFAULT_BATCH): LackeyBatch {
  return {
    count: 0,
    address: new Float64Array(capacity),
    size: new Uint32Array(capacity),
    kind: new Uint8Array(capacity),
  };
}

export function newFuturePageBatch(capacity: number = DEFAULT_BATCH): FuturePageBatch {
  return {
    count: 0,
    page: new Float64Array(capacity),
    write: new Uint8Array(capacity),
    next: new Float64Array(capacity),
  };
}

export function newPageBatch(capacity: number = DEFAULT_BATCH): PageBatch {
  return { count: 0, page: new Float64Array(capacity), write: new Uint8Array(capacity) };
}
