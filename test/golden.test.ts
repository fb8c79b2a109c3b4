/**
 * The narrated logs of the bundled examples, compared exactly with the files in test/golden/.
 * Regenerate them on purpose with `UPDATE_GOLDEN=1 npx vitest run test/golden.test.ts` and review
 * the diff: a change here is a change in what users read.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, test } from 'vitest';
import { bufferIo } from '../src/cli/io.js';
import { runScenarioFile } from '../src/cli/run.js';
import { exampleFiles } from '../src/cli/tour.js';

const update = process.env['UPDATE_GOLDEN'] === '1';

describe('golden output of the examples', () => {
  test.each(exampleFiles().map((f) => [basename(f), f]))('%s', async (name, file) => {
    const io = bufferIo();
    expect(await runScenarioFile(file, {}, io)).toBe(0);
    // The path in the summary line depends on the checkout; keep only the file name.
    const text = io.stdout.replaceAll(file, name);
    const golden = new URL(`./golden/${name.replace(/\.vms$/, '.txt')}`, import.meta.url);
    if (update) writeFileSync(golden, text);
    // A missing golden file fails: writing it here would make a new example pass unreviewed.
    expect(
      existsSync(golden),
      `no golden file ${golden.pathname}; make it with UPDATE_GOLDEN=1 and review it`,
    ).toBe(true);
    expect(text).toBe(readFileSync(golden, 'utf8'));
  });
});
