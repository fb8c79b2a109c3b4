/**
 * Miss-ratio curves: the one-pass exact curves (LRU by stack distances over a Fenwick tree, OPT by
 * Mattson's priority stack) must equal one simulation per size, on random streams and on the
 * corpus's real page traces; the per-size sweep and its worker protocol must equal plain runs.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { createPolicy } from '../../src/kernel/reclaim/registry.js';
import { CacheSim, NextUseBuilder, type NextUses } from '../../src/sim/cachesim.js';
import {
  LruStackDistance,
  type MissRatioCurve,
  OptStackDistance,
  powerOfTwoSizes,
  SizeSweep,
} from '../../src/sim/mrc.js';
import { type MrcReply, type MrcRequest, MrcWorker, serveMrc } from '../../src/sim/mrc-worker.js';
import { testCorpus } from '../corpus.js';
import { corpusPages } from './support.js';

/** Feeds `pages` in batches of `batch`. */
function feed(pages: Float64Array, batch: number, push: (p: Float64Array, n: number) => void): void {
  for (let i = 0; i < pages.length; i += batch)
    push(pages.subarray(i, i + batch), Math.min(batch, pages.length - i));
}

function futureOf(pages: Float64Array): NextUses {
  const b = new NextUseBuilder();
  feed(pages, 4096, (p, n) => b.push(p, n));
  return b.finish();
}

/** Faults of one simulation per size. */
function perSize(policy: string, pages: Float64Array, sizes: readonly number[]): number[] {
  const sweep = new SizeSweep(policy, sizes);
  if (sweep.needsFuture) sweep.setFuture(futureOf(pages));
  feed(pages, 8192, (p, n) => sweep.push(p, null, n));
  return [...sweep.curve().faults];
}

const streamArb = fc
  .tuple(fc.integer({ min: 1, max: 60 }), fc.array(fc.nat(), { maxLength: 600 }))
  .map(([universe, xs]) => Float64Array.from(xs.map((x) => (x % universe) * 7919)));

describe('the one-pass LRU curve', () => {
  test('equals an LRU simulation at every size, for any stream and any batching', () => {
    fc.assert(
      fc.property(streamArb, fc.integer({ min: 1, max: 50 }), (pages, batch) => {
        const m = new LruStackDistance();
        feed(pages, batch, (p, n) => m.push(p, n));
        const sizes = Array.from({ length: m.distinctPages + 1 }, (_, i) => i + 1);
        expect([...m.curve(sizes).faults]).toEqual(perSize('lru', pages, sizes));
        expect(m.accesses).toBe(pages.length);
        expect(m.coldFaults).toBe(m.distinctPages);
        const curve = m.curve(sizes).faults;
        for (const s of sizes) expect(m.faultsAt(s)).toBe(curve[s - 1]);
      }),
      { numRuns: 150 },
    );
  });

  testCorpus.each(['sort', 'gzip', 'python-dict', 'memwalk'])(
    'gives, for the whole %s trace, the misses OSTEP computed at 8, 32, 128 and 512 frames',
    (name) => {
      const pages = corpusPages('memtrace', `${name}.pages.gz`);
      const m = new LruStackDistance();
      feed(pages, 65536, (p, n) => m.push(p, n));
      const ostep: Record<string, number[]> = {
        sort: [93649, 2911, 150, 150],
        gzip: [113246, 12942, 75, 75],
        'python-dict': [282563, 92018, 181, 153],
        memwalk: [112424, 106740, 97035, 59470],
      };
      expect([...m.curve([8, 32, 128, 512]).faults]).toEqual(ostep[name]);
    },
  );

  testCorpus('equals per-size LRU runs on memwalk, whose 1186 pages force the time compaction', () => {
    const pages = corpusPages('memtrace', 'memwalk.pages.gz');
    const m = new LruStackDistance();
    feed(pages, 8192, (p, n) => m.push(p, n));
    const sizes = [1, 2, 3, 9, 100, 700, 1023, 1024, 1100, 1185, 1186, 2000];
    expect([...m.curve(sizes).faults]).toEqual(perSize('lru', pages, sizes));
  });
});

