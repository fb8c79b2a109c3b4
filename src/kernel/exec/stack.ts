/**
 * The initial process stack as Linux's execve leaves it (`do_execveat_common` copies the strings,
 * `create_elf_tables` writes the rest), built as bytes, and read back.
 *
 * From the top of the `[stack]` VMA down (each address below the one above it):
 *
 *   stackTop ─┬────────────────────────────┐
 *             │ 8 zero bytes               │ one kernel pointer: bprm->p starts at vm_end - sizeof(void *)
 *             │ execfn string + NUL        │ AT_EXECFN (the path given to execve)
 *             │ envp strings + NULs        │ envp[0] lowest (copied last to first)
 *             │ argv strings + NULs        │ argv[0] lowest = mm->arg_start
 *             │ zero padding               │ arch_align_stack: round down to 16 (ASLR: minus random first)
 *             │ platform string + NUL      │ AT_PLATFORM ("x86_64", "i686")
 *             │ 16 random bytes            │ AT_RANDOM
 *             │ zero padding               │ STACK_ROUND: sp rounded down to 16
 *             │ auxv pairs, AT_NULL last   │
 *             │ envp[], NULL               │
 *             │ argv[], NULL               │
 *        sp ──┤ argc                       │ words of the process's class (4 or 8 bytes)
 *             └────────────────────────────┘
 */
import { InputError, invariant } from '../../base/errors.js';
import { alignDown } from '../../base/units.js';
import { E2BIG } from '../errno.js';
import {
  AT_BASE_PLATFORM,
  AT_EXECFN,
  AT_NULL,
  AT_PLATFORM,
  AT_RANDOM,
  type AuxvEntry,
  type AuxvValues,
  auxvEntries,
  auxvTypeName,
} from './auxv.js';

/** Bytes of AT_RANDOM. */
export const AT_RANDOM_BYTES = 16;
/** STACK_ROUND and arch_align_stack align to 16 bytes on x86 and RISC-V. */
const STACK_ALIGN = 16;
/** MAX_ARG_STRLEN: 32 pages; a longer argument or environment string is E2BIG. */
const MAX_ARG_STRLEN = 32 * 4096;
/** ARG_MAX: the arguments may always use at least this much. */
const ARG_MAX = 32 * 4096;
/** _STK_LIM: the arguments may never use more than 3/4 of it. */
const STK_LIM = 8 * 1024 * 1024;

export interface InitialStackInput {
  /** Bytes in a word of the process: 8 (x86-64), 4 (i386). */
  readonly wordSize: 4 | 8;
  /** The end of the `[stack]` VMA (0x7ffffffff000, or 0xffffe000 for i386, with ASLR off). */
  readonly stackTop: number;
  /** argv; an empty one becomes `[""]`, as Linux does since 5.18. No string may contain NUL. */
  readonly argv: readonly string[];
  readonly envp: readonly string[];
  /** The path as given to execve (AT_EXECFN). */
  readonly execfn: string;
  /** The platform string (`x86_64`, `i686`), or null for none (no AT_PLATFORM). */
  readonly platform: string | null;
  /** The 16 AT_RANDOM bytes. */
  readonly random: Uint8Array;
  /** Every auxv value the kernel knows before it places the strings. */
  readonly auxv: AuxvValues;
  /** What arch_align_stack subtracts before rounding down (ASLR: random below 8192); default 0. */
  readonly alignRandomBytes?: number;
  /**
   * Bytes left free at the very top: one pointer of the kernel (8 on a 64-bit kernel, i386
   * processes included; 4 on a 32-bit kernel). Default 8.
   */
  readonly topPadBytes?: number;
}

