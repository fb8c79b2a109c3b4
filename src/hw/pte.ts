/**
 * Page-table entry formats: the real bit layouts of each architecture, as numbers.
 *
 * An entry is read from simulated RAM as two 32-bit halves, `lo` (bits 0..31) and `hi` (bits 32..63,
 * zero for entries of 4 bytes or less), because JS bitwise operators cut at 32 bits. Every mask below
 * is a mask over one of those halves. A mask of 0 means "this format has no such bit".
 *
 * x86-64 (4 KiB page, 8-byte entry):
 *
 *    63  62..52  51 ........................ 12  11..9  8  7  6  5  4   3   2  1  0
 *   +--+-------+-------------------------------+------+--+--+--+--+---+---+--+--+--+
 *   |NX| avail |            PFN                | avail| G|PS| D| A|PCD|PWT|US|RW| P|
 *   +--+-------+-------------------------------+------+--+--+--+--+---+---+--+--+--+
 *
 * RISC-V Sv39 (8-byte entry):
 *
 *    63..54   53 ................. 10  9..8  7  6  5  4  3  2  1  0
 *   +--------+------------------------+-----+--+--+--+--+--+--+--+--+
 *   |reserved|          PPN           | RSW | D| A| G| U| X| W| R| V|
 *   +--------+------------------------+-----+--+--+--+--+--+--+--+--+
 *
 * i386 without PAE (4-byte entry): PFN in bits 31..12, then the x86 flags, no NX.
 *
 * teach16 (2-byte entry, 64-byte pages):  15 ........ 6  5  4  3  2  1  0
 *                                        |    PFN     | D| A| X| U| W| P|
 *
 * ostep15 (1-byte entry, OSTEP's multi-level homework): | V | PFN (7 bits) |, no permission bits.
 */

/** Names of the formats, one per architecture preset. */
export type PteFormatName = 'x86_64' | 'riscv-sv39' | 'i386' | 'teach16' | 'ostep15';

/** The decoded meaning of one entry, for display and tests (slow path). */
export interface DecodedPte {
  readonly present: boolean;
  readonly pfn: number;
  readonly read: boolean;
  readonly write: boolean;
  readonly user: boolean;
  readonly exec: boolean;
  readonly accessed: boolean;
  readonly dirty: boolean;
  /** Bit names that are set, in the architecture's own words (`P RW US A D NX`). */
  readonly flags: readonly string[];
}

interface PteFormatSpec {
  readonly name: PteFormatName;
  readonly entryBytes: 1 | 2 | 4 | 8;
  readonly present: number;
  readonly read: number;
  readonly write: number;
  readonly user: number;
  readonly exec: number;
  readonly nxHi: number;
  readonly accessed: number;
  readonly dirty: number;
  readonly pfnShift: number;
  readonly pfnLoBits: number;
  readonly pfnHiBits: number;
  /** Flags the kernel writes into a non-leaf entry (a pointer to the next table). */
  readonly tableFlags: number;
  /**
   * x86 and i386: a leaf's rights are the AND of the rights at every level (and NX the OR).
   * RISC-V: non-leaf entries carry no rights; a V entry with R|W|X set is a leaf.
   */
  readonly rightsAtEveryLevel: boolean;
  /** RISC-V: a valid entry with any of R|W|X set is a leaf, whatever its level. */
  readonly leafMarkedByRights: boolean;
  /**
   * Software bits of a non-present entry (ignored by the hardware when P/V is clear): a PROT_NONE page
   * that keeps its frame, and a swap entry whose PFN field holds the swap slot.
   */
  readonly swProtNone: number;
  readonly swSwap: number;
  /** Named flag bits of `lo` for display, highest first. */
  readonly loNames: ReadonlyArray<readonly [number, string]>;
}

