/**
 * The address space of a non-PIE x86-64 program with ASLR off, as Linux builds and reshapes it
 * (LINUX.md L1–L7): execve's layout, mmap placement and merging, mprotect and munmap splitting,
 * MAP_FIXED, and brk.
 */
import { describe, expect, test } from 'vitest';
import {
  EBADF,
  EEXIST,
  EINVAL,
  ENOMEM,
  EPERM,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_FIXED_NOREPLACE,
  MAP_PRIVATE,
  MAP_SHARED,
  PROT_EXEC,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
} from '../../src/kernel/errno.js';
import type { Kernel } from '../../src/kernel/kernel.js';
import type { Process } from '../../src/kernel/process.js';
import {
  ANON_PRIVATE,
  bootKernel,
  drawMaps,
  expectAllFreedAfterExit,
  KB,
  MB,
  mmapAnon,
  PROT_RW,
  spawnOk,
} from '../helpers.js';

const PAGE = 4096;
const MMAP_BASE = 0x7ffff7fff000;

/** A kernel and the textbook process A: 8 KiB code, 4 KiB data, 8 KiB bss. */
function processA(options: Parameters<typeof bootKernel>[1] = {}): { kernel: Kernel; a: Process } {
  const kernel = bootKernel({}, options);
  return { kernel, a: spawnOk(kernel, 'A') };
}

/** The maps lines of A between two addresses (to look at one region). */
function mapsWithin(kernel: Kernel, a: Process, start: number, end: number): string[] {
  return drawMaps(kernel, a).filter((line) => {
    const [s, e] = line
      .split(' ')[0]!
      .split('-')
      .map((x) => Number.parseInt(x, 16));
    return s! >= start && e! <= end;
  });
}

describe('execve layout', () => {
  test('code, data, bss and a 132 KiB stack; no [heap] until brk grows', () => {
    const { kernel, a } = processA();
    expect(drawMaps(kernel, a)).toEqual([
      '00400000-00402000 r-xp /bin/A', // code: 8 KiB from the file
      '00402000-00403000 rw-p /bin/A', // data: 4 KiB from the file, copy-on-write
      '00403000-00405000 rw-p', // bss: anonymous, not [heap]
      '7ffffffde000-7ffffffff000 rw-p [stack]', // 0x21000 = 132 KiB below STACK_TOP
    ]);
    const maps = kernel.maps(a);
    expect(maps.map((m) => m.offset)).toEqual([0, 0x2000, 0, 0]);
    expect(maps[0]!.inode).toBe(maps[1]!.inode);
    expect(maps[2]!.inode).toBe(0);
    const mm = a.mm!;
    expect([mm.startBrk, mm.brk]).toEqual([0x405000, 0x405000]);
    expect(mm.mmapBase).toBe(MMAP_BASE);
    expect(kernel.check()).toEqual([]);
  });

  test('mmap_base is STACK_TOP minus the 128 MiB minimum gap (8 MiB RLIMIT_STACK + 1 MiB guard is less)', () => {
    const { kernel, a } = processA();
    expect(a.mm!.mmapBase).toBe(0x7ffffffff000 - 128 * MB);
    expect(kernel.check()).toEqual([]);
  });
});

