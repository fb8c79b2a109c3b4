/**
 * The ELF auxiliary vector: the (type, value) pairs the kernel leaves above envp[] for the dynamic
 * loader and libc, in the order Linux's `create_elf_tables` writes them, and a text form like gdb's
 * `info auxv`.
 */
import { invariant } from '../../base/errors.js';

export const AT_NULL = 0;
export const AT_IGNORE = 1;
export const AT_EXECFD = 2;
export const AT_PHDR = 3;
export const AT_PHENT = 4;
export const AT_PHNUM = 5;
export const AT_PAGESZ = 6;
export const AT_BASE = 7;
export const AT_FLAGS = 8;
export const AT_ENTRY = 9;
export const AT_NOTELF = 10;
export const AT_UID = 11;
export const AT_EUID = 12;
export const AT_GID = 13;
export const AT_EGID = 14;
export const AT_PLATFORM = 15;
export const AT_HWCAP = 16;
export const AT_CLKTCK = 17;
export const AT_SECURE = 23;
export const AT_BASE_PLATFORM = 24;
export const AT_RANDOM = 25;
export const AT_HWCAP2 = 26;
export const AT_RSEQ_FEATURE_SIZE = 27;
export const AT_RSEQ_ALIGN = 28;
export const AT_HWCAP3 = 29;
export const AT_HWCAP4 = 30;
export const AT_EXECFN = 31;
export const AT_SYSINFO = 32;
export const AT_SYSINFO_EHDR = 33;
export const AT_MINSIGSTKSZ = 51;

export interface AuxvEntry {
  readonly type: number;
  readonly value: number;
}

/** Values the CPU and kernel configuration decide, as recorded on the corpus machine (AMD EPYC, 6.18). */
export const RECORDED_X86 = {
  /** ELF_HWCAP: CPUID 1 EDX. */
  hwcap: 0x178bfbff,
  /** ELF_HWCAP2: HWCAP2_FSGSBASE. */
  hwcap2: 0x2,
  /** `get_sigframe_size()`: depends on the CPU's XSAVE area. */
  minSigStackSize: 0xd30,
  /** CLOCKS_PER_SEC (USER_HZ). */
  clockTicks: 100,
  /** CONFIG_RSEQ: `offsetof(struct rseq, end)` and `__alignof__(struct rseq)`. */
  rseq: { featureSize: 28, align: 32 },
} as const;

/** What the kernel knows when it fills the auxv, except the addresses it places on the stack itself. */
export interface AuxvValues {
  /** ARCH_DLINFO's entries, written first (see {@link x86ArchDlinfo}). */
  readonly arch: readonly AuxvEntry[];
  readonly hwcap: number;
  readonly pageSize: number;
  readonly clockTicks: number;
  /** Where the program headers are in memory (AT_PHDR). */
  readonly phdr: number;
  /** sizeof(struct elf_phdr) of the class: 56 or 32. */
  readonly phent: number;
  readonly phnum: number;
  /** The interpreter's load address, 0 without one. */
  readonly base: number;
  readonly flags: number;
  /** The program's entry point, load bias included (not the interpreter's). */
  readonly entry: number;
  readonly uid: number;
  readonly euid: number;
  readonly gid: number;
  readonly egid: number;
  readonly secure: number;
  /** ELF_HWCAP2, or null on an architecture without it. */
  readonly hwcap2: number | null;
  /** CONFIG_RSEQ's two entries, or null for a kernel without rseq. */
  readonly rseq: { readonly featureSize: number; readonly align: number } | null;
}

/** The addresses `create_elf_tables` fills in from what it copied onto the stack. */
export interface AuxvStackAddresses {
  readonly randomVa: number;
  readonly execfnVa: number;
  /** Where the platform string is, or null when the architecture has none (then no AT_PLATFORM). */
  readonly platformVa: number | null;
}

/**
 * x86's ARCH_DLINFO. 64-bit: AT_SYSINFO_EHDR (when the vdso is mapped), AT_MINSIGSTKSZ. An i386
 * process (ARCH_DLINFO_IA32) gets AT_SYSINFO, the vdso's system-call entry, before AT_SYSINFO_EHDR.
 */
export function x86ArchDlinfo(options: {
  /** Where the vdso is mapped, or null for none. */
  readonly vdsoBase: number | null;
  readonly minSigStackSize: number;
  /** i386 only: `__kernel_vsyscall`'s address in the vdso (AT_SYSINFO). */
  readonly sysinfoEntry?: number;
}): AuxvEntry[] {
  const out: AuxvEntry[] = [];
  if (options.vdsoBase !== null) {
    if (options.sysinfoEntry !== undefined) out.push({ type: AT_SYSINFO, value: options.sysinfoEntry });
    out.push({ type: AT_SYSINFO_EHDR, value: options.vdsoBase });
  }
  out.push({ type: AT_MINSIGSTKSZ, value: options.minSigStackSize });
  return out;
}

