/**
 * Architecture presets: the shape of the virtual address and of the page-table tree, with the real
 * entry formats of {@link PteFormat}. Layout policy (where the stack goes, mmap_base…) is the kernel's,
 * see kernel/layout.ts; this file only describes the hardware.
 */
import { PteFormat, type PteFormatName } from './pte.js';

export type ArchName = PteFormatName;

export interface Arch {
  readonly name: ArchName;
  /** A sentence for `--help` and the docs. */
  readonly description: string;
  /** Bits of a user virtual address the MMU translates. */
  readonly vaBits: number;
  readonly pageShift: number;
  readonly pageSize: number;
  /** Levels of the page-table tree, root first. */
  readonly levels: number;
  /** Index bits consumed at each level, root first. */
  readonly indexBits: readonly number[];
  /** What each level's table is called on this architecture, root first. */
  readonly levelNames: readonly string[];
  readonly pte: PteFormat;
  /**
   * Lowest virtual address that is not a user address (x86-64: 2^47, the canonical hole; Sv39: 2^38).
   * Accesses at or above it from user mode fault without a walk.
   */
  readonly userVaLimit: number;
  /** Width of an address when printed in /proc (x86-64 prints at least 8 hex digits). */
  readonly addrHexDigits: number;
}

function make(
  name: ArchName,
  description: string,
  vaBits: number,
  pageShift: number,
  indexBits: number[],
  levelNames: string[],
  userVaLimit: number,
  addrHexDigits: number,
): Arch {
  return {
    name,
    description,
    vaBits,
    pageShift,
    pageSize: 2 ** pageShift,
    levels: indexBits.length,
    indexBits,
    levelNames,
    pte: new PteFormat(name),
    userVaLimit,
    addrHexDigits,
  };
}

const PRESETS: Record<ArchName, () => Arch> = {
  x86_64: () =>
    make(
      'x86_64',
      'x86-64, 4-level paging: 48-bit virtual addresses, 4 KiB pages, 8-byte PTEs (P RW US A D NX)',
      48,
      12,
      [9, 9, 9, 9],
      ['PML4', 'PDPT', 'PD', 'PT'],
      2 ** 47,
      8,
    ),
  'riscv-sv39': () =>
    make(
      'riscv-sv39',
      'RISC-V Sv39: 39-bit virtual addresses, 3 levels, 4 KiB pages, 8-byte PTEs (V R W X U G A D)',
      39,
      12,
      [9, 9, 9],
      ['L2', 'L1', 'L0'],
      2 ** 38,
      8,
    ),
  i386: () =>
    make(
      'i386',
      'i386 without PAE: 32-bit virtual addresses, 2 levels, 4 KiB pages, 4-byte PTEs (P RW US A D, no NX)',
      32,
      12,
      [10, 10],
      ['PD', 'PT'],
      2 ** 32,
      8,
    ),
  teach16: () =>
    make(
      'teach16',
      'teaching machine: 16-bit virtual addresses, 2 levels of 32 entries, 64-byte pages, 2-byte PTEs (P W U X A D)',
      16,
      6,
      [5, 5],
      ['PD', 'PT'],
      2 ** 16,
      4,
    ),
  ostep15: () =>
    make(
      'ostep15',
      "OSTEP's multi-level homework machine: 15-bit addresses, 32-byte pages, 1-byte PTEs (valid + 7-bit PFN); translation only",
      15,
      5,
      [5, 5],
      ['PD', 'PT'],
      2 ** 15,
      4,
    ),
};

export const ARCH_NAMES = Object.keys(PRESETS) as ArchName[];

export function isArchName(name: string): name is ArchName {
  return Object.hasOwn(PRESETS, name);
}

/** A fresh description of the named preset. */
export function archPreset(name: ArchName): Arch {
  return PRESETS[name]();
}
