/**
 * How exec reaches files. The kernel layer cannot touch the host's disk (only src/cli imports
 * node:*), so whoever asks for an exec hands in a file source: the CLI's reads the host, resolving
 * the interpreter inside a sysroot as a chroot would; tests can hand in bytes directly.
 */
import { InputError } from '../../base/errors.js';

export interface ExecFile {
  /** The path as the process sees it (links resolved), shown in /proc/PID/maps. */
  readonly path: string;
  readonly bytes: Uint8Array;
}

export interface ExecFileSource {
  /** The program itself. @throws InputError naming the path when it cannot be read. */
  openProgram(path: string): ExecFile;
  /** The interpreter named by PT_INTERP. @throws InputError naming the path when it is missing. */
  openInterpreter(path: string): ExecFile;
}

/** A source over files held in memory, keyed by path (tests, the browser). */
export function memoryFileSource(files: ReadonlyMap<string, Uint8Array>): ExecFileSource {
  const open = (path: string, what: string): ExecFile => {
    const bytes = files.get(path);
    if (bytes === undefined) throw new InputError('exec', `no such ${what}`, { file: path });
    return { path, bytes };
  };
  return { openProgram: (p) => open(p, 'program'), openInterpreter: (p) => open(p, 'interpreter') };
}
