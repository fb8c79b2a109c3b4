/**
 * Files the commands write (`--plot`, `--csv`): their paths are checked before any work
 * (`checkOutputPath`), and writing happens after the results are printed, so that a file that
 * cannot be written loses nothing but itself.
 */
import { accessSync, constants, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
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
  try {
    if (why === null && statSync(path).isDirectory()) why = `${path} is a folder`;
  } catch {
    // not there yet: it will be created
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
