/**
 * Prints "N passed, N failed, N skipped" as the very last line of a test run, the summary CI
 * recognises. The counts are vitest's own per-test counts, plus one failure for each error that
 * belongs to no test (a test file that could not be loaded, a suite hook that threw, an unhandled
 * error): those are named on the lines just above, so the summary agrees with vitest's "Tests" line
 * and says what else it counted. Tests skipped because the corpus is absent (test/corpus.ts marks
 * them) get one notice line saying where it was looked for and how to point to it.
 */
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Reporter, SerializedError, TestModule } from 'vitest/node';

function firstLine(e: SerializedError | unknown): string {
  const message = (e as { message?: unknown })?.message;
  return String(typeof message === 'string' ? message : e).split('\n')[0]!;
}

export default class SummaryLineReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const outside: string[] = [];
    const corpusSkipped = new Map<string, number>();
    for (const mod of modules) {
      const file = relative(process.cwd(), mod.moduleId);
      for (const e of mod.errors()) outside.push(`${file}: could not run: ${firstLine(e)}`);
      // A suite whose beforeAll/afterAll threw leaves its tests skipped: the suite is the failure.
      for (const suite of mod.children.allSuites())
        for (const e of suite.errors()) outside.push(`${file} > ${suite.fullName}: ${firstLine(e)}`);
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed += 1;
        else if (state === 'failed') failed += 1;
        else if (state === 'skipped') {
          skipped += 1;
          const corpus = test.meta().corpus;
          if (corpus !== undefined && !existsSync(join(corpus, 'index.json')))
            corpusSkipped.set(corpus, (corpusSkipped.get(corpus) ?? 0) + 1);
        }
      }
    }
    for (const e of unhandledErrors) outside.push(`unhandled error: ${firstLine(e)}`);
    const lines: string[] = [];
    for (const [corpus, n] of corpusSkipped) {
      // As the user would type it from here (../shared/corpus beside a clone), else in full.
      const near = relative(process.cwd(), corpus);
      const shown = near === '' || near.startsWith('../..') ? corpus : near;
      lines.push(
        `corpus not found at ${shown} — ${n} ${n === 1 ? 'test' : 'tests'} skipped; set VMSCOPE_CORPUS`,
      );
    }
    if (outside.length > 0) {
      lines.push(
        `${outside.length} ${outside.length === 1 ? 'failure' : 'failures'} outside any test, counted as failed:`,
      );
      for (const o of outside) lines.push(`  ${o}`);
    }
    failed += outside.length;
    process.stdout.write(
      `\n${lines.map((l) => `${l}\n`).join('')}${passed} passed, ${failed} failed, ${skipped} skipped\n`,
    );
  }
}
