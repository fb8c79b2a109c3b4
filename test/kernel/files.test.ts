/**
 * File mappings over one page cache: private (COW of cache pages) and shared (writes reach the cache,
 * msync writes them back), SIGBUS past the end of the file, fault-around, and a page cache that
 * outlives its mappings (Cached) until drop_caches or the file's deletion.
 */
import { describe, expect, test } from 'vitest';
import {
  BUS_ADRERR,
  EACCES,
  MAP_PRIVATE,
  MAP_SHARED,
  MS_SYNC,
  PROT_READ,
  PROT_WRITE,
  SIGBUS,
} from '../../src/kernel/errno.js';
import type { Kernel } from '../../src/kernel/kernel.js';
import type { MemObject } from '../../src/kernel/memobject.js';
import type { Process } from '../../src/kernel/process.js';
import { bootKernel, expectAllFreedAfterExit, spawnOk } from '../helpers.js';

const PAGE = 4096;
const RW = PROT_READ | PROT_WRITE;

/** A file of `pages` pages, page i full of 'A'+i, written through the page cache (dirty). */
function dataFile(kernel: Kernel, pages: number, path = '/tmp/data.bin'): MemObject {
  const bytes = new Uint8Array(pages * PAGE);
  for (let i = 0; i < pages; i++) bytes.fill(0x41 + i, i * PAGE, (i + 1) * PAGE);
  const f = kernel.writeFile(path, bytes);
  if (typeof f === 'number') throw new Error('writeFile failed');
  return f;
}

function mapFile(
  kernel: Kernel,
  p: Process,
  file: MemObject,
  len: number,
  flags: number,
  offset = 0,
  prot = RW,
) {
  const addr = kernel.mmap(p, { addr: 0, len, prot, flags, file, offset });
  expect(addr, 'mmap of the file').toBeGreaterThan(0);
  return addr;
}

const byte = (kernel: Kernel, p: Process, va: number) => kernel.readUser(p, va, 1)![0];

describe('private file mappings', () => {
  test('a read maps the cache page and its cached neighbours (fault-around); a write copies one page', () => {
    const kernel = bootKernel();
    const a = spawnOk(kernel, 'A');
    const file = dataFile(kernel, 8);
    const before = kernel.status(a);
    const priv = mapFile(kernel, a, file, 8 * PAGE, MAP_PRIVATE);
    expect(byte(kernel, a, priv + PAGE)).toBe(0x42);
    // The whole file was in the page cache (just written): one fault mapped all 8 pages.
    expect(kernel.status(a).RssFile - before.RssFile).toBe(8 * PAGE);
    expect(kernel.status(a).minflt - before.minflt).toBe(1);
    expect(kernel.writeUser(a, priv + PAGE, new Uint8Array([0x70]))).toBe(true);
    expect(kernel.status(a).RssFile - before.RssFile).toBe(7 * PAGE);
    expect(kernel.status(a).RssAnon - before.RssAnon).toBe(PAGE);
    // The file keeps its byte; a shared mapping of it sees the file, not the private copy.
    const shr = mapFile(kernel, a, file, 8 * PAGE, MAP_SHARED);
    expect(byte(kernel, a, shr + PAGE)).toBe(0x42);
    expect(byte(kernel, a, priv + PAGE)).toBe(0x70);
    // Private_Dirty counts the written-but-not-written-back file pages too, as Linux does.
    const pv = kernel.smaps(a).find((e) => e.maps.start === priv)!.fields;
    expect(pv.Anonymous).toBe(PAGE);
    expect(kernel.check()).toEqual([]);
    expectAllFreedAfterExit(kernel);
  });

  test('a shared write is seen by private mappings of pages never written privately, and msync cleans it', () => {
    const kernel = bootKernel();
    const a = spawnOk(kernel, 'A');
    const file = dataFile(kernel, 8);
    const priv = mapFile(kernel, a, file, 8 * PAGE, MAP_PRIVATE);
    byte(kernel, a, priv);
    const shr = mapFile(kernel, a, file, 8 * PAGE, MAP_SHARED);
    expect(kernel.writeUser(a, shr + 2 * PAGE, new Uint8Array([0x73]))).toBe(true);
    expect(byte(kernel, a, priv + 2 * PAGE)).toBe(0x73);
    expect(kernel.meminfo().Dirty).toBe(8 * PAGE);
    expect(kernel.msync(a, shr, 8 * PAGE, MS_SYNC)).toBe(0);
    expect(kernel.meminfo().Dirty).toBe(0);
    const rollup = kernel.smapsRollup(a)!;
    expect(rollup.Private_Dirty + rollup.Shared_Dirty).toBe(kernel.status(a).RssAnon);
    // The store has the byte: drop every cached page and read it back from the "disk".
    kernel.munmap(a, priv, 8 * PAGE);
    kernel.munmap(a, shr, 8 * PAGE);
    expect(kernel.meminfo().Cached).toBe(8 * PAGE);
    kernel.dropCaches();
    expect(kernel.meminfo().Cached).toBe(0);
    const again = mapFile(kernel, a, file, 3 * PAGE, MAP_PRIVATE, 2 * PAGE, PROT_READ);
    expect(byte(kernel, a, again)).toBe(0x73);
    expect(byte(kernel, a, again + PAGE)).toBe(0x44);
    expect(kernel.status(a).majflt).toBeGreaterThan(0);
    expectAllFreedAfterExit(kernel);
  });

  test('an access past the end of the file is SIGBUS with BUS_ADRERR, at the first whole page past it', () => {
    const kernel = bootKernel();
    const a = spawnOk(kernel, 'A');
    const file = dataFile(kernel, 8);
    const big = mapFile(kernel, a, file, 10 * PAGE, MAP_PRIVATE, 0, PROT_READ);
    expect(byte(kernel, a, big + 8 * PAGE - 1)).toBe(0x48);
    expect(kernel.access(a, big + 8 * PAGE, 0)).toBe(-1);
    expect(a.signal).toMatchObject({ signal: SIGBUS, code: BUS_ADRERR, va: big + 8 * PAGE });
    expectAllFreedAfterExit(kernel);
  });

  test('a shared writable mapping of a read-only file is EACCES', () => {
    const kernel = bootKernel();
    const a = spawnOk(kernel, 'A');
    const ro = kernel.fs.create('/etc/ro', new Uint8Array(PAGE));
    expect(kernel.mmap(a, { addr: 0, len: PAGE, prot: RW, flags: MAP_SHARED, file: ro })).toBe(-EACCES);
    expectAllFreedAfterExit(kernel);
  });
});

