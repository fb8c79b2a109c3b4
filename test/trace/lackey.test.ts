/**
 * The valgrind lackey parser, and the page stream the replays take from it: against hand-written
 * lines, any chunking, malformed input, and the corpus's four real traces (whose page files were
 * derived independently from the same lackey output).
 */
import { createReadStream, readFileSync } from 'node:fs';
import { createGunzip, gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  LACKEY_INSTR,
  LACKEY_LOAD,
  LACKEY_MODIFY,
  LACKEY_STORE,
  type PageBatch,
} from '../../src/workload/trace/batch.js';
import { detectTraceFormat } from '../../src/workload/trace/detect.js';
import { LackeyParser } from '../../src/workload/trace/lackey.js';
import { LackeyPageSplitter } from '../../src/workload/trace/split.js';
import { corpusPath, describeCorpus, testCorpus } from '../corpus.js';
import { corpusPages } from '../reclaim/support.js';
import { collect, cut, encode, errorOf, parseLackey, type Record3 } from './support.js';

const SAMPLE = [
  '==12345== Lackey, an example Valgrind tool',
  '--12345-- a debug line',
  'I  04010173,3',
  ' L 1ffefffd48,8',
  ' S 7FF000,4',
  ' M 0421d2e8,16',
  '',
  'I\t0,1',
  '  L   ab,0  \r',
].join('\n');

describe('the lackey parser', () => {
  test("reads I, L, S and M records, skipping valgrind's own lines and blank lines", () => {
    const out: Record3[] = [];
    const q = new LackeyParser('t', collect(out));
    q.push(encode(SAMPLE));
    q.end();
    expect(out).toEqual([
      { kind: LACKEY_INSTR, address: 0x04010173, size: 3 },
      { kind: LACKEY_LOAD, address: 0x1ffefffd48, size: 8 },
      { kind: LACKEY_STORE, address: 0x7ff000, size: 4 },
      { kind: LACKEY_MODIFY, address: 0x0421d2e8, size: 16 },
      { kind: LACKEY_INSTR, address: 0, size: 1 },
      { kind: LACKEY_LOAD, address: 0xab, size: 0 },
    ]);
    expect([...q.counts]).toEqual([2, 2, 1, 1]);
    expect(q.skippedLines).toBe(3);
    expect(q.line).toBe(9);
  });

  test('emits the same records for any split of the input into chunks, and any batch size', () => {
    const recordArb = fc.tuple(
      fc.constantFrom('I  ', ' L ', ' S ', ' M ', 'I ', '\tS\t'),
      fc.oneof(fc.bigInt({ min: 0n, max: (1n << 53n) - 1n }), fc.bigInt({ min: 0n, max: 1n << 40n })),
      fc.nat(4096),
      fc.constantFrom('', '\r', '  '),
      // Zero-padded as lackey prints them (%08lx), or to other widths (up to 18 digits).
      fc.constantFrom(0, 8, 8, 8, 10, 15, 18),
    );
    const lineArb = fc.oneof(
      {
        weight: 8,
        arbitrary: recordArb.map(([k, a, s, end, width]) => ({
          text: `${k}${a.toString(16).padStart(width, '0')},${s}${end}`,
          rec: { k, a, s },
        })),
      },
      {
        weight: 1,
        arbitrary: fc.constantFrom('==1== x', '--2-- y', '', '   ').map((text) => ({ text, rec: null })),
      },
    );
    const kindOf = (k: string) =>
      ({ I: LACKEY_INSTR, L: LACKEY_LOAD, S: LACKEY_STORE, M: LACKEY_MODIFY })[k.trim() as 'I'];
    fc.assert(
      fc.property(
        fc.array(lineArb, { maxLength: 40 }),
        fc.boolean(),
        fc.array(fc.nat(800), { maxLength: 10 }),
        fc.integer({ min: 1, max: 7 }),
        (lines, finalNewline, offsets, batch) => {
          const bytes = encode(lines.map((l) => l.text).join('\n') + (finalNewline ? '\n' : ''));
          const want = lines.flatMap((l) =>
            l.rec ? [{ kind: kindOf(l.rec.k), address: Number(l.rec.a), size: l.rec.s }] : [],
          );
          expect(parseLackey([bytes])).toEqual(want);
          expect(parseLackey(cut(bytes, offsets), 't', batch)).toEqual(want);
        },
      ),
      { numRuns: 300 },
    );
  });

  test('names the file, line and column of a malformed line, and says what it expected', () => {
    const bad = (text: string, offsets: number[] = []) =>
      errorOf(() => parseLackey(cut(encode(text), offsets), 'x.lackey'));
    const ok = 'I  0401,3\n';
    expect(bad(`${ok}X 1234,4\n`)).toBe(
      "x.lackey:2:1: error: expected a lackey record ('I', 'L', 'S' or 'M', then an address and a size), found 'X'",
    );
    expect(bad(`${ok}${ok} L zz,3\n`, [3, 13])).toBe(
      "x.lackey:3:4: error: expected a hexadecimal address, found 'z'",
    );
    expect(bad(`${ok}IL 12,3\n`)).toBe("x.lackey:2:2: error: expected a space after 'I', found 'L'");
    expect(bad(' S 1234;3\n')).toBe("x.lackey:1:8: error: expected ',' after the address, found ';'");
    expect(bad(' S 0401z173,3\n')).toBe("x.lackey:1:8: error: expected ',' after the address, found 'z'");
    expect(bad('I  0401017,3\n')).toBeNull();
    expect(bad(' S 1234,\n')).toBe(
      "x.lackey:1:9: error: expected a decimal size after ',', found end of line",
    );
    expect(bad(' S 1234,3 junk\n')).toBe("x.lackey:1:11: error: unexpected 'j' after the size");
    expect(bad('I  20000000000000,1\n')).toBe(
      'x.lackey:1:4: error: address is 2^53 or more; vmscope replays addresses below 2^53',
    );
    expect(bad('I  1fffffffffffff,1')).toBeNull();
    expect(bad(' M 10,99999999999\n')).toBe(
      'x.lackey:1:7: error: access size 99999999999 is larger than any one instruction makes (at most 4096 bytes in a lackey record)',
    );
    expect(bad('=1= not a banner\n')).toMatch(/^x\.lackey:1:1: error: expected a lackey record/);
  });
});