/** The auxv in the kernel's order, AT_NULL last (Linux 6.x `create_elf_tables`). */
export function auxvEntries(v: AuxvValues, at: AuxvStackAddresses): AuxvEntry[] {
  const out: AuxvEntry[] = [...v.arch];
  const add = (type: number, value: number) => {
    out.push({ type, value });
  };
  add(AT_HWCAP, v.hwcap);
  add(AT_PAGESZ, v.pageSize);
  add(AT_CLKTCK, v.clockTicks);
  add(AT_PHDR, v.phdr);
  add(AT_PHENT, v.phent);
  add(AT_PHNUM, v.phnum);
  add(AT_BASE, v.base);
  add(AT_FLAGS, v.flags);
  add(AT_ENTRY, v.entry);
  add(AT_UID, v.uid);
  add(AT_EUID, v.euid);
  add(AT_GID, v.gid);
  add(AT_EGID, v.egid);
  add(AT_SECURE, v.secure);
  add(AT_RANDOM, at.randomVa);
  if (v.hwcap2 !== null) add(AT_HWCAP2, v.hwcap2);
  add(AT_EXECFN, at.execfnVa);
  if (at.platformVa !== null) add(AT_PLATFORM, at.platformVa);
  if (v.rseq !== null) {
    add(AT_RSEQ_FEATURE_SIZE, v.rseq.featureSize);
    add(AT_RSEQ_ALIGN, v.rseq.align);
  }
  add(AT_NULL, 0);
  for (const e of out)
    invariant(Number.isSafeInteger(e.value) && e.value >= 0, `auxv: bad value for type ${e.type}`);
  return out;
}

type AuxvFormat = 'dec' | 'hex' | 'str';

interface AuxvTypeInfo {
  readonly name: string;
  readonly description: string;
  readonly format: AuxvFormat;
  /** Only gdb versions after 13 know this type (13 prints it as `???`). */
  readonly newerGdb?: true;
}

/** Names, gdb's descriptions and gdb's value formats for the types Linux passes. */
const AUXV_TYPES: Readonly<Record<number, AuxvTypeInfo>> = {
  [AT_NULL]: { name: 'AT_NULL', description: 'End of vector', format: 'hex' },
  [AT_IGNORE]: { name: 'AT_IGNORE', description: 'Entry should be ignored', format: 'hex' },
  [AT_EXECFD]: { name: 'AT_EXECFD', description: 'File descriptor of program', format: 'dec' },
  [AT_PHDR]: { name: 'AT_PHDR', description: 'Program headers for program', format: 'hex' },
  [AT_PHENT]: { name: 'AT_PHENT', description: 'Size of program header entry', format: 'dec' },
  [AT_PHNUM]: { name: 'AT_PHNUM', description: 'Number of program headers', format: 'dec' },
  [AT_PAGESZ]: { name: 'AT_PAGESZ', description: 'System page size', format: 'dec' },
  [AT_BASE]: { name: 'AT_BASE', description: 'Base address of interpreter', format: 'hex' },
  [AT_FLAGS]: { name: 'AT_FLAGS', description: 'Flags', format: 'hex' },
  [AT_ENTRY]: { name: 'AT_ENTRY', description: 'Entry point of program', format: 'hex' },
  [AT_NOTELF]: { name: 'AT_NOTELF', description: 'Program is not ELF', format: 'dec' },
  [AT_UID]: { name: 'AT_UID', description: 'Real user ID', format: 'dec' },
  [AT_EUID]: { name: 'AT_EUID', description: 'Effective user ID', format: 'dec' },
  [AT_GID]: { name: 'AT_GID', description: 'Real group ID', format: 'dec' },
  [AT_EGID]: { name: 'AT_EGID', description: 'Effective group ID', format: 'dec' },
  [AT_PLATFORM]: { name: 'AT_PLATFORM', description: 'String identifying platform', format: 'str' },
  [AT_HWCAP]: { name: 'AT_HWCAP', description: 'Machine-dependent CPU capability hints', format: 'hex' },
  [AT_CLKTCK]: { name: 'AT_CLKTCK', description: 'Frequency of times()', format: 'dec' },
  [AT_SECURE]: { name: 'AT_SECURE', description: 'Boolean, was exec setuid-like?', format: 'dec' },
  [AT_BASE_PLATFORM]: {
    name: 'AT_BASE_PLATFORM',
    description: 'String identifying base platform',
    format: 'str',
  },
  [AT_RANDOM]: { name: 'AT_RANDOM', description: 'Address of 16 random bytes', format: 'hex' },
  [AT_HWCAP2]: { name: 'AT_HWCAP2', description: 'Extension of AT_HWCAP', format: 'hex' },
  [AT_RSEQ_FEATURE_SIZE]: {
    name: 'AT_RSEQ_FEATURE_SIZE',
    description: 'rseq supported feature size',
    format: 'dec',
    newerGdb: true,
  },
  [AT_RSEQ_ALIGN]: {
    name: 'AT_RSEQ_ALIGN',
    description: 'rseq allocation alignment',
    format: 'dec',
    newerGdb: true,
  },
  [AT_HWCAP3]: { name: 'AT_HWCAP3', description: 'Extension of AT_HWCAP', format: 'hex', newerGdb: true },
  [AT_HWCAP4]: { name: 'AT_HWCAP4', description: 'Extension of AT_HWCAP', format: 'hex', newerGdb: true },
  [AT_EXECFN]: { name: 'AT_EXECFN', description: 'File name of executable', format: 'str' },
  [AT_SYSINFO]: { name: 'AT_SYSINFO', description: 'Special system info/entry points', format: 'hex' },
  [AT_SYSINFO_EHDR]: {
    name: 'AT_SYSINFO_EHDR',
    description: "System-supplied DSO's ELF header",
    format: 'hex',
  },
  [AT_MINSIGSTKSZ]: {
    name: 'AT_MINSIGSTKSZ',
    description: 'Minimum stack size for signal delivery',
    format: 'hex',
  },
};

