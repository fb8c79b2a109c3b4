/**
 * The ELF reader: ELF32 and ELF64, little-endian, for x86-64, i386 and RISC-V. It reads what
 * `load_elf_binary` reads (the file header and the program headers, with PT_INTERP's path,
 * PT_GNU_STACK and PT_PHDR), and for display the section headers and the symbol table.
 *
 * Every input is untrusted. Each field is bounds-checked before it is read, every loop is bounded by a
 * header count that was checked against the file size, and every malformed input is an
 * {@link InputError} (code `elf`) that names the file, the byte offset of the offending field and
 * what was expected. Numbers are JS numbers; a 64-bit field at or above 2^53 is rejected rather than
 * rounded.
 */
import { InputError } from '../../base/errors.js';
import { alignDown, alignUp, hex0x, isPowerOfTwo } from '../../base/units.js';
import { userLayout } from '../layout.js';

export const ELFCLASS32 = 1;
export const ELFCLASS64 = 2;
export const ELFDATA2LSB = 1;
export const EV_CURRENT = 1;

export const ET_EXEC = 2;
export const ET_DYN = 3;

export const EM_386 = 3;
export const EM_X86_64 = 62;
export const EM_RISCV = 243;

export const PT_NULL = 0;
export const PT_LOAD = 1;
export const PT_DYNAMIC = 2;
export const PT_INTERP = 3;
export const PT_NOTE = 4;
export const PT_SHLIB = 5;
export const PT_PHDR = 6;
export const PT_TLS = 7;
export const PT_GNU_EH_FRAME = 0x6474e550;
export const PT_GNU_STACK = 0x6474e551;
export const PT_GNU_RELRO = 0x6474e552;
export const PT_GNU_PROPERTY = 0x6474e553;
export const PT_GNU_SFRAME = 0x6474e554;

export const PF_X = 0x1;
export const PF_W = 0x2;
export const PF_R = 0x4;

export const SHT_NOBITS = 8;
export const SHT_SYMTAB = 2;
export const SHT_DYNSYM = 11;

export const STT_OBJECT = 1;
export const STT_FUNC = 2;

/** ELF_MIN_ALIGN on every machine the reader accepts: the 4 KiB page the kernel maps segments by. */
export const ELF_PAGE_SIZE = 4096;
/** Linux's PATH_MAX: a longer PT_INTERP is refused (`load_elf_binary`). */
const PATH_MAX = 4096;
/** Linux refuses program header tables larger than this (`load_elf_phdrs`). */
const MAX_PHDR_TABLE_BYTES = 65536;
const SHN_UNDEF = 0;
const SHN_XINDEX = 0xffff;
/** 2^53: the first integer a JS number cannot hold exactly next to its neighbours. */
const EXACT_LIMIT = 2 ** 53;

export interface ElfHeader {
  /** EI_CLASS as a width: 32 or 64. */
  readonly bits: 32 | 64;
  /** Bytes in an address (`elf_addr_t`): 4 or 8. */
  readonly wordSize: 4 | 8;
  readonly osabi: number;
  readonly abiVersion: number;
  /** e_type: {@link ET_EXEC} or {@link ET_DYN}. */
  readonly type: number;
  readonly machine: number;
  readonly version: number;
  readonly entry: number;
  readonly phoff: number;
  /** e_shoff (2^53 stands for any value at or above it). */
  readonly shoff: number;
  readonly flags: number;
  readonly ehsize: number;
  readonly phentsize: number;
  readonly phnum: number;
  readonly shentsize: number;
  /** e_shnum as stored (0 when the count lives in section 0, see {@link ElfFile.sections}). */
  readonly shnum: number;
  readonly shstrndx: number;
}

export interface ProgramHeader {
  /** Position in the program header table. */
  readonly index: number;
  /** Where this header sits in the file. */
  readonly fileOffset: number;
  readonly type: number;
  /** p_flags: {@link PF_R} | {@link PF_W} | {@link PF_X}. */
  readonly flags: number;
  readonly offset: number;
  readonly vaddr: number;
  /** p_paddr, which no loader uses: 2^53 stands for any value at or above it. */
  readonly paddr: number;
  readonly filesz: number;
  readonly memsz: number;
  readonly align: number;
}

export interface SectionHeader {
  readonly index: number;
  /** The name from the section-name string table ('' when the file has none). */
  readonly name: string;
  readonly type: number;
  readonly flags: number;
  readonly addr: number;
  readonly offset: number;
  readonly size: number;
  readonly link: number;
  readonly info: number;
  readonly addralign: number;
  readonly entsize: number;
}

