/**
 * fork with copy-on-write and threads, as Linux's dup_mmap / copy_page_range / do_wp_page do them:
 * RSS right after fork, who copies on a write, what a child sees, what PSS says, and that every
 * frame comes back.
 */
import { describe, expect, test } from 'vitest';
import {
  MADV_DONTFORK,
  MADV_WIPEONFORK,
  MAP_ANONYMOUS,
  MAP_SHARED,
  PROT_READ,
  PROT_WRITE,
} from '../../src/kernel/errno.js';
import { EventLog } from '../../src/kernel/events.js';
import type { Kernel } from '../../src/kernel/kernel.js';
import type { Process } from '../../src/kernel/process.js';
import { PSS_SHIFT } from '../../src/kernel/smaps.js';
import { bootKernel, drawMaps, expectAllFreedAfterExit, KB, mmapAnon, spawnOk } from './../helpers.js';

const PAGE = 4096;

function fork(kernel: Kernel, parent: Process, name = 'child'): Process {
  const child = kernel.fork(parent, name);
  if (typeof child === 'number') throw new Error(`fork failed: ${child}`);
  return child;
}

function writeByte(kernel: Kernel, p: Process, va: number, value: number): void {
  expect(kernel.writeUser(p, va, new Uint8Array([value]))).toBe(true);
}

function readByte(kernel: Kernel, p: Process, va: number): number {
  return kernel.readUser(p, va, 1)![0]!;
}

/** A parent with `pages` written private anonymous pages at `buf`. */
function parentWithPages(pages: number) {
  const kernel = bootKernel();
  const a = spawnOk(kernel, 'A');
  const buf = mmapAnon(kernel, a, pages * PAGE);
  for (let i = 0; i < pages; i++) writeByte(kernel, a, buf + i * PAGE, 1 + i);
  return { kernel, a, buf };
}

