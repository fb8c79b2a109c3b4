/**
 * Per-architecture address-space policy: where user space ends, where the stack and the mmap area go,
 * and the limits that shape them — the values Linux uses with ASLR off (see LINUX.md L3–L6).
 */

import { KiB, MiB } from '../base/units.js';
import type { ArchName } from '../hw/arch.js';

export interface UserLayout {
  /** TASK_SIZE: the first address above user space. */
  readonly taskSize: number;
  /** STACK_TOP: the end of the `[stack]` VMA with ASLR off. */
  readonly stackTop: number;
  /** Where a non-PIE program's code starts by default (the link address). */
  readonly codeBase: number;
  /**
   * The kernel's effective `mmap_min_addr`: the larger of vm.mmap_min_addr and the security modules'
   * CONFIG_LSM_MMAP_MIN_ADDR (64 KiB). A hint below it is raised to it (`round_hint_to_min`), placement
   * never goes below it, nor does stack growth.
   */
  readonly mmapMinAddr: number;
  /**
   * vm.mmap_min_addr (`dac_mmap_min_addr`, 4096): an unprivileged MAP_FIXED below it is EPERM
   * (`cap_mmap_addr`); vmscope's processes are unprivileged.
   */
  readonly dacMmapMinAddr: number;
  /** Size the `[stack]` VMA starts with (Linux: the argument pages plus 128 KiB). */
  readonly initialStackBytes: number;
  /** Default RLIMIT_STACK. */
  readonly rlimitStack: number;
  /** stack_guard_gap in bytes (256 pages on Linux). */
  readonly stackGuardGap: number;
  /** Smallest gap mmap_base keeps below the stack top (Linux: 128 MiB). */
  readonly mmapGapMin: number;
  /** Alignment of large anonymous mappings (THP, the PMD size), or 0 for none. */
  readonly thpAlign: number;
  /**
   * Where MAP_32BIT places a mapping, bottom-up ([low, high): x86-64's 1 GiB to 2 GiB, Linux
   * `find_start_end`), or null where the flag means nothing (other architectures, 32-bit processes).
   */
  readonly map32bit: readonly [number, number] | null;
  /** The huge page sizes MAP_HUGETLB may name, as log2 (x86-64: 2 MiB and 1 GiB); the first is the default. */
  readonly hugePageShifts: readonly number[];
}

const X86_64: UserLayout = {
  taskSize: 0x7ffffffff000,
  stackTop: 0x7ffffffff000,
  codeBase: 0x400000,
  mmapMinAddr: 65536,
  dacMmapMinAddr: 4096,
  initialStackBytes: 132 * KiB,
  rlimitStack: 8 * MiB,
  stackGuardGap: 256 * 4096,
  mmapGapMin: 128 * MiB,
  thpAlign: 2 * MiB,
  map32bit: [0x40000000, 0x80000000],
  hugePageShifts: [21, 30],
};

const LAYOUTS: Record<ArchName, UserLayout> = {
  x86_64: X86_64,
  // Linux riscv64 with Sv39: TASK_SIZE is half the 512 GiB space; STACK_TOP is TASK_SIZE.
  'riscv-sv39': {
    ...X86_64,
    taskSize: 0x4000000000,
    stackTop: 0x4000000000,
    codeBase: 0x10000,
    map32bit: null,
  },
  // A 32-bit process on a 64-bit x86 kernel (as the corpus was recorded): TASK_SIZE 0xffffe000.
  i386: {
    ...X86_64,
    taskSize: 0xffffe000,
    stackTop: 0xffffe000,
    codeBase: 0x08048000,
    thpAlign: 0,
    map32bit: null,
  },
  // Scaled down so that a whole address space fits on a screen: 64-byte pages, 1024 of them.
  teach16: {
    taskSize: 0x10000,
    stackTop: 0x10000,
    codeBase: 0x1000,
    mmapMinAddr: 64,
    dacMmapMinAddr: 64,
    initialStackBytes: 128,
    rlimitStack: 2 * KiB,
    stackGuardGap: 4 * 64,
    mmapGapMin: 4 * KiB,
    thpAlign: 0,
    map32bit: null,
    hugePageShifts: [],
  },
  // Translation-only machine: the kernel refuses it, the layout is never used.
  ostep15: {
    taskSize: 0x8000,
    stackTop: 0x8000,
    codeBase: 0x400,
    mmapMinAddr: 32,
    dacMmapMinAddr: 32,
    initialStackBytes: 64,
    rlimitStack: 1 * KiB,
    stackGuardGap: 4 * 32,
    mmapGapMin: 2 * KiB,
    thpAlign: 0,
    map32bit: null,
    hugePageShifts: [],
  },
};

export function userLayout(arch: ArchName): UserLayout {
  return LAYOUTS[arch];
}

/**
 * mmap_base for the top-down layout: below the stack by RLIMIT_STACK plus the guard gap, clamped to
 * [mmapGapMin, 5/6 of TASK_SIZE] (Linux `mmap_base()`, no randomization).
 */
export function mmapBase(layout: UserLayout, rlimitStack: number, pageSize: number): number {
  let gap = rlimitStack + layout.stackGuardGap;
  const gapMax = Math.floor(layout.taskSize / 6) * 5;
  if (gap < layout.mmapGapMin) gap = layout.mmapGapMin;
  else if (gap > gapMax) gap = gapMax;
  const base = layout.stackTop - gap;
  return Math.ceil(base / pageSize) * pageSize;
}

/** TASK_UNMAPPED_BASE: where bottom-up placement starts (a third of TASK_SIZE, page-aligned). */
export function taskUnmappedBase(layout: UserLayout, pageSize: number): number {
  return Math.ceil(layout.taskSize / 3 / pageSize) * pageSize;
}
