/**
 * Every allocator replays the two large traces of the corpus (gcc's cc1: 209k operations, python with
 * PYTHONMALLOC=malloc: 391k) with the heap walked every 10,000 operations.
 */
import { expect, test } from 'vitest';
import { ALLOCATOR_NAMES } from '../../src/user/malloc/api.js';
import { replay } from '../../src/user/replay.js';
import { describeCorpus } from '../corpus.js';
import { corpusTrace, makeHeap, REP_TRACES } from '../user/heaps.js';

const LARGE = REP_TRACES.filter(([, f]) => f.endsWith('.gz'));

function checkEvery(ops: number): number {
  return ops <= 5000 ? 1 : ops <= 50_000 ? 500 : 10_000;
}

describeCorpus.each(LARGE.map(([d, f]) => [f, d] as const))('%s', (file, dir) => {
  const ops = corpusTrace(dir, file);
  test.each(ALLOCATOR_NAMES)('%s replays it with a clean heap walk at sampled steps', (name) => {
    const r = replay(makeHeap(name).a, file, ops, { check: checkEvery(ops.count) });
    expect(r.checkFailure).toBeNull();
    expect(r.died).toBeNull();
    expect(r.ops).toBe(ops.count);
    expect(r.utilization).toBeGreaterThan(0.5);
  });
});
