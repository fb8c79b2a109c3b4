/**
 * The summary line CI reads (scripts/summary-reporter.ts), on a fixture run whose outcomes are known
 * (test/fixtures/summary/): vitest's own counts, plus one failure per error outside any test, each
 * named; and the notice for tests skipped because the corpus is absent.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { checkoutRoot } from './corpus.js';

const root = checkoutRoot();

/** Runs the fixture suite with VMSCOPE_CORPUS set to `corpus`; returns its output lines. */
function fixtureRun(corpus: string): string[] {
  let out: string;
  try {
    out = execFileSync(
      process.execPath,
      [
        join(root, 'node_modules/vitest/vitest.mjs'),
        'run',
        '--config',
        'test/fixtures/summary/vitest.config.ts',
      ],
      { cwd: root, env: { ...process.env, VMSCOPE_CORPUS: corpus, CI: '1' }, encoding: 'utf8' },
    );
  } catch (e) {
    out = (e as { stdout: string }).stdout; // the fixtures fail on purpose: exit status 1
  }
  return out.trimEnd().split('\n');
}

test('without the corpus: one notice, failures outside tests named and counted, the summary last', () => {
  const lines = fixtureRun('/nonexistent/corpus');
  expect(lines.slice(-5)).toEqual([
    'corpus not found at /nonexistent/corpus — 2 tests skipped; set VMSCOPE_CORPUS',
    '2 failures outside any test, counted as failed:',
    expect.stringMatching(/^ {2}test\/fixtures\/summary\/broken.fixture.ts: could not run: .*no-such-module/),
    '  test/fixtures/summary/outcomes.fixture.ts > a suite whose beforeAll throws: set-up failed',
    // vitest counts 1 failed, 1 passed, 4 skipped tests; the two errors above make 3 failed.
    '1 passed, 3 failed, 4 skipped',
  ]);
}, 30_000);

test('with a corpus: its tests run and no notice is printed', () => {
  const corpus = mkdtempSync(join(tmpdir(), 'vmscope-fake-corpus-'));
  writeFileSync(join(corpus, 'index.json'), '{}');
  const lines = fixtureRun(corpus);
  expect(lines.join('\n')).not.toContain('corpus not found');
  expect(lines.at(-1)).toBe('5 passed, 3 failed, 2 skipped');
}, 30_000);