const SPECS: Record<PteFormatName, PteFormatSpec> = {
  x86_64: {
    name: 'x86_64',
    entryBytes: 8,
    present: 0x1,
    read: 0,
    write: 0x2,
    user: 0x4,
    exec: 0,
    nxHi: 0x8000_0000,
    accessed: 0x20,
    dirty: 0x40,
    pfnShift: 12,
    pfnLoBits: 20,
    pfnHiBits: 20,
    tableFlags: 0x1 | 0x2 | 0x4,
    rightsAtEveryLevel: true,
    leafMarkedByRights: false,
    swProtNone: 0x100,
    swSwap: 0x200,
    loNames: [
      [0x100, 'G'],
      [0x80, 'PS'],
      [0x40, 'D'],
      [0x20, 'A'],
      [0x10, 'PCD'],
      [0x8, 'PWT'],
      [0x4, 'US'],
      [0x2, 'RW'],
      [0x1, 'P'],
    ],
  },
  'riscv-sv39': {
    name: 'riscv-sv39',
    entryBytes: 8,
    present: 0x1,
    read: 0x2,
    write: 0x4,
    user: 0x10,
    exec: 0x8,
    nxHi: 0,
    accessed: 0x40,
    dirty: 0x80,
    pfnShift: 10,
    pfnLoBits: 22,
    pfnHiBits: 22,
    tableFlags: 0x1,
    rightsAtEveryLevel: false,
    leafMarkedByRights: true,
    swProtNone: 0x20,
    swSwap: 0x100,
    loNames: [
      [0x80, 'D'],
      [0x40, 'A'],
      [0x20, 'G'],
      [0x10, 'U'],
      [0x8, 'X'],
      [0x4, 'W'],
      [0x2, 'R'],
      [0x1, 'V'],
    ],
  },
  i386: {
    name: 'i386',
    entryBytes: 4,
    present: 0x1,
    read: 0,
    write: 0x2,
    user: 0x4,
    exec: 0,
    nxHi: 0,
    accessed: 0x20,
    dirty: 0x40,
    pfnShift: 12,
    pfnLoBits: 20,
    pfnHiBits: 0,
    tableFlags: 0x1 | 0x2 | 0x4,
    rightsAtEveryLevel: true,
    leafMarkedByRights: false,
    swProtNone: 0x100,
    swSwap: 0x200,
    loNames: [
      [0x100, 'G'],
      [0x80, 'PS'],
      [0x40, 'D'],
      [0x20, 'A'],
      [0x10, 'PCD'],
      [0x8, 'PWT'],
      [0x4, 'US'],
      [0x2, 'RW'],
      [0x1, 'P'],
    ],
  },
  teach16: {
    name: 'teach16',
    entryBytes: 2,
    present: 0x1,
    read: 0,
    write: 0x2,
    user: 0x4,
    exec: 0x8,
    nxHi: 0,
    accessed: 0x10,
    dirty: 0x20,
    pfnShift: 6,
    pfnLoBits: 10,
    pfnHiBits: 0,
    tableFlags: 0x1,
    rightsAtEveryLevel: false,
    leafMarkedByRights: false,
    swProtNone: 0x2,
    swSwap: 0x4,
    loNames: [
      [0x20, 'D'],
      [0x10, 'A'],
      [0x8, 'X'],
      [0x4, 'U'],
      [0x2, 'W'],
      [0x1, 'P'],
    ],
  },
  ostep15: {
    name: 'ostep15',
    entryBytes: 1,
    present: 0x80,
    read: 0,
    write: 0,
    user: 0,
    exec: 0,
    nxHi: 0,
    accessed: 0,
    dirty: 0,
    pfnShift: 0,
    pfnLoBits: 7,
    pfnHiBits: 0,
    tableFlags: 0x80,
    rightsAtEveryLevel: false,
    leafMarkedByRights: false,
    swProtNone: 0,
    swSwap: 0,
    loNames: [[0x80, 'V']],
  },
};

/** Rights a leaf entry grants, as the kernel asks for them when it builds an entry. */
export interface PteRights {
  /** Absent means true. Only formats with a read bit (RISC-V) can build an execute-only leaf. */
  readonly read?: boolean;
  readonly write: boolean;
  readonly user: boolean;
  readonly exec: boolean;
}

/**
 * One architecture's entry format. All fields are plain numbers so the MMU's walk stays monomorphic;
 * the encode/decode helpers are for the kernel's slow path and for display.
 */
export class PteFormat {
  readonly name: PteFormatName;
  readonly entryBytes: number;
  readonly present: number;
  readonly read: number;
  readonly write: number;
  readonly user: number;
  readonly exec: number;
  readonly nxHi: number;
  readonly accessed: number;
  readonly dirty: number;
  readonly pfnShift: number;
  readonly pfnLoBits: number;
  readonly pfnHiBits: number;
  /** `2 ** pfnLoBits`: the multiplier of the high part of a PFN. */
  readonly pfnLoSpan: number;
  readonly pfnLoMask: number;
  readonly pfnHiMask: number;
  readonly tableFlags: number;
  readonly rightsAtEveryLevel: boolean;
  readonly leafMarkedByRights: boolean;
  readonly swProtNone: number;
  readonly swSwap: number;
  /** Largest frame number the format can hold. */
  readonly maxPfn: number;
  /** True when the format has write and user bits, which the kernel needs for protection and COW. */
  readonly enforcesRights: boolean;
  private readonly loNames: ReadonlyArray<readonly [number, string]>;

