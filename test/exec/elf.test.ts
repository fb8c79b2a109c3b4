/**
 * The ELF reader against every corpus binary (readelf's view of the file and the kernel's record of
 * the process), and against hand-broken copies of them: each malformation is an InputError at the
 * offset of the field that is wrong.
 */
import { expect, test } from 'vitest';
import { InputError } from '../../src/base/errors.js';
import { alignDown, alignUp } from '../../src/base/units.js';
import {
  type ElfFile,
  EM_386,
  EM_X86_64,
  ET_DYN,
  ET_EXEC,
  elfLoadInfo,
  PT_LOAD,
  readElf,
  segmentFlagsString,
  segmentTypeName,
  symbolAt,
} from '../../src/kernel/exec/elf.js';
import { describeCorpus, fromCorpus } from '../corpus.js';
import {
  CASES,
  caseBinary,
  caseJson,
  caseText,
  num,
  parseMaps,
  parseReadelf,
  parseReadelfSections,
  SYSROOT_INTERPRETERS,
  stackJson,
  sysrootFile,
} from './cases.js';

function auxvValue(name: string, caseName: string): number {
  const entry = stackJson(caseName).auxv.find((a) => a.name === name);
  if (entry === undefined) throw new Error(`${caseName}: no ${name} in the recorded auxv`);
  return num(entry.value);
}

describeCorpus.each(CASES)('%s', (name) => {
  const elf = readElf(caseBinary(name), `${name}/prog`);
  const readelf = parseReadelf(caseText(name, 'readelf.txt'));
  const info = elfLoadInfo(elf);
  // The load bias the kernel chose, from what it told the process.
  const bias = auxvValue('AT_ENTRY', name) - elf.header.entry;

  test('the file header reads as readelf reads it', () => {
    const f = readelf.fields;
    expect(`ELF${elf.header.bits}`).toBe(f.get('Class'));
    expect(elf.header.type).toBe(f.get('Type')?.startsWith('EXEC') ? ET_EXEC : ET_DYN);
    expect(elf.header.machine).toBe(f.get('Machine') === 'Intel 80386' ? EM_386 : EM_X86_64);
    expect(elf.header.entry).toBe(num(f.get('Entry point address') ?? ''));
    expect(elf.header.phoff).toBe(Number.parseInt(f.get('Start of program headers') ?? '', 10));
    expect(elf.header.shoff).toBe(Number.parseInt(f.get('Start of section headers') ?? '', 10));
    expect(elf.header.phnum).toBe(Number(f.get('Number of program headers')));
    expect(elf.header.shnum).toBe(Number(f.get('Number of section headers')));
    expect(elf.header.shstrndx).toBe(Number(f.get('Section header string table index')));
  });

  test('every program header equals readelf -l', () => {
    const ours = elf.programHeaders.map((ph) => ({
      type: segmentTypeName(ph.type),
      offset: ph.offset,
      vaddr: ph.vaddr,
      paddr: ph.paddr,
      filesz: ph.filesz,
      memsz: ph.memsz,
      flags: segmentFlagsString(ph.flags),
      align: ph.align,
    }));
    expect(ours).toEqual(readelf.segments);
    expect(elf.loads).toEqual(elf.programHeaders.filter((ph) => ph.type === PT_LOAD));
  });

  test('the interpreter is PT_INTERP’s path', () => {
    expect(elf.interp).toBe(readelf.interp);
    expect(elf.interp === null).toBe(name.includes('static'));
  });

  test('section names, addresses and sizes equal readelf -S', () => {
    const theirs = parseReadelfSections(caseText(name, 'readelf-sections.txt'));
    const ours = elf.sections.slice(1).map((s) => ({
      index: s.index,
      name: s.name,
      addr: s.addr,
      offset: s.offset,
      size: s.size,
    }));
    expect(ours).toEqual(theirs.map(({ type: _type, ...rest }) => rest));
  });

  test('AT_PHDR, AT_PHENT and AT_PHNUM follow from the program headers and the load bias', () => {
    expect(auxvValue('AT_PHDR', name)).toBe(bias + info.phdrVaddr);
    expect(auxvValue('AT_PHENT', name)).toBe(elf.header.phentsize);
    expect(auxvValue('AT_PHNUM', name)).toBe(elf.header.phnum);
    if (elf.header.type === ET_EXEC) expect(bias).toBe(0);
  });

  test('the program’s mappings at the first instruction span totalMappingSize from the page of the first PT_LOAD', () => {
    const exe = caseJson(name).run.exec_path;
    const maps = parseMaps(caseText(name, 'maps-start.txt'));
    const first = maps.findIndex((m) => m.path === exe);
    let last = maps.findLastIndex((m) => m.path === exe);
    const next = maps[last + 1];
    if (next !== undefined && next.path === '' && next.start === maps[last]?.end) last += 1;
    const start = maps[first]?.start ?? -1;
    const end = maps[last]?.end ?? -1;
    expect(start).toBe(bias + alignDown(info.firstVaddr, 4096));
    expect(end).toBe(bias + alignUp(info.endVaddr, 4096));
    expect(end - start).toBe(info.totalMappingSize);
  });

  test('the stack is not executable (PT_GNU_STACK is RW)', () => {
    expect(elf.gnuStack).not.toBeNull();
    expect(info.executableStack).toBe(false);
    expect(info.readImpliesExec).toBe(false);
  });

  test('the largest PT_LOAD alignment is a page', () => {
    expect(info.maxAlign).toBe(4096);
  });

  test('the recorded stops are in the functions they name', () => {
    const stops = caseJson(name).stops;
    const at = (stop: string) => {
      const pc = num(stops.find((s) => s.stop === stop)?.pc ?? 'NaN');
      return symbolAt(elf, pc - bias)?.symbol.name;
    };
    expect(at('main')).toBe('main');
    expect(at('checkpoint')).toBe('checkpoint');
    if (elf.interp === null) expect(at('start')).toBe('_start');
  });
});

