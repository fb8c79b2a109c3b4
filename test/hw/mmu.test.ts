/**
 * The MMU: a TLB in front of a page-table walk in simulated RAM that sets the accessed and dirty bits
 * and checks present, write, user and execute rights.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { ArchName } from '../../src/hw/arch.js';
import type { Machine } from '../../src/hw/machine.js';
import {
  ACCESS_EXEC,
  ACCESS_READ,
  ACCESS_WRITE,
  type AccessKind,
  FAULT_BAD_ADDRESS,
  FAULT_NOT_PRESENT,
  FAULT_PROTECTION,
  FAULT_RESERVED,
  type Mmu,
} from '../../src/hw/mmu.js';
import type { PteRights } from '../../src/hw/pte.js';
import { TLB_D, TLB_U, TLB_W, TLB_X } from '../../src/hw/tlb.js';
import { sameBytes, smallMachine, TableBuilder } from '../helpers.js';

const USER_RW: PteRights = { write: true, user: true, exec: false };
const USER_RO: PteRights = { write: false, user: true, exec: false };
const USER_RX: PteRights = { write: false, user: true, exec: true };

/** A machine with its page tables started, running the tables' address space as ASID 1. */
function setup(arch: ArchName, frames = 64) {
  const machine = smallMachine(arch, frames);
  const tables = new TableBuilder(machine);
  machine.mmu.setContext(tables.root, 1);
  return { machine, mmu: machine.mmu, tables };
}

/** The flags of each entry on the walk to `va`, decoded. */
function walkFlags(machine: Machine, root: number, va: number): string[][] {
  const fmt = machine.arch.pte;
  return machine.mmu.probe(root, va).steps.map((s) => [...fmt.decode(s.lo, s.hi).flags]);
}

function counters(mmu: Mmu) {
  return { hits: mmu.tlbHits, misses: mmu.tlbMisses, walks: mmu.walks, pteReads: mmu.pteReads };
}

describe('an x86-64 walk', () => {
  test('reads four entries (PML4, PDPT, PD, PT) and sets A at every level; D only on a write', () => {
    const { machine, mmu, tables } = setup('x86_64');
    const data = tables.takeFrame();
    tables.map(0x400000, data, USER_RW);
    expect(walkFlags(machine, tables.root, 0x400000)).toEqual([
      ['US', 'RW', 'P'],
      ['US', 'RW', 'P'],
      ['US', 'RW', 'P'],
      ['NX', 'US', 'RW', 'P'],
    ]);

    expect(mmu.translate(0x400123, ACCESS_READ)).toBe(data * 4096 + 0x123);
    expect(counters(mmu)).toEqual({ hits: 0, misses: 1, walks: 1, pteReads: 4 });
    expect(walkFlags(machine, tables.root, 0x400000)).toEqual([
      ['A', 'US', 'RW', 'P'],
      ['A', 'US', 'RW', 'P'],
      ['A', 'US', 'RW', 'P'],
      ['NX', 'A', 'US', 'RW', 'P'],
    ]);

    // A second read hits the TLB: no walk, no entry read.
    expect(mmu.translate(0x400fff, ACCESS_READ)).toBe(data * 4096 + 0xfff);
    expect(counters(mmu)).toEqual({ hits: 1, misses: 1, walks: 1, pteReads: 4 });

    // The cached entry does not know the page is dirty: the first write walks again to set D.
    expect(mmu.translate(0x400000, ACCESS_WRITE)).toBe(data * 4096);
    expect(counters(mmu)).toEqual({ hits: 1, misses: 2, walks: 2, pteReads: 8 });
    expect(walkFlags(machine, tables.root, 0x400000)[3]).toEqual(['NX', 'D', 'A', 'US', 'RW', 'P']);
    expect(mmu.translate(0x400008, ACCESS_WRITE)).toBe(data * 4096 + 8);
    expect(counters(mmu)).toEqual({ hits: 2, misses: 2, walks: 2, pteReads: 8 });
  });

  test('the last user page uses PML4 slot 255 (the top of the lower half) and slot 511 below it', () => {
    const { mmu, tables } = setup('x86_64');
    const data = tables.takeFrame();
    const va = 2 ** 47 - 4096;
    tables.map(va, data, USER_RW);
    const probe = mmu.probe(tables.root, va);
    expect(probe.steps.map((s) => s.index)).toEqual([255, 511, 511, 511]);
    expect(probe.steps.map((s) => s.levelName)).toEqual(['PML4', 'PDPT', 'PD', 'PT']);
    expect(mmu.translate(va + 7, ACCESS_WRITE)).toBe(data * 4096 + 7);
  });
});

