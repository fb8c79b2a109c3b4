/**
 * The ELF reader on broken copies of real binaries: cut short at every offset where something
 * starts or ends, with random bytes flipped and random header fields overwritten. Whatever it is
 * given, it returns a file that holds together or throws an InputError with an offset inside the
 * file — never another exception, never a hang, never more than a few milliseconds.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { InputError } from '../../src/base/errors.js';
import {
  type ElfFile,
  elfAddressLimit,
  elfLoadInfo,
  readElf,
  SHT_DYNSYM,
  SHT_SYMTAB,
  symbolAt,
} from '../../src/kernel/exec/elf.js';
import { describeCorpus, fromCorpus, testCorpus } from '../corpus.js';
import { caseBinary, SYSROOT_INTERPRETERS, sysrootFile } from './cases.js';
import { makeElf, PF_R, PF_W, PF_X } from './make-elf.js';

type Base = { readonly name: string; readonly bytes: Uint8Array };

/** Binaries made here (they need no corpus): 64- and 32-bit, static and with an interpreter, with a bss. */
const MADE: readonly Base[] = [
  {
    name: 'made-static64',
    bytes: makeElf({
      bits: 64,
      type: 'exec',
      entry: 0x401000,
      segments: [
        { vaddr: 0x400000, flags: PF_R | PF_X, bytes: new Uint8Array(300).fill(0xc3) },
        { vaddr: 0x402010, flags: PF_R | PF_W, bytes: new Uint8Array(40).fill(1), memsz: 0x3000 },
      ],
    }),
  },
  {
    name: 'made-pie32',
    bytes: makeElf({
      bits: 32,
      type: 'dyn',
      entry: 0x1200,
      interp: '/lib/ld-linux.so.2',
      segments: [
        { vaddr: 0, flags: PF_R | PF_X, bytes: new Uint8Array(200).fill(0x90) },
        { vaddr: 0x2ee0, flags: PF_R | PF_W, bytes: new Uint8Array(64).fill(2), memsz: 0x100 },
      ],
    }),
  },
];

const CORPUS_BASES: readonly Base[] = fromCorpus(
  () => [
    { name: 'hello-pie', bytes: caseBinary('hello-pie') },
    { name: 'hello-m32', bytes: caseBinary('hello-m32') },
    { name: 'hello-nopie', bytes: caseBinary('hello-nopie') },
    { name: 'mallocs-m32-static', bytes: caseBinary('mallocs-m32-static') },
    { name: 'bigdata-static-pie', bytes: caseBinary('bigdata-static-pie') },
    { name: 'ld.so', bytes: sysrootFile(SYSROOT_INTERPRETERS[0] ?? '') },
  ],
  [],
);
const BASES: readonly Base[] = [...MADE, ...CORPUS_BASES];

/** What is wrong with a file readElf accepted (everything a caller may rely on), or null. */
function incoherence(elf: ElfFile, size: number): string | null {
  const h = elf.header;
  if (h.wordSize * 8 !== h.bits) return 'word size';
  if (elf.programHeaders.length !== h.phnum) return 'program header count';
  if (elf.loads.length === 0) return 'no PT_LOAD';
  const limit = elfAddressLimit(h.machine, h.bits);
  let prevEnd = -1;
  for (const ph of elf.loads) {
    for (const v of [ph.offset, ph.vaddr, ph.filesz, ph.memsz, ph.align]) {
      if (!Number.isSafeInteger(v) || v < 0) return `PT_LOAD ${ph.index}: inexact field`;
    }
    if (ph.filesz > ph.memsz) return `PT_LOAD ${ph.index}: filesz > memsz`;
    if (ph.offset + ph.filesz > size) return `PT_LOAD ${ph.index}: beyond the file`;
    if (ph.vaddr + ph.memsz > limit) return `PT_LOAD ${ph.index}: beyond user space`;
    if (ph.vaddr < prevEnd) return `PT_LOAD ${ph.index}: overlap or order`;
    prevEnd = ph.vaddr + ph.memsz;
  }
  if (elf.interp !== null && (elf.interp === '' || elf.interp.includes('\0'))) return 'interp';
  for (let i = 1; i < elf.symbols.length; i++) {
    if ((elf.symbols[i]?.value ?? 0) < (elf.symbols[i - 1]?.value ?? 0)) return 'symbols unsorted';
  }
  const info = elfLoadInfo(elf);
  if (!(info.totalMappingSize > 0 && info.totalMappingSize % 4096 === 0)) return 'totalMappingSize';
  symbolAt(elf, h.entry);
  return null;
}

/** Reads `bytes`; fails the test on anything but a coherent file or a well-placed InputError. */
function readOrReject(bytes: Uint8Array): 'ok' | 'rejected' {
  // No time limit here (machines are shared and noisy): a hang would hit the test's timeout, and
  // every loop in the reader is bounded by header counts checked against the file size.
  let elf: ElfFile;
  try {
    elf = readElf(bytes, 'fuzzed');
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    expect(e.code).toBe('elf');
    expect(e.span.file).toBe('fuzzed');
    const offset = e.span.offset ?? -1;
    expect(Number.isInteger(offset) && offset >= 0 && offset <= bytes.length).toBe(true);
    return 'rejected';
  }
  expect(incoherence(elf, bytes.length)).toBeNull();
  return 'ok';
}

