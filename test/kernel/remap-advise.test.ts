/**
 * mremap, madvise, mlock and overcommit with Linux's answers: the mremap sequence of a real program
 * (grow in place, fail against a MAP_FIXED_NOREPLACE neighbour, move with MREMAP_MAYMOVE to the
 * highest gap that fits, shrink), MADV_DONTNEED and MADV_FREE as RSS shows them, and mode 2's refusal.
 */
import { describe, expect, test } from 'vitest';
import {
  EFAULT,
  EINVAL,
  ENOMEM,
  MADV_DONTNEED,
  MADV_FREE,
  MAP_ANONYMOUS,
  MAP_FIXED_NOREPLACE,
  MAP_PRIVATE,
  MREMAP_DONTUNMAP,
  MREMAP_FIXED,
  MREMAP_MAYMOVE,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
} from '../../src/kernel/errno.js';
import type { Kernel } from '../../src/kernel/kernel.js';
import type { Process } from '../../src/kernel/process.js';
import { bootKernel, expectAllFreedAfterExit, mmapAnon, spawnOk } from '../helpers.js';

const PAGE = 4096;
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;

const check = (kernel: Kernel, p: Process, at: number, pages: number) => {
  for (let i = 0; i < pages; i++)
    expect(kernel.readUser(p, at + i * PAGE, 1)![0], `page ${i}`).toBe(0x40 + i);
};

describe('mremap', () => {
  test('the sequence of a real program: in place, refused by a neighbour, moved up, shrunk', () => {
    const kernel = bootKernel();
    const a = spawnOk(kernel, 'A');
    const res = kernel.mmap(a, { addr: 0, len: 32 * PAGE, prot: PROT_NONE, flags: ANON });
    kernel.munmap(a, res, 32 * PAGE);
    const m = kernel.mmap(a, { addr: res, len: 4 * PAGE, prot: RW, flags: ANON });
    expect(m).toBe(res);
    for (let i = 0; i < 4; i++) kernel.writeUser(a, m + i * PAGE, new Uint8Array([0x40 + i]));
    expect(kernel.mremap(a, m, 4 * PAGE, 8 * PAGE, 0)).toBe(m);
    for (let i = 4; i < 8; i++) kernel.writeUser(a, m + i * PAGE, new Uint8Array([0x40 + i]));
    check(kernel, a, m, 8);
    const blocker = kernel.mmap(a, {
      addr: m + 8 * PAGE,
      len: PAGE,
      prot: PROT_READ,
      flags: ANON | MAP_FIXED_NOREPLACE,
    });
    expect(blocker).toBe(m + 8 * PAGE);
    expect(kernel.mremap(a, m, 8 * PAGE, 16 * PAGE, 0)).toBe(-ENOMEM);
    const rss = kernel.status(a).RssAnon;
    const mv = kernel.mremap(a, m, 8 * PAGE, 16 * PAGE, MREMAP_MAYMOVE);
    // The highest gap that fits: here above the old place (the gap the reservation left is too small).
    expect(mv).toBe(m + 16 * PAGE);
    expect(kernel.status(a).RssAnon).toBe(rss); // the pages moved, not copied
    check(kernel, a, mv, 8);
    expect(kernel.mremap(a, mv, 16 * PAGE, 2 * PAGE, 0)).toBe(mv);
    check(kernel, a, mv, 2);
    expect(kernel.maps(a).find((l) => l.start === mv)?.end).toBe(mv + 2 * PAGE);
    expect(kernel.check()).toEqual([]);
    expectAllFreedAfterExit(kernel);
  });

  test('errors as Linux gives them: EINVAL for bad flags and zero length, EFAULT for no mapping', () => {
    const kernel = bootKernel();
    const a = spawnOk(kernel, 'A');
    const m = mmapAnon(kernel, a, 2 * PAGE);
    expect(kernel.mremap(a, m, PAGE, 0, 0)).toBe(-EINVAL);
    expect(kernel.mremap(a, m, PAGE, 2 * PAGE, MREMAP_FIXED)).toBe(-EINVAL);
    expect(kernel.mremap(a, m, PAGE, 2 * PAGE, MREMAP_DONTUNMAP | MREMAP_MAYMOVE)).toBe(-EINVAL);
    expect(kernel.mremap(a, m + 1, PAGE, PAGE, 0)).toBe(-EINVAL);
    expect(kernel.mremap(a, 0x10000000, PAGE, 2 * PAGE, 0)).toBe(-EFAULT);
    expect(kernel.mremap(a, m, 3 * PAGE, 4 * PAGE, MREMAP_MAYMOVE)).toBe(-EFAULT);
    expectAllFreedAfterExit(kernel);
  });

  test('MREMAP_FIXED moves onto a given place, replacing what was there; DONTUNMAP leaves the old range empty', () => {
    const kernel = bootKernel();
    const a = spawnOk(kernel, 'A');
    const m = mmapAnon(kernel, a, 2 * PAGE);
    kernel.writeUser(a, m, new Uint8Array([0x40, 0x41]));
    const target = mmapAnon(kernel, a, 4 * PAGE);
    const got = kernel.mremap(a, m, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, target + PAGE);
    expect(got).toBe(target + PAGE);
    expect(kernel.readUser(a, got, 2)).toEqual(new Uint8Array([0x40, 0x41]));
    expect(kernel.maps(a).some((l) => l.start <= m && l.end > m)).toBe(false);
    const d = kernel.mremap(a, got, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP);
    expect(d).toBeGreaterThan(0);
    expect(kernel.readUser(a, d, 1)![0]).toBe(0x40);
    expect(kernel.readUser(a, got, 1)![0]).toBe(0); // still mapped, empty
    expect(kernel.check()).toEqual([]);
    expectAllFreedAfterExit(kernel);
  });
});