export interface InitialStack {
  /** The stack pointer at the first instruction: where argc is. */
  readonly sp: number;
  readonly stackTop: number;
  /** The memory from sp up to stackTop. */
  readonly bytes: Uint8Array;
  readonly wordSize: 4 | 8;
  readonly argc: number;
  /** Where the argv[], envp[] and auxv arrays start. */
  readonly argvVa: number;
  readonly envpVa: number;
  readonly auxvVa: number;
  /** mm->arg_start/arg_end/env_start/env_end: the argument and environment strings. */
  readonly argStart: number;
  readonly argEnd: number;
  readonly envStart: number;
  readonly envEnd: number;
  readonly execfnVa: number;
  readonly platformVa: number | null;
  readonly randomVa: number;
  /** The auxv as written, AT_NULL last. */
  readonly auxv: readonly AuxvEntry[];
}

const utf8 = new TextEncoder();

function cBytes(s: string, what: string): Uint8Array {
  invariant(!s.includes('\0'), `initial stack: ${what} contains a NUL character`);
  return utf8.encode(s);
}

/** Writes a word of the process's class, little-endian. */
function putWord(view: DataView, offset: number, value: number, wordSize: 4 | 8): void {
  invariant(
    Number.isSafeInteger(value) && value >= 0 && value < 2 ** (wordSize * 8),
    'initial stack: word out of range',
  );
  view.setUint32(offset, value % 2 ** 32, true);
  if (wordSize === 8) view.setUint32(offset + 4, Math.floor(value / 2 ** 32), true);
}

/**
 * Builds the initial stack exactly as Linux does (see the picture above).
 *
 * Preconditions: the strings contain no NUL; `random` has 16 bytes; the arguments fit (check with
 * {@link checkExecArgs} first, as execve fails with E2BIG before it builds anything).
 * @returns the bytes from sp to stackTop and where everything went. Pure: allocates only its result.
 */
export function buildInitialStack(input: InitialStackInput): InitialStack {
  const w = input.wordSize;
  invariant(input.random.length === AT_RANDOM_BYTES, 'initial stack: AT_RANDOM needs 16 bytes');
  const argvStrings = (input.argv.length === 0 ? [''] : input.argv).map((s, i) => cBytes(s, `argv[${i}]`));
  const envStrings = input.envp.map((s, i) => cBytes(s, `envp[${i}]`));
  const execfn = cBytes(input.execfn, 'execfn');

  // The strings, copied downwards: execfn, then envp and argv from their last string to their first.
  let p = input.stackTop - (input.topPadBytes ?? 8);
  p -= execfn.length + 1;
  const execfnVa = p;
  const envVas = new Array<number>(envStrings.length);
  for (let i = envStrings.length - 1; i >= 0; i--) {
    p -= (envStrings[i]?.length ?? 0) + 1;
    envVas[i] = p;
  }
  const envStart = p;
  const argVas = new Array<number>(argvStrings.length);
  for (let i = argvStrings.length - 1; i >= 0; i--) {
    p -= (argvStrings[i]?.length ?? 0) + 1;
    argVas[i] = p;
  }
  const argStart = p;

  // create_elf_tables: align, the platform string, the random bytes, then the vectors below them.
  p = alignDown(p - (input.alignRandomBytes ?? 0), STACK_ALIGN);
  let platformVa: number | null = null;
  const platform = input.platform === null ? null : cBytes(input.platform, 'platform');
  if (platform !== null) {
    p -= platform.length + 1;
    platformVa = p;
  }
  p -= AT_RANDOM_BYTES;
  const randomVa = p;
  const auxv = auxvEntries(input.auxv, { randomVa, execfnVa, platformVa });
  const argc = argvStrings.length;
  const vectorWords = 1 + (argc + 1) + (envStrings.length + 1) + 2 * auxv.length;
  const sp = alignDown(p - vectorWords * w, STACK_ALIGN);

  const bytes = new Uint8Array(input.stackTop - sp);
  const view = new DataView(bytes.buffer);
  const put = (va: number, value: number) => putWord(view, va - sp, value, w);
  // The rest of the bytes stay zero: the NULs, the padding and the top word.
  bytes.set(execfn, execfnVa - sp);
  for (let i = 0; i < envStrings.length; i++) bytes.set(envStrings[i] ?? [], (envVas[i] ?? 0) - sp);
  for (let i = 0; i < argvStrings.length; i++) bytes.set(argvStrings[i] ?? [], (argVas[i] ?? 0) - sp);
  if (platform !== null && platformVa !== null) bytes.set(platform, platformVa - sp);
  bytes.set(input.random, randomVa - sp);

  let va = sp;
  put(va, argc);
  va += w;
  const argvVa = va;
  for (const a of argVas) {
    put(va, a);
    va += w;
  }
  va += w;
  const envpVa = va;
  for (const e of envVas) {
    put(va, e);
    va += w;
  }
  va += w;
  const auxvVa = va;
  for (const { type, value } of auxv) {
    put(va, type);
    put(va + w, value);
    va += 2 * w;
  }
  return {
    sp,
    stackTop: input.stackTop,
    bytes,
    wordSize: w,
    argc,
    argvVa,
    envpVa,
    auxvVa,
    argStart,
    argEnd: envStart,
    envStart,
    envEnd: execfnVa,
    execfnVa,
    platformVa,
    randomVa,
    auxv,
  };
}

