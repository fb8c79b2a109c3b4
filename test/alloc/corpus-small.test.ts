/**
 * Every allocator replays every allocation trace of the corpus (real programs: python, gcc's cc1, sort,
 * ls…) with the heap walked along the way: after every operation for the small traces, at sampled
 * steps for the larger ones (the walk is O(heap)). The two large traces are in corpus-large.test.ts.
 */
import { expect, test } from 'vitest';
import { ALLOCATOR_NAMES } from '../../src/user/malloc/api.js';
import { replay } from '../../src/user/replay.js';
import { describeCorpus } from '../corpus.js';
import { corpusTrace, makeHeap, REP_TRACES } from '../user/heaps.js';

const SMALL = REP_TRACES.filter(([, f]) => !f.endsWith('.gz'));

function checkEvery(ops: number): number {
  return ops <= 5000 ? 1 : ops <= 50_000 ? 500 : 4000;
}

describeCorpus.each(ALLOCATOR_NAMES)('%s', (name) => {
  test.each(SMALL.map(([d, f]) => [f, d] as const))('replays %s with a clean heap walk', (file, dir) => {
    const ops = corpusTrace(dir, file);
    const r = replay(makeHeap(name).a, file, ops, { check: checkEvery(ops.count) });
    expect(r.checkFailure).toBeNull();
    expect(r.died).toBeNull();
    expect(r.ops).toBe(ops.count);
    expect(r.utilization).toBeGreaterThan(0);
    expect(r.utilization).toBeLessThanOrEqual(1);
  });
});