describeCorpus.each(SYSROOT_INTERPRETERS)('sysroot %s', (path) => {
  test('reads as an ET_DYN without an interpreter', () => {
    const elf = readElf(sysrootFile(path), path);
    expect(elf.header.type).toBe(ET_DYN);
    expect(elf.interp).toBeNull();
    expect(elf.loads.length).toBeGreaterThan(1);
    expect(elfLoadInfo(elf).firstVaddr).toBe(0);
    expect(elf.symbols.length).toBeGreaterThan(0);
  });
});

/** A copy of `bytes` with a little-endian field of `size` bytes at `offset` set to `value`. */
function patched(
  bytes: Uint8Array,
  edits: readonly [offset: number, size: 1 | 2 | 4 | 8, value: number | bigint][],
) {
  const out = bytes.slice();
  const view = new DataView(out.buffer);
  for (const [offset, size, value] of edits) {
    if (size === 1) view.setUint8(offset, Number(value));
    else if (size === 2) view.setUint16(offset, Number(value), true);
    else if (size === 4) view.setUint32(offset, Number(value), true);
    else view.setBigUint64(offset, BigInt(value), true);
  }
  return out;
}

function inputError(run: () => unknown): InputError {
  try {
    run();
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error('expected an InputError, but the input was accepted');
}

// hello-pie: ELF64, 13 program headers of 56 bytes at 64: PHDR, INTERP (at 120), LOAD ×4 (at 176,
// 232, 288, 344), DYNAMIC, NOTE (at 456)…; the interpreter path is at 0x318, 0x1c bytes.
const PIE = fromCorpus(() => caseBinary('hello-pie'), new Uint8Array(0));
const ph64 = (i: number) => 64 + i * 56;
// hello-m32: ELF32, program headers of 32 bytes at 52.
const M32 = fromCorpus(() => caseBinary('hello-m32'), new Uint8Array(0));

describeCorpus('malformed input is an InputError naming the file, the offset and what was expected', () => {
  const cases: [string, Uint8Array, number, RegExp][] = [
    ['an empty file', new Uint8Array(0), 0, /truncated.*ELF identification/],
    ['a file cut inside e_ident', PIE.slice(0, 10), 10, /truncated.*ELF identification/],
    ['a file cut inside the file header', PIE.slice(0, 40), 40, /truncated.*ELF64 file header/],
    ['bad magic', patched(PIE, [[1, 1, 0x58]]), 0, /not an ELF file/],
    ['EI_CLASS 3', patched(PIE, [[4, 1, 3]]), 4, /EI_CLASS 3.*expected 1 \(ELF32\) or 2 \(ELF64\)/],
    ['big-endian data', patched(PIE, [[5, 1, 2]]), 5, /EI_DATA 2.*little-endian/],
    ['EI_VERSION 0', patched(PIE, [[6, 1, 0]]), 6, /EI_VERSION 0/],
    ['a relocatable object', patched(PIE, [[16, 2, 1]]), 16, /e_type 1.*ET_EXEC.*ET_DYN/],
    ['an ARM binary', patched(PIE, [[18, 2, 40]]), 18, /unsupported machine 40/],
    ['i386 code in an ELF64 file', patched(PIE, [[18, 2, EM_386]]), 18, /i386 in an ELF64 file/],
    ['an entry point above user space', patched(PIE, [[24, 8, 0x800000000000]]), 24, /entry point/],
    ['an entry point beyond 2^53', patched(PIE, [[24, 8, 0xffff000000000000n]]), 24, /e_entry.*too large/],
    ['program headers beyond the file', patched(PIE, [[32, 8, PIE.length - 100]]), 32, /extend past the end/],
    ['e_phentsize 32 in ELF64', patched(PIE, [[54, 2, 32]]), 54, /e_phentsize 32.*expected 56/],
    ['e_phentsize 56 in ELF32', patched(M32, [[42, 2, 56]]), 42, /e_phentsize 56.*expected 32/],
    ['no program headers', patched(PIE, [[56, 2, 0]]), 56, /no program headers/],
    ['more program headers than Linux reads', patched(PIE, [[56, 2, 2000]]), 56, /too many program headers/],
    [
      'PT_LOAD with p_filesz > p_memsz',
      patched(PIE, [[ph64(5) + 32, 8, 0x300]]),
      ph64(5) + 32,
      /p_filesz.*larger/,
    ],
    [
      'PT_LOAD beyond the file',
      patched(PIE, [
        [ph64(5) + 32, 8, 0x1000],
        [ph64(5) + 40, 8, 0x1000],
        [ph64(5) + 8, 8, 0x103dd0],
      ]),
      ph64(5) + 8,
      /past the end of the file/,
    ],
    [
      'PT_LOAD offset and vaddr differing modulo p_align',
      patched(PIE, [[ph64(3) + 8, 8, 0x1008]]),
      ph64(3) + 8,
      /differ modulo p_align/,
    ],
    [
      'PT_LOAD with a p_align that is not a power of two',
      patched(PIE, [[ph64(3) + 48, 8, 0x3000]]),
      ph64(3) + 48,
      /not a power of two/,
    ],
    ['PT_LOADs out of order', patched(PIE, [[ph64(4) + 16, 8, 0]]), ph64(4) + 16, /ascending/],
    [
      'overlapping PT_LOADs',
      patched(PIE, [[ph64(4) + 16, 8, 0x1000]]),
      ph64(4) + 16,
      /overlaps the previous PT_LOAD/,
    ],
    [
      'a PT_LOAD reaching past user space',
      patched(PIE, [[ph64(5) + 40, 8, 0x7ffffffff000]]),
      ph64(5) + 16,
      /beyond user space/,
    ],
    [
      'a PT_INTERP without its NUL',
      patched(PIE, [[0x318 + 0x1b, 1, 0x78]]),
      0x318 + 0x1b,
      /not NUL-terminated/,
    ],
    [
      'a PT_INTERP outside the file',
      patched(PIE, [[ph64(1) + 8, 8, PIE.length]]),
      ph64(1) + 8,
      /PT_INTERP.*past the end/,
    ],
    ['a one-byte PT_INTERP', patched(PIE, [[ph64(1) + 32, 8, 1]]), ph64(1) + 32, /not a path length/],
    ['a second PT_INTERP', patched(PIE, [[ph64(7), 4, 3]]), ph64(7), /second PT_INTERP/],
    [
      'no PT_LOAD',
      patched(PIE, [
        [ph64(2), 4, 0],
        [ph64(3), 4, 0],
        [ph64(4), 4, 0],
        [ph64(5), 4, 0],
      ]),
      32,
      /no PT_LOAD/,
    ],
    ['e_shentsize 40 in ELF64', patched(PIE, [[58, 2, 40]]), 58, /e_shentsize 40.*expected 64/],
    ['section headers beyond the file', patched(PIE, [[60, 2, 300]]), 60, /section headers.*past the end/],
    ['a section-name table index out of range', patched(PIE, [[62, 2, 31]]), 62, /e_shstrndx 31/],
  ];

  test.each(cases)('%s', (_what, bytes, offset, message) => {
    const err = inputError(() => readElf(bytes, 'prog'));
    expect(err.code).toBe('elf');
    expect(err.span).toEqual({ file: 'prog', offset });
    expect(err.message).toMatch(message);
    expect(err.format()).toMatch(new RegExp(`^prog: offset 0x${offset.toString(16)}: error: `));
  });

  test('sections: skip reads only what the kernel reads, so a broken section table still loads', () => {
    const bytes = patched(PIE, [[58, 2, 40]]);
    const elf: ElfFile = readElf(bytes, 'prog', { sections: 'skip' });
    expect(elf.sections).toEqual([]);
    expect(elf.loads).toHaveLength(4);
    expect(elf.sectionProblem).toBeNull();
  });

  test('sections: try loads a file with a broken section table and says what was wrong', () => {
    const broken = readElf(patched(PIE, [[58, 2, 40]]), 'prog', { sections: 'try' });
    expect(broken.loads).toHaveLength(4);
    expect(broken.symbols).toEqual([]);
    expect(broken.sectionProblem?.span).toEqual({ file: 'prog', offset: 58 });
    const sound = readElf(PIE, 'prog', { sections: 'try' });
    expect(sound.sectionProblem).toBeNull();
    expect(sound.symbols.some((sym) => sym.name === 'main')).toBe(true);
  });
});

describeCorpus('load info', () => {
  test('a missing PT_GNU_STACK makes an i386 stack executable (READ_IMPLIES_EXEC) but not an x86-64 one', () => {
    // Turn PT_GNU_STACK into PT_NULL: hello-m32 has it at index 9, hello-pie at 11.
    const m32 = readElf(patched(M32, [[52 + 9 * 32, 4, 0]]), 'm32');
    const pie = readElf(patched(PIE, [[ph64(11), 4, 0]]), 'pie');
    expect(elfLoadInfo(m32)).toMatchObject({ executableStack: true, readImpliesExec: true });
    expect(elfLoadInfo(pie)).toMatchObject({ executableStack: false, readImpliesExec: false });
  });

  test('PT_GNU_STACK with PF_X makes the stack executable', () => {
    const pie = readElf(patched(PIE, [[ph64(11) + 4, 4, 7]]), 'pie');
    expect(elfLoadInfo(pie).executableStack).toBe(true);
  });

  test('the largest power-of-two p_align wins, rounded up to a page', () => {
    const pie = readElf(patched(PIE, [[ph64(2) + 48, 8, 0x200000]]), 'pie');
    expect(elfLoadInfo(pie).maxAlign).toBe(0x200000);
    const small = readElf(
      patched(
        PIE,
        [2, 3, 4, 5].map((i) => [ph64(i) + 48, 8, 0x10] as [number, 8, number]),
      ),
      'pie',
    );
    expect(elfLoadInfo(small).maxAlign).toBe(4096);
  });
});
