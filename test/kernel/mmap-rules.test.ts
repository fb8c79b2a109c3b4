/**
 * Linux rules for mmap, munmap and mprotect that are easy to get wrong, each checked against what the
 * real kernel (6.18, x86-64, ASLR off) printed for the same calls, with the kernel function it
 * follows in the test's title.
 */
import { describe, expect, test } from 'vitest';
import {
  EINVAL,
  ENOMEM,
  EPERM,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_PRIVATE,
  PROT_READ,
  PROT_WRITE,
} from '../../src/kernel/errno.js';
import type { Kernel } from '../../src/kernel/kernel.js';
import type { Process } from '../../src/kernel/process.js';
import { bootKernel, drawMaps, expectAllFreedAfterExit, spawnOk } from '../helpers.js';

const PAGE = 4096;
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;

/** The maps lines below 1 MiB (where these tests place things), as `start-end perms`. */
function low(kernel: Kernel, p: Process): string[] {
  return drawMaps(kernel, p).filter((l) => Number.parseInt(l.slice(0, 8), 16) < 0x100000);
}

function anonLines(kernel: Kernel, p: Process, from: number, to: number): string[] {
  return kernel
    .maps(p)
    .filter((m) => m.start >= from && m.end <= to)
    .map((m) => `${m.start.toString(16)}-${m.end.toString(16)} ${m.perms}`);
}

describe('mmap hints below the minimum address', () => {
  test('round_hint_to_min: a hint of 0x1000 is raised to mmap_min_addr (64 KiB with the LSM floor)', () => {
    const kernel = bootKernel();
    const a = spawnOk(kernel, 'A');
    expect(kernel.mmap(a, { addr: 0x1000, len: PAGE, prot: RW, flags: ANON })).toBe(0x10000);
    // 0x8000 is raised to 0x10000 too, finds it taken, and is placed top-down instead.
    const second = kernel.mmap(a, { addr: 0x8000, len: PAGE, prot: RW, flags: ANON });
    expect(second).toBeGreaterThan(0x7ff000000000);
    expect(low(kernel, a)).toEqual(['00010000-00011000 rw-p']);
    expectAllFreedAfterExit(kernel);
  });

  test('cap_mmap_addr: MAP_FIXED below 64 KiB is allowed down to vm.mmap_min_addr (4096), EPERM below', () => {
    const kernel = bootKernel();
    const a = spawnOk(kernel, 'A');
    expect(kernel.mmap(a, { addr: 0x8000, len: PAGE, prot: RW, flags: ANON | MAP_FIXED })).toBe(0x8000);
    expect(kernel.mmap(a, { addr: 0x1000, len: PAGE, prot: RW, flags: ANON | MAP_FIXED })).toBe(0x1000);
    const free = kernel.meminfo().MemFree;
    expect(kernel.mmap(a, { addr: 0, len: PAGE, prot: RW, flags: ANON | MAP_FIXED })).toBe(-EPERM);
    expect(kernel.meminfo().MemFree).toBe(free);
    expect(low(kernel, a)).toEqual(['00001000-00002000 rw-p', '00008000-00009000 rw-p']);
    expectAllFreedAfterExit(kernel);
  });

  test('expand_downwards: a stack does not grow below mmap_min_addr', () => {
    const kernel = bootKernel();
    const a = spawnOk(kernel, 'A');
    // A small growsdown mapping just above 64 KiB: a touch below 64 KiB is refused.
    const g = kernel.mmap(a, { addr: 0x11000, len: PAGE, prot: RW, flags: ANON | MAP_FIXED | 0x100 });
    expect(g).toBe(0x11000);
    expect(kernel.access(a, 0xf000, 1)).toBe(-1);
    expect(a.signal?.reason).toMatch(/mmap_min_addr/);
  });
});

