/**
 * The text formats beside lackey and page lists: Dinero din, CSV with named columns, MSR Cambridge
 * and libCacheSim txt. Each has a small fixture written here, its errors (line, column, what was
 * expected), a chunk-boundary property, detection by content, and a case derived from a corpus
 * trace whose page stream is known exactly.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { LACKEY_LOAD, LACKEY_MODIFY, LACKEY_STORE } from '../../src/workload/trace/batch.js';
import { CsvParser, MSR_SPEC, parseCsvSpec } from '../../src/workload/trace/csv.js';
import { detectTraceFormat } from '../../src/workload/trace/detect.js';
import { LackeyParser } from '../../src/workload/trace/lackey.js';
import { LackeyPageSplitter } from '../../src/workload/trace/split.js';
import {
  createTextParser,
  type TextFormat,
  type TextFormatOptions,
} from '../../src/workload/trace/text-formats.js';
import { corpusPath, testCorpus } from '../corpus.js';
import { corpusPages } from '../reclaim/support.js';
import { collect, cut, encode, errorOf, type Record3 } from './support.js';

/** The page accesses a text parser emits for `chunks`, as [page, write] pairs. */
function parse(
  format: TextFormat,
  chunks: readonly Uint8Array[],
  options: TextFormatOptions = {},
  pageSize = 4096,
): [number, number][] {
  const out: [number, number][] = [];
  const p = createTextParser(format, `t.${format}`, pageSize, options, (b) => {
    for (let i = 0; i < b.count; i++) out.push([b.page[i]!, b.write[i]!]);
  });
  for (const c of chunks) p.push(c);
  p.end();
  return out;
}
const one = (format: TextFormat, text: string, options: TextFormatOptions = {}, pageSize = 4096) =>
  parse(format, [encode(text)], options, pageSize);
const csv = (spec: string) => ({ csv: parseCsvSpec(spec) });

describe('Dinero din', () => {
  test('labels 0 read, 1 write, 2 fetch, 3 unknown (a read); 4 flushes; the rest of a line is ignored', () => {
    const text = '2 0\n0 1000\n\n0 70f60888\n2 2cb5\n1 70f60890 a comment\n3 1fff\n4 0\n1 0x2000\n';
    expect(one('din', text)).toEqual([
      [0, 0],
      [1, 0],
      [0x70f60, 0],
      [2, 0],
      [0x70f60, 1],
      [1, 0],
      [2, 1],
    ]);
    const p = createTextParser('din', 'x.din', 4096, {}, () => {});
    p.push(encode(text));
    p.end();
    expect(p.records).toBe(7);
    expect(p.skippedLines).toBe(2); // the blank line and the flush
  });

  test('errors name the line, the column and what was expected', () => {
    expect(errorOf(() => one('din', '0 10\n7 20\n'))).toBe(
      "t.din:2:1: error: expected a Dinero label (0 read, 1 write, 2 fetch, 3 unknown, 4 flush), found '7'",
    );
    expect(errorOf(() => one('din', '0 10\n  1 zz\n'))).toBe(
      "t.din:2:5: error: expected a hexadecimal address, found 'zz'",
    );
    expect(errorOf(() => one('din', '1\n'))).toBe(
      't.din:1:2: error: expected a hexadecimal address after the label',
    );
  });
});

