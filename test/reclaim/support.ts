/**
 * Helpers for the replacement and replay tests: corpus page traces read through the real parser,
 * and a naive LRU to check the fast one against.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { PagesParser } from '../../src/workload/trace/pages.js';
import { corpusPath } from '../corpus.js';

const cache = new Map<string, Float64Array>();

/** A corpus pages file (`memtrace/sort.pages.gz`, …) as page ids, parsed in 64 KiB chunks. Cached. */
export function corpusPages(...parts: string[]): Float64Array {
  const key = parts.join('/');
  const hit = cache.get(key);
  if (hit) return hit;
  let bytes: Uint8Array = readFileSync(corpusPath(...parts));
  if (key.endsWith('.gz')) bytes = gunzipSync(bytes);
  const chunks: Float64Array[] = [];
  let total = 0;
  const parser = new PagesParser(key, (b) => {
    chunks.push(b.page.slice(0, b.count));
    total += b.count;
  });
  for (let i = 0; i < bytes.length; i += 65536) parser.push(bytes.subarray(i, i + 65536));
  parser.end();
  const out = new Float64Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  cache.set(key, out);
  return out;
}

/** The textbook LRU: an array ordered least recent first. @returns the faults and the victims. */
export function naiveLru(refs: ArrayLike<number>, frames: number): { faults: number; victims: number[] } {
  const memory: number[] = [];
  const victims: number[] = [];
  let faults = 0;
  for (let i = 0; i < refs.length; i++) {
    const page = refs[i]!;
    const at = memory.indexOf(page);
    if (at >= 0) {
      memory.splice(at, 1);
    } else {
      faults++;
      if (memory.length === frames) victims.push(memory.shift()!);
    }
    memory.push(page);
  }
  return { faults, victims };
}

/**
 * OPT as paging-policy.py computes it: memory in arrival order; on a fault with memory full, scan
 * the future for each page and evict the last one (in memory order) with the furthest next use.
 * @returns the victims.
 */
export function naiveOpt(refs: readonly number[], frames: number): number[] {
  const memory: number[] = [];
  const victims: number[] = [];
  refs.forEach((page, t) => {
    if (memory.includes(page)) return;
    if (memory.length === frames) {
      let best = -1;
      let bestWhen = -1;
      memory.forEach((m, i) => {
        const ahead = refs.indexOf(m, t + 1);
        const when = ahead < 0 ? refs.length : ahead;
        if (when >= bestWhen) {
          best = i;
          bestWhen = when;
        }
      });
      victims.push(memory.splice(best, 1)[0]!);
    }
    memory.push(page);
  });
  return victims;
}