describe('mmap placement', () => {
  test('the first 1 MiB anonymous mapping ends at mmap_base', () => {
    const { kernel, a } = processA();
    expect(mmapAnon(kernel, a, MB)).toBe(0x7ffff7eff000); // 0x7ffff7fff000 - 0x100000
    expect(kernel.check()).toEqual([]);
  });

  test('a 2 MiB anonymous mapping is placed on a 2 MiB boundary, for transparent huge pages', () => {
    const { kernel, a } = processA();
    mmapAnon(kernel, a, PAGE); // push the next hole off any alignment
    const addr = mmapAnon(kernel, a, 2 * MB);
    expect(addr % (2 * MB)).toBe(0);
    // The highest aligned spot below the first mapping at 0x7ffff7ffe000.
    expect(addr).toBe(0x7ffff7c00000);
    expect(kernel.check()).toEqual([]);
  });

  test('a shared anonymous 2 MiB mapping is not THP-aligned by mmap (shmem decides for itself)', () => {
    const { kernel, a } = processA();
    const addr = kernel.mmap(a, { addr: 0, len: 2 * MB, prot: PROT_RW, flags: MAP_SHARED | MAP_ANONYMOUS });
    expect(addr).toBe(MMAP_BASE - 2 * MB);
    expect(kernel.check()).toEqual([]);
  });

  test('consecutive anonymous rw mappings stack downwards and merge into one VMA', () => {
    const { kernel, a } = processA();
    const first = mmapAnon(kernel, a, 3 * PAGE);
    const second = mmapAnon(kernel, a, 2 * PAGE);
    expect(second).toBe(first - 2 * PAGE);
    expect(mapsWithin(kernel, a, 0x7ff000000000, MMAP_BASE)).toEqual(['7ffff7ffa000-7ffff7fff000 rw-p']);
    expect(kernel.check()).toEqual([]);
  });

  test('mappings with different rights do not merge', () => {
    const { kernel, a } = processA();
    mmapAnon(kernel, a, PAGE);
    mmapAnon(kernel, a, PAGE, PROT_READ);
    expect(mapsWithin(kernel, a, 0x7ff000000000, MMAP_BASE)).toEqual([
      '7ffff7ffd000-7ffff7ffe000 r--p',
      '7ffff7ffe000-7ffff7fff000 rw-p',
    ]);
    expect(kernel.check()).toEqual([]);
  });

  test('a free hint is honoured (rounded down to a page); an occupied one is not', () => {
    const { kernel, a } = processA();
    const hint = 0x10000000;
    expect(kernel.mmap(a, { addr: hint + 123, len: PAGE, prot: PROT_RW, flags: ANON_PRIVATE })).toBe(hint);
    expect(kernel.mmap(a, { addr: 0x400000, len: PAGE, prot: PROT_RW, flags: ANON_PRIVATE })).toBe(
      MMAP_BASE - PAGE,
    );
    expect(kernel.check()).toEqual([]);
  });

  test('a hint inside the stack guard gap is not honoured', () => {
    const { kernel, a } = processA();
    const stackStart = 0x7ffffffde000;
    const hint = stackStart - 256 * PAGE; // 2 pages from here would end 2 pages inside the gap
    expect(kernel.mmap(a, { addr: hint, len: 2 * PAGE, prot: PROT_RW, flags: ANON_PRIVATE })).toBe(
      MMAP_BASE - 2 * PAGE,
    );
    expect(kernel.mmap(a, { addr: hint - PAGE, len: PAGE, prot: PROT_RW, flags: ANON_PRIVATE })).toBe(
      hint - PAGE,
    );
    expect(kernel.check()).toEqual([]);
  });
});