describe('CSV with named columns', () => {
  test('addr,size,op: a request covers the pages its bytes touch; a header is skipped', () => {
    const text = 'time,addr,size,op\n1,0,4096,R\n2,4095,2,W\n3,0x3000,8192,write\n4,100,0,read\n';
    expect(one('csv', text, csv('time,addr,size,op'))).toEqual([
      [0, 0],
      [0, 1],
      [1, 1],
      [3, 1],
      [4, 1],
      [0, 0],
    ]);
  });

  test('tabs or blanks instead of commas, told by the first line; quotes around a field are dropped', () => {
    expect(one('csv', '8192\tw\n"4096"\tr\n', csv('addr,op'))).toEqual([
      [2, 1],
      [1, 0],
    ]);
    expect(one('csv', '  8192   w  extra\n4096 r\n', csv('addr,op'))).toEqual([
      [2, 1],
      [1, 0],
    ]);
  });

  test('lba counts 512-byte sectors; page numbers cover ceil(size / page) pages; SCSI opcodes', () => {
    expect(one('csv', '8,512,28\n8,4096,2a\n', csv('lba,size,op'))).toEqual([
      [1, 0],
      [1, 1],
    ]);
    expect(one('csv', '10,9000\n', csv('page,size'))).toEqual([
      [10, 0],
      [11, 0],
      [12, 0],
    ]);
  });

  test('objects: each covers ceil(size / page) pages of its own space, numbered as first seen', () => {
    const text = 'get,key-a,5000\nset,key-b,100\nget,key-a,5000\ndelete,key-a,0\nget,key-b,100\n';
    expect(one('csv', text, csv('op,obj,size'))).toEqual([
      [0, 0],
      [1, 0],
      [2, 1],
      [0, 0],
      [1, 0],
      [2, 0],
    ]);
  });

  test('disk columns give every disk its own pages', () => {
    const text = 'h1,0,4096\nh1,1,4096\nh2,0,4096\nh1,0,4096\n';
    expect(one('csv', text, csv('disk,disk,addr')).map(([p]) => p)).toEqual([
      1,
      2 ** 32 + 1,
      2 * 2 ** 32 + 1,
      1,
    ]);
  });

  test('bad specs are flag errors with a suggestion', () => {
    expect(errorOf(() => parseCsvSpec('time,adr,op'))).toBe(
      "--csv: error: column 2 of 'time,adr,op': unknown column name 'adr'; expected addr, lba, page, obj, size, op, disk, time or - (ignored) (did you mean 'addr'?)",
    );
    expect(errorOf(() => parseCsvSpec('time,op'))).toMatch(/must name exactly one of addr, lba, page or obj/);
    expect(errorOf(() => parseCsvSpec('addr,page'))).toMatch(/exactly one of/);
    expect(errorOf(() => parseCsvSpec('op,addr,op'))).toMatch(/names the op column twice/);
    expect(errorOf(() => one('csv', '1,2\n', {}))).toMatch(/CSV traces need their columns named: --csv/);
  });

  test('bad lines: the line, the column and what was expected', () => {
    const spec = csv('time,addr,size,op');
    expect(errorOf(() => one('csv', '1,4096,8,R\n2,4096,8,X\n', spec))).toBe(
      "t.csv:2:10: error: expected an operation in column 4 (read or write: R, W, get, set, …), found 'X'",
    );
    expect(errorOf(() => one('csv', '1,4096,8,R\n2,zz,8,R\n', spec))).toBe(
      "t.csv:2:3: error: expected an address in column 2 (decimal, or hexadecimal with 0x), found 'zz'",
    );
    expect(errorOf(() => one('csv', '1,4096,8,R\n2,4096\n', spec))).toBe(
      't.csv:2:7: error: expected 4 comma-separated fields (time,addr,size,op), found 2',
    );
    expect(errorOf(() => one('csv', '1,0,99999999999,R\n', spec))).toMatch(
      /^t\.csv:1:5: error: a request of 24,414,063 pages \(more than 1,048,576\): is column 3 a size in bytes\?/,
    );
  });
});

