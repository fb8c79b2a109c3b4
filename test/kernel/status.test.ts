/**
 * /proc/PID/status after a known sequence, each number worked out by hand (LINUX.md L11):
 * VmSize = total_vm, VmData = data_vm (private writable, not stack), VmStk = stack_vm,
 * VmExe = text, VmRSS = RssAnon + RssFile + RssShmem, VmPTE = page tables below the root,
 * VmPeak and VmHWM the high-water marks of VmSize and VmRSS.
 */
import { describe, expect, test } from 'vitest';
import type { ArchName } from '../../src/hw/arch.js';
import { ACCESS_EXEC, ACCESS_READ, ACCESS_WRITE } from '../../src/hw/mmu.js';
import { bootKernel, expectAllFreedAfterExit, KB, MB, mmapAnon, spawnOk } from '../helpers.js';

const PAGE = 4096;
const STACK_START = 0x7ffffffde000;

test('status of the textbook process through spawn, touches, sbrk, mmap, stack growth and munmap', () => {
  const kernel = bootKernel();
  const a = spawnOk(kernel, 'A'); // 8 KiB code, 4 KiB data, 8 KiB bss
  const kib = () => {
    const s = kernel.status(a);
    return {
      VmPeak: s.VmPeak / KB,
      VmSize: s.VmSize / KB,
      VmHWM: s.VmHWM / KB,
      VmRSS: s.VmRSS / KB,
      RssAnon: s.RssAnon / KB,
      RssFile: s.RssFile / KB,
      VmData: s.VmData / KB,
      VmStk: s.VmStk / KB,
      VmExe: s.VmExe / KB,
      VmLib: s.VmLib / KB,
      VmPTE: s.VmPTE / KB,
    };
  };

  // After execve: code 2 + data 1 + bss 2 + stack 33 pages = 38 pages = 152 KiB.
  // Resident: the one stack page execve wrote argv into. Its tables: PDPT + PD + PT = 12 KiB.
  expect(kib()).toEqual({
    VmPeak: 152,
    VmSize: 152,
    VmHWM: 4,
    VmRSS: 4,
    RssAnon: 4,
    RssFile: 0,
    VmData: 12, // data 4 + bss 8
    VmStk: 132,
    VmExe: 8,
    VmLib: 0,
    VmPTE: 12,
  });

  // Run the first instruction: a code page (file) and the tables for 0x400000: 6 tables = 24 KiB.
  kernel.access(a, 0x400000, ACCESS_EXEC);
  expect(kib()).toMatchObject({ VmRSS: 8, RssFile: 4, VmPTE: 24 });

  // Write the data page (copy-on-write: anonymous now) and both bss pages: 1 + 2 anonymous pages.
  kernel.access(a, 0x402000, ACCESS_WRITE);
  kernel.access(a, 0x403000, ACCESS_WRITE);
  kernel.access(a, 0x404000, ACCESS_WRITE);
  expect(kib()).toMatchObject({ VmRSS: 20, RssAnon: 16, RssFile: 4, VmPTE: 24 });

  // sbrk(12 KiB) and touch it: 3 heap pages, data; 152 + 12 = 164 KiB.
  kernel.sbrk(a, 3 * PAGE);
  for (let i = 0; i < 3; i++) kernel.access(a, 0x405000 + i * PAGE, ACCESS_WRITE);
  expect(kib()).toMatchObject({ VmSize: 164, VmData: 24, VmRSS: 32, RssAnon: 28 });

  // mmap 1 MiB (data) and touch 4 pages of it. It sits in another 2 MiB region than the stack:
  // one more PT, under the stack's PD. 164 + 1024 = 1188 KiB.
  const area = mmapAnon(kernel, a, MB);
  for (let i = 0; i < 4; i++) kernel.access(a, area + i * PAGE, ACCESS_WRITE);
  expect(kib()).toMatchObject({ VmSize: 1188, VmData: 1048, VmRSS: 48, VmPTE: 28 });

  // Grow the stack by one page: 33 → 34 pages; 1188 + 4 = 1192 KiB, the peak.
  kernel.access(a, STACK_START - PAGE, ACCESS_WRITE);
  expect(kib()).toMatchObject({ VmPeak: 1192, VmSize: 1192, VmStk: 136, VmRSS: 52, VmHWM: 52 });

  // Unmap the 1 MiB: its 4 pages and its page table go; the peaks stay.
  kernel.munmap(a, area, MB);
  // VmSize = code 2 + data 1 + bss 2 + heap 3 + stack 34 = 42 pages = 168 KiB.
  // VmRSS  = stack 2 + data 1 + bss 2 + heap 3 anonymous + 1 code page = 9 pages = 36 KiB.
  expect(kib()).toEqual({
    VmPeak: 1192,
    VmSize: 168,
    VmHWM: 52,
    VmRSS: 36,
    RssAnon: 32,
    RssFile: 4,
    VmData: 24,
    VmStk: 136,
    VmExe: 8,
    VmLib: 0,
    VmPTE: 24,
  });
  // Faults: major for the code page and for the data page (read from the file, then copied);
  // minor for bss 2 + heap 3 + mmap 4 + stack 1 = 10.
  expect(kernel.status(a)).toMatchObject({ majflt: 2, minflt: 10 });
  expect(kernel.check()).toEqual([]);

  // An ended process keeps only its peaks and its fault counts.
  kernel.exit(a, 0);
  expect(kernel.status(a)).toMatchObject({
    VmPeak: 1192 * KB,
    VmHWM: 52 * KB,
    VmSize: 0,
    VmRSS: 0,
    majflt: 2,
  });
  expectAllFreedAfterExit(kernel);
});

