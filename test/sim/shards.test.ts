import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { LruStackDistance, powerOfTwoSizes, SizeSweep } from '../../src/sim/mrc.js';
import { ShardsSampler, sampleHash } from '../../src/sim/shards.js';
import { corpusPath, describeCorpus } from '../corpus.js';

/** A skewed stream over `pages` pages (a fixed LCG, so the test is the same every run). */
function skewed(n: number, pages: number): Float64Array {
  let x = 1;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = Math.floor((x / 2 ** 32) ** 3 * pages);
  }
  return out;
}

describe('SHARDS', () => {
  test('the hash is spread evenly: a rate of 0.1 samples about a tenth of 100,000 pages', () => {
    let n = 0;
    for (let p = 0; p < 100_000; p++) if (sampleHash(p) < 0.1 * 2 ** 32) n++;
    expect(n).toBeGreaterThan(9_500);
    expect(n).toBeLessThan(10_500);
  });

  test('at rate 1, and with a sample size over the footprint, the curve is the exact LRU curve', () => {
    const pages = skewed(100_000, 3000);
    const lru = new LruStackDistance();
    lru.push(pages, pages.length);
    const sizes = powerOfTwoSizes(1, lru.distinctPages);
    for (const spec of [{ rate: 1 }, { pages: 5000 }]) {
      const s = new ShardsSampler(spec);
      s.push(pages, null, pages.length);
      expect(s.lruCurve(sizes).faults).toEqual(lru.curve(sizes).faults);
    }
  });

  test('fixed size keeps at most N pages and lowers the rate to fit', () => {
    const s = new ShardsSampler({ pages: 200 });
    s.push(skewed(50_000, 3000), null, 50_000);
    expect(s.sampledPages).toBeLessThanOrEqual(200);
    expect(s.rate).toBeLessThan(0.2);
    expect(s.estimatedFootprint).toBeGreaterThan(1500);
    expect(s.estimatedFootprint).toBeLessThan(4500);
  });
});

/** The corpus's lackey traces as 64-byte cache lines (a footprint of thousands of lines, not ~100 pages). */
function lines(name: string): Float64Array {
  const text = gunzipSync(readFileSync(corpusPath('memtrace', `${name}.lackey.gz`))).toString('latin1');
  const out: number[] = [];
  for (const m of text.matchAll(/^ ?[ILSM] +([0-9a-f]+),/gm))
    out.push(Math.floor(Number.parseInt(m[1]!, 16) / 64));
  return Float64Array.from(out);
}

describeCorpus('sampled curves against the exact ones on the corpus traces', () => {
  // Sizes a sample at rate R can resolve: at least 1/R lines (a sampled distance of 1 stands for 1/R).
  const mae = (exact: readonly number[], est: readonly number[], n: number) =>
    exact.reduce((sum, f, i) => sum + Math.abs(f - est[i]!) / n, 0) / exact.length;

  test('memwalk (1.4 M accesses, 68 k lines) at rate 0.01: LRU and FIFO within 0.01 mean absolute error', () => {
    const pages = lines('memwalk');
    const lru = new LruStackDistance();
    lru.push(pages, pages.length);
    const sizes = powerOfTwoSizes(128, lru.distinctPages);
    const s = new ShardsSampler({ rate: 0.01 }, { keepTrace: true });
    s.push(pages, null, pages.length);
    const lruError = mae(lru.curve(sizes).faults, s.lruCurve(sizes).faults, pages.length);
    const fifo = new SizeSweep('fifo', sizes);
    fifo.push(pages, null, pages.length);
    const fifoError = mae(fifo.curve().faults, s.miniCurve('fifo', sizes).faults, pages.length);
    expect(lruError).toBeLessThan(0.01);
    expect(fifoError).toBeLessThan(0.01);
  }, 60_000);
});
