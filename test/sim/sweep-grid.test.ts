import { describe, expect, test } from 'vitest';
import { InputError } from '../../src/base/errors.js';
import {
  type CellOutcome,
  enumerateCells,
  mergeCells,
  parseShard,
  shardCells,
  sweepCsv,
} from '../../src/sim/sweep-grid.js';

describe('sweep grid', () => {
  test('cells are numbered in sorted order whatever order the flags list them in', () => {
    const a = enumerateCells(['t2', 't1'], ['lru', 'fifo']);
    const b = enumerateCells(['t1', 't2', 't1'], ['fifo', 'lru']);
    expect(a).toEqual(b);
    expect(a.map((c) => `${c.index}:${c.trace}/${c.policy}`)).toEqual([
      '0:t1/fifo',
      '1:t1/lru',
      '2:t2/fifo',
      '3:t2/lru',
    ]);
  });

  test('the shards of N partition the cells, shard I taking the indices I-1 modulo N', () => {
    const cells = enumerateCells(['a', 'b', 'c'], ['lru', 'fifo', 'opt', 'clock']);
    for (const n of [1, 2, 3, 5, 12, 13]) {
      const seen: number[] = [];
      for (let i = 1; i <= n; i++) {
        const mine = shardCells(cells, parseShard(`${i}/${n}`));
        for (const c of mine) expect(c.index % n).toBe(i - 1);
        seen.push(...mine.map((c) => c.index));
      }
      expect(seen.sort((x, y) => x - y)).toEqual(cells.map((c) => c.index));
    }
    expect(shardCells(cells, null)).toEqual(cells);
  });

  test.each(['0/3', '4/3', '1/0', '3', 'a/b', '1/3/4', '-1/3', ''])(
    '--shard %j is an input error naming the flag',
    (t) => {
      try {
        parseShard(t);
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(InputError);
        expect((e as InputError).span.file).toBe('--shard');
      }
    },
  );

  test('merge gives rows in the grid order and names the missing cells', () => {
    const cells = enumerateCells(['x,y.pages', 'b'], ['lru', 'fifo']);
    const outcome = (trace: string, policy: string): CellOutcome => ({
      trace,
      policy,
      name: policy,
      format: 'pages',
      accesses: 10,
      sizes: [1, 2],
      faults: [10, 4],
    });
    const have = new Map(
      cells.filter((c) => c.index !== 1).map((c) => [c.index, outcome(c.trace, c.policy)]),
    );
    const { rows, missing } = mergeCells(cells, (c) => have.get(c.index) ?? null);
    expect(missing.map((c) => `${c.trace}/${c.policy}`)).toEqual(['b/lru']);
    expect(rows.map((r) => `${r.trace}/${r.policy}@${r.frames}`)).toEqual([
      'b/fifo@1',
      'b/fifo@2',
      'x,y.pages/fifo@1',
      'x,y.pages/fifo@2',
      'x,y.pages/lru@1',
      'x,y.pages/lru@2',
    ]);
    expect(rows[1]!.missRatio).toBe(0.4);
    const csv = sweepCsv(rows).split('\n');
    expect(csv[0]).toBe('trace,format,policy,frames,accesses,faults,miss_ratio');
    expect(csv[3]).toBe('"x,y.pages",pages,fifo,1,10,10,1');
  });
});
