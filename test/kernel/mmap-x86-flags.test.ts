/**
 * x86-64's own mmap flags, checked against what Linux 6.18 (x86-64, ASLR off, vm.nr_hugepages 0)
 * returned for the same calls in a small program run here: MAP_32BIT's placement in the second GiB,
 * and MAP_HUGETLB's refusals when no huge page is reserved.
 */
import { describe, expect, test } from 'vitest';
import {
  EINVAL,
  ENOMEM,
  MAP_32BIT,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_HUGE_SHIFT,
  MAP_HUGETLB,
  MAP_NORESERVE,
  MAP_PRIVATE,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
} from '../../src/kernel/errno.js';
import { bootKernel, expectAllFreedAfterExit, spawnOk } from '../helpers.js';

const PAGE = 4096;
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;

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
    expect(huge(ANON | MAP_HUGETLB | MAP_FIXED)).toBe(-ENOMEM);
    const file = kernel.fs.create('/etc/passwd', new Uint8Array(PAGE));
    expect(
      kernel.mmap(a, { addr: 0, len: PAGE, prot: PROT_READ, flags: MAP_PRIVATE | MAP_HUGETLB, file }),
    ).toBe(-EINVAL);
    expect(kernel.meminfo().MemFree).toBe(free);
    expect(kernel.commit.committed).toBe(committed);
    expect(kernel.maps(a).length).toBe(vmas);
    // With MAP_NORESERVE nothing is reserved and Linux maps it (of ordinary pages here).
    expect(huge(ANON | MAP_HUGETLB | MAP_NORESERVE)).toBeGreaterThan(0);
    expectAllFreedAfterExit(kernel);
  });
});