describe('mprotect and munmap split and merge', () => {
  test('mprotect of the middle page splits one VMA into three; mprotect back merges them', () => {
    const { kernel, a } = processA();
    const addr = mmapAnon(kernel, a, 3 * PAGE);
    kernel.writeUser(a, addr, new Uint8Array(3 * PAGE).fill(7)); // give it pages, and an anon_vma
    expect(kernel.mprotect(a, addr + PAGE, PAGE, PROT_READ)).toBe(0);
    expect(mapsWithin(kernel, a, addr, addr + 3 * PAGE)).toEqual([
      '7ffff7ffc000-7ffff7ffd000 rw-p',
      '7ffff7ffd000-7ffff7ffe000 r--p',
      '7ffff7ffe000-7ffff7fff000 rw-p',
    ]);
    expect(kernel.check()).toEqual([]);
    expect(kernel.mprotect(a, addr + PAGE, PAGE, PROT_RW)).toBe(0);
    expect(mapsWithin(kernel, a, addr, addr + 3 * PAGE)).toEqual(['7ffff7ffc000-7ffff7fff000 rw-p']);
    expect(kernel.readUser(a, addr + PAGE, 1)).toEqual(new Uint8Array([7]));
    expect(kernel.check()).toEqual([]);
  });

  test('mprotect over a range where the first VMA merges with the next one succeeds (it used to give ENOMEM)', () => {
    const { kernel, a } = processA();
    const addr = mmapAnon(kernel, a, 3 * PAGE);
    expect(kernel.mprotect(a, addr + 2 * PAGE, PAGE, PROT_READ)).toBe(0);
    //   [addr, +2) rw-p  [+2, +3) r--p   → mprotect(addr, 3 pages, r)
    // The first VMA turns r--p and merges with the second; the rest of the range is already done.
    expect(kernel.mprotect(a, addr, 3 * PAGE, PROT_READ)).toBe(0);
    expect(mapsWithin(kernel, a, addr, addr + 3 * PAGE)).toEqual(['7ffff7ffc000-7ffff7fff000 r--p']);
    expect(kernel.check()).toEqual([]);
  });

  test('mprotect over a hole fails with ENOMEM; mprotect of an unaligned start with EINVAL', () => {
    const { kernel, a } = processA();
    expect(kernel.mprotect(a, 0x405000, PAGE, PROT_READ)).toBe(-ENOMEM); // brk area: nothing there
    expect(kernel.mprotect(a, 0x400001, PAGE, PROT_READ)).toBe(-EINVAL);
    expect(kernel.mprotect(a, 0x400000, PAGE, 0x80)).toBe(-EINVAL);
    expect(kernel.mprotect(a, 0x400000, 0, PROT_NONE)).toBe(0);
    expect(drawMaps(kernel, a)[0]).toBe('00400000-00402000 r-xp /bin/A');
    expect(kernel.check()).toEqual([]);
  });

  test('mprotect may make private file pages writable (VM_MAYWRITE); the split keeps the file offset', () => {
    const { kernel, a } = processA();
    expect(kernel.mprotect(a, 0x400000, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC)).toBe(0);
    expect(drawMaps(kernel, a).slice(0, 2)).toEqual([
      '00400000-00401000 rwxp /bin/A',
      '00401000-00402000 r-xp /bin/A',
    ]);
    expect(kernel.maps(a)[1]!.offset).toBe(PAGE); // the split keeps the file offset
    expect(kernel.check()).toEqual([]);
  });

  test('munmap of the middle page leaves two VMAs', () => {
    const { kernel, a } = processA();
    const addr = mmapAnon(kernel, a, 3 * PAGE);
    expect(kernel.munmap(a, addr + PAGE, PAGE)).toBe(0);
    expect(mapsWithin(kernel, a, addr, addr + 3 * PAGE)).toEqual([
      '7ffff7ffc000-7ffff7ffd000 rw-p',
      '7ffff7ffe000-7ffff7fff000 rw-p',
    ]);
    expect(kernel.check()).toEqual([]);
  });

  test('munmap of a range spanning several VMAs, and of nothing, succeeds; bad arguments give EINVAL', () => {
    const { kernel, a } = processA();
    expect(kernel.munmap(a, 0x401000, 0x3000)).toBe(0); // half the code, the data, half the bss
    expect(drawMaps(kernel, a)).toEqual([
      '00400000-00401000 r-xp /bin/A',
      '00404000-00405000 rw-p',
      '7ffffffde000-7ffffffff000 rw-p [stack]',
    ]);
    expect(kernel.munmap(a, 0x20000000, PAGE)).toBe(0);
    expect(kernel.munmap(a, 0x400001, PAGE)).toBe(-EINVAL);
    expect(kernel.munmap(a, 0x400000, 0)).toBe(-EINVAL);
    expect(kernel.munmap(a, 0x7ffffffff000, 2 * PAGE)).toBe(-EINVAL); // runs past TASK_SIZE
    expect(kernel.check()).toEqual([]);
  });

  test('munmap gives back the pages and the page tables the hole no longer needs', () => {
    const { kernel, a } = processA();
    const before = kernel.meminfo().MemFree;
    // 16 TiB: PML4 slot 32, which nothing else uses.
    const at = 0x1000_0000_0000;
    const addr = kernel.mmap(a, { addr: at, len: 4 * PAGE, prot: PROT_RW, flags: ANON_PRIVATE });
    expect(addr).toBe(at);
    kernel.writeUser(a, addr, new Uint8Array(4 * PAGE).fill(1));
    // 4 pages, and a PDPT, a PD and a PT to reach them.
    expect(before - kernel.meminfo().MemFree).toBe(7 * PAGE);
    expect(kernel.status(a).VmPTE).toBe(6 * PAGE); // the stack's three tables and these three
    expect(kernel.munmap(a, addr, 4 * PAGE)).toBe(0);
    expect(kernel.meminfo().MemFree).toBe(before);
    expect(kernel.status(a).VmPTE).toBe(3 * PAGE);
    expect(kernel.check()).toEqual([]);
  });

  test('munmap keeps a page table that still covers another VMA', () => {
    const { kernel, a } = processA();
    // 0x600000 shares the PDPT and the PD with the code at 0x400000, and has a PT of its own.
    const addr = kernel.mmap(a, { addr: 0x600000, len: PAGE, prot: PROT_RW, flags: ANON_PRIVATE });
    kernel.writeUser(a, addr, new Uint8Array([1]));
    expect(kernel.status(a).VmPTE).toBe(6 * PAGE);
    expect(kernel.munmap(a, addr, PAGE)).toBe(0);
    // The PT for [0x600000, 0x800000) goes; the PD and PDPT also span the code, so they stay.
    expect(kernel.status(a).VmPTE).toBe(5 * PAGE);
    expect(kernel.check()).toEqual([]);
  });
});

