/**
 * OSTEP's virtual-memory homework scripts, emulated byte for byte (`vmscope ostep SCRIPT ARGS`).
 * Look a script up by its name, its file name or its path in ostep-homework.
 */
import type { Script } from './script.js';
import { linearTranslate } from './scripts/linear.js';
import { mallocScript } from './scripts/malloc.js';
import { multilevel } from './scripts/multilevel.js';
import { pagingPolicy } from './scripts/policy.js';
import { relocation } from './scripts/relocation.js';
import { segmentation } from './scripts/segmentation.js';

export { type Host, type RunOptions, runScript, type Script, type Sink } from './script.js';

/** Every emulated script, in the order of OSTEP's chapters. */
export const SCRIPTS: readonly Script[] = [
  relocation,
  segmentation,
  linearTranslate,
  multilevel,
  pagingPolicy,
  mallocScript,
];

/** The script called `name` (`paging-policy`, `paging-policy.py`, `vm-beyondphys-policy/paging-policy.py`), or null. */
export function findScript(name: string): Script | null {
  const base = name.slice(name.lastIndexOf('/') + 1).replace(/\.py$/, '');
  return SCRIPTS.find((s) => s.name === base) ?? null;
}