export interface ElfSymbol {
  readonly name: string;
  /** st_value: the link-time address (add the load bias for ET_DYN). */
  readonly value: number;
  readonly sizeBytes: number;
  /** STT_* (low 4 bits of st_info). */
  readonly type: number;
  /** STB_* (high 4 bits of st_info). */
  readonly bind: number;
  readonly sectionIndex: number;
}

export interface ElfFile {
  /** The name errors and displays use for this file. */
  readonly file: string;
  readonly sizeBytes: number;
  readonly header: ElfHeader;
  /** Every program header, in file order. */
  readonly programHeaders: readonly ProgramHeader[];
  /** The PT_LOAD headers, in file order (checked ascending and disjoint). */
  readonly loads: readonly ProgramHeader[];
  /** The PT_INTERP path (up to its first NUL), or null for a static or interpreter-less image. */
  readonly interp: string | null;
  /** The PT_GNU_STACK header that decides (Linux: the last one), or null. */
  readonly gnuStack: ProgramHeader | null;
  /** The first PT_PHDR header, or null. */
  readonly phdr: ProgramHeader | null;
  /** Section headers (empty when the file has none or sections were skipped). */
  readonly sections: readonly SectionHeader[];
  /** Named symbols of `.symtab` (else `.dynsym`), sorted by value. */
  readonly symbols: readonly ElfSymbol[];
  /** With `sections: 'try'`: why the sections and symbols were left out; otherwise null. */
  readonly sectionProblem: InputError | null;
}

export interface ReadElfOptions {
  /**
   * What to do with the section headers and symbols, which the kernel never reads:
   * - `read` (default): read and check them; a damaged table is an error like any other;
   * - `try`: read them if they are sound, else keep none and report the problem in
   *   {@link ElfFile.sectionProblem} (a loader that wants Linux's leniency and symbols when possible);
   * - `skip`: read only what the kernel reads.
   */
  readonly sections?: 'read' | 'try' | 'skip';
}

type Offsets<K extends string> = Readonly<Record<K, number>>;

/** Sizes and field offsets of one ELF class; the structures differ in order as well as in width. */
interface ClassLayout {
  readonly bits: 32 | 64;
  readonly word: 4 | 8;
  readonly ehsize: number;
  readonly phentsize: number;
  readonly shentsize: number;
  readonly symentsize: number;
  readonly e: Offsets<
    | 'entry'
    | 'phoff'
    | 'shoff'
    | 'flags'
    | 'ehsize'
    | 'phentsize'
    | 'phnum'
    | 'shentsize'
    | 'shnum'
    | 'shstrndx'
  >;
  readonly p: Offsets<'type' | 'flags' | 'offset' | 'vaddr' | 'paddr' | 'filesz' | 'memsz' | 'align'>;
  readonly s: Offsets<
    'name' | 'type' | 'flags' | 'addr' | 'offset' | 'size' | 'link' | 'info' | 'addralign' | 'entsize'
  >;
  readonly sym: Offsets<'name' | 'value' | 'size' | 'info' | 'shndx'>;
}

// biome-ignore format: one structure a line reads like the ELF specification's tables
const LAYOUT32: ClassLayout = {
  bits: 32, word: 4, ehsize: 52, phentsize: 32, shentsize: 40, symentsize: 16,
  e: { entry: 24, phoff: 28, shoff: 32, flags: 36, ehsize: 40, phentsize: 42, phnum: 44, shentsize: 46, shnum: 48, shstrndx: 50 },
  p: { type: 0, offset: 4, vaddr: 8, paddr: 12, filesz: 16, memsz: 20, flags: 24, align: 28 },
  s: { name: 0, type: 4, flags: 8, addr: 12, offset: 16, size: 20, link: 24, info: 28, addralign: 32, entsize: 36 },
  sym: { name: 0, value: 4, size: 8, info: 12, shndx: 14 },
};

// biome-ignore format: one structure a line reads like the ELF specification's tables
const LAYOUT64: ClassLayout = {
  bits: 64, word: 8, ehsize: 64, phentsize: 56, shentsize: 64, symentsize: 24,
  e: { entry: 24, phoff: 32, shoff: 40, flags: 48, ehsize: 52, phentsize: 54, phnum: 56, shentsize: 58, shnum: 60, shstrndx: 62 },
  p: { type: 0, flags: 4, offset: 8, vaddr: 16, paddr: 24, filesz: 32, memsz: 40, align: 48 },
  s: { name: 0, type: 4, flags: 8, addr: 16, offset: 24, size: 32, link: 40, info: 44, addralign: 48, entsize: 56 },
  sym: { name: 0, info: 4, shndx: 6, value: 8, size: 16 },
};

const MACHINE_NAMES: Readonly<Record<number, string>> = {
  [EM_386]: 'i386',
  [EM_X86_64]: 'x86-64',
  [EM_RISCV]: 'RISC-V',
};