test.each([
  ['x86_64', 4],
  ['riscv-sv39', 3],
  ['i386', 2],
  ['teach16', 2],
] as const)('a TLB miss on %s reads %i page-table entries', (arch, levels) => {
  const { machine, mmu, tables } = setup(arch);
  const data = tables.takeFrame();
  const va = 5 * machine.arch.pageSize;
  tables.map(va, data, USER_RW);
  expect(mmu.translate(va, ACCESS_READ)).toBe(data * machine.arch.pageSize);
  expect(mmu.pteReads).toBe(levels);
  expect(mmu.probe(tables.root, va).steps).toHaveLength(levels);
});

describe('faults', () => {
  test('a missing table stops the walk at its level; a missing leaf at the last', () => {
    const { mmu, tables } = setup('x86_64');
    tables.map(0x400000, tables.takeFrame(), USER_RW);
    expect(mmu.translate(0x7fff_0000_0000, ACCESS_READ)).toBe(-1);
    expect([mmu.fault.kind, mmu.fault.level]).toEqual([FAULT_NOT_PRESENT, 0]);
    expect(mmu.translate(0x4000_0000, ACCESS_READ)).toBe(-1); // same PML4 slot, another PDPT slot
    expect([mmu.fault.kind, mmu.fault.level]).toEqual([FAULT_NOT_PRESENT, 1]);
    expect(mmu.translate(0x60_0000, ACCESS_READ)).toBe(-1); // same PDPT slot, another PD slot
    expect([mmu.fault.kind, mmu.fault.level]).toEqual([FAULT_NOT_PRESENT, 2]);
    expect(mmu.translate(0x401000, ACCESS_WRITE)).toBe(-1); // the next page of the same table
    expect([mmu.fault.kind, mmu.fault.level, mmu.fault.va, mmu.fault.access]).toEqual([
      FAULT_NOT_PRESENT,
      3,
      0x401000,
      ACCESS_WRITE,
    ]);
  });

  test('a write to a read-only page is a protection fault that sets neither A nor D on the leaf', () => {
    const { machine, mmu, tables } = setup('x86_64');
    tables.map(0x400000, tables.takeFrame(), USER_RO);
    expect(mmu.translate(0x400000, ACCESS_WRITE)).toBe(-1);
    expect([mmu.fault.kind, mmu.fault.level]).toEqual([FAULT_PROTECTION, 3]);
    expect(walkFlags(machine, tables.root, 0x400000)[3]).toEqual(['NX', 'US', 'P']);
  });

  test('a read-only page cached by a read still faults on a write: the TLB checks rights too', () => {
    const { mmu, tables } = setup('x86_64');
    tables.map(0x400000, tables.takeFrame(), USER_RO);
    expect(mmu.translate(0x400000, ACCESS_READ)).toBeGreaterThanOrEqual(0);
    expect(mmu.translate(0x400000, ACCESS_WRITE)).toBe(-1);
    expect(mmu.fault.kind).toBe(FAULT_PROTECTION);
  });

  test('x86 rights are the AND of every level: RW clear in the PD forbids writes below it', () => {
    const { machine, mmu, tables } = setup('x86_64');
    tables.map(0x400000, tables.takeFrame(), USER_RW);
    const pd = mmu.probe(tables.root, 0x400000).steps[2]!;
    mmu.writeLo(pd.entryPa, pd.lo & ~machine.arch.pte.write);
    expect(mmu.translate(0x400000, ACCESS_READ)).toBeGreaterThanOrEqual(0);
    expect(mmu.translate(0x400000, ACCESS_WRITE)).toBe(-1);
    expect(mmu.fault.kind).toBe(FAULT_PROTECTION);
  });

  test('a supervisor page (US clear) faults in user mode and not in kernel mode', () => {
    const { mmu, tables } = setup('x86_64');
    const data = tables.takeFrame();
    tables.map(0x400000, data, { write: true, user: false, exec: false });
    expect(mmu.translate(0x400000, ACCESS_READ)).toBe(-1);
    expect(mmu.fault.kind).toBe(FAULT_PROTECTION);
    mmu.setUserMode(false);
    expect(mmu.translate(0x400000, ACCESS_WRITE)).toBe(data * 4096);
    // The kernel's TLB entry does not leak to user mode.
    mmu.setUserMode(true);
    expect(mmu.translate(0x400000, ACCESS_READ)).toBe(-1);
  });

  test('US clear in an upper table makes the whole range below it supervisor-only', () => {
    const { machine, mmu, tables } = setup('x86_64');
    tables.map(0x400000, tables.takeFrame(), USER_RW);
    const pdpt = mmu.probe(tables.root, 0x400000).steps[1]!;
    mmu.writeLo(pdpt.entryPa, pdpt.lo & ~machine.arch.pte.user);
    expect(mmu.translate(0x400000, ACCESS_READ)).toBe(-1);
    expect(mmu.fault.kind).toBe(FAULT_PROTECTION);
  });

  test('NX forbids a fetch and still allows a read; NX in an upper table covers everything below', () => {
    const { machine, mmu, tables } = setup('x86_64');
    const text = tables.takeFrame();
    tables.map(0x400000, text, USER_RX);
    tables.map(0x600000, tables.takeFrame(), USER_RW);
    expect(mmu.translate(0x400010, ACCESS_EXEC)).toBe(text * 4096 + 0x10);
    expect(mmu.translate(0x600000, ACCESS_READ)).toBeGreaterThanOrEqual(0);
    expect(mmu.translate(0x600000, ACCESS_EXEC)).toBe(-1);
    expect([mmu.fault.kind, mmu.fault.access]).toEqual([FAULT_PROTECTION, ACCESS_EXEC]);
    const pml4 = mmu.probe(tables.root, 0x400000).steps[0]!;
    mmu.writeEntry(pml4.entryPa, pml4.lo, pml4.hi | machine.arch.pte.nxHi);
    machine.tlb.flushAll();
    expect(mmu.translate(0x400010, ACCESS_EXEC)).toBe(-1);
    expect(mmu.fault.kind).toBe(FAULT_PROTECTION);
  });

  test('i386 has no NX: every readable page can be executed', () => {
    const { mmu, tables } = setup('i386');
    const data = tables.takeFrame();
    tables.map(0x0804_8000, data, USER_RW);
    expect(mmu.translate(0x0804_8000, ACCESS_EXEC)).toBe(data * 4096);
  });

  test('teach16 has an X bit of its own', () => {
    const { mmu, tables } = setup('teach16');
    tables.map(0x1000, tables.takeFrame(), USER_RW);
    tables.map(0x1040, tables.takeFrame(), USER_RX);
    expect(mmu.translate(0x1000, ACCESS_EXEC)).toBe(-1);
    expect(mmu.fault.kind).toBe(FAULT_PROTECTION);
    expect(mmu.translate(0x1040, ACCESS_EXEC)).toBeGreaterThanOrEqual(0);
    expect(mmu.translate(0x1040, ACCESS_WRITE)).toBe(-1);
  });

  test('an entry pointing beyond RAM is malformed, not a frame', () => {
    const { mmu, tables } = setup('x86_64', 64);
    tables.map(0x400000, 64, USER_RW);
    expect(mmu.translate(0x400000, ACCESS_READ)).toBe(-1);
    expect([mmu.fault.kind, mmu.fault.level]).toEqual([FAULT_RESERVED, 3]);
  });

  test.each([
    ['x86-64 at 2^47, the first non-canonical address,', 'x86_64', 2 ** 47],
    ['x86-64 at 2^48 - 1, in the kernel half,', 'x86_64', 2 ** 48 - 1],
    ['x86-64 at -4096', 'x86_64', -4096],
    ['Sv39 at 2^38, above the user half,', 'riscv-sv39', 2 ** 38],
    ['teach16 at 0x10000, past 16 bits,', 'teach16', 0x10000],
  ] as const)('%s is not a user address: the MMU faults without a walk', (_what, arch, va) => {
    const { mmu } = setup(arch);
    expect(mmu.translate(va, ACCESS_READ)).toBe(-1);
    expect([mmu.fault.kind, mmu.fault.level]).toEqual([FAULT_BAD_ADDRESS, -1]);
    expect(counters(mmu)).toEqual({ hits: 0, misses: 1, walks: 0, pteReads: 0 });
  });

  test('with no address space loaded every access faults', () => {
    const { mmu } = setup('x86_64');
    mmu.setContext(-1, 0);
    expect(mmu.translate(0x400000, ACCESS_READ)).toBe(-1);
    expect(mmu.fault.kind).toBe(FAULT_BAD_ADDRESS);
  });
});

