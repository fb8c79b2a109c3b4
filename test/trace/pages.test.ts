/** The plain page-number trace parser: one decimal page id per line, pushed in arbitrary chunks. */

import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { MAX_LINE_BYTES } from '../../src/workload/trace/lines.js';
import { PagesParser } from '../../src/workload/trace/pages.js';
import { corpusPath, testCorpus } from '../corpus.js';
import { cut, encode, errorOf, parsePages } from './support.js';

describe('the pages parser', () => {
  test('reads one page id per line: 0 is a page, blanks and CRLF are fine, the last newline optional', () => {
    expect(parsePages([encode('0\n1\n  42 \r\n\n\t7\n9007199254740991')])).toEqual([
      0,
      1,
      42,
      7,
      2 ** 53 - 1,
    ]);
    expect(parsePages([encode('')])).toEqual([]);
    expect(parsePages([encode('\n\n')])).toEqual([]);
  });

  test('emits the same pages for any split of the input into chunks, empty ones included', () => {
    const lineArb = fc.oneof(
      fc.nat().map(String),
      fc.constantFrom('', ' ', '\t'),
      fc
        .tuple(fc.constantFrom('', ' ', '\t'), fc.nat(), fc.constantFrom('', ' ', '\t', '\r', ' \r'))
        .map(([before, n, after]) => `${before}${n}${after}`),
    );
    fc.assert(
      fc.property(
        fc.array(lineArb, { maxLength: 60 }),
        fc.boolean(),
        fc.array(fc.nat(400), { maxLength: 12 }),
        fc.integer({ min: 1, max: 10 }),
        (lines, finalNewline, offsets, batch) => {
          const text = lines.join('\n') + (finalNewline ? '\n' : '');
          const bytes = encode(text);
          const want = lines
            .map((l) => l.trim())
            .filter((l) => l !== '')
            .map(Number);
          expect(parsePages([bytes])).toEqual(want);
          expect(parsePages(cut(bytes, offsets), 't', batch)).toEqual(want);
          expect(parsePages([...bytes].map((b) => Uint8Array.of(b)))).toEqual(want);
        },
      ),
      { numRuns: 300 },
    );
  });

  test('names the file, line and column of a malformed line, and says what it expected', () => {
    const bad = (text: string, offsets: number[] = []) =>
      errorOf(() => parsePages(cut(encode(text), offsets), 'w1.txt'));
    expect(bad('1\n2\n12a\n4\n')).toBe("w1.txt:3:3: error: unexpected 'a' after the page number");
    expect(bad('1\n2\n12a\n4\n', [5, 6])).toBe("w1.txt:3:3: error: unexpected 'a' after the page number");
    expect(bad('5\n-3\n')).toBe("w1.txt:2:1: error: expected a decimal page number, found '-'");
    expect(bad('5\n\n 0x10\n')).toBe("w1.txt:3:3: error: unexpected 'x' after the page number");
    expect(bad('1 2\n')).toBe("w1.txt:1:3: error: unexpected '2' after the page number");
    expect(bad('99999999999999999999\n')).toBe('w1.txt:1:1: error: page number is 2^53 or more');
    expect(bad('7\n8\n9')).toBeNull();
    expect(bad('7\n8\n9x')).toBe("w1.txt:3:2: error: unexpected 'x' after the page number");
    expect(bad('1\n\u00e9\n')).toBe('w1.txt:2:1: error: expected a decimal page number, found byte 0xc3');
    const long = errorOf(() => {
      const p = new PagesParser('bin', () => {});
      p.push(encode('1\n'));
      for (let i = 0; i < 3; i++) p.push(new Uint8Array(MAX_LINE_BYTES / 2).fill(0x31));
    });
    expect(long).toBe(`bin:2:1: error: line is longer than ${MAX_LINE_BYTES} bytes (is this a text trace?)`);
  });

  testCorpus("reads OSTEP's trace windows and counts what it read", () => {
    const bytes = readFileSync(corpusPath('reference', 'paging-policy', 'traces', 'memwalk-dpages-w1.txt'));
    const pages: number[] = [];
    const p = new PagesParser('w1', (b) => pages.push(...b.page.subarray(0, b.count)));
    p.push(bytes);
    p.end();
    expect(pages).toHaveLength(2000);
    expect(pages.slice(0, 3)).toEqual([19124, 19125, 19126]);
    expect(p.records).toBe(2000);
    expect(p.line).toBe(2000);
    expect(p.bytes).toBe(bytes.length);
  });
});
