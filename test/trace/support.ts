/** Helpers for the trace parser tests: feeding text in chunks and collecting what comes out. */
import type { LackeyBatch } from '../../src/workload/trace/batch.js';
import { LackeyParser } from '../../src/workload/trace/lackey.js';
import { PagesParser } from '../../src/workload/trace/pages.js';

export const encode = (text: string): Uint8Array => new TextEncoder().encode(text);

/** Cuts `bytes` at the given offsets (sorted, clamped; repeats make empty chunks). */
export function cut(bytes: Uint8Array, offsets: readonly number[]): Uint8Array[] {
  const points = [...offsets].map((o) => Math.min(o, bytes.length)).sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let at = 0;
  for (const p of points) {
    chunks.push(bytes.subarray(at, p));
    at = p;
  }
  chunks.push(bytes.subarray(at));
  return chunks;
}

/** The page ids a pages parser emits for `chunks`. */
export function parsePages(chunks: readonly Uint8Array[], file = 'test.pages', batch = 8192): number[] {
  const out: number[] = [];
  const p = new PagesParser(
    file,
    (b) => {
      for (let i = 0; i < b.count; i++) out.push(b.page[i]!);
    },
    batch,
  );
  for (const c of chunks) p.push(c);
  p.end();
  return out;
}

export interface Record3 {
  kind: number;
  address: number;
  size: number;
}

/** Appends a lackey batch's records to `out`. */
export function collect(out: Record3[]): (b: LackeyBatch) => void {
  return (b) => {
    for (let i = 0; i < b.count; i++)
      out.push({ kind: b.kind[i]!, address: b.address[i]!, size: b.size[i]! });
  };
}

/** The records a lackey parser emits for `chunks`. */
export function parseLackey(chunks: readonly Uint8Array[], file = 'test.lackey', batch = 8192): Record3[] {
  const out: Record3[] = [];
  const p = new LackeyParser(file, collect(out), batch);
  for (const c of chunks) p.push(c);
  p.end();
  return out;
}

/** The formatted input error a parse throws, or null. */
export function errorOf(parse: () => unknown): string | null {
  try {
    parse();
    return null;
  } catch (e) {
    if (e instanceof Error && 'format' in e) return (e as { format(): string }).format();
    throw e;
  }
}