describe('MAP_FIXED', () => {
  test('replaces what was there: the old pages are freed and the new ones read as zero', () => {
    const { kernel, a } = processA();
    const addr = mmapAnon(kernel, a, 3 * PAGE);
    kernel.writeUser(a, addr, new Uint8Array(3 * PAGE).fill(0xaa));
    const free = kernel.meminfo().MemFree;
    const fixed = kernel.mmap(a, {
      addr: addr + PAGE,
      len: PAGE,
      prot: PROT_READ,
      flags: ANON_PRIVATE | MAP_FIXED,
    });
    expect(fixed).toBe(addr + PAGE);
    expect(kernel.meminfo().MemFree).toBe(free + PAGE);
    expect(mapsWithin(kernel, a, addr, addr + 3 * PAGE)).toEqual([
      '7ffff7ffc000-7ffff7ffd000 rw-p',
      '7ffff7ffd000-7ffff7ffe000 r--p',
      '7ffff7ffe000-7ffff7fff000 rw-p',
    ]);
    expect(kernel.readUser(a, addr + PAGE, 2)).toEqual(new Uint8Array([0, 0]));
    expect(kernel.readUser(a, addr, 1)).toEqual(new Uint8Array([0xaa]));
    expect(kernel.check()).toEqual([]);
  });

  test('MAP_FIXED_NOREPLACE over an existing mapping gives EEXIST and changes nothing', () => {
    const { kernel, a } = processA();
    const maps = drawMaps(kernel, a);
    const free = kernel.meminfo().MemFree;
    const flags = ANON_PRIVATE | MAP_FIXED_NOREPLACE;
    expect(kernel.mmap(a, { addr: 0x404000, len: 2 * PAGE, prot: PROT_RW, flags })).toBe(-EEXIST);
    expect(drawMaps(kernel, a)).toEqual(maps);
    expect(kernel.meminfo().MemFree).toBe(free);
    // Just past the bss the range is free, and the mapping is made there.
    expect(kernel.mmap(a, { addr: 0x405000, len: PAGE, prot: PROT_READ, flags })).toBe(0x405000);
    expect(kernel.check()).toEqual([]);
  });

  test.each([
    ['length 0', { addr: 0, len: 0, prot: PROT_RW, flags: ANON_PRIVATE }, -EINVAL],
    [
      'an unaligned MAP_FIXED address',
      { addr: 0x10000010, len: PAGE, prot: PROT_RW, flags: ANON_PRIVATE | MAP_FIXED },
      -EINVAL,
    ],
    [
      'neither MAP_SHARED nor MAP_PRIVATE',
      { addr: 0, len: PAGE, prot: PROT_RW, flags: MAP_ANONYMOUS },
      -EINVAL,
    ],
    [
      'both MAP_SHARED and MAP_PRIVATE',
      { addr: 0, len: PAGE, prot: PROT_RW, flags: MAP_SHARED | MAP_PRIVATE | MAP_ANONYMOUS },
      -EINVAL,
    ],
    ['unknown prot bits', { addr: 0, len: PAGE, prot: 0x100, flags: ANON_PRIVATE }, -EINVAL],
    ['a file mapping without a file', { addr: 0, len: PAGE, prot: PROT_READ, flags: MAP_PRIVATE }, -EBADF],
    [
      'MAP_FIXED on the NULL page, below mmap_min_addr',
      { addr: 0, len: PAGE, prot: PROT_RW, flags: ANON_PRIVATE | MAP_FIXED },
      -EPERM,
    ],
    ['more than the address space', { addr: 0, len: 2 ** 47, prot: PROT_RW, flags: ANON_PRIVATE }, -ENOMEM],
  ])('mmap with %s fails and takes nothing', (_what, req, errno) => {
    const { kernel, a } = processA();
    const maps = drawMaps(kernel, a);
    const free = kernel.meminfo().MemFree;
    expect(kernel.mmap(a, req)).toBe(errno);
    expect(drawMaps(kernel, a)).toEqual(maps);
    expect(kernel.meminfo().MemFree).toBe(free);
    expect(kernel.check()).toEqual([]);
  });
});