describe('the page cache is shared and outlives its mappings', () => {
  test('three processes map one file: one set of frames, RSS counts it three times, PSS once', () => {
    const kernel = bootKernel();
    const file = dataFile(kernel, 4, '/lib/libdemo.so');
    const procs = ['A', 'B', 'C'].map((n) => spawnOk(kernel, n));
    const addrs = procs.map((p) => mapFile(kernel, p, file, 4 * PAGE, MAP_PRIVATE, 0, PROT_READ));
    for (const [i, p] of procs.entries()) byte(kernel, p, addrs[i]!);
    const vma = (p: Process, at: number) => kernel.smaps(p).find((e) => e.maps.start === at)!.fields;
    for (let i = 0; i < 3; i++) {
      const f = vma(procs[i]!, addrs[i]!);
      expect(f.Rss).toBe(4 * PAGE);
      expect(f.Pss).toBe(Math.floor((PAGE * 4096) / 3) * 4);
    }
    expect(kernel.meminfo().Cached).toBe(4 * PAGE);
    for (const p of procs) kernel.exit(p, 0);
    expect(kernel.meminfo().Cached).toBe(4 * PAGE);
    expect(kernel.check()).toEqual([]);
    // Deleting the file frees its pages.
    kernel.fs.unlink('/lib/libdemo.so');
    expect(kernel.meminfo().Cached).toBe(0);
    expectAllFreedAfterExit(kernel);
  });

  test('rename: the mapped file shows its new name; the file it replaced lives on, deleted, while mapped', () => {
    const kernel = bootKernel();
    const a = spawnOk(kernel, 'A');
    const old = dataFile(kernel, 1, '/tmp/b');
    const fresh = dataFile(kernel, 2, '/tmp/a');
    const mOld = mapFile(kernel, a, old, PAGE, MAP_SHARED, 0, PROT_READ);
    const mFresh = mapFile(kernel, a, fresh, 2 * PAGE, MAP_SHARED, 0, PROT_READ);
    expect(kernel.fs.rename('/tmp/a', '/tmp/b')).toBe(true);
    expect(kernel.fs.rename('/tmp/nothing', '/tmp/c')).toBe(false);
    const name = (at: number) => kernel.maps(a).find((e) => e.start === at)?.name;
    expect(name(mFresh)).toBe('/tmp/b');
    expect(name(mOld)).toBe('/tmp/b (deleted)');
    expect(kernel.fs.lookup('/tmp/b')).toBe(fresh);
    expect(kernel.fs.lookup('/tmp/a')).toBeUndefined();
    expect(byte(kernel, a, mFresh + PAGE)).toBe(0x42);
    expect(kernel.check()).toEqual([]);
    kernel.fs.unlink('/tmp/b');
    expectAllFreedAfterExit(kernel);
  });

  test('truncating a mapped file: its pages go, and an access there is SIGBUS', () => {
    const kernel = bootKernel();
    const a = spawnOk(kernel, 'A');
    const file = dataFile(kernel, 4);
    const m = mapFile(kernel, a, file, 4 * PAGE, MAP_SHARED);
    byte(kernel, a, m + 3 * PAGE);
    kernel.truncate(file, PAGE + 10);
    expect(byte(kernel, a, m + PAGE + 9)).toBe(0x42);
    expect(byte(kernel, a, m + PAGE + 10)).toBe(0);
    expect(kernel.access(a, m + 2 * PAGE, 0)).toBe(-1);
    expect(a.signal?.signal).toBe(SIGBUS);
    expectAllFreedAfterExit(kernel);
  });
});
