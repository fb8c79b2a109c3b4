/**
 * The trace formats from the command line: --format and --csv in replay and mrc, the format named in
 * the output, and errors for a file whose format cannot be told or contradicts the flags.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { run } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'vmscope-formats-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

// The same page stream, 1 2 3 1 4 1 2 (page 2 written), in four formats.
const pages = [1, 2, 3, 1, 4, 1, 2];
const traces = {
  din: file('t.din', `${pages.map((p, i) => `${i === 1 ? 1 : 0} ${(p * 4096).toString(16)}`).join('\n')}\n`),
  msr: file(
    't.msr',
    `${pages.map((p, i) => `${i},h,0,${i === 1 ? 'Write' : 'Read'},${p * 4096},4096,1`).join('\n')}\n`,
  ),
  csv: file(
    't.csv',
    `when;what\n${pages.map((p, i) => `${i}\t${p * 8}\t${i === 1 ? 'W' : 'R'}`).join('\n')}\n`,
  ),
  txt: file('t.txt', `${pages.map((p) => `key${p}`).join('\n')}\n`),
};

describe('replay and mrc read every text format', () => {
  test.each([
    ['din', traces.din, []],
    ['msr', traces.msr, []],
    ['csv', traces.csv, ['--csv', 'time,lba,op']],
    ['txt', traces.txt, []],
  ] as const)(
    '%s: told by content (or --csv), reported, and replayed as the same stream',
    async (format, trace, extra) => {
      const r = await run(
        'replay',
        '--policy-only',
        '--policy',
        'fifo',
        '--frames',
        '3',
        '--json',
        ...extra,
        trace,
      );
      expect(r.err).toBe('');
      const doc = JSON.parse(r.out);
      expect(doc.processes[0].format).toBe(format);
      expect([doc.accesses, doc.faults]).toEqual([7, 6]);
      const m = await run('mrc', '--policies', 'fifo,lru', '--frames', '3', '--json', ...extra, trace);
      expect(JSON.parse(m.out).format).toBe(format);
      expect(JSON.parse(m.out).curves.map((c: { faults: number[] }) => c.faults[0])).toEqual([6, 5]);
    },
  );

  test('the full system replays din addresses as addresses', async () => {
    const r = await run('replay', '--frames', '3', '--policy', 'fifo', '--json', traces.din);
    expect(r.err).toBe('');
    expect(JSON.parse(r.out).faults).toBe(6);
  });
});

describe('errors', () => {
  test('a CSV whose columns are not named', async () => {
    const r = await run('replay', '--policy-only', traces.csv);
    expect(r.status).toBe(2);
    expect(r.err).toMatch(
      /t\.csv:1: error: cannot tell its format: it looks like CSV; name its columns with --csv/,
    );
  });

  test('--csv against another --format, a bad column list, or an output file', async () => {
    expect((await run('replay', '--format', 'din', '--csv', 'addr', traces.din)).err).toMatch(
      /^--csv: error: --csv names CSV columns, but --format is din/,
    );
    expect((await run('replay', '--csv', 'adr,op', traces.csv)).err).toMatch(/did you mean 'addr'/);
    expect((await run('mrc', '--csv', 'out.csv', traces.csv)).err).toMatch(
      /--csv names the columns of a CSV trace.*mrc writes its table with --table FILE/,
    );
  });

  test('a bad line names the file, the line and the column', async () => {
    const bad = file('bad.din', '0 10\n1 20\n9 30\n');
    const r = await run('replay', '--policy-only', '--format', 'din', bad);
    expect(r.status).toBe(2);
    expect(r.err).toMatch(/bad\.din:3:1: error: expected a Dinero label/);
  });
});