export interface ExecArgsInput {
  readonly argv: readonly string[];
  readonly envp: readonly string[];
  readonly execfn: string;
  /** RLIMIT_STACK's soft limit in bytes. */
  readonly rlimitStack: number;
}

/**
 * Whether execve would accept these arguments (Linux `bprm_stack_limits` and `copy_strings`): every
 * string at most 128 KiB, and all of them, with a pointer each, within a quarter of RLIMIT_STACK
 * (at least 128 KiB, at most 6 MiB). @returns 0, or -E2BIG.
 */
export function checkExecArgs(input: ExecArgsInput): number {
  const pointerBytes = 8;
  let limit = Math.min((STK_LIM / 4) * 3, Math.floor(input.rlimitStack / 4));
  limit = Math.max(limit, ARG_MAX);
  const ptrSize = (Math.max(input.argv.length, 1) + input.envp.length) * pointerBytes;
  if (limit <= ptrSize) return -E2BIG;
  limit -= ptrSize;
  let used = 0;
  const strings = [input.execfn, ...input.envp, ...(input.argv.length === 0 ? [''] : input.argv)];
  for (const s of strings) {
    const len = utf8.encode(s).length + 1;
    if (len > MAX_ARG_STRLEN) return -E2BIG;
    used += len;
    if (used > limit) return -E2BIG;
  }
  return 0;
}

/** One auxv entry read back, with what it points to when that is on the stack. */
export interface DecodedAuxvEntry extends AuxvEntry {
  /** `AT_PHDR`…, or null for a type Linux does not pass. */
  readonly name: string | null;
  /** For AT_EXECFN, AT_PLATFORM, AT_BASE_PLATFORM: the string, when it lies in the bytes. */
  readonly text?: string;
  /** For AT_RANDOM: the 16 bytes, when they lie in the bytes. */
  readonly random?: Uint8Array;
}

/** A pointer from argv[] or envp[] and the string it points to (null when outside the bytes). */
export interface DecodedString {
  readonly va: number;
  readonly text: string | null;
}

/** A piece of the area above the vectors. */
export interface StackArea {
  readonly va: number;
  /** Bytes, the NUL included for strings. */
  readonly sizeBytes: number;
  /** `AT_RANDOM bytes`, `AT_PLATFORM string`, `argv[0] string`, `envp[0] string`, `AT_EXECFN string`. */
  readonly what: string;
}

export interface DecodedStack {
  readonly sp: number;
  readonly stackTop: number;
  readonly wordSize: 4 | 8;
  readonly argc: number;
  readonly argv: readonly DecodedString[];
  readonly envp: readonly DecodedString[];
  readonly auxv: readonly DecodedAuxvEntry[];
  /** Bytes from sp to the end of the AT_NULL pair. */
  readonly vectorBytes: number;
  /** What the vectors point to on the stack, in address order. */
  readonly areas: readonly StackArea[];
}

