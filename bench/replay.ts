/**
 * Trace replay as a whole: a real lackey trace parsed from text, split into page accesses, and run
 * (a) through the full system — TLB, 4-level walk in simulated RAM, faults, reclaim, accounting — and
 * (b) through the policy alone (--policy-only), each against a plain-JS loop over the same page
 * stream in the same process (the parse included in both), and checked to count the same faults.
 * Goals (issue 4): full system ≥ 25 M accesses/s from lackey text.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { createPolicy } from '../src/kernel/reclaim/registry.js';
import { CacheSim } from '../src/sim/cachesim.js';
import { SystemReplay } from '../src/sim/replay.js';
import type { PageBatch } from '../src/workload/trace/batch.js';
import { LackeyParser } from '../src/workload/trace/lackey.js';
import { LackeyPageSplitter } from '../src/workload/trace/split.js';
import { corpusPath } from '../test/corpus-path.js';
import { mops } from './harness.js';

/** The corpus's lackey traces, decompressed and concatenated (about 11 M accesses, 160 MB). */
function lackeyText(): Uint8Array {
  const parts = ['sort', 'gzip', 'python-dict', 'memwalk'].map((n) =>
    gunzipSync(readFileSync(corpusPath('memtrace', `${n}.lackey.gz`))),
  );
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Parses `text` in 1 MiB chunks into page batches for `sink`. @returns seconds taken. */
function stream(text: Uint8Array, sink: (b: PageBatch) => void): number {
  const split = new LackeyPageSplitter(4096, sink);
  const parser = new LackeyParser('bench', (b) => split.push(b));
  const t0 = performance.now();
  for (let i = 0; i < text.length; i += 1 << 20) parser.push(text.subarray(i, i + (1 << 20)));
  parser.end();
  split.flush();
  return (performance.now() - t0) / 1000;
}

/** The ceiling: an exact LRU over page ids with a Map and an intrusive list in typed arrays. */
function plainLru(frames: number) {
  const map = new Map<number, number>();
  const page = new Float64Array(frames);
  const prev = new Int32Array(frames).fill(-1);
  const next = new Int32Array(frames).fill(-1);
  let head = -1;
  let tail = -1;
  let used = 0;
  let faults = 0;
  let accesses = 0;
  const unlink = (s: number) => {
    if (prev[s]! >= 0) next[prev[s]!] = next[s]!;
    else head = next[s]!;
    if (next[s]! >= 0) prev[next[s]!] = prev[s]!;
    else tail = prev[s]!;
  };
  const pushFront = (s: number) => {
    prev[s] = -1;
    next[s] = head;
    if (head >= 0) prev[head] = s;
    head = s;
    if (tail < 0) tail = s;
  };
  return {
    sink(b: PageBatch) {
      for (let i = 0; i < b.count; i++) {
        const p = b.page[i]!;
        accesses++;
        const s = map.get(p);
        if (s !== undefined) {
          if (s !== head) {
            unlink(s);
            pushFront(s);
          }
          continue;
        }
        faults++;
        let slot: number;
        if (used < frames) slot = used++;
        else {
          slot = tail;
          unlink(slot);
          map.delete(page[slot]!);
        }
        page[slot] = p;
        map.set(p, slot);
        pushFront(slot);
      }
    },
    get faults() {
      return faults;
    },
    get accesses() {
      return accesses;
    },
  };
}

export function benchReplay(): string[] {
  const text = lackeyText();
  const frames = 256;
  const lines: string[] = [
    `trace replay (${(text.length / 1e6).toFixed(0)} MB of lackey text, LRU, ${frames} frames)`,
  ];
  let best = { plain: 0, full: 0, only: 0 };
  let counts = { plain: 0, full: 0, only: 0, accesses: 0 };
  for (let round = 0; round < 3; round++) {
    const ceiling = plainLru(frames);
    const tPlain = stream(text, (b) => ceiling.sink(b));
    const replay = new SystemReplay({
      frames,
      policy: 'lru',
      tlbEntries: 64,
      tlbWays: 4,
      names: ['bench'],
      addressing: 'addresses',
    });
    const tFull = stream(text, (b) => {
      replay.run(0, b.page, b.write, b.count);
    });
    const sim = new CacheSim(createPolicy('lru', frames, {}));
    const tOnly = stream(text, (b) => sim.run(b.page, b.write, b.count));
    const n = ceiling.accesses;
    best = {
      plain: Math.max(best.plain, n / tPlain),
      full: Math.max(best.full, n / tFull),
      only: Math.max(best.only, n / tOnly),
    };
    counts = { plain: ceiling.faults, full: replay.stats().faults, only: sim.faults, accesses: n };
  }
  const same = counts.plain === counts.full && counts.full === counts.only;
  lines.push(
    `  ${'plain-JS LRU loop (parse + Map + list)'.padEnd(44)} ${mops(best.plain).padStart(12)}   1.00x (baseline)`,
  );
  lines.push(
    `  ${'vmscope replay, full system'.padEnd(44)} ${mops(best.full).padStart(12)}   ${(best.plain / best.full).toFixed(2)}x slower  (goal ≥ 25 M/s: ${best.full >= 25e6 ? 'met' : 'NOT met'})`,
  );
  lines.push(
    `  ${'vmscope replay --policy-only'.padEnd(44)} ${mops(best.only).padStart(12)}   ${(best.plain / best.only).toFixed(2)}x`,
  );
  lines.push(
    `  faults: plain ${counts.plain}, full system ${counts.full}, policy only ${counts.only} over ${counts.accesses} accesses — ${same ? 'equal' : 'DIFFERENT'}`,
  );
  return lines;
}