/** Bounds-checked little-endian reads that fail as InputErrors naming the file and offset. */
class ElfBytes {
  readonly bytes: Uint8Array;
  readonly file: string;
  readonly size: number;
  private readonly view: DataView;
  private readonly text = new TextDecoder('utf-8');

  constructor(bytes: Uint8Array, file: string) {
    this.bytes = bytes;
    this.file = file;
    this.size = bytes.byteLength;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  fail(offset: number, message: string, hint?: string): never {
    throw new InputError('elf', message, { file: this.file, offset }, hint);
  }

  /** True when `[offset, offset + length)` lies inside the file. */
  inFile(offset: number, length: number): boolean {
    return offset >= 0 && length >= 0 && offset <= this.size && length <= this.size - offset;
  }

  /** Fails unless `length` bytes at `offset` exist; `what` says what was expected there. */
  need(offset: number, length: number, what: string): void {
    if (!this.inFile(offset, length)) {
      // The offset reported is where the bytes ran out: the end of the file.
      this.fail(
        this.size,
        `truncated file: expected ${what} (${length} bytes at ${hex0x(offset)}), but the file has ${this.size} bytes`,
      );
    }
  }

  u8(offset: number): number {
    return this.view.getUint8(offset);
  }

  u16(offset: number): number {
    return this.view.getUint16(offset, true);
  }

  u32(offset: number): number {
    return this.view.getUint32(offset, true);
  }

  /** An address-sized field: 4 bytes, or 8 bytes that must be below 2^53. */
  word(offset: number, word: 4 | 8, what: string): number {
    if (word === 4) return this.u32(offset);
    const value = this.view.getUint32(offset + 4, true) * 2 ** 32 + this.u32(offset);
    if (value >= EXACT_LIMIT) {
      this.fail(
        offset,
        `${what} 0x${this.view.getBigUint64(offset, true).toString(16)} is too large`,
        'vmscope handles values below 2^53',
      );
    }
    return value;
  }

  /** An 8-byte field read exactly, or null when it is 2^53 or more (for fields only shown). */
  wordOrNull(offset: number, word: 4 | 8): number | null {
    if (word === 4) return this.u32(offset);
    const value = this.view.getUint32(offset + 4, true) * 2 ** 32 + this.u32(offset);
    return value < EXACT_LIMIT ? value : null;
  }

  /** The NUL-terminated string at `offset`, which must end before `limit`; null if it does not. */
  cString(offset: number, limit: number): string | null {
    const end = this.bytes.indexOf(0, offset);
    if (end < 0 || end >= limit) return null;
    return this.text.decode(this.bytes.subarray(offset, end));
  }
}

/**
 * The first address above user space for a machine and class: where a segment may not reach
 * (`TASK_SIZE`; an i386 process on a 64-bit kernel, as the corpus was recorded, gets 0xffffe000).
 */
export function elfAddressLimit(machine: number, bits: 32 | 64): number {
  if (machine === EM_X86_64) return userLayout('x86_64').taskSize;
  if (machine === EM_386) return userLayout('i386').taskSize;
  // riscv64: the Sv39 layout vmscope models; riscv32: the class's 4 GiB.
  return bits === 64 ? userLayout('riscv-sv39').taskSize : 2 ** 32;
}

/**
 * Reads an ELF executable or shared object.
 *
 * @param bytes the whole file; not retained except through the returned strings and numbers.
 * @param file the name to put in errors (the path the user gave).
 * @returns the parsed headers, checked as the kernel checks them and more: the caller may map every
 *   PT_LOAD without further checks on its fields.
 * @throws InputError (code `elf`) with the byte offset of the offending field, for any malformed
 *   input. Never another exception.
 */
export function readElf(bytes: Uint8Array, file: string, options: ReadElfOptions = {}): ElfFile {
  const b = new ElfBytes(bytes, file);
  const { header, layout } = readHeader(b);
  const limit = elfAddressLimit(header.machine, header.bits);
  if (header.entry >= limit) {
    b.fail(
      layout.e.entry,
      `entry point ${hex0x(header.entry)} is outside user space (below ${hex0x(limit)})`,
    );
  }
  const phdrs = readProgramHeaders(b, header, layout, limit);
  let sections: SectionHeader[] = [];
  let symbols: ElfSymbol[] = [];
  let sectionProblem: InputError | null = null;
  const mode = options.sections ?? 'read';
  if (mode !== 'skip') {
    try {
      sections = readSections(b, header, layout);
      symbols = readSymbols(b, sections, header, layout);
    } catch (e) {
      if (mode === 'read' || !(e instanceof InputError)) throw e;
      sections = [];
      symbols = [];
      sectionProblem = e;
    }
  }
  return { file, sizeBytes: b.size, header, ...phdrs, sections, symbols, sectionProblem };
}

function readHeader(b: ElfBytes): { header: ElfHeader; layout: ClassLayout } {
  // The magic first, on what there is: a short text file is "not an ELF file", not a truncated one.
  const magic = [0x7f, 0x45, 0x4c, 0x46];
  for (let i = 0; i < Math.min(4, b.size); i++)
    if (b.bytes[i] !== magic[i])
      b.fail(0, 'not an ELF file: expected the magic bytes 7f 45 4c 46 ("\\x7fELF")');
  b.need(0, 16, 'the ELF identification (e_ident)');
  if (b.u8(0) !== 0x7f || b.u8(1) !== 0x45 || b.u8(2) !== 0x4c || b.u8(3) !== 0x46) {
    b.fail(0, 'not an ELF file: expected the magic bytes 7f 45 4c 46 ("\\x7fELF")');
  }
  const cls = b.u8(4);
  if (cls !== ELFCLASS32 && cls !== ELFCLASS64) {
    b.fail(4, `bad EI_CLASS ${cls}: expected 1 (ELF32) or 2 (ELF64)`);
  }
  const data = b.u8(5);
  if (data !== ELFDATA2LSB) {
    b.fail(
      5,
      `unsupported EI_DATA ${data}: expected 1 (little-endian)`,
      data === 2 ? 'big-endian ELF files are not supported' : undefined,
    );
  }
  if (b.u8(6) !== EV_CURRENT) b.fail(6, `bad EI_VERSION ${b.u8(6)}: expected 1 (current)`);
  const layout = cls === ELFCLASS64 ? LAYOUT64 : LAYOUT32;
  b.need(0, layout.ehsize, `the ELF${layout.bits} file header`);
  const type = b.u16(16);
  if (type !== ET_EXEC && type !== ET_DYN) {
    b.fail(
      16,
      `e_type ${type} cannot be executed: expected 2 (ET_EXEC) or 3 (ET_DYN)`,
      type === 1 ? 'a relocatable object (.o) must be linked first' : undefined,
    );
  }
  const machine = b.u16(18);
  const machineOk =
    (machine === EM_X86_64 && layout.bits === 64) ||
    (machine === EM_386 && layout.bits === 32) ||
    machine === EM_RISCV;
  if (!machineOk) {
    const name = MACHINE_NAMES[machine];
    b.fail(
      18,
      name
        ? `unsupported machine: ${name} in an ELF${layout.bits} file`
        : `unsupported machine ${machine}: expected 62 (x86-64, ELF64), 3 (i386, ELF32) or 243 (RISC-V)`,
    );
  }
  const e = layout.e;
  const header: ElfHeader = {
    bits: layout.bits,
    wordSize: layout.word,
    osabi: b.u8(7),
    abiVersion: b.u8(8),
    type,
    machine,
    version: b.u32(20),
    entry: b.word(e.entry, layout.word, 'e_entry'),
    phoff: b.word(e.phoff, layout.word, 'e_phoff'),
    // Only the section headers use e_shoff; readSections refuses a value this large.
    shoff: b.wordOrNull(e.shoff, layout.word) ?? EXACT_LIMIT,
    flags: b.u32(e.flags),
    ehsize: b.u16(e.ehsize),
    phentsize: b.u16(e.phentsize),
    phnum: b.u16(e.phnum),
    shentsize: b.u16(e.shentsize),
    shnum: b.u16(e.shnum),
    shstrndx: b.u16(e.shstrndx),
  };
  return { header, layout };
}

type Segments = Pick<ElfFile, 'programHeaders' | 'loads' | 'interp' | 'gnuStack' | 'phdr'>;

function readProgramHeaders(b: ElfBytes, h: ElfHeader, layout: ClassLayout, limit: number): Segments {
  const e = layout.e;
  if (h.phentsize !== layout.phentsize) {
    b.fail(
      e.phentsize,
      `e_phentsize ${h.phentsize} is wrong for ELF${layout.bits}: expected ${layout.phentsize}`,
    );
  }
  const tableBytes = h.phnum * h.phentsize;
  if (h.phnum === 0)
    b.fail(e.phnum, 'no program headers (e_phnum 0): an executable needs at least one PT_LOAD');
  if (tableBytes > MAX_PHDR_TABLE_BYTES) {
    b.fail(
      e.phnum,
      `too many program headers: ${h.phnum} × ${h.phentsize} bytes is more than the 64 KiB Linux accepts`,
    );
  }
  if (!b.inFile(h.phoff, tableBytes)) {
    b.fail(
      e.phoff,
      `program headers at e_phoff ${hex0x(h.phoff)} (${h.phnum} × ${h.phentsize} bytes) extend past the end of the file (${b.size} bytes)`,
    );
  }
  const p = layout.p;
  const programHeaders: ProgramHeader[] = [];
  const loads: ProgramHeader[] = [];
  let interp: string | null = null;
  let gnuStack: ProgramHeader | null = null;
  let phdr: ProgramHeader | null = null;
  for (let i = 0; i < h.phnum; i++) {
    const at = h.phoff + i * h.phentsize;
    const w = layout.word;
    const ph: ProgramHeader = {
      index: i,
      fileOffset: at,
      type: b.u32(at + p.type),
      flags: b.u32(at + p.flags),
      offset: b.word(at + p.offset, w, `program header ${i}: p_offset`),
      vaddr: b.word(at + p.vaddr, w, `program header ${i}: p_vaddr`),
      // Unused by the loader; a value too large to hold exactly is shown as 2^53 rather than refused.
      paddr: b.wordOrNull(at + p.paddr, w) ?? EXACT_LIMIT,
      filesz: b.word(at + p.filesz, w, `program header ${i}: p_filesz`),
      memsz: b.word(at + p.memsz, w, `program header ${i}: p_memsz`),
      align: b.word(at + p.align, w, `program header ${i}: p_align`),
    };
    programHeaders.push(ph);
    if (ph.type === PT_LOAD) {
      checkLoad(b, ph, loads[loads.length - 1], layout, limit);
      loads.push(ph);
    } else if (ph.type === PT_INTERP) {
      if (interp !== null)
        b.fail(at + p.type, `program header ${i}: a second PT_INTERP (only one is allowed)`);
      interp = readInterp(b, ph, layout);
    } else if (ph.type === PT_GNU_STACK) {
      gnuStack = ph;
    } else if (ph.type === PT_PHDR && phdr === null) {
      phdr = ph;
    }
  }
  if (loads.length === 0) b.fail(e.phoff, 'no PT_LOAD segment: nothing to map');
  if (loads.every((ph) => ph.memsz === 0)) {
    b.fail(e.phoff, 'every PT_LOAD is empty (p_memsz 0): nothing to map');
  }
  return { programHeaders, loads, interp, gnuStack, phdr };
}

/** The checks `load_elf_binary` makes on a PT_LOAD (and the ELF rules it relies on). */
function checkLoad(
  b: ElfBytes,
  ph: ProgramHeader,
  prev: ProgramHeader | undefined,
  layout: ClassLayout,
  limit: number,
): void {
  const at = ph.fileOffset;
  const p = layout.p;
  const what = `PT_LOAD (program header ${ph.index})`;
  if (ph.filesz > ph.memsz) {
    b.fail(at + p.filesz, `${what}: p_filesz ${hex0x(ph.filesz)} is larger than p_memsz ${hex0x(ph.memsz)}`);
  }
  if (!b.inFile(ph.offset, ph.filesz)) {
    b.fail(
      at + p.offset,
      `${what}: file bytes ${hex0x(ph.offset)}+${hex0x(ph.filesz)} extend past the end of the file (${b.size} bytes)`,
    );
  }
  if (ph.memsz > limit || ph.vaddr > limit - ph.memsz) {
    b.fail(
      at + p.vaddr,
      `${what}: ${hex0x(ph.vaddr)}+${hex0x(ph.memsz)} reaches beyond user space (which ends at ${hex0x(limit)})`,
    );
  }
  if (ph.align > 1) {
    if (!isPowerOfTwo(ph.align))
      b.fail(at + p.align, `${what}: p_align ${hex0x(ph.align)} is not a power of two`);
    if (ph.offset % ph.align !== ph.vaddr % ph.align) {
      b.fail(
        at + p.offset,
        `${what}: p_offset ${hex0x(ph.offset)} and p_vaddr ${hex0x(ph.vaddr)} differ modulo p_align ${hex0x(ph.align)}`,
      );
    }
  }
  // The kernel maps the file page by page: the offset must sit at the same place in its page.
  if (ph.filesz > 0 && ph.offset % ELF_PAGE_SIZE !== ph.vaddr % ELF_PAGE_SIZE) {
    b.fail(
      at + p.offset,
      `${what}: p_offset ${hex0x(ph.offset)} and p_vaddr ${hex0x(ph.vaddr)} differ within their page, so the segment cannot be mapped`,
    );
  }
  if (prev !== undefined) {
    if (ph.vaddr < prev.vaddr) {
      b.fail(
        at + p.vaddr,
        `${what}: p_vaddr ${hex0x(ph.vaddr)} is below the previous PT_LOAD's ${hex0x(prev.vaddr)}: PT_LOADs must be in ascending order`,
      );
    }
    if (ph.vaddr < prev.vaddr + prev.memsz) {
      b.fail(
        at + p.vaddr,
        `${what}: ${hex0x(ph.vaddr)} overlaps the previous PT_LOAD (${hex0x(prev.vaddr)}+${hex0x(prev.memsz)})`,
      );
    }
  }
}

/** PT_INTERP's path, checked as `load_elf_binary` checks it (2..PATH_MAX bytes, NUL at the end). */
function readInterp(b: ElfBytes, ph: ProgramHeader, layout: ClassLayout): string {
  const at = ph.fileOffset;
  const what = `PT_INTERP (program header ${ph.index})`;
  if (ph.filesz < 2 || ph.filesz > PATH_MAX) {
    b.fail(
      at + layout.p.filesz,
      `${what}: p_filesz ${ph.filesz} is not a path length (expected 2 to ${PATH_MAX} bytes)`,
    );
  }
  if (!b.inFile(ph.offset, ph.filesz)) {
    b.fail(
      at + layout.p.offset,
      `${what}: the path at ${hex0x(ph.offset)}+${hex0x(ph.filesz)} extends past the end of the file (${b.size} bytes)`,
    );
  }
  const last = ph.offset + ph.filesz - 1;
  if (b.u8(last) !== 0) b.fail(last, `${what}: the interpreter path is not NUL-terminated`);
  const path = b.cString(ph.offset, ph.offset + ph.filesz) ?? '';
  if (path === '') b.fail(ph.offset, `${what}: the interpreter path is empty`);
  return path;
}

function readSections(b: ElfBytes, h: ElfHeader, layout: ClassLayout): SectionHeader[] {
  if (h.shoff === 0) return [];
  const e = layout.e;
  if (h.shoff >= EXACT_LIMIT) b.fail(e.shoff, 'e_shoff is too large', 'vmscope handles values below 2^53');
  if (h.shentsize !== layout.shentsize) {
    b.fail(
      e.shentsize,
      `e_shentsize ${h.shentsize} is wrong for ELF${layout.bits}: expected ${layout.shentsize}`,
    );
  }
  if (!b.inFile(h.shoff, h.shentsize)) {
    b.fail(e.shoff, `section headers at e_shoff ${hex0x(h.shoff)} lie outside the file (${b.size} bytes)`);
  }
  const s = layout.s;
  // Extended numbering: e_shnum 0 and e_shstrndx SHN_XINDEX defer to section 0's sh_size and sh_link.
  let shnum = h.shnum;
  if (shnum === 0) shnum = b.word(h.shoff + s.size, layout.word, 'section 0: sh_size (the section count)');
  let shstrndx = h.shstrndx;
  if (shstrndx === SHN_XINDEX) shstrndx = b.u32(h.shoff + s.link);
  if (shnum === 0) return [];
  if (shnum > Math.floor((b.size - h.shoff) / h.shentsize)) {
    b.fail(
      h.shnum === 0 ? h.shoff + s.size : e.shnum,
      `${shnum} section headers at ${hex0x(h.shoff)} extend past the end of the file (${b.size} bytes)`,
    );
  }
  const raw: Omit<SectionHeader, 'name'>[] = [];
  const nameOffsets: number[] = [];
  for (let i = 0; i < shnum; i++) {
    const at = h.shoff + i * h.shentsize;
    const w = layout.word;
    const what = `section ${i}`;
    nameOffsets.push(b.u32(at + s.name));
    raw.push({
      index: i,
      type: b.u32(at + s.type),
      flags: b.word(at + s.flags, w, `${what}: sh_flags`),
      addr: b.word(at + s.addr, w, `${what}: sh_addr`),
      offset: b.word(at + s.offset, w, `${what}: sh_offset`),
      size: b.word(at + s.size, w, `${what}: sh_size`),
      link: b.u32(at + s.link),
      info: b.u32(at + s.info),
      addralign: b.word(at + s.addralign, w, `${what}: sh_addralign`),
      entsize: b.word(at + s.entsize, w, `${what}: sh_entsize`),
    });
  }
  let names: (offset: number, at: number) => string = () => '';
  if (shstrndx !== SHN_UNDEF) {
    const strtab = raw[shstrndx];
    if (strtab === undefined) {
      b.fail(e.shstrndx, `e_shstrndx ${shstrndx} names no section (the file has ${shnum})`);
    }
    const table = sectionBytes(b, strtab, h, layout, 'the section-name string table');
    names = (offset, at) => {
      if (offset >= table.size) {
        b.fail(at, `sh_name ${offset} lies outside the section-name string table (${table.size} bytes)`);
      }
      const name = b.cString(table.offset + offset, table.offset + table.size);
      if (name === null)
        b.fail(at, `sh_name ${offset}: the name is not NUL-terminated inside its string table`);
      return name;
    };
  }
  return raw.map((r, i) => ({ ...r, name: names(nameOffsets[i] ?? 0, h.shoff + i * h.shentsize + s.name) }));
}

/** The file range of a section whose contents will be read; fails if it is NOBITS or outside the file. */
function sectionBytes(
  b: ElfBytes,
  sh: Omit<SectionHeader, 'name'>,
  h: ElfHeader,
  layout: ClassLayout,
  what: string,
): { offset: number; size: number } {
  const at = h.shoff + sh.index * h.shentsize;
  if (sh.type === SHT_NOBITS)
    b.fail(at + layout.s.type, `section ${sh.index} (${what}) has no file contents (SHT_NOBITS)`);
  if (!b.inFile(sh.offset, sh.size)) {
    b.fail(
      at + layout.s.offset,
      `section ${sh.index} (${what}) at ${hex0x(sh.offset)}+${hex0x(sh.size)} extends past the end of the file (${b.size} bytes)`,
    );
  }
  return { offset: sh.offset, size: sh.size };
}

function readSymbols(
  b: ElfBytes,
  sections: readonly SectionHeader[],
  h: ElfHeader,
  layout: ClassLayout,
): ElfSymbol[] {
  const table =
    sections.find((sh) => sh.type === SHT_SYMTAB) ?? sections.find((sh) => sh.type === SHT_DYNSYM);
  if (table === undefined) return [];
  const at = h.shoff + table.index * h.shentsize;
  const what = `symbol table ${table.name || `(section ${table.index})`}`;
  if (table.entsize !== layout.symentsize) {
    b.fail(
      at + layout.s.entsize,
      `${what}: sh_entsize ${table.entsize} is wrong for ELF${layout.bits}: expected ${layout.symentsize}`,
    );
  }
  const body = sectionBytes(b, table, h, layout, what);
  const strtabHeader = sections[table.link];
  if (strtabHeader === undefined) {
    b.fail(
      at + layout.s.link,
      `${what}: sh_link ${table.link} names no section (the file has ${sections.length})`,
    );
  }
  const strtab = sectionBytes(b, strtabHeader, h, layout, `the string table of ${what}`);
  const sym = layout.sym;
  const count = Math.floor(body.size / layout.symentsize);
  const symbols: ElfSymbol[] = [];
  for (let i = 1; i < count; i++) {
    const se = body.offset + i * layout.symentsize;
    const nameOffset = b.u32(se + sym.name);
    if (nameOffset === 0) continue;
    if (nameOffset >= strtab.size) {
      b.fail(
        se + sym.name,
        `${what}, symbol ${i}: st_name ${nameOffset} lies outside its string table (${strtab.size} bytes)`,
      );
    }
    const name = b.cString(strtab.offset + nameOffset, strtab.offset + strtab.size);
    if (name === null)
      b.fail(se + sym.name, `${what}, symbol ${i}: the name is not NUL-terminated inside its string table`);
    const value = b.wordOrNull(se + sym.value, layout.word);
    const sizeBytes = b.wordOrNull(se + sym.size, layout.word);
    // A value past 2^53 cannot name a user address; such a symbol is left out rather than refused.
    if (value === null || sizeBytes === null) continue;
    const info = b.u8(se + sym.info);
    symbols.push({
      name,
      value,
      sizeBytes,
      type: info & 0xf,
      bind: info >> 4,
      sectionIndex: b.u16(se + sym.shndx),
    });
  }
  symbols.sort((x, y) => x.value - y.value);
  return symbols;
}

/** What `load_elf_binary` derives from the program headers before it maps anything. */
export interface ElfLoadInfo {
  /** p_vaddr of the first PT_LOAD (the lowest, as they ascend). */
  readonly firstVaddr: number;
  /** max(p_vaddr + p_memsz) over the PT_LOADs: the end of bss before the load bias (`elf_brk`). */
  readonly endVaddr: number;
  /**
   * `total_mapping_size` as `elf_map` reserves it: from the page holding the first PT_LOAD to the
   * page-aligned end of the last one.
   */
  readonly totalMappingSize: number;
  /**
   * `maximum_alignment`: the largest power-of-two p_align among the PT_LOADs, rounded up to a page;
   * 0 when no PT_LOAD has one (then the load bias is only page-aligned).
   */
  readonly maxAlign: number;
  /** The stack is executable: PT_GNU_STACK has PF_X, or it is missing and reads imply exec. */
  readonly executableStack: boolean;
  /**
   * READ_IMPLIES_EXEC is set: an i386 image without PT_GNU_STACK (x86's `elf_read_implies_exec`);
   * every readable mapping is then executable too.
   */
  readonly readImpliesExec: boolean;
  /**
   * Where the program headers are in memory before the load bias (AT_PHDR − bias): found in the
   * PT_LOAD whose file bytes contain e_phoff; 0 when none does (Linux then passes just the bias).
   */
  readonly phdrVaddr: number;
}

/** Derives the loader's numbers from a file {@link readElf} accepted. Pure; never fails. */
export function elfLoadInfo(elf: ElfFile): ElfLoadInfo {
  const { loads, header, gnuStack } = elf;
  const first = loads[0];
  let endVaddr = 0;
  let align = 0;
  let phdrVaddr = 0;
  for (const ph of loads) {
    endVaddr = Math.max(endVaddr, ph.vaddr + ph.memsz);
    if (isPowerOfTwo(ph.align)) align = Math.max(align, ph.align);
    if (ph.offset <= header.phoff && header.phoff < ph.offset + ph.filesz) {
      phdrVaddr = header.phoff - ph.offset + ph.vaddr;
    }
  }
  const firstVaddr = first === undefined ? 0 : first.vaddr;
  const readImpliesExec = gnuStack === null && header.machine === EM_386;
  return {
    firstVaddr,
    endVaddr,
    totalMappingSize: alignUp(endVaddr, ELF_PAGE_SIZE) - alignDown(firstVaddr, ELF_PAGE_SIZE),
    maxAlign: alignUp(align, ELF_PAGE_SIZE),
    executableStack: gnuStack === null ? readImpliesExec : (gnuStack.flags & PF_X) !== 0,
    readImpliesExec,
    phdrVaddr,
  };
}

/** The symbol an address falls in, and how far into it. */
export interface SymbolHit {
  readonly symbol: ElfSymbol;
  readonly offset: number;
}

/**
 * The function (else object) whose `[value, value + size)` contains `vaddr`, a link-time address
 * (subtract the load bias first for ET_DYN). Null when no sized symbol covers it.
 */
export function symbolAt(elf: ElfFile, vaddr: number): SymbolHit | null {
  const syms = elf.symbols;
  // The last symbol starting at or below vaddr, then back over the earlier ones that may still cover
  // it (a linear scan at worst: this is for display, over a few thousand symbols).
  let lo = 0;
  let hi = syms.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((syms[mid]?.value ?? 0) <= vaddr) lo = mid + 1;
    else hi = mid;
  }
  let best: ElfSymbol | null = null;
  for (let i = lo - 1; i >= 0; i--) {
    const s = syms[i];
    if (s === undefined) break;
    if (s.sizeBytes === 0 || vaddr >= s.value + s.sizeBytes) continue;
    if (s.type === STT_FUNC) {
      best = s;
      break;
    }
    if (s.type === STT_OBJECT && best === null) best = s;
  }
  return best === null ? null : { symbol: best, offset: vaddr - best.value };
}