describe('RISC-V Sv39 marks leaves by their rights', () => {
  test('a page without X cannot be fetched; with X it can', () => {
    const { mmu, tables } = setup('riscv-sv39');
    const data = tables.takeFrame();
    tables.map(0x10000, data, USER_RW);
    tables.map(0x11000, tables.takeFrame(), USER_RX);
    expect(mmu.translate(0x10000, ACCESS_EXEC)).toBe(-1);
    expect(mmu.fault.kind).toBe(FAULT_PROTECTION);
    expect(mmu.translate(0x10000, ACCESS_WRITE)).toBe(data * 4096);
    expect(mmu.translate(0x11000, ACCESS_EXEC)).toBeGreaterThanOrEqual(0);
  });

  test('W without R is a reserved encoding', () => {
    const { machine, mmu, tables } = setup('riscv-sv39');
    const ea = tables.map(0x10000, tables.takeFrame(), USER_RW);
    mmu.writeLo(ea, mmu.readLo(ea) & ~machine.arch.pte.read);
    expect(mmu.translate(0x10000, ACCESS_READ)).toBe(-1);
    expect([mmu.fault.kind, mmu.fault.level]).toEqual([FAULT_RESERVED, 2]);
  });

  test('a leaf above the last level (a superpage, not modelled) and a pointer at the last are malformed', () => {
    const { machine, mmu, tables } = setup('riscv-sv39');
    const fmt = machine.arch.pte;
    const ea = tables.map(0x10000, tables.takeFrame(), USER_RW);
    // Turn the level-1 pointer into a leaf: an R bit makes it one.
    const l1 = mmu.probe(tables.root, 0x10000).steps[1]!;
    mmu.writeLo(l1.entryPa, l1.lo | fmt.read);
    expect(mmu.translate(0x10000, ACCESS_READ)).toBe(-1);
    expect([mmu.fault.kind, mmu.fault.level]).toEqual([FAULT_RESERVED, 1]);
    mmu.writeLo(l1.entryPa, l1.lo);
    // A last-level entry with V alone points at yet another table: there is none.
    mmu.writeLo(ea, fmt.encodeLo(3, fmt.present));
    expect(mmu.translate(0x10000, ACCESS_READ)).toBe(-1);
    expect([mmu.fault.kind, mmu.fault.level]).toEqual([FAULT_RESERVED, 2]);
    expect(mmu.probe(tables.root, 0x10000).fault).toBe(FAULT_RESERVED);
  });

  test('non-leaf entries get no A bit (the spec reserves it there)', () => {
    const { machine, tables, mmu } = setup('riscv-sv39');
    tables.map(0x10000, tables.takeFrame(), USER_RW);
    mmu.translate(0x10000, ACCESS_WRITE);
    expect(walkFlags(machine, tables.root, 0x10000)).toEqual([['V'], ['V'], ['D', 'A', 'U', 'W', 'R', 'V']]);
  });
});