describe('MSR Cambridge', () => {
  const rows = [
    '128166372003061629,wdev,0,Read,8087302144,4096,3614',
    '128166372016382155,wdev,0,Write,1006899200,16384,5018',
    '128166372026382245,wdev,1,Read,8087302144,512,3614',
    '128166372026382245,hm,0,Read,8087302144,512,3614',
  ];

  test('a request covers ceil(size / page) pages of its disk (hostname and disk number)', () => {
    const pages = one('msr', `${rows.join('\n')}\n`);
    const at = 8087302144 / 4096;
    expect(pages).toEqual([
      [at, 0],
      [1006899200 / 4096, 1],
      [1006899200 / 4096 + 1, 1],
      [1006899200 / 4096 + 2, 1],
      [1006899200 / 4096 + 3, 1],
      [2 ** 32 + Math.floor(at), 0],
      [2 * 2 ** 32 + Math.floor(at), 0],
    ]);
    // With 512-byte pages the 16 KiB write is 32 pages.
    expect(one('msr', `${rows[1]}\n`, {}, 512)).toHaveLength(32);
  });

  test("the header some copies carry is skipped; its errors are a CSV reader's", () => {
    const header = 'Timestamp,Hostname,DiskNumber,Type,Offset,Size,ResponseTime\n';
    expect(one('msr', `${header}${rows[0]}\n`)).toHaveLength(1);
    expect(errorOf(() => one('msr', `${rows[0]}\n1,wdev,0,Erase,0,512,1\n`))).toMatch(
      /^t\.msr:2:10: error: expected an operation in column 4/,
    );
    expect(parseCsvSpec(MSR_SPEC).roles).toEqual(['skip', 'disk', 'disk', 'op', 'addr', 'size', 'skip']);
  });
});

describe('libCacheSim txt', () => {
  test('one object id per line, numbers or text, renumbered as first seen', () => {
    const text = 'abc\n0x2a\n42\n\nabc\nhello world\n18446744073709551615\n';
    expect(one('txt', text).map(([p]) => p)).toEqual([0, 1, 1, 0, 2, 3]);
  });
});

describe('--format auto tells them apart by content', () => {
  test.each([
    ['din', '2 0\n0 1000\n1 70f60890\n'],
    ['msr', '128166372003061629,wdev,0,Read,8087302144,4096,3614\n128166372016382155,wdev,0,Write,1,2,3\n'],
    [
      'msr',
      'Timestamp,Hostname,DiskNumber,Type,Offset,Size,ResponseTime\n1,wdev,0,Read,0,512,1\n2,wdev,0,Read,0,512,1\n',
    ],
    ['txt', 'abc\nkey:1\n0x2a\n'],
    ['pages', '12\n13\n'],
    ['lackey', 'I  04010173,3\n L 1ffefffd48,8\n'],
  ])('%s', (format, text) => {
    expect(detectTraceFormat(encode(text))).toBe(format);
  });

  test('a CSV that is not MSR is not guessed', () => {
    expect(detectTraceFormat(encode('version,time,op,size,lbn\n1,33898,2a,512,42932745\n'))).toBeNull();
  });
});

describe('any cut of the input into chunks gives the same accesses', () => {
  const cases: [TextFormat, string, TextFormatOptions][] = [
    ['din', '2 0\r\n0 1000\n\n4 0\n1 70f60890 comment\n3 1fff', {}],
    ['csv', 'time,addr,size,op\n1,0,4096,R\r\n2,4095,2,W\n\n3,0x3000,8192,write\n', csv('time,addr,size,op')],
    ['msr', '1,wdev,0,Read,8087302144,4096,3614\n2,wdev,1,Write,0,16384,1\n3,hm,0,Read,4096,1,2', {}],
    ['txt', 'abc\n0x2a\n42\n\nabc\r\nhello world\n', {}],
  ];
  test.each(cases)('%s', (format, text, options) => {
    const bytes = encode(text);
    const whole = parse(format, [bytes], options);
    fc.assert(
      fc.property(fc.array(fc.nat(bytes.length), { maxLength: 8 }), (offsets) => {
        expect(parse(format, cut(bytes, offsets), options)).toEqual(whole);
      }),
      { numRuns: 200 },
    );
  });
});

/** The first `n` records of a corpus lackey trace. */
function lackeyRecords(name: string, n: number): Record3[] {
  const out: Record3[] = [];
  const p = new LackeyParser(name, collect(out));
  const bytes = gunzipSync(readFileSync(corpusPath('memtrace', name)));
  const head = bytes.subarray(0, Math.min(bytes.length, n * 24));
  p.push(head.subarray(0, head.lastIndexOf(10) + 1));
  p.end();
  return out.slice(0, n);
}