/** Offsets where a header, a table, a field or a segment starts or ends (and the bytes around them). */
function interestingOffsets(bytes: Uint8Array): number[] {
  const elf = readElf(bytes, 'base');
  const h = elf.header;
  const points = new Set<number>();
  const around = (x: number) => {
    for (const d of [-1, 0, 1]) if (x + d >= 0 && x + d <= bytes.length) points.add(x + d);
  };
  for (let i = 0; i <= (h.bits === 64 ? 64 : 52); i++) points.add(i);
  for (let i = 0; i <= h.phnum; i++) {
    const at = h.phoff + i * h.phentsize;
    for (let k = 0; k < h.phentsize; k += 4) around(at + k);
  }
  for (const ph of elf.programHeaders) {
    around(ph.offset);
    around(ph.offset + ph.filesz);
  }
  for (const sh of elf.sections) {
    around(h.shoff + sh.index * h.shentsize);
    if (sh.type === SHT_SYMTAB || sh.type === SHT_DYNSYM || sh.index === h.shstrndx) {
      around(sh.offset);
      around(sh.offset + sh.size);
    }
  }
  around(h.shoff + elf.sections.length * h.shentsize);
  return [...points].filter((x) => x < bytes.length).sort((a, b) => a - b);
}

function cuts({ bytes }: Base): void {
  test('the unbroken file is read', () => {
    expect(readOrReject(bytes)).toBe('ok');
  });

  test('cut short at every interesting offset: read or rejected, never crashed', () => {
    const offsets = interestingOffsets(bytes);
    expect(offsets.length).toBeGreaterThan(60);
    let rejected = 0;
    for (const n of offsets) if (readOrReject(bytes.subarray(0, n)) === 'rejected') rejected++;
    // A cut before the end of the program headers or of a PT_LOAD's bytes must be refused.
    expect(rejected).toBeGreaterThan(offsets.length / 2);
  });
}

describe.each(MADE)('$name', cuts);
describeCorpus.each(CORPUS_BASES)('$name', cuts);

/** Field widths a random overwrite may use, with values near the edges that matter. */
const fieldValue = fc.oneof(
  fc.constantFrom(0, 1, 2, 3, 0x7f, 0x80, 0xff, 0x100, 0xfff, 0x1000, 0x7fff, 0xffff, 0x10000),
  fc.constantFrom(0x7fffffff, 0x80000000, 0xffffffff, 0xffffe000, 0x7ffffffff000, 2 ** 53 - 1, 2 ** 53),
  fc.nat({ max: 0xffffffff }),
);

type Mutation =
  | { readonly kind: 'flip'; readonly at: number; readonly mask: number }
  | { readonly kind: 'field'; readonly at: number; readonly width: 2 | 4 | 8; readonly value: number };

/** A mutation somewhere in `[0, span)`: the file header and program headers, or the section headers. */
function mutation(span: number): fc.Arbitrary<Mutation> {
  return fc.oneof(
    fc.record({
      kind: fc.constant('flip' as const),
      at: fc.nat({ max: span - 1 }),
      mask: fc.integer({ min: 1, max: 255 }),
    }),
    fc.record({
      kind: fc.constant('field' as const),
      at: fc.nat({ max: span - 1 }),
      width: fc.constantFrom(2 as const, 4 as const, 8 as const),
      value: fieldValue,
    }),
  );
}

function apply(base: Uint8Array, region: number, mutations: readonly Mutation[]): Uint8Array {
  const out = base.slice();
  const view = new DataView(out.buffer);
  for (const m of mutations) {
    const at = region + m.at;
    if (m.kind === 'flip') {
      if (at < out.length) out[at] = (out[at] ?? 0) ^ m.mask;
    } else if (at + m.width <= out.length) {
      if (m.width === 2) view.setUint16(at, m.value & 0xffff, true);
      else if (m.width === 4) view.setUint32(at, m.value >>> 0, true);
      else view.setBigUint64(at, BigInt(m.value), true);
    }
  }
  return out;
}

describe('random damage (fast-check, fixed seed)', () => {
  const headers = BASES.map(({ name, bytes }) => {
    const h = readElf(bytes, name).header;
    return {
      name,
      bytes,
      headersEnd: h.phoff + h.phnum * h.phentsize,
      shoff: h.shoff,
      shEnd: h.shoff + h.shnum * h.shentsize,
    };
  });

  test('flips and field overwrites in the file header and program headers', () => {
    const outcomes = { ok: 0, rejected: 0 };
    fc.assert(
      fc.property(
        // The base is drawn by index so that a counterexample prints small.
        fc
          .nat({ max: headers.length - 1 })
          .chain((i) =>
            fc.tuple(
              fc.constant(i),
              fc.array(mutation(headers[i]?.headersEnd ?? 1), { minLength: 1, maxLength: 6 }),
            ),
          ),
        ([i, mutations]) => {
          const base = headers[i];
          if (base === undefined) throw new Error('no base');
          outcomes[readOrReject(apply(base.bytes, 0, mutations))]++;
        },
      ),
      { seed: 20240611, numRuns: 2500 },
    );
    // Both outcomes happen: the damage is not always fatal, and the reader does refuse.
    expect(outcomes.ok).toBeGreaterThan(50);
    expect(outcomes.rejected).toBeGreaterThan(500);
  });

  // The made binaries have no section table: only the corpus's have one to damage.
  testCorpus('flips and field overwrites in the section headers', () => {
    const sectioned = headers.filter((h) => h.shEnd > h.shoff);
    fc.assert(
      fc.property(
        fc.nat({ max: sectioned.length - 1 }).chain((i) => {
          const base = sectioned[i];
          const span = base === undefined ? 1 : base.shEnd - base.shoff;
          return fc.tuple(fc.constant(i), fc.array(mutation(span), { minLength: 1, maxLength: 4 }));
        }),
        ([i, mutations]) => {
          const base = sectioned[i];
          if (base === undefined) throw new Error('no base');
          readOrReject(apply(base.bytes, base.shoff, mutations));
        },
      ),
      { seed: 7, numRuns: 1000 },
    );
  });
});
