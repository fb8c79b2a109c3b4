/**
 * The binned allocator against glibc 2.36 itself: the corpus's shim logs record the address glibc's
 * malloc returned for every call of real programs (ASLR off). Replayed call for call (calloc as calloc,
 * the aligned calls with their alignment), the binned allocator returns the same address — the same
 * offset from the heap start for brk chunks, a mapping of its own where glibc mmapped — every time.
 */
import { expect, test } from 'vitest';
import { replay } from '../../src/user/replay.js';
import { describeCorpus } from '../corpus.js';
import { corpusTrace, makeHeap } from './heaps.js';

const LOGS: readonly (readonly [string, string, number])[] = [
  ['aligned', 'aligned.log.gz', 38],
  ['sort', 'sort.log.gz', 11],
  ['ls-l', 'ls.log.gz', 1923],
  ['gcc-compile', 'gcc-12.log.gz', 212],
  ['gcc-compile', 'as.log.gz', 199],
  ['python-dict', 'python3.11.log.gz', 1343],
  ['mallocs', 'mallocs.log.gz', 22863],
  ['gcc-compile', 'cc1.log.gz', 107426],
  ['python-dict-sysmalloc', 'python3.11.log.gz', 199499],
];

describeCorpus("binned returns glibc's addresses", () => {
  test.each(LOGS)('%s/%s: all %i allocations', (dir, file, allocations) => {
    const ops = corpusTrace(dir, file);
    const r = replay(makeHeap('binned').a, file, ops);
    expect(r.died).toBeNull();
    expect(r.glibc).toEqual({ compared: allocations, matched: allocations, firstMismatch: null });
  });

  test('in kernel mode too (a process, its brk heap and mmap area)', () => {
    const ops = corpusTrace('aligned', 'aligned.log.gz');
    const r = replay(makeHeap('binned', 'kernel').a, 'aligned', ops, { check: true });
    expect(r.checkFailure).toBeNull();
    expect(r.glibc?.matched).toBe(38);
  });

  test('without the tcache the choices differ (the comparison is not vacuous)', () => {
    const ops = corpusTrace('ls-l', 'ls.log.gz');
    const r = replay(makeHeap('binned', 'direct', { tcacheCount: 0 }).a, 'ls', ops);
    expect(r.glibc!.matched).toBeLessThan(r.glibc!.compared);
  });
});