describe('madvise', () => {
  test('MADV_DONTNEED drops RSS at once and the pages read back as zeros (the zero page: no RSS)', () => {
    const kernel = bootKernel();
    const a = spawnOk(kernel, 'A');
    const m = mmapAnon(kernel, a, 32 * PAGE);
    for (let i = 0; i < 32; i++) kernel.writeUser(a, m + i * PAGE, new Uint8Array([0x30 + i]));
    const rss = kernel.status(a).RssAnon;
    expect(kernel.madvise(a, m + 8 * PAGE, 16 * PAGE, MADV_DONTNEED)).toBe(0);
    expect(kernel.status(a).RssAnon).toBe(rss - 16 * PAGE);
    for (let i = 8; i < 24; i++) expect(kernel.readUser(a, m + i * PAGE, 1)![0]).toBe(0);
    expect(kernel.status(a).RssAnon).toBe(rss - 16 * PAGE);
    expect(kernel.readUser(a, m, 1)![0]).toBe(0x30);
    expect(kernel.check()).toEqual([]);
    expectAllFreedAfterExit(kernel);
  });

  test('MADV_FREE keeps RSS (LazyFree), and reclaim discards the pages unless written again', () => {
    const kernel = bootKernel(
      { ramBytes: 64 * PAGE },
      { swapBytes: 64 * PAGE, reclaim: { policy: 'fifo', userFrameLimit: 16 } },
    );
    const a = spawnOk(kernel, 'A');
    const m = mmapAnon(kernel, a, 8 * PAGE);
    for (let i = 0; i < 8; i++) kernel.writeUser(a, m + i * PAGE, new Uint8Array([1 + i]));
    const rss = kernel.status(a).VmRSS;
    expect(kernel.madvise(a, m, 8 * PAGE, MADV_FREE)).toBe(0);
    expect(kernel.status(a).VmRSS).toBe(rss);
    expect(kernel.smapsRollup(a)!.LazyFree).toBe(8 * PAGE);
    kernel.writeUser(a, m, new Uint8Array([0x99])); // written again: kept
    expect(kernel.smapsRollup(a)!.LazyFree).toBe(7 * PAGE);
    const b = spawnOk(kernel, 'B');
    const other = mmapAnon(kernel, b, 16 * PAGE);
    for (let i = 0; i < 16; i++) kernel.writeUser(b, other + i * PAGE, new Uint8Array([7]));
    // The lazily freed pages left without a write to swap; the written one kept its byte.
    expect(kernel.readUser(a, m, 1)![0]).toBe(0x99);
    expect(kernel.readUser(a, m + PAGE, 1)![0]).toBe(0);
    expect(kernel.check()).toEqual([]);
    expectAllFreedAfterExit(kernel);
  });

  test('an unknown advice or an unaligned address is EINVAL; a hole in the range is ENOMEM', () => {
    const kernel = bootKernel();
    const a = spawnOk(kernel, 'A');
    const m = mmapAnon(kernel, a, 2 * PAGE);
    expect(kernel.madvise(a, m, PAGE, 99)).toBe(-EINVAL);
    expect(kernel.madvise(a, m + 1, PAGE, MADV_DONTNEED)).toBe(-EINVAL);
    expect(kernel.madvise(a, m, 4 * PAGE, MADV_DONTNEED)).toBe(-ENOMEM);
    expectAllFreedAfterExit(kernel);
  });
});

