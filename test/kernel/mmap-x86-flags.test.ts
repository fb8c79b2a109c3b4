/**
 * x86-64's own mmap flags, checked against what Linux 6.18 (x86-64, ASLR off, vm.nr_hugepages 0)
 * returned for the same calls in a small program run here: MAP_32BIT's placement in the second GiB,
 * and MAP_HUGETLB's refusals when no huge page is reserved.
 */
import { describe, expect, test } from 'vitest';
import {
  BUS_ADRERR,
  EINVAL,
  ENOMEM,
  MADV_DONTNEED,
  MADV_FREE,
  MAP_32BIT,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_HUGE_SHIFT,
  MAP_HUGETLB,
  MAP_NORESERVE,
  MAP_PRIVATE,
  MREMAP_MAYMOVE,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
  SIGBUS,
} from '../../src/kernel/errno.js';
import { IPC_CREAT, SHM_HUGETLB, SHM_NORESERVE } from '../../src/kernel/shm.js';
import { bootKernel, expectAllFreedAfterExit, spawnOk } from '../helpers.js';

const PAGE = 4096;
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
const M2 = 2 * 1024 * 1024;

describe('MAP_32BIT (arch_get_unmapped_area: bottom-up in [1 GiB, 2 GiB))', () => {
  test("the first mapping at 1 GiB, a hint below 2 GiB honoured, one above it ignored, 4 MiB THP-aligned, as Linux's", () => {
    const kernel = bootKernel({ arch: 'x86_64' });
    const a = spawnOk(kernel, 'A');
    const map = (addr: number, len: number) =>
      kernel.mmap(a, { addr, len, prot: RW, flags: ANON | MAP_32BIT });
    expect(map(0, PAGE)).toBe(0x40000000);
    expect(map(0x50000000, PAGE)).toBe(0x50000000);
    // A hint above 2 GiB is not kept (the top-down search would have taken it): the next hole up from 1 GiB.
    expect(map(0x200000000, PAGE)).toBe(0x40001000);
    // A large anonymous request is aligned to 2 MiB, searched bottom-up like the rest.
    expect(map(0, 4 << 20)).toBe(0x40200000);
    expect(
      kernel
        .maps(a)
        .filter((m) => m.end <= 0x80000000 && m.start >= 0x40000000)
        .map((m) => `${m.start.toString(16)}-${m.end.toString(16)}`),
    ).toEqual(['40000000-40002000', '40200000-40600000', '50000000-50001000']);
    // Larger than the whole window: nothing to search.
    expect(map(0, 0x80000000 + PAGE)).toBe(-ENOMEM);
    expectAllFreedAfterExit(kernel);
  });

  test('means nothing to a 32-bit process (in_32bit_syscall): placed top-down as without it', () => {
    const kernel = bootKernel({ arch: 'i386' });
    const a = spawnOk(kernel, 'A');
    const plain = kernel.mmap(a, { addr: 0, len: PAGE, prot: RW, flags: ANON });
    const with32 = kernel.mmap(a, { addr: 0, len: PAGE, prot: RW, flags: ANON | MAP_32BIT });
    expect(with32).toBe(plain - PAGE);
  });
});