  constructor(name: PteFormatName) {
    const s = SPECS[name];
    this.name = s.name;
    this.entryBytes = s.entryBytes;
    this.present = s.present;
    this.read = s.read;
    this.write = s.write;
    this.user = s.user;
    this.exec = s.exec;
    this.nxHi = s.nxHi;
    this.accessed = s.accessed;
    this.dirty = s.dirty;
    this.pfnShift = s.pfnShift;
    this.pfnLoBits = s.pfnLoBits;
    this.pfnHiBits = s.pfnHiBits;
    this.pfnLoSpan = 2 ** s.pfnLoBits;
    this.pfnLoMask = this.pfnLoSpan - 1;
    this.pfnHiMask = s.pfnHiBits === 0 ? 0 : 2 ** s.pfnHiBits - 1;
    this.tableFlags = s.tableFlags;
    this.rightsAtEveryLevel = s.rightsAtEveryLevel;
    this.leafMarkedByRights = s.leafMarkedByRights;
    this.swProtNone = s.swProtNone;
    this.swSwap = s.swSwap;
    this.maxPfn = 2 ** (s.pfnLoBits + s.pfnHiBits) - 1;
    this.enforcesRights = s.write !== 0 && s.user !== 0;
    this.loNames = s.loNames;
  }

  /** The PFN field of an entry. */
  pfnOf(lo: number, hi: number): number {
    return ((lo >>> this.pfnShift) & this.pfnLoMask) + (hi & this.pfnHiMask) * this.pfnLoSpan;
  }

  /** Low half of an entry pointing at `pfn` with `flags` (flags are `lo` bits). */
  encodeLo(pfn: number, flags: number): number {
    return (flags | ((pfn % this.pfnLoSpan) << this.pfnShift)) >>> 0;
  }

  /** High half of an entry pointing at `pfn`, with NX when asked and the format has it. */
  encodeHi(pfn: number, noExec: boolean): number {
    const hiPfn = Math.floor(pfn / this.pfnLoSpan) & this.pfnHiMask;
    return ((noExec ? this.nxHi : 0) | hiPfn) >>> 0;
  }

  /** `lo` flag bits of a present, accessed leaf with the given rights (before the PFN is added). */
  leafFlags(rights: PteRights): number {
    let f = this.present | this.accessed;
    if (rights.read !== false) f |= this.read;
    if (rights.write) f |= this.write;
    if (rights.user) f |= this.user;
    if (rights.exec) f |= this.exec;
    return f;
  }

  /** Decodes an entry for display. `leaf` says which level it came from (RISC-V needs it). */
  decode(lo: number, hi: number): DecodedPte {
    const flags: string[] = [];
    if (this.nxHi !== 0 && (hi & this.nxHi) !== 0) flags.push('NX');
    for (const [mask, name] of this.loNames) if ((lo & mask) !== 0) flags.push(name);
    const present = (lo & this.present) !== 0;
    return {
      present,
      pfn: this.pfnOf(lo, hi),
      read: present && (this.read === 0 || (lo & this.read) !== 0),
      write: this.write === 0 ? present : (lo & this.write) !== 0,
      user: this.user === 0 ? present : (lo & this.user) !== 0,
      exec:
        this.exec !== 0
          ? (lo & this.exec) !== 0
          : this.nxHi !== 0
            ? present && (hi & this.nxHi) === 0
            : present,
      accessed: (lo & this.accessed) !== 0 && this.accessed !== 0,
      dirty: (lo & this.dirty) !== 0 && this.dirty !== 0,
      flags,
    };
  }

  /** The entry as hex of its real width (`0x8000000000123067`). */
  formatRaw(lo: number, hi: number): string {
    const digits = this.entryBytes * 2;
    if (this.entryBytes === 8)
      return `0x${hi.toString(16).padStart(8, '0')}${lo.toString(16).padStart(8, '0')}`;
    return `0x${lo.toString(16).padStart(digits, '0')}`;
  }
}
