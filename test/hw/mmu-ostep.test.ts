/**
 * The `ostep15` preset is the machine of OSTEP's multi-level paging homework
 * (vm-smalltables/paging-multilevel-translate.py): 32-byte pages, 128 frames, a 15-bit address split
 * 5 | 5 | 5 into page-directory index, page-table index and offset, and one-byte entries
 * `| V | PFN (7 bits) |`. The reference answers come from running the homework script with `-c`.
 */
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { Machine } from '../../src/hw/machine.js';
import { ACCESS_READ, FAULT_NONE, FAULT_NOT_PRESENT } from '../../src/hw/mmu.js';
import { corpusPath, describeCorpus, fromCorpus, testCorpus } from '../corpus.js';
import { sameBytes } from '../helpers.js';

interface Translation {
  va: number;
  pde_index: number;
  pde: number;
  pde_valid: boolean;
  pte_index?: number;
  pte?: number;
  pte_valid?: boolean;
  result: 'ok' | 'fault-pde' | 'fault-pte';
  pa?: number;
  value?: number;
}

interface HomeworkCase {
  id: string;
  expected: { pdbr: number; memory_pages_hex: string[]; translations: Translation[] };
}

const EXPECTED = corpusPath('reference', 'paging-multilevel-translate', 'expected.json');
const CASES = fromCorpus(
  () => (JSON.parse(readFileSync(EXPECTED, 'utf8')) as { cases: HomeworkCase[] }).cases,
  [],
);

const PAGE = 32;
const FRAMES = 128;

/** The homework's machine with its physical memory loaded. */
function homeworkMachine(pagesHex: readonly string[]): Machine {
  const machine = new Machine({ arch: 'ostep15', ramBytes: FRAMES * PAGE, tlbEntries: 4, tlbWays: 1 });
  expect(pagesHex).toHaveLength(FRAMES);
  pagesHex.forEach((hex, pfn) => {
    expect(hex).toHaveLength(PAGE * 2);
    for (let i = 0; i < PAGE; i++)
      machine.mem.poke8(pfn * PAGE + i, Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16));
  });
  return machine;
}

testCorpus('the corpus holds the seven homework runs, with both kinds of fault among their answers', () => {
  expect(CASES.map((c) => c.id)).toEqual([
    'seed0-n10',
    'seed1-n10',
    'seed2-n10',
    'seed3-n10',
    'seed4-n10',
    'seed1-a16-n10',
    'seed2-a90-n10',
  ]);
  const results = CASES.flatMap((c) => c.expected.translations.map((t) => t.result));
  expect(new Set(results)).toEqual(new Set(['ok', 'fault-pde', 'fault-pte']));
});

describeCorpus.each(CASES.map((c) => [c.id, c] as const))(
  'OSTEP paging-multilevel-translate %s',
  (_id, hw) => {
    const { pdbr, memory_pages_hex: pagesHex, translations } = hw.expected;

    test('translate gives the homework answer for every virtual address, and never writes memory', () => {
      const machine = homeworkMachine(pagesHex);
      const before = machine.mem.bytes.slice();
      machine.mmu.setContext(pdbr, 0);
      for (const t of translations) {
        const pa = machine.mmu.translate(t.va, ACCESS_READ);
        const fault = machine.mmu.fault;
        const where = `va 0x${t.va.toString(16)}`;
        switch (t.result) {
          case 'fault-pde':
            expect(pa, where).toBe(-1);
            expect(fault.kind, where).toBe(FAULT_NOT_PRESENT);
            expect(fault.level, where).toBe(0);
            break;
          case 'fault-pte':
            expect(pa, where).toBe(-1);
            expect(fault.kind, where).toBe(FAULT_NOT_PRESENT);
            expect(fault.level, where).toBe(1);
            break;
          case 'ok':
            expect(pa, where).toBe(t.pa);
            expect(machine.mem.peek8(pa), where).toBe(t.value);
            break;
        }
      }
      // The homework's entries have no accessed or dirty bits: a walk must leave RAM as it was.
      expect(sameBytes(machine.mem.bytes, before)).toBe(true);
    });

    test('probe shows the homework walk: the PDE, then the PTE, by index and value', () => {
      const machine = homeworkMachine(pagesHex);
      for (const t of translations) {
        const where = `va 0x${t.va.toString(16)}`;
        const probe = machine.mmu.probe(pdbr, t.va);
        const [pde, pte] = probe.steps;
        expect(pde?.tablePfn, where).toBe(pdbr);
        expect(pde?.index, where).toBe(t.pde_index);
        expect(pde?.lo, where).toBe(t.pde);
        expect(pde?.entryPa, where).toBe(pdbr * PAGE + t.pde_index);
        if (t.result === 'fault-pde') {
          expect(t.pde_valid).toBe(false);
          expect(probe.steps, where).toHaveLength(1);
          expect(probe.fault, where).toBe(FAULT_NOT_PRESENT);
          continue;
        }
        expect(pte?.tablePfn, where).toBe(t.pde & 0x7f);
        expect(pte?.index, where).toBe(t.pte_index);
        expect(pte?.lo, where).toBe(t.pte);
        expect(probe.steps, where).toHaveLength(2);
        if (t.result === 'fault-pte') {
          expect(t.pte_valid).toBe(false);
          expect(probe.fault, where).toBe(FAULT_NOT_PRESENT);
        } else {
          expect(pte?.leaf, where).toBe(true);
          expect(probe.fault, where).toBe(FAULT_NONE);
          expect(probe.pa, where).toBe(t.pa);
        }
      }
    });
  },
);

testCorpus('a repeated homework address hits the TLB and reads no page-table entry', () => {
  const hw = CASES[0]!.expected;
  const ok = hw.translations.find((t) => t.result === 'ok')!;
  const machine = homeworkMachine(hw.memory_pages_hex);
  machine.mmu.setContext(hw.pdbr, 0);
  expect(machine.mmu.translate(ok.va, ACCESS_READ)).toBe(ok.pa);
  // A miss reads the PDE and the PTE: two one-byte entries.
  expect([machine.mmu.tlbMisses, machine.mmu.walks, machine.mmu.pteReads]).toEqual([1, 1, 2]);
  expect(machine.mmu.translate(ok.va, ACCESS_READ)).toBe(ok.pa);
  expect([machine.mmu.tlbHits, machine.mmu.pteReads]).toEqual([1, 2]);
});