const SEGMENT_TYPE_NAMES: Readonly<Record<number, string>> = {
  [PT_NULL]: 'NULL',
  [PT_LOAD]: 'LOAD',
  [PT_DYNAMIC]: 'DYNAMIC',
  [PT_INTERP]: 'INTERP',
  [PT_NOTE]: 'NOTE',
  [PT_SHLIB]: 'SHLIB',
  [PT_PHDR]: 'PHDR',
  [PT_TLS]: 'TLS',
  [PT_GNU_EH_FRAME]: 'GNU_EH_FRAME',
  [PT_GNU_STACK]: 'GNU_STACK',
  [PT_GNU_RELRO]: 'GNU_RELRO',
  [PT_GNU_PROPERTY]: 'GNU_PROPERTY',
  [PT_GNU_SFRAME]: 'GNU_SFRAME',
};

/** A p_type as `readelf -l` names it (`LOAD`, `GNU_STACK`, `LOOS+0x…`). */
export function segmentTypeName(type: number, machine = EM_X86_64): string {
  const name = SEGMENT_TYPE_NAMES[type];
  if (name !== undefined) return name;
  if (machine === EM_RISCV && type === 0x70000003) return 'RISCV_ATTRIBUTES';
  if (type >= 0x70000000 && type <= 0x7fffffff) return `LOPROC+0x${(type - 0x70000000).toString(16)}`;
  if (type >= 0x60000000 && type <= 0x6fffffff) return `LOOS+0x${(type - 0x60000000).toString(16)}`;
  return `<unknown>: 0x${type.toString(16)}`;
}

/** p_flags as `readelf -l` shows them: `R E`, `RW `, `RWE`. */
export function segmentFlagsString(flags: number): string {
  return `${flags & PF_R ? 'R' : ' '}${flags & PF_W ? 'W' : ' '}${flags & PF_X ? 'E' : ' '}`;
}