describe('brk', () => {
  test('sbrk growth creates [heap] at the page-aligned end of bss, apart from the bss VMA', () => {
    const { kernel, a } = processA();
    expect(kernel.sbrk(a, 100)).toBe(0x405000); // sbrk returns the old break
    expect(a.mm!.brk).toBe(0x405064); // the break itself keeps its byte precision
    expect(drawMaps(kernel, a).slice(2, 4)).toEqual([
      '00403000-00405000 rw-p', // bss, still unnamed: Linux 6.x never extends it
      '00405000-00406000 rw-p [heap]',
    ]);
    // Growing within the page changes only the break; past it, the heap VMA grows.
    expect(kernel.sbrk(a, 4000)).toBe(0x405064);
    expect(drawMaps(kernel, a)[3]).toBe('00405000-00407000 rw-p [heap]');
    expect(kernel.check()).toEqual([]);
  });

  test('brk(0), and any brk below start_brk, returns the current break and changes nothing', () => {
    const { kernel, a } = processA();
    expect(kernel.brk(a, 0)).toBe(0x405000);
    kernel.brk(a, 0x407000);
    expect(kernel.brk(a, 0x404fff)).toBe(0x407000);
    expect(a.mm!.brk).toBe(0x407000);
    expect(kernel.check()).toEqual([]);
  });

  test('shrinking brk unmaps the pages above the new break and frees them', () => {
    const { kernel, a } = processA();
    expect(kernel.brk(a, 0x408000)).toBe(0x408000);
    kernel.writeUser(a, 0x405000, new Uint8Array(3 * PAGE).fill(1));
    const free = kernel.meminfo().MemFree;
    expect(kernel.status(a).RssAnon).toBe(4 * PAGE); // three heap pages and the stack's
    expect(kernel.brk(a, 0x405800)).toBe(0x405800);
    expect(drawMaps(kernel, a)[3]).toBe('00405000-00406000 rw-p [heap]');
    expect(kernel.status(a).RssAnon).toBe(2 * PAGE);
    expect(kernel.meminfo().MemFree).toBe(free + 2 * PAGE);
    expect(kernel.brk(a, 0x405000)).toBe(0x405000);
    expect(drawMaps(kernel, a)).not.toContain('00405000-00406000 rw-p [heap]');
    expect(kernel.status(a).RssAnon).toBe(PAGE);
    expect(kernel.check()).toEqual([]);
  });

  test('the heap stops a page short of the next mapping', () => {
    const { kernel, a } = processA();
    const wall = 0x409000;
    expect(kernel.mmap(a, { addr: wall, len: PAGE, prot: PROT_READ, flags: ANON_PRIVATE | MAP_FIXED })).toBe(
      wall,
    );
    expect(kernel.brk(a, wall - PAGE)).toBe(wall - PAGE); // leaves exactly one page
    expect(kernel.brk(a, wall - PAGE + 1)).toBe(wall - PAGE); // would leave none
    expect(kernel.sbrk(a, 1)).toBe(-ENOMEM);
    expect(kernel.check()).toEqual([]);
  });

  test('RLIMIT_DATA stops the heap: data + bss + heap may not pass it', () => {
    // 64 KiB of RLIMIT_DATA; the program's data (4 KiB) and bss (8 KiB) already count: 52 KiB left.
    const { kernel, a } = processA({ rlimits: { data: 64 * KB } });
    expect(kernel.status(a).VmData).toBe(12 * KB);
    expect(kernel.brk(a, 0x405000 + 52 * KB)).toBe(0x405000 + 52 * KB);
    expect(kernel.status(a).VmData).toBe(64 * KB);
    const free = kernel.meminfo().MemFree;
    expect(kernel.brk(a, 0x405000 + 56 * KB)).toBe(0x405000 + 52 * KB); // refused: the old break
    expect(kernel.sbrk(a, 1)).toBe(-ENOMEM);
    expect(kernel.status(a).VmData).toBe(64 * KB);
    expect(kernel.meminfo().MemFree).toBe(free);
    // The same limit refuses private writable mmaps, and not read-only ones.
    expect(kernel.mmap(a, { addr: 0, len: PAGE, prot: PROT_RW, flags: ANON_PRIVATE })).toBe(-ENOMEM);
    expect(kernel.mmap(a, { addr: 0, len: PAGE, prot: PROT_READ, flags: ANON_PRIVATE })).toBeGreaterThan(0);
    expect(kernel.check()).toEqual([]);
  });
});

test('every frame comes back when the process exits', () => {
  const { kernel, a } = processA();
  mmapAnon(kernel, a, 2 * MB);
  kernel.sbrk(a, 3 * PAGE);
  kernel.writeUser(a, 0x405000, new Uint8Array(3 * PAGE));
  expectAllFreedAfterExit(kernel);
});