/** `AT_PHDR` for 3; null for a type Linux does not pass. */
export function auxvTypeName(type: number): string | null {
  return AUXV_TYPES[type]?.name ?? null;
}

export interface FormatAuxvOptions {
  /** The bytes of the string at a user address (without its NUL), or null when unreadable. */
  readonly readString?: (va: number) => Uint8Array | null;
  /**
   * Which gdb to look like: `13` (as in the corpus: it prints AT_RSEQ_* as `???` in hex) or
   * `current` (default: names them).
   */
  readonly gdb?: 13 | 'current';
}

/** gdb's `print elements` default: longer strings are cut and followed by `...`. */
const GDB_PRINT_ELEMENTS = 200;

const C_ESCAPES: Readonly<Record<number, string>> = {
  7: '\\a',
  8: '\\b',
  9: '\\t',
  10: '\\n',
  11: '\\v',
  12: '\\f',
  13: '\\r',
  27: '\\033',
  34: '\\"',
  92: '\\\\',
};

/** A C string as gdb quotes it (printable ASCII as is, the rest as escapes). */
function gdbQuote(bytes: Uint8Array): string {
  let out = '"';
  const n = Math.min(bytes.length, GDB_PRINT_ELEMENTS);
  for (let i = 0; i < n; i++) {
    const c = bytes[i] ?? 0;
    const esc = C_ESCAPES[c];
    if (esc !== undefined) out += esc;
    else if (c >= 0x20 && c < 0x7f) out += String.fromCharCode(c);
    else out += `\\${c.toString(8).padStart(3, '0')}`;
  }
  out += '"';
  return bytes.length > GDB_PRINT_ELEMENTS ? `${out}...` : out;
}

/**
 * The auxv as gdb's `info auxv` prints it: `type name description value`, one entry a line, in the
 * given order, each line ending in a newline.
 */
export function formatAuxv(entries: readonly AuxvEntry[], options: FormatAuxvOptions = {}): string {
  const gdb13 = options.gdb === 13;
  let out = '';
  for (const { type, value } of entries) {
    let info = AUXV_TYPES[type];
    if (info?.newerGdb && gdb13) info = undefined;
    const name = info?.name ?? '???';
    const description = info?.description ?? '';
    const hexValue = `0x${value.toString(16)}`;
    let text: string;
    const format = info?.format ?? 'hex';
    if (format === 'dec') text = value.toString(10);
    else if (format === 'hex') text = hexValue;
    else {
      const bytes = options.readString?.(value) ?? null;
      text = `${hexValue} ${bytes === null ? `<error: Cannot access memory at address ${hexValue}>` : gdbQuote(bytes)}`;
    }
    out += `${String(type).padEnd(4)} ${name.padEnd(20)} ${description.padEnd(30)} ${text}\n`;
  }
  return out;
}
