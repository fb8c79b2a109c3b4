/** The browser's allocation-trace view and the detection of what a dropped file is. */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { detectInputKind } from '../../src/workload/kind.js';
import { AllocTrace } from '../../web/src/engine/alloc.js';
import { corpusPath, testCorpus } from '../corpus.js';

const enc = (t: string) => new TextEncoder().encode(t);

describe('what a dropped file is, from its first bytes', () => {
  test.each([
    ['sort.rep', '50157372\n11\n18\n1\na 0 34\na 1 10\n', 'rep'],
    ['x.txt', '1\n2\n3\n4\n5\n6\n', 'pages'],
    ['t.lackey', 'I  04010173,3\n L 1ffefffd48,8\n', 'lackey'],
    ['ls.log', '0 0 x 7801 7800 ls\n1 7801 m 10 55555555a2a0\n', 'shim-log'],
    [
      'strace.txt',
      '7801  execve("/p", ["/p"], []) = 0\n7801  brk(NULL)                         = 0x555555559000\n',
      'strace',
    ],
    ['a.vms', '# a scenario\nspawn A\nA: write heap 1\n', 'scenario'],
    ['prog', '\x7fELF\x02\x01\x01', 'elf'],
    ['notes.txt', 'hello world\n', 'unknown'],
  ])('%s is %s', (name, text, kind) => {
    expect(detectInputKind(enc(text), name)).toBe(kind);
  });
});

describe('an allocation trace dropped in the browser', () => {
  const rep = '400\n3\n5\n1\na 0 24\na 1 100\nf 0\na 2 200\nf 0\n';

  test('dropping a malloc trace (.rep) replays it through every allocator, and a double free dies in glibc words', () => {
    const t = new AllocTrace('twice.rep', 'rep');
    t.push(enc(rep));
    t.end();
    const r = t.replayAll();
    expect(r.runs.map((x) => x.allocator)).toEqual([
      'first-fit',
      'next-fit',
      'best-fit',
      'worst-fit',
      'segregated',
      'buddy',
      'tlsf',
      'binned',
    ]);
    const binned = r.runs.find((x) => x.allocator === 'binned')!;
    expect(binned.outcome).toMatch(/^SIGABRT at line 9, op 5: free\(\): double free detected in tcache 2$/);
    expect(binned.series.length).toBeGreaterThan(0);
  });

  test("the allocator's free list at a chosen step", () => {
    const t = new AllocTrace('twice.rep', 'rep');
    t.push(enc(rep));
    t.end();
    const h = t.heapAt('first-fit', 3); // after a 0 24, a 1 100, f 0
    expect(h.op).toBe(3);
    expect(h.opText).toBe('line 7: free() for block 0');
    expect(h.usedBlocks).toBe(1);
    expect(h.freeList.length).toBeGreaterThan(0);
    expect(h.freeList[0]!.va).toBeGreaterThanOrEqual(h.heapStart);
    expect(t.heapAt('first-fit', 0)).toMatchObject({ op: 0, opText: null, usedBlocks: 0 });
    expect(t.heapAt('binned', 5).died).toBe('free(): double free detected in tcache 2');
  });

  testCorpus('the corpus sort trace: its 50 MB block shows in the heap extent', () => {
    const t = new AllocTrace('sort.rep', 'rep');
    t.push(new Uint8Array(readFileSync(corpusPath('alloc', 'sort', 'sort.rep'))));
    t.end();
    const r = t.replayAll();
    for (const run of r.runs) {
      expect(run.outcome).toBe('ok');
      expect(run.peakExtentBytes).toBeGreaterThan(50_000_000);
    }
  });
});