describe('MAP_HUGETLB with an empty huge page pool (ksys_mmap_pgoff, hugetlb_reserve_pages)', () => {
  test('ENOMEM for 2 MiB and 1 GiB pages, EINVAL for a size the machine lacks and for a regular file', () => {
    const kernel = bootKernel({ arch: 'x86_64' });
    const a = spawnOk(kernel, 'A');
    const free = kernel.meminfo().MemFree;
    const committed = kernel.commit.committed;
    const vmas = kernel.maps(a).length;
    const huge = (flags: number, prot = RW) => kernel.mmap(a, { addr: 0, len: PAGE, prot, flags });
    expect(huge(ANON | MAP_HUGETLB)).toBe(-ENOMEM);
    expect(huge(ANON | MAP_HUGETLB, PROT_NONE)).toBe(-ENOMEM);
    expect(huge(ANON | MAP_HUGETLB | (30 * 2 ** MAP_HUGE_SHIFT), PROT_READ)).toBe(-ENOMEM);
    expect(huge(ANON | MAP_HUGETLB | (25 * 2 ** MAP_HUGE_SHIFT), PROT_READ)).toBe(-EINVAL);
    const at = (addr: number, flags: number) => kernel.mmap(a, { addr, len: PAGE, prot: RW, flags });
    // get_unmapped_area comes before the reservation: an address off a huge page is EINVAL first.
    expect(at(0x40000000, ANON | MAP_HUGETLB | MAP_FIXED)).toBe(-ENOMEM);
    expect(at(0x40001000, ANON | MAP_HUGETLB | MAP_FIXED)).toBe(-EINVAL);
    const file = kernel.fs.create('/etc/passwd', new Uint8Array(PAGE));
    expect(
      kernel.mmap(a, { addr: 0, len: PAGE, prot: PROT_READ, flags: MAP_PRIVATE | MAP_HUGETLB, file }),
    ).toBe(-EINVAL);
    expect(kernel.meminfo().MemFree).toBe(free);
    expect(kernel.commit.committed).toBe(committed);
    expect(kernel.maps(a).length).toBe(vmas);
    // With MAP_NORESERVE nothing is reserved and Linux maps it.
    expect(huge(ANON | MAP_HUGETLB | MAP_NORESERVE)).toBeGreaterThan(0);
    expectAllFreedAfterExit(kernel);
  });

  test('MAP_NORESERVE: whole huge pages, aligned, /anon_hugepage (deleted), split only on a huge page, SIGBUS on touch', () => {
    const kernel = bootKernel({ arch: 'x86_64' });
    const a = spawnOk(kernel, 'A');
    const committed = kernel.commit.committed;
    const NR = ANON | MAP_HUGETLB | MAP_NORESERVE;
    const p = kernel.mmap(a, { addr: 0, len: M2 + PAGE, prot: RW, flags: NR });
    expect(p % M2).toBe(0);
    const line = kernel.maps(a).find((m) => m.start === p)!;
    expect([line.end - line.start, line.name]).toEqual([2 * M2, '/anon_hugepage (deleted)']);
    const g = kernel.mmap(a, {
      addr: 0,
      len: 2 ** 30,
      prot: PROT_READ,
      flags: NR | (30 * 2 ** MAP_HUGE_SHIFT),
    });
    expect(g % 2 ** 30).toBe(0);
    // A hint is rounded up to a huge page.
    expect(kernel.mmap(a, { addr: 0x7ff000001000, len: M2, prot: RW, flags: NR })).toBe(0x7ff000200000);
    expect(kernel.commit.committed).toBe(committed);
    // hugetlb_vm_op_split: no split inside a huge page (munmap, mprotect); madvise's start on one.
    expect(kernel.munmap(a, p, PAGE)).toBe(-EINVAL);
    expect(kernel.mprotect(a, p, PAGE, PROT_READ)).toBe(-EINVAL);
    expect(kernel.madvise(a, p + PAGE, PAGE, MADV_DONTNEED)).toBe(-EINVAL);
    expect(kernel.madvise(a, p, M2 + PAGE, MADV_DONTNEED)).toBe(0);
    expect(kernel.madvise(a, p, M2, MADV_FREE)).toBe(-EINVAL);
    // mlock has nothing to fault in; mremap may shrink but never grow.
    expect(kernel.mlock(a, p, M2)).toBe(-ENOMEM);
    expect(kernel.mremap(a, p, 2 * M2, 3 * M2, MREMAP_MAYMOVE)).toBe(-EINVAL);
    expect(kernel.mremap(a, p, 2 * M2, M2, 0)).toBe(p);
    // smaps as Linux printed it here: the huge page size, and VmFlags 'de nr ht'.
    const sm = kernel.smaps(a).find((e) => e.maps.start === p)!;
    expect([sm.kernelPageSize, sm.flags.join(' ')]).toEqual([M2, 'rd wr mr mw me de nr ht']);
    // The pool is empty: a touch is SIGBUS.
    expect(kernel.access(a, p + 5, 1)).toBe(-1);
    expect(a.signal).toMatchObject({ signal: SIGBUS, code: BUS_ADRERR, va: p });
    expectAllFreedAfterExit(kernel);
  });

  test('SHM_HUGETLB: ENOMEM unless SHM_NORESERVE; then a segment of whole huge pages, attached aligned', () => {
    const kernel = bootKernel({ arch: 'x86_64' });
    const a = spawnOk(kernel, 'A');
    expect(kernel.shmget(a, 0, PAGE, IPC_CREAT | SHM_HUGETLB | 0o600)).toBe(-ENOMEM);
    expect(kernel.shmget(a, 0, PAGE, IPC_CREAT | SHM_HUGETLB | SHM_NORESERVE | (22 * 2 ** 26))).toBe(-EINVAL);
    const id = kernel.shmget(a, 0, PAGE, IPC_CREAT | SHM_HUGETLB | SHM_NORESERVE | 0o600);
    expect(id).toBeGreaterThanOrEqual(0);
    const at = kernel.shmat(a, id, 0, 0);
    expect(at % M2).toBe(0);
    const line = kernel.maps(a).find((m) => m.start === at)!;
    expect([line.end - line.start, line.perms, line.name]).toEqual([M2, 'rw-s', '/SYSV00000000 (deleted)']);
    expect(kernel.shmat(a, id, 0x7fe000001000, 0)).toBe(-EINVAL);
    // The segment reserved at shmget: its attach is no VM_NORESERVE mapping.
    const sm = kernel.smaps(a).find((e) => e.maps.start === at)!;
    expect([sm.kernelPageSize, sm.flags.join(' '), sm.maps.device]).toEqual([
      M2,
      'rd wr sh mr mw me ms de ht',
      '00:11',
    ]);
    expect(kernel.access(a, at, 0)).toBe(-1);
    expect(a.signal).toMatchObject({ signal: SIGBUS, va: at });
    expectAllFreedAfterExit(kernel);
  });
});