describe('the page stream of a lackey trace', () => {
  /** Splits records with `pageSize`, as the replays do. */
  function split(records: string, pageSize = 4096, batch = 8192): { page: number; write: number }[] {
    const out: { page: number; write: number }[] = [];
    const s = new LackeyPageSplitter(
      pageSize,
      (b: PageBatch) => {
        for (let i = 0; i < b.count; i++) out.push({ page: b.page[i]!, write: b.write[i]! });
      },
      batch,
    );
    const p = new LackeyParser('t', (b) => s.push(b));
    p.push(encode(records));
    p.end();
    s.flush();
    return out;
  }

  test('I and L read, S writes, M reads then writes; an access across a boundary touches both pages', () => {
    expect(split('I  1000,4\n L 2ffc,8\n S 3000,1\n M 4ffe,4\n L 5000,0\n')).toEqual([
      { page: 1, write: 0 },
      { page: 2, write: 0 },
      { page: 3, write: 0 },
      { page: 3, write: 1 },
      { page: 4, write: 0 },
      { page: 5, write: 0 },
      { page: 4, write: 1 },
      { page: 5, write: 1 },
      { page: 5, write: 0 },
    ]);
    // 64-byte teaching pages.
    expect(split(' S 7e,4\n', 64)).toEqual([
      { page: 1, write: 1 },
      { page: 2, write: 1 },
    ]);
  });

  test('any batch size gives the same stream as a naive expansion', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('I ', ' L', ' S', ' M'), fc.nat(20_000), fc.nat(300)), {
          maxLength: 50,
        }),
        fc.integer({ min: 2, max: 9 }),
        (recs, batch) => {
          const text = recs.map(([k, a, s]) => `${k} ${a.toString(16)},${s}\n`).join('');
          const naive = recs.flatMap(([k, a, s]) => {
            const first = Math.floor(a / 256);
            const last = Math.floor((a + Math.max(s, 1) - 1) / 256);
            const pages = Array.from({ length: last - first + 1 }, (_, i) => first + i);
            const kind = k.trim();
            if (kind === 'M')
              return [
                ...pages.map((page) => ({ page, write: 0 })),
                ...pages.map((page) => ({ page, write: 1 })),
              ];
            return pages.map((page) => ({ page, write: kind === 'S' ? 1 : 0 }));
          });
          expect(split(text, 256, batch)).toEqual(naive);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describeCorpus.each(['memwalk', 'sort', 'gzip', 'python-dict'])('the corpus trace %s', (name) => {
  test('parses whole; its kinds, its first pages and its page-straddling accesses agree with the corpus', () => {
    const meta = JSON.parse(readFileSync(corpusPath('memtrace', `${name}.meta.json`), 'utf8')) as {
      kept: {
        counts: Record<'I' | 'L' | 'S' | 'M', number>;
        accesses: number;
        accesses_straddling_a_page_boundary: number;
      };
    };
    const pages = corpusPages('memtrace', `${name}.pages.gz`);
    const dpages = corpusPages('memtrace', `${name}.dpages.gz`);
    const text = gunzipSync(readFileSync(corpusPath('memtrace', `${name}.lackey.gz`)));
    let n = 0;
    let d = 0;
    let firstMismatch = -1;
    let dataMismatch = -1;
    const splitter = new LackeyPageSplitter(4096, () => {});
    const parser = new LackeyParser(`${name}.lackey`, (b) => {
      for (let i = 0; i < b.count; i++, n++) {
        const first = Math.floor(b.address[i]! / 4096);
        if (firstMismatch < 0 && pages[n] !== first) firstMismatch = n;
        if (b.kind[i] !== LACKEY_INSTR) {
          if (dataMismatch < 0 && dpages[d] !== first) dataMismatch = d;
          d++;
        }
      }
      splitter.push(b);
    });
    for (let i = 0; i < text.length; i += 65536) parser.push(text.subarray(i, i + 65536));
    parser.end();
    splitter.flush();
    expect([...parser.counts]).toEqual([
      meta.kept.counts.I,
      meta.kept.counts.L,
      meta.kept.counts.S,
      meta.kept.counts.M,
    ]);
    expect(n).toBe(meta.kept.accesses);
    expect(n).toBe(pages.length);
    expect(d).toBe(dpages.length);
    expect(firstMismatch).toBe(-1);
    expect(dataMismatch).toBe(-1);
    expect(splitter.straddling).toBe(meta.kept.accesses_straddling_a_page_boundary);
    // Every record gives a page access, M two, and a straddling one more per extra page.
    expect(splitter.pageAccesses).toBeGreaterThanOrEqual(n + meta.kept.counts.M + splitter.straddling);
    expect(detectTraceFormat(text.subarray(0, 4096))).toBe('lackey');
  });
});

testCorpus('streams a gzip trace from disk without reading it whole', async () => {
  const out: Record3[] = [];
  const parser = new LackeyParser('memwalk.lackey.gz', collect(out), 1024);
  let chunks = 0;
  const file = createReadStream(corpusPath('memtrace', 'memwalk.lackey.gz'));
  const gunzip = createGunzip();
  file.on('error', (e) => gunzip.destroy(e)); // pipe does not pass it on: the loop would wait forever
  for await (const chunk of file.pipe(gunzip)) {
    parser.push(chunk as Buffer);
    chunks++;
    out.length = 0; // keep nothing: the parser hands over batches as it goes
  }
  parser.end();
  expect(chunks).toBeGreaterThan(100);
  expect(parser.records).toBe(1_432_569);
});

test('auto-detection tells lackey from pages from neither', () => {
  expect(detectTraceFormat(encode('==1== Lackey\nI  0401,3\n'))).toBe('lackey');
  expect(detectTraceFormat(encode('\n19124\n19125\n'))).toBe('pages');
  expect(detectTraceFormat(encode('a 1 4 5\n'))).toBeNull();
  expect(detectTraceFormat(encode('==1== only a banner\n'))).toBeNull();
});

testCorpus('auto-detection reads the head of a corpus page trace as pages', () => {
  expect(
    detectTraceFormat(gunzipSync(readFileSync(corpusPath('memtrace', 'sort.pages.gz'))).subarray(0, 100)),
  ).toBe('pages');
});
