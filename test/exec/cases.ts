/**
 * The corpus's ELF cases (../shared/corpus/elf/<case>/), read in place: the binary (gunzipped in
 * memory), what the kernel recorded, and readelf's view of the file.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { corpusPath, fromCorpus } from '../corpus-path.js';

export interface CaseJson {
  readonly case: string;
  readonly bits: 32 | 64;
  readonly run: {
    readonly exec_path: string;
    readonly argv: string[];
    readonly env: string[];
  };
  readonly stack: { readonly sp: string; readonly top: string };
  readonly stops: { readonly stop: string; readonly pc: string; readonly sp: string }[];
}

export interface StackJson {
  readonly sp: string;
  readonly top: string;
  readonly word_size: 4 | 8;
  readonly argc: number;
  readonly argv: string[];
  readonly envp: string[];
  readonly auxv: { readonly type: number; readonly name: string; readonly value: string }[];
  readonly vector_bytes: number;
  readonly strings: { readonly addr: string; readonly len: number; readonly what: string }[];
}

/** The case folders (`hello-pie`, …), sorted (none without the corpus). */
export const CASES: readonly string[] = fromCorpus(
  () =>
    readdirSync(corpusPath('elf'), { withFileTypes: true })
      .filter((d) => d.isDirectory() && d.name !== 'sysroot')
      .map((d) => d.name)
      .sort(),
  [],
);

/** The interpreters in the corpus's sysroot (real files, not the link stand-ins). */
export const SYSROOT_INTERPRETERS: readonly string[] = [
  'usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2',
  'usr/lib32/ld-linux.so.2',
];

const cache = new Map<string, Uint8Array>();

/** The binary a case ran, gunzipped (cached: tests must not modify it). */
export function caseBinary(name: string): Uint8Array {
  let bytes = cache.get(name);
  if (bytes === undefined) {
    bytes = new Uint8Array(gunzipSync(readFileSync(corpusPath('elf', name, 'prog.gz'))));
    cache.set(name, bytes);
  }
  return bytes;
}

export function sysrootFile(path: string): Uint8Array {
  return new Uint8Array(readFileSync(corpusPath('elf', 'sysroot', path)));
}

export function caseText(name: string, file: string): string {
  return readFileSync(corpusPath('elf', name, file), 'utf8');
}

export function caseBytes(name: string, file: string): Uint8Array {
  return new Uint8Array(readFileSync(corpusPath('elf', name, file)));
}

export function caseJson(name: string): CaseJson {
  return JSON.parse(caseText(name, 'case.json')) as CaseJson;
}

export function stackJson(name: string): StackJson {
  return JSON.parse(caseText(name, 'stack-start.json')) as StackJson;
}

/** `0x7fff…` or decimal text as a number. */
export function num(text: string): number {
  return Number(text);
}

export interface ReadelfSegment {
  readonly type: string;
  readonly offset: number;
  readonly vaddr: number;
  readonly paddr: number;
  readonly filesz: number;
  readonly memsz: number;
  readonly flags: string;
  readonly align: number;
}

export interface ReadelfView {
  readonly fields: ReadonlyMap<string, string>;
  readonly segments: readonly ReadelfSegment[];
  readonly interp: string | null;
}

/** Parses `readelf -lhW`: the header's `Name: value` lines and the Program Headers table. */
export function parseReadelf(text: string): ReadelfView {
  const fields = new Map<string, string>();
  const segments: ReadelfSegment[] = [];
  let interp: string | null = null;
  let inTable = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('Program Headers:')) {
      inTable = true;
      continue;
    }
    if (line.startsWith(' Section to Segment mapping')) inTable = false;
    if (!inTable) {
      const m = /^ {2}([^:]+):\s+(.*)$/.exec(line);
      if (m?.[1] && m[2] !== undefined) fields.set(m[1].trim(), m[2].trim());
      continue;
    }
    const req = /\[Requesting program interpreter: (.*)\]/.exec(line);
    if (req?.[1] !== undefined) {
      interp = req[1];
      continue;
    }
    // Type Offset VirtAddr PhysAddr FileSiz MemSiz Flg Align; Flg is 1 to 3 letters with spaces.
    const m =
      /^ {2}(\S+)\s+(0x[0-9a-f]+) (0x[0-9a-f]+) (0x[0-9a-f]+) (0x[0-9a-f]+) (0x[0-9a-f]+) (.{3}) (0x[0-9a-f]+)$/.exec(
        line,
      );
    if (m === null) continue;
    const [, type, offset, vaddr, paddr, filesz, memsz, flags, align] = m as unknown as string[];
    segments.push({
      type: type ?? '',
      offset: num(offset ?? ''),
      vaddr: num(vaddr ?? ''),
      paddr: num(paddr ?? ''),
      filesz: num(filesz ?? ''),
      memsz: num(memsz ?? ''),
      flags: flags ?? '',
      align: num(align ?? ''),
    });
  }
  return { fields, segments, interp };
}

export interface ReadelfSection {
  readonly index: number;
  readonly name: string;
  readonly type: string;
  readonly addr: number;
  readonly offset: number;
  readonly size: number;
}

/** Parses `readelf -SW`'s table (section 0, with its empty name, is left out). */
export function parseReadelfSections(text: string): ReadelfSection[] {
  const out: ReadelfSection[] = [];
  for (const line of text.split('\n')) {
    const m = /^ {2}\[\s*(\d+)\] (\S+)\s+(\S+)\s+([0-9a-f]+) ([0-9a-f]+) ([0-9a-f]+) /.exec(line);
    if (m === null) continue;
    const [, index, name, type, addr, offset, size] = m as unknown as string[];
    if (Number(index) === 0) continue;
    out.push({
      index: Number(index),
      name: name ?? '',
      type: type ?? '',
      addr: Number.parseInt(addr ?? '', 16),
      offset: Number.parseInt(offset ?? '', 16),
      size: Number.parseInt(size ?? '', 16),
    });
  }
  return out;
}

export interface MapsLine {
  readonly start: number;
  readonly end: number;
  readonly perms: string;
  readonly path: string;
}

export function parseMaps(text: string): MapsLine[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [range = '', perms = '', , , , ...rest] = l.split(/\s+/);
      const [start = '', end = ''] = range.split('-');
      return {
        start: Number.parseInt(start, 16),
        end: Number.parseInt(end, 16),
        perms,
        path: rest.join(' '),
      };
    });
}
