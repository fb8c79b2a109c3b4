/**
 * The CMU malloc-lab trace parser: operations out as they are read, whatever the chunking, and every
 * broken trace an input error naming its line.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { InputError } from '../../src/base/errors.js';
import { OP_FREE, OP_MALLOC, OP_REALLOC, type OpKind, type OpSink } from '../../src/user/replay.js';
import { parseRep, RepParser } from '../../src/workload/alloc/rep.js';
import { ShimLogParser } from '../../src/workload/alloc/shimlog.js';

type Op = [OpKind, number, number];

function collect(): OpSink & { ops: Op[] } {
  const ops: Op[] = [];
  return { ops, op: (kind, id, size) => ops.push([kind, id, size]) };
}

function errorOf(text: string): InputError {
  try {
    parseRep('t.rep', text, collect());
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error('no error');
}

const GOOD = '100\n3\n5\n1\na 0 16\na 1 32\nr 0 64\nf 1\na 2 0\n';

describe('parseRep', () => {
  test('reads the header and the operations in order', () => {
    const sink = collect();
    expect(parseRep('t.rep', GOOD, sink)).toEqual({ heapSize: 100, ids: 3, ops: 5, weight: 1 });
    expect(sink.ops).toEqual([
      [OP_MALLOC, 0, 16],
      [OP_MALLOC, 1, 32],
      [OP_REALLOC, 0, 64],
      [OP_FREE, 1, 0],
      [OP_MALLOC, 2, 0],
    ]);
  });

  test('tolerates CRLF, blank lines, tabs and a missing final newline; blocks may stay live', () => {
    const sink = collect();
    parseRep('t.rep', '10\r\n1\r\n1\r\n1\r\n\r\na\t0  7', sink);
    expect(sink.ops).toEqual([[OP_MALLOC, 0, 7]]);
  });

  test('ids are numbered densely as first used, so a sparse id costs no table (regression: one block with id 268435455 grew the id tables to 2^28 entries)', () => {
    const sink = collect();
    parseRep('t.rep', '0\n268435456\n3\n1\na 268435455 16\na 7 8\nf 268435455\n', sink);
    expect(sink.ops).toEqual([
      [OP_MALLOC, 0, 16],
      [OP_MALLOC, 1, 8],
      [OP_FREE, 0, 0],
    ]);
    // Errors still name the trace's own ids.
    expect(errorOf('0\n9\n2\n1\na 8 16\nf 5\n').format()).toBe(
      't.rep:6:3: error: free of id 5, which was never allocated',
    );
  });

  test('any split of the bytes into chunks gives the same operations', () => {
    const bytes = new TextEncoder().encode(GOOD);
    const whole = collect();
    parseRep('t.rep', GOOD, whole);
    fc.assert(
      fc.property(fc.array(fc.nat({ max: bytes.length }), { maxLength: 12 }), (cuts) => {
        const sink = collect();
        const p = new RepParser('t.rep', sink);
        const points = [0, ...cuts.sort((a, b) => a - b), bytes.length];
        for (let i = 1; i < points.length; i++) p.push(bytes.subarray(points[i - 1]!, points[i]!));
        p.end();
        expect(sink.ops).toEqual(whole.ops);
      }),
    );
  });

  test.each([
    ['a free of an id never allocated', '1\n2\n1\n1\nf 1\n', 5, 'free of id 1, which was never allocated'],
    [
      'a realloc of a freed block',
      '1\n1\n3\n1\na 0 8\nf 0\nr 0 9\n',
      7,
      'realloc of id 0, which was freed at line 6',
    ],
    ['a double free', '1\n1\n3\n1\na 0 8\nf 0\nf 0\n', 7, 'free of id 0, which was freed at line 6'],
    ['an allocation of a live id', '1\n1\n2\n1\na 0 8\na 0 9\n', 6, 'id 0 is already allocated (at line 5)'],
    ['an unknown operation', '1\n1\n1\n1\nx 0 8\n', 5, "unknown operation 'x' (expected a, f or r)"],
    [
      'a word for an operation',
      '1\n1\n1\n1\nalloc 0 8\n',
      5,
      "unknown operation 'alloc' (expected a, f or r)",
    ],
    ['a missing size', '1\n1\n1\n1\na 0\n', 5, "expected 'a ID SIZE', found 1 number after 'a'"],
    ['a size that is not a number', '1\n1\n1\n1\na 0 1O\n', 5, "'1O' is not a non-negative integer"],
    [
      'an id beyond the declared ids',
      '1\n1\n1\n1\na 3 8\n',
      5,
      'id 3 is out of range: the header declares 1 ids (0..0)',
    ],
    [
      'more operations than declared',
      '1\n1\n1\n1\na 0 8\nf 0\n',
      6,
      'more operations than the 1 the header declares',
    ],
    [
      'fewer operations than declared',
      '1\n1\n3\n1\na 0 8\n',
      3,
      'the header says 3 operations but the trace has 1',
    ],
    ['fewer ids than declared', '1\n4\n1\n1\na 0 8\n', 2, 'the header says 4 ids but the trace uses 1'],
    [
      'a bad header line',
      '1\nten\n1\n1\n',
      2,
      "expected the number of ids (a non-negative integer), found 'ten'",
    ],
    [
      'a header cut short',
      '1\n2\n',
      3,
      'the trace ends inside its header: expected the number of operations',
    ],
    // Found by fuzzing: the end was placed on line 4 of a three-line file.
    [
      'a header cut short without a last newline',
      '\n1\n2',
      3,
      'the trace ends inside its header: expected the number of operations',
    ],
  ])('%s is an input error at its line', (_what, text, line, message) => {
    const e = errorOf(text);
    expect(e.span).toMatchObject({ file: 't.rep', line });
    expect(e.message).toBe(message);
  });

  test('errors carry the column of the field at fault', () => {
    expect(errorOf('1\n1\n1\n1\na   0 x\n').format()).toBe(
      "t.rep:5:7: error: 'x' is not a non-negative integer",
    );
  });
});

describe('ShimLogParser', () => {
  test('turns the shim log into operations with glibc addresses, numbering ids as log2rep.py does', () => {
    const ops: [OpKind, number, number, number, number][] = [];
    const p = new ShimLogParser('x.log', { op: (k, id, s, a, e) => ops.push([k, id, s, a, e]) });
    p.push(
      new TextEncoder().encode(
        '0 0 x 10 9 /bin/x\n1 10 m 20 5555555592a0\n2 10 c 3 10 5555555592c0\n3 10 f 0\n4 10 r 5555555592a0 40 555555559300\n' +
          '5 10 p 40 64 555555559340 0\n6 10 r 555555559300 0 0\n7 10 f 12345\n8 10 m ffffffffff 0\n',
      ),
    );
    expect(p.end()).toEqual({ process: { pid: 10, ppid: 9, exe: '/bin/x' }, records: 8, ops: 5 });
    expect(ops).toEqual([
      [0, 0, 0x20, 0, 0x5555555592a0],
      [3, 1, 0x30, 0, 0x5555555592c0],
      [2, 0, 0x40, 0, 0x555555559300],
      [5, 2, 0x64, 0x40, 0x555555559340],
      [2, 0, 0, 0, 0],
    ]);
  });

  test('a malformed line is an input error with its line', () => {
    const p = new ShimLogParser('x.log', { op: () => {} });
    expect(() => p.push(new TextEncoder().encode('0 0 x 1 1 a\n1 1 m zz 10\n'))).toThrow(
      expect.objectContaining({ span: { file: 'x.log', line: 2 } }),
    );
  });
});
