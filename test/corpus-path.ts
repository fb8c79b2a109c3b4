/**
 * Where the shared corpus is: `../shared/corpus` beside the checkout (as on every developer machine
 * and CI run), or VMSCOPE_CORPUS when set. Tests and benchmarks read it in place and never write to
 * it. The checkout is found by walking up from this file to vmscope's package.json, so the same code
 * works from test/ and from a compiled copy (dist-bench/test/). No vitest here: the benchmarks use it.
 * Tests use test/corpus.ts, which adds the helpers that skip tests when the corpus is absent.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The vmscope checkout this file belongs to (also from a compiled copy of it). */
export function checkoutRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === 'vmscope') return dir;
    const up = dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}

export const CORPUS: string = process.env['VMSCOPE_CORPUS'] ?? join(checkoutRoot(), '..', 'shared', 'corpus');

/** True when the corpus is there (its index is the file every copy of it has). */
export const hasCorpus: boolean = existsSync(join(CORPUS, 'index.json'));

/** A path inside the corpus. */
export function corpusPath(...parts: string[]): string {
  return join(CORPUS, ...parts);
}

/**
 * A value read from the corpus while tests are collected (outside any test body): `read()` when the
 * corpus is there, `absent` otherwise (the tests using it are skipped, so `absent` is never checked).
 */
export function fromCorpus<T>(read: () => T, absent: T): T {
  return hasCorpus ? read() : absent;
}