describe('fork', () => {
  test("the child's RssAnon right after fork equals the parent's; its file pages are refaulted", () => {
    const { kernel, a, buf } = parentWithPages(8);
    kernel.readUser(a, 0x400000, 1); // a code page: file-backed, never written
    const before = kernel.status(a);
    const b = fork(kernel, a);
    const child = kernel.status(b);
    expect(child.RssAnon).toBe(before.RssAnon);
    // The code VMA has no anonymous pages: copy_page_range skips it, so the child maps no file page.
    expect(child.RssFile).toBe(0);
    expect(child.VmSize).toBe(before.VmSize);
    expect(child.VmHWM).toBe(child.VmRSS);
    expect(drawMaps(kernel, b)).toEqual(drawMaps(kernel, a));
    expect(readByte(kernel, b, buf + 3 * PAGE)).toBe(4);
    expect(kernel.check()).toEqual([]);
    expectAllFreedAfterExit(kernel);
  });

  test('a write after fork copies the page for the writer; the other side keeps the old bytes', () => {
    const { kernel, a, buf } = parentWithPages(4);
    const b = fork(kernel, a);
    const log = new EventLog();
    kernel.sink = log;
    writeByte(kernel, b, buf, 0xee);
    const cows = log.events.filter((e) => e.type === 'fault' && e.how === 'cow-copy');
    expect(cows).toHaveLength(1);
    expect(readByte(kernel, b, buf)).toBe(0xee);
    expect(readByte(kernel, a, buf)).toBe(1);
    // The parent's page is now mapped once: its next write reuses it instead of copying.
    log.drain();
    writeByte(kernel, a, buf, 0x55);
    expect(log.events.filter((e) => e.type === 'fault').map((e) => e.type === 'fault' && e.how)).toEqual([
      'cow-reuse',
    ]);
    expect(readByte(kernel, b, buf)).toBe(0xee);
    expect(kernel.check()).toEqual([]);
    expectAllFreedAfterExit(kernel);
  });

  test('Pss splits a page between its mappers; a COW write moves it from Shared_Dirty to Private_Dirty', () => {
    const { kernel, a, buf } = parentWithPages(8);
    const b = fork(kernel, a);
    const vmaOf = (p: Process) => kernel.smaps(p).find((e) => e.maps.start === buf)!.fields;
    expect(vmaOf(a).Shared_Dirty).toBe(8 * PAGE);
    expect(vmaOf(a).Pss).toBe((8 * PAGE * 2 ** PSS_SHIFT) / 2);
    for (let i = 0; i < 4; i++) writeByte(kernel, b, buf + i * PAGE, 0xee);
    expect(vmaOf(b)).toMatchObject({ Shared_Dirty: 4 * PAGE, Private_Dirty: 4 * PAGE, Rss: 8 * PAGE });
    expect(vmaOf(a)).toMatchObject({ Shared_Dirty: 4 * PAGE, Private_Dirty: 4 * PAGE });
    // RssAnon does not change with a COW write: the child had the page mapped before, too.
    expect(kernel.status(b).RssAnon).toBe(kernel.status(a).RssAnon);
    // PSS over both processes sums to the frames they map (6 distinct anonymous... counted exactly).
    const pss = (p: Process) => kernel.smapsRollup(p)!.Pss;
    const rssDistinct = 12 * PAGE; // 4 shared + 4 + 4 private copies
    expect(vmaOf(a).Pss + vmaOf(b).Pss).toBe(rssDistinct * 2 ** PSS_SHIFT);
    expect(pss(a)).toBeGreaterThan(0);
    expect(kernel.check()).toEqual([]);
    expectAllFreedAfterExit(kernel);
  });

  test("the parent's writable entries are write-protected by fork, so its next write faults", () => {
    const { kernel, a, buf } = parentWithPages(1);
    kernel.readUser(a, buf, 1); // the TLB holds a writable entry
    fork(kernel, a);
    const log = new EventLog();
    kernel.sink = log;
    writeByte(kernel, a, buf, 9);
    expect(log.events.some((e) => e.type === 'fault' && e.how === 'cow-copy')).toBe(true);
    expect(kernel.check()).toEqual([]);
  });

  test('MADV_DONTFORK leaves a mapping out of the child; MADV_WIPEONFORK gives it zeros', () => {
    const kernel = bootKernel();
    const a = spawnOk(kernel, 'A');
    const gone = mmapAnon(kernel, a, 2 * PAGE);
    const wiped = mmapAnon(kernel, a, 2 * PAGE, PROT_READ | PROT_WRITE);
    writeByte(kernel, a, gone, 7);
    writeByte(kernel, a, wiped, 8);
    expect(kernel.madvise(a, gone, 2 * PAGE, MADV_DONTFORK)).toBe(0);
    expect(kernel.madvise(a, wiped, 2 * PAGE, MADV_WIPEONFORK)).toBe(0);
    const b = fork(kernel, a);
    expect(kernel.maps(b).some((m) => m.start === gone)).toBe(false);
    expect(kernel.maps(b).some((m) => m.start === wiped)).toBe(true);
    expect(readByte(kernel, b, wiped)).toBe(0);
    expect(readByte(kernel, a, wiped)).toBe(8);
    expect(kernel.check()).toEqual([]);
    expectAllFreedAfterExit(kernel);
  });

  test('a shared anonymous mapping stays shared: the child writes, the parent reads it', () => {
    const kernel = bootKernel();
    const a = spawnOk(kernel, 'A');
    const shm = kernel.mmap(a, {
      addr: 0,
      len: 4 * PAGE,
      prot: PROT_READ | PROT_WRITE,
      flags: MAP_SHARED | MAP_ANONYMOUS,
    });
    const b = fork(kernel, a);
    // Not in the child's RSS until it touches it (no anon_vma: the entries are not copied).
    expect(kernel.status(b).RssShmem).toBe(0);
    writeByte(kernel, b, shm + PAGE, 0x42);
    expect(readByte(kernel, a, shm + PAGE)).toBe(0x42);
    expect(kernel.status(a).RssShmem).toBe(4 * KB);
    expect(kernel.meminfo().Shmem).toBe(4 * KB);
    expect(kernel.check()).toEqual([]);
    expectAllFreedAfterExit(kernel);
  });

  test('swapped-out pages are shared too: the first mapper reads the slot, the second finds the swap cache', () => {
    const kernel = bootKernel(
      { ramBytes: 64 * PAGE },
      { swapBytes: 64 * PAGE, reclaim: { policy: 'fifo', userFrameLimit: 12 } },
    );
    const a = spawnOk(kernel, 'A');
    const buf = mmapAnon(kernel, a, 8 * PAGE);
    for (let i = 0; i < 8; i++) writeByte(kernel, a, buf + i * PAGE, 1 + i);
    const b = fork(kernel, a);
    // Push everything out with another process's pages.
    const c = spawnOk(kernel, 'C');
    const other = mmapAnon(kernel, c, 16 * PAGE);
    for (let i = 0; i < 16; i++) writeByte(kernel, c, other + i * PAGE, 0x77);
    expect(kernel.status(a).VmSwap).toBeGreaterThan(0);
    const log = new EventLog();
    kernel.sink = log;
    const slot0 = kernel.status(a).VmSwap;
    expect(readByte(kernel, a, buf)).toBe(1);
    expect(readByte(kernel, b, buf)).toBe(1);
    const hows = log.events.filter((e) => e.type === 'fault').map((e) => e.type === 'fault' && e.how);
    expect(hows).toContain('swap-in');
    expect(slot0).toBeGreaterThan(0);
    for (let i = 0; i < 8; i++) {
      expect(readByte(kernel, b, buf + i * PAGE)).toBe(1 + i);
      expect(readByte(kernel, a, buf + i * PAGE)).toBe(1 + i);
    }
    writeByte(kernel, b, buf, 0xee);
    expect(readByte(kernel, a, buf)).toBe(1);
    expect(kernel.check()).toEqual([]);
    expectAllFreedAfterExit(kernel);
  });
});

