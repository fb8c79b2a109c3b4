/**
 * OSTEP's malloc.py (vm-freespace) answers, reproduced by the free-list allocator: every case's
 * returned addresses, elements searched and free list after each operation, and the final free list.
 *
 * malloc.py keeps a 100-byte heap at address 1000 with sizes outside it; vmscope's allocator keeps its
 * headers inside the heap. The test scales: one malloc.py byte is a 32-byte unit of ours (room for a
 * header and two links), the heap is a fixed arena of size × 32 bytes, a request of n malloc.py bytes
 * is a malloc that needs exactly n units, and an address is mapped back as 1000 + offset / 32. Every
 * choice — which block, where the remainder goes, what merges — is the allocator's, configured as
 * malloc.py is: the placement policy (BEST/WORST/FIRST), the list order (ADDRSORT, SIZESORT±,
 * INSERT-FRONT/BACK), remainders kept in place, and its list-order coalescing (-C).
 */
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { CHUNK_HDR, SIZE_SZ } from '../../src/user/malloc/chunk.js';
import { type Fit, FreeListHeap, type ListOrder } from '../../src/user/malloc/freelist.js';
import { DirectMemory } from '../../src/user/memory.js';
import { corpusPath, describeCorpus, fromCorpus } from '../corpus.js';

interface Op {
  readonly op: 'alloc' | 'free';
  readonly ptr_index: number;
  readonly size?: number;
  readonly returned: number;
  readonly searched?: number;
  readonly free_list_after: [number, number][];
}

interface Case {
  readonly id: string;
  readonly inputs: Record<string, string>;
  readonly expected: { readonly ops: Op[]; readonly final_free_list: [number, number][] };
}

const UNIT = 32;
const FIT: Record<string, Fit> = { BEST: 'best', WORST: 'worst', FIRST: 'first' };
const ORDER: Record<string, ListOrder> = {
  ADDRSORT: 'address',
  'SIZESORT+': 'size-asc',
  'SIZESORT-': 'size-desc',
  'INSERT-FRONT': 'lifo',
  'INSERT-BACK': 'fifo',
};

const cases: Case[] = fromCorpus(
  () => JSON.parse(readFileSync(corpusPath('reference', 'malloc', 'expected.json'), 'utf8')).cases,
  [],
);

function runCase(c: Case): void {
  const inp = c.inputs;
  const heapUnits = Number(inp['size']);
  const base = Number(inp['baseAddr']);
  const header = Number(inp['headerSize']);
  const align = Number(inp['alignment']);
  // With a random op list malloc.py reports ptr + headerSize; with -A, the block itself.
  const shown = inp['allocList'] === '' ? header : 0;
  const heap = new FreeListHeap(new DirectMemory({ sizeBytes: 1 << 20 }), {
    fit: FIT[inp['policy']!]!,
    order: ORDER[inp['listOrder']!]!,
    coalesce: inp['coalesce'] === 'True' ? 'list-pass' : 'none',
    split: 'in-place',
    arenaBytes: heapUnits * UNIT,
  });
  heap.prepare();
  const arena = heap.mem.heapStart;
  const toOstep = (va: number) => base + (va - arena) / UNIT;
  const freeList = () => heap.freeList().map((b) => [toOstep(b.va), b.sizeBytes / UNIT]);
  const ptrs = new Map<number, number>();
  for (const [i, op] of c.expected.ops.entries()) {
    const where = `${c.id} op ${i} (${op.op} ${op.op === 'alloc' ? op.size : `ptr[${op.ptr_index}]`})`;
    if (op.op === 'alloc') {
      let units = op.size!;
      if (align > 0 && units % align !== 0) units += align - (units % align);
      units += header;
      // A request that needs exactly `units` chunk bytes: the header's size word is part of it.
      const p = heap.malloc(units * UNIT - SIZE_SZ);
      const got = p === 0 ? -1 + shown : toOstep(p - CHUNK_HDR) + shown;
      expect(got, where).toBe(op.returned);
      expect(heap.lastSearched, `${where}: searched`).toBe(op.searched);
      if (p !== 0) ptrs.set(op.ptr_index, p);
    } else {
      heap.free(ptrs.get(op.ptr_index)!);
      ptrs.delete(op.ptr_index);
    }
    expect(freeList(), `${where}: free list`).toEqual(op.free_list_after);
  }
  expect(freeList()).toEqual(c.expected.final_free_list);
  expect(heap.check()).toEqual([]);
}

describeCorpus('malloc.py reference cases', () => {
  test('the corpus has all 167 cases', () => {
    expect(cases.length).toBe(167);
  });

  test.each(cases.map((c) => [c.id, c] as const))('%s', (_id, c) => runCase(c));
});
