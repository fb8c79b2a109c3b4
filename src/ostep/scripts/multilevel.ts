/**
 * vm-smalltables/paging-multilevel-translate.py: a two-level page table on a tiny machine — 32-byte
 * pages, 128 frames (4 KiB of RAM), a 15-bit address split 5 | 5 | 5 into page-directory index,
 * page-table index and offset, one-byte entries (bit 7 valid, 7-bit PFN; 0x7f fills unused ones).
 * The script allocates one process's pages at random, fills data pages with random bytes, dumps
 * all of memory and asks what a load from each virtual address returns.
 *
 * With `--explain`, each answer is checked against vmscope's own MMU: the dump is loaded into the
 * RAM of an `ostep15` machine, whose walk (src/hw/mmu.ts) reads the same PDE and PTE.
 */

import { invariant } from '../../base/errors.js';
import { Machine } from '../../hw/machine.js';
import { FAULT_NONE } from '../../hw/mmu.js';
import type { PyRandom } from '../../kernel/reclaim/pyrandom.js';
import { count, seededRandom } from '../common.js';
import { pyFormat, pyRaise, pyStr } from '../python.js';
import type { Ctx, Script, StepState } from '../script.js';

const PAGE_SIZE = 32;
const PHYS_PAGES = 128;
const VA_PAGES = 1024;
const PAGE_BITS = 5;
const PDE_MASK = 0x7c00;
const PDE_SHIFT = 10;
const PTE_MASK = 0x03e0;
const PTE_SHIFT = 5;
const OFFSET_MASK = 0x1f;

/** The script's `OS` class: its physical memory, frame bitmap and the process's page directory. */
export class TinyOs {
  readonly memory = new Uint8Array(PAGE_SIZE * PHYS_PAGES);
  private readonly usedPages = new Uint8Array(PHYS_PAGES);
  private usedCount = 0;
  pdbr = -1;
  private readonly rng: PyRandom;

  constructor(rng: PyRandom) {
    this.rng = rng;
  }

  private findFree(): number {
    if (this.usedCount >= PHYS_PAGES) pyRaise('AssertionError', '');
    let look = Math.trunc(this.rng.random() * PHYS_PAGES);
    while (this.usedPages[look] === 1) look = Math.trunc(this.rng.random() * PHYS_PAGES);
    this.usedCount++;
    this.usedPages[look] = 1;
    return look;
  }

  private initTablePage(pfn: number): void {
    this.memory.fill(0x7f, pfn * PAGE_SIZE, (pfn + 1) * PAGE_SIZE);
  }

  private allocVirtualPage(vpn: number, pfn: number): void {
    const va = vpn << PAGE_BITS;
    const pdeAddr = (this.pdbr << PAGE_BITS) | ((va & PDE_MASK) >> PDE_SHIFT);
    const pde = this.memory[pdeAddr]!;
    let ptPage: number;
    if ((pde & 0x80) === 0) {
      ptPage = this.findFree();
      this.memory[pdeAddr] = 0x80 | ptPage;
      this.initTablePage(ptPage);
    } else ptPage = pde & 0x7f;
    const pteAddr = (ptPage << PAGE_BITS) | ((va & PTE_MASK) >> PTE_SHIFT);
    this.memory[pteAddr] = 0x80 | pfn;
  }

  /** `procAlloc(pid, numPages)`: the page directory, then numPages random virtual pages. */
  procAlloc(numPages: number): number[] {
    this.pdbr = this.findFree();
    this.initTablePage(this.pdbr);
    const taken = new Uint8Array(VA_PAGES);
    const allocated: number[] = [];
    for (let i = 0; i < numPages; i++) {
      let vp = Math.trunc(this.rng.random() * VA_PAGES);
      while (taken[vp] === 1) vp = Math.trunc(this.rng.random() * VA_PAGES);
      taken[vp] = 1;
      allocated.push(vp);
      const pp = this.findFree();
      this.allocVirtualPage(vp, pp);
      for (let j = 0; j < PAGE_SIZE; j++)
        this.memory[pp * PAGE_SIZE + j] = Math.trunc(this.rng.random() * 31);
    }
    return allocated;
  }
}