describe('threads', () => {
  test('a thread shares the address space: its mmap and writes are the process', () => {
    const kernel = bootKernel();
    const a = spawnOk(kernel, 'A');
    const t = kernel.thread(a, 'T');
    if (typeof t === 'number') throw new Error(`thread failed: ${t}`);
    expect(t.tgid).toBe(a.pid);
    const m = mmapAnon(kernel, t, PAGE);
    writeByte(kernel, t, m, 5);
    expect(readByte(kernel, a, m)).toBe(5);
    expect(kernel.status(a).threads).toBe(2);
    expect(kernel.status(t).VmRSS).toBe(kernel.status(a).VmRSS);
    // A thread's exit leaves the process; the process's exit ends every thread.
    kernel.exitThread(t, 0);
    expect(a.alive).toBe(true);
    expect(kernel.status(a).threads).toBe(1);
    expect(readByte(kernel, a, m)).toBe(5);
    const t2 = kernel.thread(a, 'T2');
    if (typeof t2 === 'number') throw new Error('thread failed');
    kernel.exit(a, 0);
    expect(t2.alive).toBe(false);
    expect(kernel.check()).toEqual([]);
    expectAllFreedAfterExit(kernel);
  });

  test('the address space lives until its last thread exits, even when the first one leaves early', () => {
    const kernel = bootKernel();
    const a = spawnOk(kernel, 'A');
    const t = kernel.thread(a, 'T');
    if (typeof t === 'number') throw new Error('thread failed');
    const m = mmapAnon(kernel, t, PAGE);
    kernel.exitThread(a, 0);
    expect(a.alive).toBe(false);
    writeByte(kernel, t, m, 3);
    expect(readByte(kernel, t, m)).toBe(3);
    expect(kernel.check()).toEqual([]);
    kernel.exitThread(t, 0);
    expectAllFreedAfterExit(kernel);
  });
});