/** The page stream vmscope replays for lackey records (split.ts), as [page, write] pairs. */
function lackeyStream(records: readonly Record3[]): [number, number][] {
  const out: [number, number][] = [];
  const s = new LackeyPageSplitter(4096, (b) => {
    for (let i = 0; i < b.count; i++) out.push([b.page[i]!, b.write[i]!]);
  });
  const batch = {
    count: records.length,
    address: new Float64Array(records.length),
    size: new Uint32Array(records.length),
    kind: new Uint8Array(records.length),
  };
  records.forEach((r, i) => {
    batch.address[i] = r.address;
    batch.size[i] = r.size;
    batch.kind[i] = r.kind;
  });
  s.push(batch);
  s.flush();
  return out;
}

describe('corpus-derived cases: a corpus trace rewritten in each format gives the page stream vmscope replays', () => {
  testCorpus(
    "MSR and CSV rows of sort.lackey.gz (address, size, read or write) give split.ts's stream",
    () => {
      const records = lackeyRecords('sort.lackey.gz', 100_000).slice(1);
      // MSR has no modify: M is a read row then a write row, which is what split.ts makes of it.
      const msr: string[] = [];
      const tsv: string[] = ['addr\tsize\top'];
      for (const [t, r] of records.entries()) {
        const ops =
          r.kind === LACKEY_MODIFY ? ['Read', 'Write'] : [r.kind === LACKEY_STORE ? 'Write' : 'Read'];
        for (const op of ops) {
          msr.push(`${t},sort,0,${op},${r.address},${r.size},0`);
          tsv.push(`0x${r.address.toString(16)}\t${r.size}\t${op[0]}`);
        }
      }
      const want = lackeyStream(records);
      expect(want.length).toBeGreaterThan(records.length);
      expect(one('msr', `${msr.join('\n')}\n`)).toEqual(want);
      expect(one('csv', `${tsv.join('\n')}\n`, csv('addr,size,op'))).toEqual(want);
    },
  );

  testCorpus("din lines of gzip.lackey.gz give each access's page (din has no sizes)", () => {
    const records = lackeyRecords('gzip.lackey.gz', 100_000).slice(1);
    const lines: string[] = [];
    const want: [number, number][] = [];
    for (const r of records) {
      const page = Math.floor(r.address / 4096);
      if (r.kind === LACKEY_MODIFY) {
        lines.push(`0 ${r.address.toString(16)}`, `1 ${r.address.toString(16)}`);
        want.push([page, 0], [page, 1]);
      } else {
        const label = r.kind === LACKEY_STORE ? 1 : r.kind === LACKEY_LOAD ? 0 : 2;
        lines.push(`${label} ${r.address.toString(16)}`);
        want.push([page, label === 1 ? 1 : 0]);
      }
    }
    expect(one('din', `${lines.join('\n')}\n`)).toEqual(want);
  });

  testCorpus('txt ids of python-dict.pages.gz (as text) renumber the pages one to one', () => {
    const pages = corpusPages('memtrace', 'python-dict.pages.gz').subarray(0, 300_000);
    const got = one('txt', `${Array.from(pages, (p) => `page-${p}`).join('\n')}\n`).map(([p]) => p);
    const first = new Map<number, number>();
    const want = Array.from(pages, (p) => {
      if (!first.has(p)) first.set(p, first.size);
      return first.get(p)!;
    });
    expect(got).toEqual(want);
  });
});

test('a CSV parser reports its header and its disks', () => {
  const p = new CsvParser('x.csv', () => {}, parseCsvSpec(MSR_SPEC), 4096, ',');
  p.push(
    encode(
      'Timestamp,Hostname,DiskNumber,Type,Offset,Size,ResponseTime\n1,a,0,Read,0,1,1\n2,b,0,Read,0,1,1\n',
    ),
  );
  p.end();
  expect(p.header).toBe('Timestamp,Hostname,DiskNumber,Type,Offset,Size,ResponseTime');
  expect(p.diskCount).toBe(2);
  expect(p.records).toBe(2);
});