export const multilevel: Script = {
  name: 'paging-multilevel-translate',
  path: 'vm-smalltables/paging-multilevel-translate.py',
  summary: 'translation through a two-level page table (the ostep15 machine)',
  options: [
    { short: '-s', long: '--seed', dest: 'seed', type: 'int', default: 0n, help: 'the random seed' },
    {
      short: '-a',
      long: '--allocated',
      dest: 'allocated',
      type: 'int',
      default: 64n,
      help: 'number of virtual pages allocated',
    },
    {
      short: '-n',
      long: '--addresses',
      dest: 'num',
      type: 'int',
      default: 10n,
      help: 'number of virtual addresses to generate',
    },
    {
      short: '-c',
      long: '--solve',
      dest: 'solve',
      type: 'true',
      default: false,
      help: 'compute answers for me',
    },
  ],
  main(ctx: Ctx, o) {
    ctx.print('ARG seed', pyStr(o['seed']!));
    ctx.print('ARG allocated', pyStr(o['allocated']!));
    ctx.print('ARG num', pyStr(o['num']!));
    ctx.print('');
    const rng = seededRandom(o['seed'] as bigint);
    const os = new TinyOs(rng);
    const used = os.procAlloc(count(o['allocated'] as bigint));
    const mem = os.memory;
    for (let pfn = 0; pfn < PHYS_PAGES; pfn++) {
      let line = pyFormat('page %3d:', pfn);
      for (let j = 0; j < PAGE_SIZE; j++) line += mem[pfn * PAGE_SIZE + j]!.toString(16).padStart(2, '0');
      ctx.print(line);
    }
    ctx.print(
      '\nPDBR:',
      String(os.pdbr),
      ' (decimal) [This means the page directory is held in this page]\n',
    );
    const machine = ctx.stepping ? loadMachine(mem) : null;
    ctx.beginAnswers();
    const solve = o['solve'] === true;
    const n = count(o['num'] as bigint);
    for (let i = 0; i < n; i++) {
      let vaddr: number;
      if (rng.random() * 100 > 50 || i >= used.length) vaddr = Math.trunc(rng.random() * 1024 * 32);
      else vaddr = (used[i]! << 5) | Math.trunc(rng.random() * 32);
      if (!solve) {
        ctx.print(
          pyFormat(
            'Virtual Address %04x: Translates To What Physical Address (And Fetches what Value)? Or Fault?',
            vaddr,
          ),
        );
        continue;
      }
      ctx.print(pyFormat('Virtual Address 0x%04x:', vaddr));
      const pdeIndex = (vaddr & PDE_MASK) >> PDE_SHIFT;
      const pde = mem[(os.pdbr << PAGE_BITS) | pdeIndex]!;
      const fmt = '%s--> %s index:0x%x [decimal %d] %s contents:0x%x (valid %d, pfn 0x%02x [decimal %d])';
      ctx.print(pyFormat(fmt, '  ', 'pde', pdeIndex, pdeIndex, 'pde', pde, pde >> 7, pde & 0x7f, pde & 0x7f));
      let pa = -1;
      let pte = -1;
      if (pde & 0x80) {
        const pteIndex = (vaddr & PTE_MASK) >> PTE_SHIFT;
        pte = mem[((pde & 0x7f) << PAGE_BITS) | pteIndex]!;
        ctx.print(
          pyFormat(fmt, '    ', 'pte', pteIndex, pteIndex, 'pte', pte, pte >> 7, pte & 0x7f, pte & 0x7f),
        );
        if (pte & 0x80) pa = ((pte & 0x7f) << PAGE_BITS) | (vaddr & OFFSET_MASK);
      }
      if (pa >= 0)
        ctx.print(
          pyFormat('      --> Translates to Physical Address 0x%03x --> Value: 0x%02x', pa, mem[pa]!),
        );
      else if (pte < 0) ctx.print('      --> Fault (page directory entry not valid)');
      else ctx.print('      --> Fault (page table entry not valid)');
      if (machine) ctx.step(...explainWalk(machine, os.pdbr, vaddr, pa));
    }
    ctx.print('');
  },
};

/** The dump in the RAM of vmscope's `ostep15` machine (its MMU reads the same bytes). */
export function loadMachine(memory: Uint8Array): Machine {
  const machine = new Machine({
    arch: 'ostep15',
    ramBytes: PAGE_SIZE * PHYS_PAGES,
    tlbEntries: 4,
    tlbWays: 1,
  });
  for (let i = 0; i < memory.length; i++) machine.mem.poke8(i, memory[i]!);
  return machine;
}

/**
 * vmscope's MMU walking `va` from `pdbr`, level by level; it must agree with the script's answer.
 * @returns the explanation and the walk's picture.
 */
export function explainWalk(
  machine: Machine,
  pdbr: number,
  va: number,
  expectedPa: number,
): [string[], StepState] {
  const probe = machine.mmu.probe(pdbr, va);
  const lines = [
    `vmscope's ostep15 MMU: VA 0x${va.toString(16).padStart(4, '0')} = PD index ${(va >> 10) & 31} | PT index ${(va >> 5) & 31} | offset ${va & 31}`,
  ];
  for (const step of probe.steps) {
    const valid = (step.lo & 0x80) !== 0;
    lines.push(
      `${step.levelName}: frame ${step.tablePfn}, entry ${step.index} at PA 0x${step.entryPa.toString(16).padStart(3, '0')} = 0x${step.lo.toString(16).padStart(2, '0')}: ` +
        (valid
          ? `valid, ${step.leaf ? 'page in' : 'next table in'} frame ${step.lo & 0x7f}`
          : 'not valid (0x7f marks an unused entry): the walk stops with a fault'),
    );
  }
  const pa = probe.fault === FAULT_NONE ? probe.pa : -1;
  invariant(pa === expectedPa, `ostep: the ostep15 MMU gives ${pa} for va ${va}, the script ${expectedPa}`);
  if (pa >= 0)
    lines.push(
      `PA = frame ${pa >> 5} * 32 + offset ${va & 31} = 0x${pa.toString(16)}; the byte there is 0x${machine.mem.peek8(pa).toString(16).padStart(2, '0')}`,
    );
  const state: StepState = {
    kind: 'walk',
    va,
    levels: probe.steps.map((step) => ({
      name: step.levelName,
      tablePfn: step.tablePfn,
      index: step.index,
      entryPa: step.entryPa,
      entry: step.lo,
      valid: (step.lo & 0x80) !== 0,
    })),
    pa: pa >= 0 ? pa : null,
    value: pa >= 0 ? machine.mem.peek8(pa) : null,
  };
  return [lines, state];
}