test('VmExe is the page-aligned code; an executable mmap is VmLib; a read-only one counts in VmSize only', () => {
  const kernel = bootKernel();
  const a = spawnOk(kernel, 'A', { codeBytes: 5000, dataBytes: 100, bssBytes: 0 });
  // 5000 bytes of code end at 0x401388: PAGE_ALIGN(end_code) - start_code = 8 KiB.
  expect(kernel.status(a).VmExe).toBe(8 * KB);
  mmapAnon(kernel, a, 3 * PAGE, 5); // PROT_READ | PROT_EXEC
  mmapAnon(kernel, a, 5 * PAGE, 1); // PROT_READ
  const s = kernel.status(a);
  expect(s.VmLib).toBe(12 * KB);
  // code 2 + data 1 + stack 33 + 3 + 5 pages.
  expect(s.VmSize).toBe(44 * PAGE);
  expect(s.VmData).toBe(4 * KB);
  expectAllFreedAfterExit(kernel);
});

describe.each<[ArchName, number, string, string]>([
  // x86-64: PML4 is the root; code and stack each need a PDPT, a PD and a PT.
  ['x86_64', 6 * 4096, '24 KiB', '2 × (PDPT + PD + PT)'],
  // Sv39: L2 is the root; each region needs an L1 and an L0 table.
  ['riscv-sv39', 4 * 4096, '16 KiB', '2 × (L1 + L0)'],
  // i386: the page directory is the root; each region needs one page table.
  ['i386', 2 * 4096, '8 KiB', '2 × PT'],
  // teach16: 64-byte tables; the root is the PD, each region one PT.
  ['teach16', 2 * 64, '128 bytes', '2 × PT'],
])('%s', (arch, bytes, size, tables) => {
  test(`touching code and stack makes VmPTE ${size}: ${tables}`, () => {
    const pageSize = arch === 'teach16' ? 64 : 4096;
    const kernel = bootKernel({ arch, ramBytes: arch === 'teach16' ? 64 * KB : 4 * MB });
    const a = spawnOk(kernel, 'A', { codeBytes: pageSize, dataBytes: pageSize, bssBytes: 0 });
    kernel.access(a, kernel.layout.codeBase, ACCESS_READ);
    expect(kernel.status(a).VmPTE).toBe(bytes);
    expect(kernel.meminfo().PageTables).toBe(bytes + pageSize); // meminfo counts the root too
    expect(kernel.check()).toEqual([]);
    expectAllFreedAfterExit(kernel);
  });
});