describe('VM_ACCOUNT after mprotect (mprotect_fixup)', () => {
  test('an untouched anonymous rw- mapping made r-- stops being charged, so it merges with a new r-- neighbour', () => {
    const kernel = bootKernel();
    const a = spawnOk(kernel, 'A');
    const base = 0x7ffff7e00000;
    const committed0 = kernel.meminfo().Committed_AS;
    expect(kernel.mmap(a, { addr: base, len: PAGE, prot: RW, flags: ANON | MAP_FIXED })).toBe(base);
    expect(kernel.meminfo().Committed_AS).toBe(committed0 + PAGE);
    expect(kernel.mprotect(a, base, PAGE, PROT_READ)).toBe(0);
    expect(kernel.meminfo().Committed_AS).toBe(committed0);
    expect(kernel.mmap(a, { addr: base + PAGE, len: PAGE, prot: PROT_READ, flags: ANON | MAP_FIXED })).toBe(
      base + PAGE,
    );
    // before: 7ffff7e00000-7ffff7e01000 r--p    after: one VMA
    expect(anonLines(kernel, a, base, base + 2 * PAGE)).toEqual(['7ffff7e00000-7ffff7e02000 r--p']);
    // Both made writable again: charged again, still one VMA.
    expect(kernel.mprotect(a, base, 2 * PAGE, RW)).toBe(0);
    expect(kernel.meminfo().Committed_AS).toBe(committed0 + 2 * PAGE);
    expect(anonLines(kernel, a, base, base + 2 * PAGE)).toEqual(['7ffff7e00000-7ffff7e02000 rw-p']);
    expect(kernel.check()).toEqual([]);
    expectAllFreedAfterExit(kernel);
  });

  test('written first, the anon_vma keeps VM_ACCOUNT: the r-- neighbour stays apart', () => {
    const kernel = bootKernel();
    const a = spawnOk(kernel, 'A');
    const base = 0x7ffff7e00000;
    kernel.mmap(a, { addr: base, len: PAGE, prot: RW, flags: ANON | MAP_FIXED });
    kernel.writeUser(a, base, new Uint8Array([1]));
    const committed = kernel.meminfo().Committed_AS;
    expect(kernel.mprotect(a, base, PAGE, PROT_READ)).toBe(0);
    expect(kernel.meminfo().Committed_AS).toBe(committed);
    kernel.mmap(a, { addr: base + PAGE, len: PAGE, prot: PROT_READ, flags: ANON | MAP_FIXED });
    expect(anonLines(kernel, a, base, base + 2 * PAGE)).toEqual([
      '7ffff7e00000-7ffff7e01000 r--p',
      '7ffff7e01000-7ffff7e02000 r--p',
    ]);
    // Writable again: b is charged, the flags match, and the two merge (b adopts a's anon_vma).
    expect(kernel.mprotect(a, base, 2 * PAGE, RW)).toBe(0);
    expect(anonLines(kernel, a, base, base + 2 * PAGE)).toEqual(['7ffff7e00000-7ffff7e02000 rw-p']);
    expect(kernel.check()).toEqual([]);
    expectAllFreedAfterExit(kernel);
  });
});

describe('munmap and the map count (do_vmi_align_munmap)', () => {
  test('a munmap across two VMAs at the map-count limit succeeds: only a hole inside one VMA is refused', () => {
    const kernel = bootKernel({}, { maxMapCount: 12 });
    const a = spawnOk(kernel, 'A');
    const base = 0x7ffff7e00000;
    kernel.mmap(a, { addr: base, len: 12 * PAGE, prot: RW, flags: ANON | MAP_FIXED });
    kernel.mprotect(a, base + 4 * PAGE, 8 * PAGE, PROT_READ);
    let filler = 0;
    while (kernel.maps(a).length - 1 < 12) {
      const r = kernel.mmap(a, { addr: 0, len: PAGE, prot: filler++ % 2 ? PROT_READ : 0, flags: ANON });
      if (r < 0) break;
    }
    const count = kernel.maps(a).length;
    // [mid A, mid B): splits both, removes the middle — the count ends where it was.
    expect(kernel.munmap(a, base + 2 * PAGE, 4 * PAGE)).toBe(0);
    expect(kernel.maps(a).length).toBe(count);
    // A hole in the middle of one VMA would add one: refused, nothing changed.
    const before = drawMaps(kernel, a);
    expect(kernel.munmap(a, base + 8 * PAGE, PAGE)).toBe(-ENOMEM);
    expect(drawMaps(kernel, a)).toEqual(before);
    expect(kernel.check()).toEqual([]);
    expectAllFreedAfterExit(kernel);
  });

  test('special mappings refuse to split: unmapping half of the vdso-like VMA is EINVAL, nothing changes', () => {
    const kernel = bootKernel();
    const a = spawnOk(kernel, 'A');
    const m = kernel.mmap(a, { addr: 0, len: 2 * PAGE, prot: RW, flags: ANON });
    const vma = a.mm!.vmaAt(m)!;
    vma.special = '[test]';
    const before = drawMaps(kernel, a);
    expect(kernel.munmap(a, m, PAGE)).toBe(-EINVAL);
    expect(drawMaps(kernel, a)).toEqual(before);
    vma.special = null;
    expectAllFreedAfterExit(kernel);
  });
});
