/**
 * Files the commands write (`--plot`, `--csv`): their paths are checked before any work
 * (`checkOutputPath`), and writing happens after the results are printed, so that a file that
 * cannot be written loses nothing but itself.
 */
import { accessSync, closeSync, constants, openSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { InputError } from '../base/errors.js';
import type { Io } from './io.js';

/**
 * Checks, before any work, that `path` can be written: its folder exists and is a folder, and the
 * path is not a folder. @throws InputError naming the flag.
 */
export function checkOutputPath(flag: string, path: string): void {
  const dir = dirname(resolve(path));
  let why: string | null = null;
  try {
    if (!statSync(dir).isDirectory()) why = `${dirname(path)} is not a folder`;
    else accessSync(dir, constants.W_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    why =
      code === 'ENOENT'
        ? `the folder ${dirname(path)} does not exist`
        : `cannot write in ${dirname(path)} (${code})`;
  }
  let existing: 'file' | 'other' | null = null;
  try {
    const st = statSync(path);
    if (st.isDirectory()) why = `${path} is a folder`;
    existing = st.isFile() ? 'file' : 'other';
  } catch {
    // not there yet: it will be created
  }
  // access(2) lets root write anywhere the mode bits say no, yet a file system may still refuse
  // (sysfs, procfs): a probe file made and removed beside the path says so before any work. A device
  // or pipe named as the output (/dev/stdout) is opened by the write itself, not probed.
  if (why === null && existing !== 'other') {
    const probe = join(dir, `.vmscope-probe-${process.pid}-${Math.random().toString(36).slice(2)}`);
    const code = (e: unknown) => (e as NodeJS.ErrnoException).code;
    try {
      closeSync(openSync(probe, 'wx'));
      unlinkSync(probe);
    } catch (e) {
      why = `cannot write in ${dirname(path)} (${code(e)})`;
    }
    try {
      if (why === null && existing === 'file') closeSync(openSync(path, 'r+'));
    } catch (e) {
      why = `it cannot be written (${code(e)})`;
    }
  }
  if (why !== null) throw new InputError('flag', `cannot write ${path}: ${why}`, { file: flag });
}

/**
 * Writes `text` to `path`. @returns false, after saying why on stderr, when it cannot (the caller
 * exits 2: the results are already printed).
 */
export function writeOutput(flag: string, path: string, text: string, io: Io): boolean {
  try {
    writeFileSync(path, text);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    io.err(`${new InputError('flag', `cannot write ${path} (${code})`, { file: flag }).format()}\n`);
    return false;
  }
}
