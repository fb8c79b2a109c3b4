/**
 * The host's files for exec: the program by its host path, the interpreter inside a sysroot, with
 * symbolic links resolved as a chroot would (an absolute link target starts again at the sysroot).
 *
 * A sysroot checked out by git without symlink support holds each link as a small text file whose
 * content is the target; such "link files" are followed like links (an ELF file never looks like one).
 */
import { lstatSync, readFileSync, readlinkSync, realpathSync, type Stats, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { chrootWalk } from '../base/chroot-walk.js';
import { InputError } from '../base/errors.js';
import type { ExecFile, ExecFileSource } from '../kernel/exec/vfs.js';

/** What a file that is not a regular one is, in words. */
function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * Reads a file exec will load. Only a regular file is read at all: execve refuses anything else
 * with EACCES (do_open_execat's S_ISREG check), and reading a FIFO or a device could wait forever.
 */
function readHost(hostPath: string, shown: string, what: string): Uint8Array {
  try {
    const st = statSync(hostPath);
    if (!st.isFile())
      throw new InputError('exec', `the ${what} is ${kindOf(st)}, not a regular file (execve: EACCES)`, {
        file: shown,
      });
    return new Uint8Array(readFileSync(hostPath));
  } catch (e) {
    if (e instanceof InputError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(
      'exec',
      code === 'ENOENT' ? `no such ${what}` : `cannot read the ${what} (${code})`,
      { file: shown },
    );
  }
}

/**
 * Resolves `path` inside `root` like a chroot: every component may be a link; absolute targets are
 * taken from `root`. @returns the path as seen inside the root (`/usr/lib/…`).
 */
export function resolveInRoot(root: string, path: string): string {
  const inside = chrootWalk(path, (p) => linkTarget(resolve(root, `.${p}`)) ?? undefined);
  if (inside === null) throw new InputError('exec', 'too many levels of symbolic links', { file: path });
  return inside;
}

/** The target of a symbolic link or of a git "link file", or null for anything else. */
function linkTarget(hostPath: string): string | null {
  try {
    const st = lstatSync(hostPath);
    if (st.isSymbolicLink()) return readlinkSync(hostPath);
    if (!st.isFile() || st.size === 0 || st.size > 1024) return null;
    const text = readFileSync(hostPath, 'latin1');
    return /^[^\0\n\r]+$/.test(text) && !text.startsWith('\x7fELF') && text.includes('/') ? text : null;
  } catch {
    return null;
  }
}

/**
 * Files from the host: the program by its host path (relative to `baseDir`, default the working
 * directory); the interpreter inside `sysroot` (default `/`).
 */
export function hostFileSource(sysroot = '/', baseDir = '.'): ExecFileSource {
  const root = resolve(sysroot);
  return {
    openProgram(path: string): ExecFile {
      const host = resolve(baseDir, path);
      const bytes = readHost(host, path, 'program');
      let shown: string;
      try {
        shown = realpathSync(host);
      } catch {
        shown = host;
      }
      return { path: shown, bytes };
    },
    openInterpreter(path: string): ExecFile {
      const inside = resolveInRoot(root, path);
      const shownFile = root === '/' ? inside : `${root}${inside}`;
      const bytes = readHost(resolve(root, `.${inside}`), shownFile, `interpreter ${path} under ${root}`);
      return { path: inside, bytes };
    },
  };
}
