/**
 * One way for tools to look inside the kernel without changing it — no fault, no accessed bit, no TLB
 * fill: the page-table tree of an address space entry by entry, what a leaf entry holds, who maps a
 * frame, and how much of a VMA is resident or in swap. The checker, the scenario snapshots and the
 * visualizer all read through here.
 */
import type { Kernel } from './kernel.js';
import type { Mm } from './mm.js';
import type { Vma } from './vma.js';

/** What a leaf entry holds. */
export type LeafKind = 'none' | 'present' | 'protnone' | 'swap' | 'unknown';

export function leafKind(k: Kernel, lo: number, hi: number): LeafKind {
  const fmt = k.machine.arch.pte;
  if (lo === 0 && hi === 0) return 'none';
  if ((lo & fmt.present) !== 0) return 'present';
  if ((lo & fmt.swSwap) !== 0) return 'swap';
  if ((lo & fmt.swProtNone) !== 0) return 'protnone';
  return 'unknown';
}

export interface TreeVisitor {
  /** A table of the tree (the root at level 0), reached from `baseVpn`. */
  table?(pfn: number, level: number, baseVpn: number): void;
  /**
   * A non-empty entry: `leaf` at the last level. The walk descends into a non-leaf entry when it is
   * present and names a frame of RAM (the checker reports the others).
   */
  entry?(
    level: number,
    index: number,
    vpn: number,
    entryPa: number,
    lo: number,
    hi: number,
    leaf: boolean,
  ): void;
}

/** Visits `mm`'s whole page-table tree, depth first, in address order. */
export function walkTables(k: Kernel, mm: Mm, v: TreeVisitor): void {
  if (mm.rootPfn < 0) return;
  const fmt = k.machine.arch.pte;
  const mmu = k.machine.mmu;
  const ps = k.pageSize;
  const last = k.machine.arch.levels - 1;
  const frameCount = k.frames.frameCount;
  const visit = (table: number, level: number, baseVpn: number): void => {
    v.table?.(table, level, baseVpn);
    const span = k.pageTables.entrySpan[level]!;
    const n = k.pageTables.entries[level]!;
    for (let i = 0; i < n; i++) {
      const ea = table * ps + i * fmt.entryBytes;
      const lo = mmu.readLo(ea);
      const hi = mmu.readHi(ea);
      if (lo === 0 && hi === 0) continue;
      const vpn = baseVpn + i * span;
      const leaf = level === last;
      v.entry?.(level, i, vpn, ea, lo, hi, leaf);
      if (leaf || (lo & fmt.present) === 0) continue;
      // RISC-V marks a leaf by its rights, at any level: no table below it.
      if (fmt.leafMarkedByRights && (lo & (fmt.read | fmt.write | fmt.exec)) !== 0) continue;
      const child = fmt.pfnOf(lo, hi);
      if (child < frameCount) visit(child, level + 1, vpn);
    }
  };
  visit(mm.rootPfn, 0, 0);
}

/** Every process (by pid, the first task of each address space) and address that maps `pfn`. */
export function mappersOf(k: Kernel, pfn: number): { pid: number; va: number }[] {
  return k.rmap.mappers(pfn).map(({ mm, va }) => ({ pid: mm.pid, va }));
}

/** How many of a VMA's pages are in memory (and dirty), and how many in swap. */
export function residency(k: Kernel, mm: Mm, vma: Vma): { present: number; dirty: number; swapped: number } {
  const fmt = k.machine.arch.pte;
  const ps = k.pageSize;
  let present = 0;
  let dirty = 0;
  let swapped = 0;
  k.pageTables.forEachLeaf(mm, vma.start / ps, vma.end / ps, (_vpn, _ea, lo, hi) => {
    const kind = leafKind(k, lo, hi);
    if (kind === 'swap') swapped++;
    else if ((kind === 'present' || kind === 'protnone') && fmt.pfnOf(lo, hi) !== k.vm.zeroPfn) {
      present++;
      if ((lo & fmt.dirty) !== 0) dirty++;
    }
  });
  return { present, dirty, swapped };
}