describe('the TLB in front of the walk', () => {
  test('keeps a stale translation after the PTE changes, until the page is invalidated', () => {
    const { mmu, machine, tables } = setup('x86_64');
    const [a, b] = [tables.takeFrame(), tables.takeFrame()];
    tables.map(0x400000, a, USER_RW);
    expect(mmu.translate(0x400000, ACCESS_READ)).toBe(a * 4096);
    tables.map(0x400000, b, USER_RW);
    expect(mmu.translate(0x400000, ACCESS_READ)).toBe(a * 4096);
    machine.tlb.invalidatePage(1, 0x400);
    expect(mmu.translate(0x400000, ACCESS_READ)).toBe(b * 4096);
  });

  test('entries are tagged by ASID: two address spaces share the TLB without seeing each other', () => {
    const { mmu, tables } = setup('x86_64');
    const other = tables.another();
    const [a, b] = [tables.takeFrame(), tables.takeFrame()];
    tables.map(0x400000, a, USER_RW);
    other.map(0x400000, b, USER_RW);
    expect(mmu.translate(0x400000, ACCESS_READ)).toBe(a * 4096);
    mmu.setContext(other.root, 2);
    expect(mmu.translate(0x400000, ACCESS_READ)).toBe(b * 4096);
    // Back in the first address space its entry is still cached: a hit, no walk.
    mmu.setContext(tables.root, 1);
    const walks = mmu.walks;
    expect(mmu.translate(0x400000, ACCESS_READ)).toBe(a * 4096);
    expect(mmu.walks).toBe(walks);
  });
});

