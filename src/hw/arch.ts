/**
 * Architecture presets: the shape of the virtual address and of the page-table tree, with the real
 * entry formats of {@link PteFormat}. Layout policy (where the stack goes, mmap_base…) is the kernel's,
 * see kernel/layout.ts; this file only describes the hardware.
 */
import { PteFormat, type PteFormatName } from './pte.js';

export type ArchName = PteFormatName;

/**
 * Virtual page numbers of every preset fit in this many bits; page identities (TLB tags, replacement
 * keys, replay page ids) are built on it and stay exact doubles. Checked when a machine is built.
 */
export const MAX_VPN_BITS = 36;

/** ELF `e_machine` numbers the presets run (the kernel's ELF reader names them). */
export const ELF_MACHINE_386 = 3;
export const ELF_MACHINE_X86_64 = 62;
export const ELF_MACHINE_RISCV = 243;

/** A kind of ELF binary an architecture runs: its machine number, its class, and the arch it runs as. */
export interface ElfPersonality {
  readonly machine: number;
  readonly bits: 32 | 64;
  /** The process runs with this arch's user layout (a compat process: i386 on x86-64). */
  readonly as: ArchName;
  /** AT_PLATFORM's string, or null when the arch passes none. */
  readonly platform: string | null;
}

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
  /** `vaBits - pageShift`: bits of a virtual page number. */
  readonly vpnBits: number;
  /** Bits of the TLB's address-space tag (x86-64 PCID 12, RISC-V 16, none on i386). */
  readonly asidBits: number;
  /**
   * A page can be executable without being readable (RISC-V); elsewhere every right implies read, so a
   * read is allowed wherever any right is.
   */
  readonly execOnly: boolean;
  /** The x86-64 legacy `[vsyscall]` page every 64-bit process shows, above user space; or null. */
  readonly vsyscallPage: number | null;
  /** The auxv's architecture entries (x86: AT_SYSINFO_EHDR, AT_MINSIGSTKSZ; none for the others). */
  readonly auxvFlavour: 'x86' | 'riscv' | 'none';
  /** The ELF binaries exec accepts on this machine, native first. */
  readonly elf: readonly ElfPersonality[];
}

/** The facts beyond the address shape, per preset. */
interface ArchFacts {
  readonly asidBits: number;
  readonly execOnly: boolean;
  readonly vsyscallPage: number | null;
  readonly auxvFlavour: 'x86' | 'riscv' | 'none';
  readonly elf: readonly ElfPersonality[];
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
  facts: ArchFacts,
): Arch {
  return {
    ...facts,
    vpnBits: vaBits - pageShift,
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
      {
        asidBits: 12,
        execOnly: false,
        vsyscallPage: 0xffffffffff600000,
        auxvFlavour: 'x86',
        elf: [
          { machine: ELF_MACHINE_X86_64, bits: 64, as: 'x86_64', platform: 'x86_64' },
          { machine: ELF_MACHINE_386, bits: 32, as: 'i386', platform: 'i686' },
        ],
      },
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
      {
        asidBits: 16,
        execOnly: true,
        vsyscallPage: null,
        auxvFlavour: 'riscv',
        elf: [{ machine: ELF_MACHINE_RISCV, bits: 64, as: 'riscv-sv39', platform: null }],
      },
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
      {
        asidBits: 0,
        execOnly: false,
        vsyscallPage: null,
        auxvFlavour: 'x86',
        elf: [{ machine: ELF_MACHINE_386, bits: 32, as: 'i386', platform: 'i686' }],
      },
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
      { asidBits: 4, execOnly: false, vsyscallPage: null, auxvFlavour: 'none', elf: [] },
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
      { asidBits: 0, execOnly: false, vsyscallPage: null, auxvFlavour: 'none', elf: [] },
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
