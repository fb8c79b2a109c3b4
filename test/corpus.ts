/**
 * The corpus for tests (where it is: corpus-path.ts). A clone of the repository alone has no corpus,
 * and its `npm test` must still pass: every test that reads the corpus is declared through this file —
 *
 *   describeCorpus('exec %s as the kernel did', () => { … })    a block of corpus tests
 *   testCorpus('replays sort.lackey.gz', () => { … })            one corpus test
 *   describeCorpus.each(CASES)('%s', (name) => { … })            one block per corpus case
 *   const CASES = fromCorpus(() => readdirSync(corpusPath('elf')), [])
 *                                       data read while tests are collected (test.each lists)
 *
 * — so that without the corpus those tests are skipped and counted in one notice before the summary
 * line (the reporter finds them by their `corpus` meta), instead of failing on a missing file. Without
 * the corpus a `describeCorpus` block (or a `.each`) stands as one skipped test and its body never
 * runs, so it may read the corpus while collecting; only reads at the top of a module need
 * `fromCorpus`, which gives a stand-in value (`[]` will do for a `.each` list) when the corpus is absent.
 */
import { describe, test } from 'vitest';
import { CORPUS, hasCorpus } from './corpus-path.js';

export { CORPUS, checkoutRoot, corpusPath, fromCorpus, hasCorpus } from './corpus-path.js';

declare module 'vitest' {
  interface TaskMeta {
    /** Set on tests that read the corpus: where it was looked for. */
    corpus?: string;
  }
}

const options = { meta: { corpus: CORPUS } };

/** The arguments `.each` passes for a row: an array row is spread, anything else is passed alone. */
type EachArgs<T> = T extends readonly unknown[] ? T : [T];

function withTimeout(timeout: number | undefined) {
  return timeout === undefined ? options : { ...options, timeout };
}

/**
 * Without the corpus, a corpus block is one skipped test in its place: its body (which may read the
 * corpus while collecting) never runs.
 */
function absentBlock(name: string): void {
  describe(name.replaceAll('%s', '…'), options, () => {
    test.skip('needs the corpus', () => {});
  });
}

/** `describe` for tests that read the corpus; without it, one skipped test (counted in the notice). */
export const describeCorpus = Object.assign(
  (name: string, fn: () => void): void => {
    if (hasCorpus) describe(name, options, fn);
    else absentBlock(name);
  },
  {
    /** `describe.each`, for a block per corpus case. */
    each:
      <T>(cases: readonly T[]) =>
      (name: string, fn: (...args: EachArgs<T>) => void): void => {
        if (hasCorpus) describe.each(cases as T[])(name, options, fn as (...args: unknown[]) => void);
        else absentBlock(name);
      },
  },
);

/** `test` for one test that reads the corpus; skipped without it (and counted in the notice). */
export const testCorpus = Object.assign(
  (name: string, fn: () => unknown, timeout?: number): void => {
    test.skipIf(!hasCorpus)(name, withTimeout(timeout), fn as () => void);
  },
  {
    /** `test.each` over corpus cases; one skipped test without the corpus. */
    each:
      <T>(cases: readonly T[]) =>
      (name: string, fn: (...args: EachArgs<T>) => unknown, timeout?: number): void => {
        if (hasCorpus)
          test.each(cases as T[])(name, withTimeout(timeout), fn as (...args: unknown[]) => void);
        else test.skip(name.replaceAll('%s', '…'), options, () => {});
      },
  },
);