test('probe walks without side effects: no A/D bits, no TLB fill, no counters', () => {
  const { machine, mmu, tables } = setup('x86_64');
  const data = tables.takeFrame();
  tables.map(0x400000, data, USER_RW);
  const before = machine.mem.bytes.slice();
  const probe = mmu.probe(tables.root, 0x400abc);
  expect(probe.pa).toBe(data * 4096 + 0xabc);
  expect(probe.steps.map((s) => s.leaf)).toEqual([false, false, false, true]);
  expect(sameBytes(machine.mem.bytes, before)).toBe(true);
  expect(machine.tlb.entries()).toEqual([]);
  expect(counters(mmu)).toEqual({ hits: 0, misses: 0, walks: 0, pteReads: 0 });
});

/**
 * Differential: for random page tables and random accesses, the TLB-backed `translate` agrees with
 * a from-scratch reference of the architecture's rules and with a raw walk (`probe`), and the TLB
 * never caches a frame or a right the page table does not give.
 */
describe.each(['x86_64', 'riscv-sv39', 'i386', 'teach16'] as const)('%s: translate == walk', (arch) => {
  type Op =
    | { op: 'access'; page: number; offset: number; kind: AccessKind }
    | { op: 'map'; page: number; frame: number; rights: PteRights }
    | { op: 'unmap'; page: number }
    | { op: 'mode'; user: boolean }
    | { op: 'flush' };

  const probeMachine = smallMachine(arch);
  const pageSize = probeMachine.arch.pageSize;
  const lastVpn = probeMachine.arch.userVaLimit / pageSize - 1;
  const DATA_FRAMES = 6;
  const canExec = (rights: PteRights): boolean => arch === 'i386' || rights.exec;

  const vpns = fc.uniqueArray(
    fc.oneof(fc.integer({ min: 0, max: lastVpn }), fc.integer({ min: 0, max: 40 })),
    {
      minLength: 1,
      maxLength: 8,
    },
  );
  const rights = fc.record({ write: fc.boolean(), user: fc.boolean(), exec: fc.boolean() });
  const op: fc.Arbitrary<Op> = fc.oneof(
    {
      weight: 6,
      arbitrary: fc.record({
        op: fc.constant('access' as const),
        page: fc.nat(7),
        offset: fc.nat(pageSize - 1),
        kind: fc.constantFrom(ACCESS_READ, ACCESS_WRITE, ACCESS_EXEC),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        op: fc.constant('map' as const),
        page: fc.nat(7),
        frame: fc.nat(DATA_FRAMES - 1),
        rights,
      }),
    },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('unmap' as const), page: fc.nat(7) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('mode' as const), user: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('flush' as const) }) },
  );

  test('for random mappings and accesses', () => {
    fc.assert(
      fc.property(vpns, fc.array(op, { minLength: 1, maxLength: 60, size: 'max' }), (pages, ops) => {
        const machine = smallMachine(arch);
        const { mmu, tlb } = machine;
        const tables = new TableBuilder(machine);
        const frames = Array.from({ length: DATA_FRAMES }, () => tables.takeFrame());
        mmu.setContext(tables.root, 1);
        const model = new Map<number, { pfn: number; rights: PteRights }>();
        let user = true;
        for (const o of ops) {
          if (o.op === 'mode') {
            user = o.user;
            mmu.setUserMode(user);
            continue;
          }
          if (o.op === 'flush') {
            tlb.flushAll();
            continue;
          }
          const vpn = pages[o.page % pages.length]!;
          const va = vpn * pageSize;
          if (o.op === 'map') {
            tables.map(va, frames[o.frame]!, o.rights);
            tlb.invalidatePage(1, vpn);
            model.set(vpn, { pfn: frames[o.frame]!, rights: o.rights });
            continue;
          }
          if (o.op === 'unmap') {
            if (model.delete(vpn)) {
              tables.unmap(va);
              tlb.invalidatePage(1, vpn);
            }
            continue;
          }
          const m = model.get(vpn);
          const pa = mmu.translate(va + o.offset, o.kind);
          expect(mmu.probe(tables.root, va + o.offset).pa).toBe(m ? m.pfn * pageSize + o.offset : -1);
          if (!m) {
            expect([pa, mmu.fault.kind]).toEqual([-1, FAULT_NOT_PRESENT]);
            continue;
          }
          const allowed =
            (!user || m.rights.user) &&
            (o.kind !== ACCESS_WRITE || m.rights.write) &&
            (o.kind !== ACCESS_EXEC || canExec(m.rights));
          if (!allowed) {
            expect([pa, mmu.fault.kind]).toEqual([-1, FAULT_PROTECTION]);
            continue;
          }
          expect(pa).toBe(m.pfn * pageSize + o.offset);
          const leaf = mmu.probe(tables.root, va).steps.at(-1)!;
          const d = machine.arch.pte.decode(leaf.lo, leaf.hi);
          expect(d.accessed).toBe(true);
          if (o.kind === ACCESS_WRITE) expect(d.dirty).toBe(true);
        }
        // Every cached translation is one the page table gives, with no extra right.
        for (const e of tlb.entries()) {
          const m = model.get(e.vpn);
          expect(m?.pfn, `TLB entry for vpn ${e.vpn}`).toBe(e.pfn);
          const leaf = mmu.probe(tables.root, e.vpn * pageSize).steps.at(-1)!;
          const d = machine.arch.pte.decode(leaf.lo, leaf.hi);
          if (e.perm & TLB_W) expect(d.write).toBe(true);
          if (e.perm & TLB_U) expect(d.user).toBe(true);
          if (e.perm & TLB_X) expect(canExec(m!.rights)).toBe(true);
          if (e.perm & TLB_D) expect(d.dirty).toBe(true);
        }
      }),
      { numRuns: 150 },
    );
  });
});

