/**
 * Allocators inside a process of vmscope's kernel: the heap is the process's brk area and its
 * mappings, every metadata access goes through the MMU, and what the program does wrong ends it with a
 * signal the kernel records — SIGABRT with glibc's words, SIGSEGV for a wild pointer.
 */
import { describe, expect, test } from 'vitest';
import { SIGABRT, SIGSEGV } from '../../src/kernel/errno.js';
import { KernelMemory } from '../../src/user/kernel-memory.js';
import { ALLOCATOR_NAMES } from '../../src/user/malloc/api.js';
import { replay } from '../../src/user/replay.js';
import { testCorpus } from '../corpus.js';
import { expectAllFreedAfterExit } from '../helpers.js';
import { corpusTrace, makeHeap } from './heaps.js';

describe.each(ALLOCATOR_NAMES)('%s in a process', (name) => {
  test('VmData and VmRSS grow with the heap, and come back down when it is given back', () => {
    const { a, kernel, proc } = makeHeap(name, 'kernel');
    const k = kernel!;
    const before = k.status(proc!);
    const ptrs: number[] = [];
    for (let i = 0; i < 400; i++) {
      const p = a.malloc(2000);
      a.mem.fill(p, 2000, 1); // the program uses its memory
      ptrs.push(p);
    }
    const big = a.malloc(1 << 20); // above the mmap threshold: a mapping of its own
    a.mem.fill(big, 1 << 20, 2);
    const grown = k.status(proc!);
    expect(grown.VmData - before.VmData).toBeGreaterThanOrEqual(400 * 2000 + (1 << 20));
    expect(grown.VmRSS - before.VmRSS).toBeGreaterThanOrEqual(400 * 2000 + (1 << 20));
    expect(k.maps(proc!).some((m) => m.name === '[heap]')).toBe(true);
    for (const p of ptrs) a.free(p);
    a.free(big);
    const shrunk = k.status(proc!);
    expect(shrunk.VmData).toBeLessThan(grown.VmData - (1 << 20));
    expect(a.check()).toEqual([]);
    expect(k.check()).toEqual([]);
    expectAllFreedAfterExit(k);
  });

  test('a heap overflow corrupts the next header and the process is killed with SIGABRT', () => {
    const { a, kernel, proc } = makeHeap(name, 'kernel');
    const first = a.malloc(40);
    const second = a.malloc(40);
    a.malloc(40);
    // The program writes past the end of `first`, through `second`'s header, with its own stores.
    expect(kernel!.writeUser(proc!, first, new Uint8Array(second - first).fill(0x41))).toBe(true);
    expect(() => a.free(second)).not.toThrow();
    expect(proc!.state).toBe('killed');
    expect(proc!.signal?.signal).toBe(SIGABRT);
    expect(proc!.signal?.reason).toBe(a.misuse!.message);
    expect(a.malloc(10)).toBe(0);
    expectAllFreedAfterExit(kernel!);
  });

  test('freeing a wild pointer faults: SIGSEGV from the kernel, no exception', () => {
    const { a, kernel, proc } = makeHeap(name, 'kernel');
    a.malloc(100);
    expect(() => a.free(0x100000000010)).not.toThrow();
    expect(proc!.state).toBe('killed');
    expect(proc!.signal?.signal).toBe(SIGSEGV);
    expect(a.signal?.signal).toBe(SIGSEGV);
    expectAllFreedAfterExit(kernel!);
  });

  testCorpus('replays ls -l through the MMU with a clean heap walk and kernel', () => {
    const ops = corpusTrace('ls-l', 'ls.rep');
    const { a, kernel } = makeHeap(name, 'kernel');
    const r = replay(a, 'ls.rep', ops, { check: 25 });
    expect(r.checkFailure).toBeNull();
    expect(r.died).toBeNull();
    expect(r.mode).toBe('kernel');
    expect(r.vmPeak.VmRSS).toBeGreaterThan(r.peakLiveBytes);
    expect(r.accesses!.reads).toBeGreaterThan(ops.count);
    expect(kernel!.check()).toEqual([]);
    expectAllFreedAfterExit(kernel!);
  });
});

test('the allocator state can live in an anonymous mapping of its own', () => {
  const { kernel, proc } = makeHeap('tlsf', 'kernel');
  const mem = KernelMemory.attach(kernel!, proc!);
  expect(typeof mem).toBe('object');
  expect(kernel!.maps(proc!).some((m) => m.start === (mem as KernelMemory).staticBase)).toBe(true);
});
