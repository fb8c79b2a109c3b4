/**
 * Small ELF executables made in memory, for tests that need a binary with particular fields (and run
 * without the corpus): the file header, program headers right after it, an optional PT_INTERP and
 * PT_GNU_STACK, and PT_LOADs whose bytes sit at file offsets congruent to their addresses modulo the
 * page size, as a linker lays them out. The first PT_LOAD also maps the headers (offset 0), as
 * linkers do, so AT_PHDR falls inside it.
 */
import { EM_386, EM_X86_64, ET_DYN, ET_EXEC, PF_R, PF_W, PF_X } from '../../src/kernel/exec/elf.js';

export { PF_R, PF_W, PF_X };

export interface SegmentSpec {
  readonly vaddr: number;
  readonly flags: number;
  /** File bytes (default: 16 bytes of 0x90). */
  readonly bytes?: Uint8Array;
  /** Bytes in memory (default: the file bytes; more makes a bss). */
  readonly memsz?: number;
}

export interface ElfSpec {
  readonly bits: 32 | 64;
  readonly type: 'exec' | 'dyn';
  readonly entry: number;
  /** PT_LOADs, in ascending address order. The first should start at a page boundary. */
  readonly segments: readonly SegmentSpec[];
  /** PT_INTERP's path. */
  readonly interp?: string;
  /** A PT_GNU_STACK with these flags (default PF_R | PF_W). */
  readonly gnuStack?: number;
}

const PAGE = 4096;
const PT_LOAD = 1;
const PT_INTERP = 3;
const PT_GNU_STACK = 0x6474e551;

/** The bytes of an ELF file built from `spec`. */
export function makeElf(spec: ElfSpec): Uint8Array {
  const is64 = spec.bits === 64;
  const ehsize = is64 ? 64 : 52;
  const phentsize = is64 ? 56 : 32;
  const nph = spec.segments.length + (spec.interp === undefined ? 0 : 1) + 1;
  const interpBytes = spec.interp === undefined ? null : new TextEncoder().encode(`${spec.interp}\0`);
  const interpOffset = ehsize + nph * phentsize;
  const headersEnd = interpOffset + (interpBytes?.length ?? 0);
  const phdrs: {
    type: number;
    flags: number;
    offset: number;
    vaddr: number;
    filesz: number;
    memsz: number;
    align: number;
  }[] = [];
  if (interpBytes !== null)
    phdrs.push({
      type: PT_INTERP,
      flags: PF_R,
      offset: interpOffset,
      vaddr: (spec.segments[0]?.vaddr ?? 0) + interpOffset,
      filesz: interpBytes.length,
      memsz: interpBytes.length,
      align: 1,
    });
  // The first PT_LOAD maps the headers from offset 0 and its bytes right after them; each later one
  // starts on a fresh file page, at the offset its address has within a page.
  const data: { at: number; bytes: Uint8Array }[] = [];
  let fileEnd = headersEnd;
  spec.segments.forEach((seg, i) => {
    const bytes = seg.bytes ?? new Uint8Array(16).fill(0x90);
    const offset = i === 0 ? 0 : Math.ceil(fileEnd / PAGE) * PAGE + (seg.vaddr % PAGE);
    const at = i === 0 ? headersEnd : offset;
    const filesz = at + bytes.length - offset;
    const extra = (seg.memsz ?? bytes.length) - bytes.length;
    phdrs.push({
      type: PT_LOAD,
      flags: seg.flags,
      offset,
      vaddr: seg.vaddr,
      filesz,
      memsz: filesz + Math.max(0, extra),
      align: PAGE,
    });
    data.push({ at, bytes });
    fileEnd = at + bytes.length;
  });
  phdrs.push({
    type: PT_GNU_STACK,
    flags: spec.gnuStack ?? PF_R | PF_W,
    offset: 0,
    vaddr: 0,
    filesz: 0,
    memsz: 0,
    align: 16,
  });
  const out = new Uint8Array(fileEnd);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, is64 ? 2 : 1, 1, 1, 0]);
  v.setUint16(16, spec.type === 'exec' ? ET_EXEC : ET_DYN, true);
  v.setUint16(18, is64 ? EM_X86_64 : EM_386, true);
  v.setUint32(20, 1, true);
  const word = (off: number, value: number) => {
    if (is64) v.setBigUint64(off, BigInt(value), true);
    else v.setUint32(off, value, true);
  };
  word(24, spec.entry);
  word(is64 ? 32 : 28, ehsize); // e_phoff
  word(is64 ? 40 : 32, 0); // e_shoff: no sections
  const tail = is64 ? 48 : 36;
  v.setUint32(tail, 0, true); // e_flags
  v.setUint16(tail + 4, ehsize, true);
  v.setUint16(tail + 6, phentsize, true);
  v.setUint16(tail + 8, phdrs.length, true);
  v.setUint16(tail + 10, is64 ? 64 : 40, true); // e_shentsize
  v.setUint16(tail + 12, 0, true);
  v.setUint16(tail + 14, 0, true);
  phdrs.forEach((ph, i) => {
    const o = ehsize + i * phentsize;
    v.setUint32(o, ph.type, true);
    if (is64) {
      v.setUint32(o + 4, ph.flags, true);
      v.setBigUint64(o + 8, BigInt(ph.offset), true);
      v.setBigUint64(o + 16, BigInt(ph.vaddr), true);
      v.setBigUint64(o + 24, BigInt(ph.vaddr), true);
      v.setBigUint64(o + 32, BigInt(ph.filesz), true);
      v.setBigUint64(o + 40, BigInt(ph.memsz), true);
      v.setBigUint64(o + 48, BigInt(ph.align), true);
    } else {
      v.setUint32(o + 4, ph.offset, true);
      v.setUint32(o + 8, ph.vaddr, true);
      v.setUint32(o + 12, ph.vaddr, true);
      v.setUint32(o + 16, ph.filesz, true);
      v.setUint32(o + 20, ph.memsz, true);
      v.setUint32(o + 24, ph.flags, true);
      v.setUint32(o + 28, ph.align, true);
    }
  });
  if (interpBytes !== null) out.set(interpBytes, interpOffset);
  for (const d of data) out.set(d.bytes, d.at);
  return out;
}