/**
 * `translateRun` is `translate` for the accesses that hit through the TLB's hint: on two identical
 * machines, random accesses (with remaps, flushes and a second address space between them) give the
 * same frames, counters and TLB state whether translated one by one or in runs.
 */
describe.each(['x86_64', 'riscv-sv39', 'i386', 'teach16'] as const)(
  '%s: translateRun == translate',
  (arch) => {
    const access = fc.record({
      page: fc.nat(11),
      offset: fc.nat(4095),
      kind: fc.constantFrom(ACCESS_READ, ACCESS_READ, ACCESS_WRITE, ACCESS_EXEC),
    });
    const step = fc.oneof(
      { weight: 8, arbitrary: fc.array(access, { minLength: 1, maxLength: 40 }) },
      { weight: 1, arbitrary: fc.constantFrom('remap' as const, 'flush' as const, 'switch' as const) },
    );

    function machineFor() {
      const machine = smallMachine(arch, 64, { entries: 8, ways: 2 });
      const a = new TableBuilder(machine);
      const b = a.another();
      const frames = Array.from({ length: 12 }, () => a.takeFrame());
      const pageSize = machine.arch.pageSize;
      frames.forEach((f, i) => {
        // Pages 0..9 mapped (two read-only, one executable), 10 and 11 never: faults.
        if (i < 10) a.map((0x40 + i * 3) * pageSize, f, i < 2 ? USER_RO : i === 2 ? USER_RX : USER_RW);
        if (i < 5) b.map((0x40 + i * 3) * pageSize, frames[11 - i]!, USER_RW);
      });
      machine.mmu.setContext(a.root, 1);
      return { machine, a, b, pageSize };
    }

    test('for random runs of accesses', () => {
      fc.assert(
        fc.property(fc.array(step, { minLength: 1, maxLength: 30 }), (steps) => {
          const one = machineFor();
          const run = machineFor();
          let asid = 1;
          for (const s of steps) {
            if (s === 'flush') {
              one.machine.tlb.flushAll();
              run.machine.tlb.flushAll();
              continue;
            }
            if (s === 'remap') {
              for (const m of [one, run]) {
                m.a.map(0x40 * m.pageSize, m.a.takeFrame(), USER_RW);
                m.machine.tlb.invalidatePage(1, 0x40);
              }
              continue;
            }
            if (s === 'switch') {
              asid = asid === 1 ? 2 : 1;
              for (const m of [one, run]) m.machine.mmu.setContext(asid === 1 ? m.a.root : m.b.root, asid);
              continue;
            }
            const ps = one.pageSize;
            const va = Float64Array.from(s, (x) => (0x40 + x.page * 3) * ps + (x.offset % ps));
            const kinds = Uint8Array.from(s, (x) => x.kind);
            const vpns = va.map((v) => Math.floor(v / ps));
            const frameOf = (pa: number) => (pa < 0 ? -1 : Math.floor(pa / ps));
            const expected = s.map((x, i) => frameOf(one.machine.mmu.translate(va[i]!, x.kind)));
            const got = new Int32Array(s.length);
            let i = 0;
            while (i < s.length) {
              const j = run.machine.mmu.translateRun(vpns, kinds, got, i, s.length);
              if (j === s.length) break;
              got[j] = frameOf(run.machine.mmu.translate(va[j]!, s[j]!.kind));
              i = j + 1;
            }
            expect([...got]).toEqual(expected);
            expect(counters(run.machine.mmu)).toEqual(counters(one.machine.mmu));
            expect(run.machine.tlb.entries()).toEqual(one.machine.tlb.entries());
            expect([...run.machine.tlb.stamp]).toEqual([...one.machine.tlb.stamp]);
            expect([...run.machine.tlb.front]).toEqual([...one.machine.tlb.front]);
          }
        }),
        { numRuns: 100 },
      );
    });

    test('stops at the first access that is not a hinted hit, and a run of hits fills every frame', () => {
      const { machine, pageSize } = machineFor();
      const mmu = machine.mmu;
      const vpns = Float64Array.of(0x40, 0x43, 0x40);
      const kinds = Uint8Array.of(ACCESS_READ, ACCESS_READ, ACCESS_READ);
      const pfns = new Int32Array(3);
      expect(mmu.translateRun(vpns, kinds, pfns, 0, 3)).toBe(0); // a cold TLB: nothing hits
      mmu.translate(0x40 * pageSize + 8, ACCESS_READ);
      mmu.translate(0x43 * pageSize, ACCESS_READ);
      expect(mmu.translateRun(vpns, kinds, pfns, 0, 3)).toBe(3);
      expect([...pfns]).toEqual([...vpns].map((vpn) => mmu.probe(mmu.rootPfn, vpn * pageSize).pa / pageSize));
      kinds[1] = ACCESS_WRITE; // page 0x43's entry was filled by a read: D is not cached yet
      expect(mmu.translateRun(vpns, kinds, pfns, 0, 3)).toBe(1);
    });
  },
);