describe('mlock', () => {
  test('mlock faults the range in and counts it in VmLck; locked pages are not evicted', () => {
    const kernel = bootKernel(
      { ramBytes: 64 * PAGE },
      { swapBytes: 64 * PAGE, reclaim: { policy: 'fifo', userFrameLimit: 16 } },
    );
    const a = spawnOk(kernel, 'A');
    const m = mmapAnon(kernel, a, 4 * PAGE);
    expect(kernel.mlock(a, m, 4 * PAGE)).toBe(0);
    expect(kernel.status(a).VmLck).toBe(4 * PAGE);
    expect(kernel.status(a).RssAnon).toBeGreaterThanOrEqual(4 * PAGE);
    const b = spawnOk(kernel, 'B');
    const other = mmapAnon(kernel, b, 16 * PAGE);
    for (let i = 0; i < 16; i++) kernel.writeUser(b, other + i * PAGE, new Uint8Array([7]));
    // Every locked page is still in memory (its stack page may have gone to swap).
    expect([...(kernel.mincore(a, m, 4 * PAGE) as Uint8Array)]).toEqual([1, 1, 1, 1]);
    expect(kernel.munlock(a, m, 4 * PAGE)).toBe(0);
    expect(kernel.status(a).VmLck).toBe(0);
    expect(kernel.check()).toEqual([]);
    expectAllFreedAfterExit(kernel);
  });
});

describe('overcommit (__vm_enough_memory)', () => {
  test('mode 0 refuses only one request larger than RAM plus swap; mode 2 keeps Committed_AS under CommitLimit', () => {
    const heuristic = bootKernel({ ramBytes: 256 * PAGE });
    const a = spawnOk(heuristic, 'A');
    expect(heuristic.mmap(a, { addr: 0, len: 200 * PAGE, prot: RW, flags: ANON })).toBeGreaterThan(0);
    expect(heuristic.mmap(a, { addr: 0, len: 200 * PAGE, prot: RW, flags: ANON })).toBeGreaterThan(0);
    expect(heuristic.mmap(a, { addr: 0, len: 300 * PAGE, prot: RW, flags: ANON })).toBe(-ENOMEM);

    const strict = bootKernel({ ramBytes: 256 * PAGE }, { overcommit: { mode: 2, ratio: 50 } });
    const b = spawnOk(strict, 'B');
    const m = strict.meminfo();
    expect(m.CommitLimit).toBe(128 * PAGE);
    const left = (m.CommitLimit - m.Committed_AS) / PAGE;
    expect(strict.mmap(b, { addr: 0, len: (left + 1) * PAGE, prot: RW, flags: ANON })).toBe(-ENOMEM);
    // Read-only and MAP_NORESERVE... read-only memory is never charged.
    expect(strict.mmap(b, { addr: 0, len: 200 * PAGE, prot: PROT_READ, flags: ANON })).toBeGreaterThan(0);
    const c = strict.fork(b);
    expect(typeof c === 'number' ? c : 0).toBe(0);
    expect(strict.check()).toEqual([]);
    expectAllFreedAfterExit(strict);
  });
});
