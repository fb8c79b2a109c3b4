/**
 * `#!` scripts, as Linux's binfmt_script runs them (fs/binfmt_script.c, and the loop in fs/exec.c
 * that hands the new file to the next format):
 *
 *   #!  /usr/bin/perl  -w -x  \n          only the first BINPRM_BUF_SIZE (256) bytes are read
 *       └ i_name ────┘ └ i_arg ┘          i_arg is ONE argument, the rest of the line (trimmed)
 *
 *   argv  [script, a1, a2]  ─►  [i_name, (i_arg), script, a1, a2]
 *
 * argv[0] is dropped and replaced by the interpreter's name, its optional argument, and the path the
 * script was run by (the path given to execve for the first script, the previous interpreter's name
 * for a nested one). The interpreter may itself be a script; Linux gives up with ELOOP after five.
 * AT_EXECFN and the process's name stay those of the path given to execve.
 *
 * What Linux refuses with ENOEXEC — nothing after `#!` but blanks, or an interpreter path that the
 * 256 bytes cut short (no newline, and no blank or NUL after the name) — is an InputError here, with
 * the offset; so is a chain of more than five scripts (ELOOP).
 */
import { InputError } from '../../base/errors.js';
import type { ExecFile, ExecFileSource } from './vfs.js';

/** sizeof(linux_binprm.buf): how much of a file the kernel reads to recognize it. */
export const BINPRM_BUF_SIZE = 256;
/** How many interpreter changes exec_binprm allows before ELOOP. */
export const MAX_SCRIPT_DEPTH = 5;

/** The interpreter a `#!` line names, and its optional argument. */
export interface ScriptLine {
  readonly interpreter: string;
  readonly arg: string | null;
}

const isBlank = (c: number | undefined) => c === 0x20 || c === 0x09;

/** True when `bytes` starts with `#!` (binfmt_script's whole test). */
export function isScript(bytes: Uint8Array): boolean {
  return bytes[0] === 0x23 && bytes[1] === 0x21;
}

/**
 * Parses the `#!` line of `bytes` (which starts with `#!`) exactly as load_script does.
 * @throws InputError (code `exec`, offset in `file`) where Linux returns ENOEXEC.
 */
export function parseScriptLine(bytes: Uint8Array, file: string): ScriptLine {
  // The kernel's buffer: the first 256 bytes, NUL-padded when the file is shorter.
  const buf = new Uint8Array(BINPRM_BUF_SIZE);
  buf.set(bytes.subarray(0, BINPRM_BUF_SIZE));
  const bufEnd = BINPRM_BUF_SIZE - 1;
  const noexec = (offset: number, why: string) =>
    new InputError('exec', `${why}; execve fails with ENOEXEC (exec format error)`, { file, offset });
  const nonBlank = (from: number, last: number) => {
    for (let i = from; i <= last; i++) if (!isBlank(buf[i])) return i;
    return -1;
  };
  const terminator = (from: number, last: number) => {
    for (let i = from; i <= last; i++) if (isBlank(buf[i]) || buf[i] === 0) return i;
    return -1;
  };
  let end = buf.indexOf(0x0a);
  if (end < 0) {
    end = nonBlank(2, bufEnd);
    if (end < 0) throw noexec(2, "the '#!' line names no interpreter (only blanks in its first 256 bytes)");
    if (terminator(end, bufEnd) < 0)
      throw noexec(end, "the '#!' line's interpreter path does not end within the first 256 bytes");
    end = bufEnd;
  }
  while (isBlank(buf[end - 1])) end--;
  const name = nonBlank(2, end);
  if (name < 0 || name === end) throw noexec(2, "the '#!' line names no interpreter");
  const sep = terminator(name, end);
  const nameEnd = sep < 0 || sep > end ? end : sep;
  let arg: string | null = null;
  if (sep >= 0 && sep < end && buf[sep] !== 0) {
    // As the kernel: the rest of the line up to a NUL; a NUL right away gives an empty argument.
    const at = nonBlank(sep, end);
    if (at >= 0) arg = latin1(buf.subarray(at, cString(buf, at, end)));
  }
  return { interpreter: latin1(buf.subarray(name, nameEnd)), arg };
}

/** Where a C string starting at `from` ends, at most at `end` (the kernel stops at a NUL). */
function cString(buf: Uint8Array, from: number, end: number): number {
  const nul = buf.subarray(from, end).indexOf(0);
  return nul < 0 ? end : from + nul;
}

/** Bytes as the kernel copies them: one char per byte (paths are bytes, not text). */
function latin1(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}

/** The file execve ends up loading, after following `#!` lines. */
export interface ResolvedExec {
  /** The file that is not a script (an ELF image, or whatever the loader will refuse). */
  readonly file: ExecFile;
  /** argv as binfmt_script rewrote it (as given when `path` is not a script). */
  readonly argv: readonly string[];
  /** The scripts followed, in order (empty when `path` is no script). */
  readonly scripts: readonly ExecFile[];
}

/**
 * Opens `path` and follows `#!` lines to the file that is loaded: the program by its path, each
 * interpreter as the process's root has it (`files.openInterpreter`). An empty argv counts as `[""]`
 * (Linux 5.18+). @throws InputError for a file that cannot be opened, a malformed `#!` line, or more
 * than {@link MAX_SCRIPT_DEPTH} scripts.
 */
export function resolveScripts(files: ExecFileSource, path: string, argv: readonly string[]): ResolvedExec {
  let file = files.openProgram(path);
  let args = argv.length === 0 ? [''] : [...argv];
  let runBy = path; // bprm->interp: what the script was run by
  const scripts: ExecFile[] = [];
  while (isScript(file.bytes)) {
    if (scripts.length === MAX_SCRIPT_DEPTH) {
      throw new InputError(
        'exec',
        `more than ${MAX_SCRIPT_DEPTH} '#!' scripts in a row (${[...scripts, file].map((s) => s.path).join(' → ')}); execve fails with ELOOP`,
        { file: file.path, offset: 0 },
      );
    }
    const line = parseScriptLine(file.bytes, file.path);
    args = [line.interpreter, ...(line.arg === null ? [] : [line.arg]), runBy, ...args.slice(1)];
    scripts.push(file);
    runBy = line.interpreter;
    file = files.openInterpreter(line.interpreter);
  }
  return { file, argv: args, scripts };
}
