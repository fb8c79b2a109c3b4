/**
 * Where the shared corpus is: `../shared/corpus` beside the checkout (as on every developer machine
 * and CI run), or VMSCOPE_CORPUS when set. Tests read it in place and never write to it.
 */
import { fileURLToPath } from 'node:url';

export const CORPUS: string =
  process.env['VMSCOPE_CORPUS'] ?? fileURLToPath(new URL('../../shared/corpus/', import.meta.url));

/** A path inside the corpus. */
export function corpusPath(...parts: string[]): string {
  return [CORPUS.replace(/\/$/, ''), ...parts].join('/');
}