describe('the one-pass OPT curve', () => {
  test('equals an OPT simulation at every size, for any stream', () => {
    fc.assert(
      fc.property(streamArb, (pages) => {
        const m = new OptStackDistance(futureOf(pages));
        feed(pages, 37, (p, n) => m.push(p, n));
        const sizes = Array.from({ length: 40 }, (_, i) => i + 1);
        expect([...m.curve(sizes).faults]).toEqual(perSize('opt', pages, sizes));
      }),
      { numRuns: 150 },
    );
  });

  testCorpus.each([
    ['w1', 1872, 1671],
    ['w2', 1086, 822],
  ])(
    "gives OSTEP's OPT misses for memwalk window %s (64 and 256 frames) and equals per-size runs",
    (w, at64, at256) => {
      const win = corpusPages('reference', 'paging-policy', 'traces', `memwalk-dpages-${w}.txt`);
      const m = new OptStackDistance(futureOf(win));
      m.push(win, win.length);
      expect([m.faultsAt(64), m.faultsAt(256)]).toEqual([at64, at256]);
      const sizes = powerOfTwoSizes(1, 2048);
      expect([...m.curve(sizes).faults]).toEqual(perSize('opt', win, sizes));
    },
  );

  testCorpus('equals per-size OPT runs on the whole memwalk trace, and never loses to LRU', () => {
    const sizes = powerOfTwoSizes(1, 2048);
    const pages = corpusPages('memtrace', 'memwalk.pages.gz');
    const m = new OptStackDistance(futureOf(pages));
    feed(pages, 65536, (p, n) => m.push(p, n));
    const big = [4, 64, 512, 1100];
    expect([...m.curve(big).faults]).toEqual(perSize('opt', pages, big));
    // Never worse than LRU, at any size.
    const lru = new LruStackDistance();
    lru.push(pages, pages.length);
    for (const s of sizes) expect(m.faultsAt(s)).toBeLessThanOrEqual(lru.faultsAt(s));
  });
});

describe('next uses', () => {
  test('keep distances of 65535 accesses and more exactly', () => {
    const n = 140_000;
    const pages = new Float64Array(n);
    for (let i = 0; i < n; i++) pages[i] = i % 2;
    pages[0] = 42;
    pages[70_000] = 42;
    pages[139_999] = 42;
    const f = futureOf(pages);
    expect(f.at(0)).toBe(70_000);
    expect(f.at(70_000)).toBe(139_999);
    expect(f.at(139_999)).toBe(Number.POSITIVE_INFINITY);
    expect(f.at(1)).toBe(3);
    expect(f.farPairs().sort((a, b) => a[0] - b[0])).toEqual([
      [0, 70_000],
      [70_000, 69_999],
    ]);
    const m = new OptStackDistance(f);
    m.push(pages, n);
    expect([...m.curve([1, 2, 3]).faults]).toEqual(perSize('opt', pages, [1, 2, 3]));
  });
});

describe('curves of the other policies', () => {
  testCorpus('a size sweep equals separate runs, and powers of two span the range', () => {
    expect(powerOfTwoSizes(16, 65536)).toEqual([
      16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536,
    ]);
    expect(powerOfTwoSizes(3, 10)).toEqual([3, 4, 8, 10]);
    const pages = corpusPages('memtrace', 'gzip.pages.gz').subarray(0, 100_000);
    for (const policy of ['clock', 'arc', 's3-fifo']) {
      const sizes = [4, 16, 64];
      const curve = perSize(policy, pages, sizes);
      sizes.forEach((frames, i) => {
        const sim = new CacheSim(createPolicy(policy, frames));
        sim.run(pages, null, pages.length);
        expect(curve[i], `${policy} at ${frames}`).toBe(sim.faults);
      });
    }
  });

  testCorpus('the worker protocol gives the same curve, OPT included, and reports errors as replies', () => {
    const pages = corpusPages('memtrace', 'sort.pages.gz').subarray(0, 100_000);
    const future = futureOf(pages);
    const run = (policy: string, sizes: number[]): MrcReply[] => {
      const worker = new MrcWorker();
      const replies: MrcReply[] = [];
      const send = (m: MrcRequest) => {
        const r = worker.handle(m);
        if (r) replies.push(r);
      };
      send({ type: 'init', policy, sizes });
      if (policy === 'opt') send({ type: 'future', distance: future.distance, far: future.farPairs() });
      feed(pages, 10_000, (p, n) => send({ type: 'batch', pages: p.slice(), writes: null, count: n }));
      send({ type: 'finish' });
      return replies;
    };
    for (const policy of ['lru', 'opt', 'sieve']) {
      const replies = run(policy, [8, 16]);
      expect(replies).toHaveLength(1);
      const curve = (replies[0] as { curve: MissRatioCurve }).curve;
      expect([...curve.faults]).toEqual(perSize(policy, pages, [8, 16]));
      expect(curve.accesses).toBe(pages.length);
    }
    expect(run('lur', [8])[0]).toMatchObject({
      type: 'error',
      message: expect.stringMatching(/unknown replacement policy 'lur'/),
    });
    // Wired to a port, as a worker thread would be.
    const posted: MrcReply[] = [];
    let listener: ((m: MrcRequest) => void) | undefined;
    serveMrc({ on: (_e, l) => (listener = l), postMessage: (m) => posted.push(m) });
    listener!({ type: 'finish' });
    expect(posted).toEqual([{ type: 'error', message: "'finish' before 'init'" }]);
  });
});
