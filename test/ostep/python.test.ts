/**
 * The Python behaviour the emulated scripts depend on, checked without the corpus. The expected
 * strings are what CPython 3.11 prints for the same calls (each was run once to write them down).
 */
import { describe, expect, test } from 'vitest';
import { findScript } from '../../src/ostep/index.js';
import { parseOptparseInt, wrap } from '../../src/ostep/optparse.js';
import { formatFixed, parsePyInt, pyFormat, pyRepr } from '../../src/ostep/python.js';
import { runScript } from '../../src/ostep/script.js';

function run(argv: string[], files: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const [name, ...args] = argv;
  const status = runScript(
    findScript(name!)!,
    args,
    { columns: 80, readText: (p) => files[p] ?? { errno: 'ENOENT' } },
    { out: (t) => (stdout += t), err: (t) => (stderr += t) },
  );
  return { status, stdout, stderr };
}

describe('Python values', () => {
  test("optparse reads ints in its radixes: 0x hex, 0b binary, a leading 0 octal; int() doesn't", () => {
    expect(parseOptparseInt('0x1f')).toBe(31n);
    expect(parseOptparseInt('0b101')).toBe(5n);
    expect(parseOptparseInt('010')).toBe(8n);
    expect(parseOptparseInt('08')).toBeNull();
    expect(parseOptparseInt('-10')).toBe(-10n);
    expect(parseOptparseInt(' 1_000 ')).toBe(1000n);
    expect(parsePyInt('007')).toBe(7n);
    expect(parsePyInt('1__0')).toBeNull();
    expect(parsePyInt('99999999999999999999999')).toBe(99999999999999999999999n);
  });

  test('% formats negatives, widths and zero padding as Python does', () => {
    expect(pyFormat('%8d|%-5d|%05d|%x|%08x', -5, 3, -42, -255, -1)).toBe('      -5|3    |-0042|-ff|-0000001');
    expect(pyFormat('%12s <-', '[1, 2]')).toBe('      [1, 2] <-');
  });

  test('%.2f rounds an exact tie to even (0.125 -> 0.12, 12.125 -> 12.12), where toFixed rounds up', () => {
    expect(formatFixed(0.125, 2)).toBe('0.12');
    expect(formatFixed(12.125, 2)).toBe('12.12');
    expect(formatFixed(0.375, 2)).toBe('0.38');
    expect(formatFixed(91.1234, 2)).toBe('91.12');
    expect(formatFixed(2 / 3, 2)).toBe('0.67');
  });

  test("repr picks its quotes and escapes as Python's", () => {
    expect(pyRepr('abc')).toBe("'abc'");
    expect(pyRepr("it's")).toBe('"it\'s"');
    expect(pyRepr('12\n')).toBe("'12\\n'");
  });

  test("textwrap breaks after a hyphen inside a word, as optparse's help does", () => {
    expect(wrap('list order (ADDRSORT, SIZESORT+, SIZESORT-, INSERT-FRONT, INSERT-BACK)', 54)).toEqual([
      'list order (ADDRSORT, SIZESORT+, SIZESORT-, INSERT-',
      'FRONT, INSERT-BACK)',
    ]);
  });
});

describe('how the scripts fail', () => {
  test('an ambiguous long option is an optparse error: usage and message on stderr, status 2', () => {
    const r = run(['paging-policy', '--c']);
    expect(r).toEqual({
      status: 2,
      stdout: '',
      stderr:
        'Usage: paging-policy.py [options]\n\npaging-policy.py: error: ambiguous option: --c (--cachesize, --clockbits, --compute?)\n',
    });
    expect(run(['relocation', '-s', 'x']).stderr).toContain(
      "relocation.py: error: option -s: invalid integer value: 'x'",
    );
  });

  test('an uncaught exception ends with status 1 and its last traceback line, after what was printed', () => {
    const zero = run(['paging-policy', '-C', '0', '-c', '-a', '1,2']);
    expect(zero.status).toBe(1);
    expect(zero.stderr).toBe('IndexError: pop from empty list\n');
    expect(zero.stdout.endsWith('Solving...\n\n')).toBe(true);
    const bad = run(['paging-policy', '-c', '-a', '1,x,3', '-p', 'OPT', '-C', '1']);
    expect(bad.stderr).toBe("ValueError: invalid literal for int() with base 10: 'x'\n");
    expect(bad.stdout).toContain('Access: 1  MISS');
    expect(run(['malloc', '-A', '+3,y', '-c']).stderr).toBe("NameError: name 'abort' is not defined\n");
    expect(run(['paging-multilevel-translate', '-a', '200']).stderr).toBe('AssertionError\n');
    expect(run(['paging-linear-translate', '-P', '0', '-c']).stderr).toBe(
      'ZeroDivisionError: float division by zero\n',
    );
    expect(run(['paging-policy', '-f', 'nope.txt', '-c']).stderr).toBe(
      "FileNotFoundError: [Errno 2] No such file or directory: 'nope.txt'\n",
    );
  });

  test('a bad line in an address file is named as int() names it, newline and all', () => {
    const r = run(['paging-policy', '-f', 'refs', '-c'], { refs: '1\n2\n\n3\n' });
    expect(r.stderr).toBe("ValueError: invalid literal for int() with base 10: '\\n'\n");
  });

  test('where the script would loop forever, vmscope stops with status 2 and says why', () => {
    const r = run(['relocation', '-s', '3', '-c', '-l', '20000']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('relocation.py would loop forever here: no base fits a limit of 20000');
    const seg = run(['segmentation', '-a', '1k', '-p', '3k', '-b', '0', '-l', '500', '-L', '2600']);
    expect(seg.status).toBe(2);
    expect(seg.stderr).toContain('no base1 for a limit of 2600 avoids segment 0');
  });

  test('a cache of more pages than the trace has, or a negative one, never evicts', () => {
    for (const size of ['100', '-1']) {
      const r = run(['paging-policy', '-a', '1,2,3,1,4', '-C', size, '-c', '-p', 'LRU']);
      expect(r.stdout).toContain('FINALSTATS hits 1   misses 4   hitrate 20.00');
      expect(r.stdout).not.toMatch(/Replaced:\d/);
    }
  });
});