/**
 * Reads an initial stack: argc, argv[], envp[], the auxv, and the strings they point to.
 *
 * @param bytes the memory from sp up to the stack top.
 * @param file the name for errors (a corpus file, or `[stack]`).
 * @throws InputError (code `stack`, offset relative to sp) when the vectors run off the bytes or a
 *   value is too large to be exact.
 */
export function decodeInitialStack(
  bytes: Uint8Array,
  sp: number,
  wordSize: 4 | 8,
  file = '[stack]',
): DecodedStack {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stackTop = sp + bytes.length;
  const fail = (offset: number, message: string): never => {
    throw new InputError('stack', message, { file, offset });
  };
  let off = 0;
  const word = (what: string): number => {
    if (off + wordSize > bytes.length)
      fail(off, `the stack ends before ${what} (${bytes.length} bytes from sp)`);
    const lo = view.getUint32(off, true);
    const hi = wordSize === 8 ? view.getUint32(off + 4, true) : 0;
    if (hi >= 2 ** 21) fail(off, `${what} is too large (vmscope handles values below 2^53)`);
    off += wordSize;
    return hi * 2 ** 32 + lo;
  };
  const decoder = new TextDecoder('utf-8');
  const stringAt = stackStringReader(bytes, sp);
  const areas: StackArea[] = [];
  const noteString = (va: number, what: string): string | null => {
    const s = stringAt(va);
    if (s === null) return null;
    areas.push({ va, sizeBytes: s.length + 1, what });
    return decoder.decode(s);
  };

  const argc = word('argc');
  if (argc > bytes.length / wordSize) fail(0, `argc ${argc} is more than the stack can hold`);
  const argv: DecodedString[] = [];
  for (let i = 0; i < argc; i++) {
    const va = word(`argv[${i}]`);
    argv.push({ va, text: noteString(va, `argv[${i}] string`) });
  }
  const argvEnd = off;
  if (word(`argv[${argc}]`) !== 0) fail(argvEnd, `argv[${argc}] should be NULL`);
  const envp: DecodedString[] = [];
  for (;;) {
    const va = word(`envp[${envp.length}]`);
    if (va === 0) break;
    envp.push({ va, text: noteString(va, `envp[${envp.length}] string`) });
  }
  const auxv: DecodedAuxvEntry[] = [];
  for (;;) {
    const type = word(`auxv[${auxv.length}] type`);
    const value = word(`auxv[${auxv.length}] value`);
    const name = auxvTypeName(type);
    if (type === AT_RANDOM && value >= sp && value + 16 <= stackTop) {
      areas.push({ va: value, sizeBytes: 16, what: 'AT_RANDOM bytes' });
      auxv.push({ type, value, name, random: bytes.slice(value - sp, value - sp + 16) });
    } else if (type === AT_EXECFN || type === AT_PLATFORM || type === AT_BASE_PLATFORM) {
      const text = noteString(value, `${name} string`);
      auxv.push(text === null ? { type, value, name } : { type, value, name, text });
    } else {
      auxv.push({ type, value, name });
    }
    if (type === AT_NULL) break;
  }
  areas.sort((a, b) => a.va - b.va);
  return { sp, stackTop, wordSize, argc, argv, envp, auxv, vectorBytes: off, areas };
}

/** Reads the NUL-terminated string at `va` from a stack image (for {@link formatAuxv}'s readString). */
export function stackStringReader(bytes: Uint8Array, sp: number): (va: number) => Uint8Array | null {
  return (va) => {
    if (va < sp || va >= sp + bytes.length) return null;
    const end = bytes.indexOf(0, va - sp);
    return end < 0 ? null : bytes.subarray(va - sp, end);
  };
}
