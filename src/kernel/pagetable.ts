/**
 * Page-table trees in simulated RAM: creating the root, finding (and building) the path to a leaf
 * entry, visiting the leaves of a range, and freeing tables that no VMA needs any more.
 *
 * Every table is one frame of kind FRAME_PAGETABLE owned by the process. The root is not counted in
 * VmPTE (Linux counts the tables below the pgd).
 */
import { invariant } from '../base/errors.js';
import type { Arch } from '../hw/arch.js';
import type { Mmu } from '../hw/mmu.js';
import type { PteFormat } from '../hw/pte.js';
import { FRAME_PAGETABLE, type FrameTable } from './frames.js';
import type { Mm } from './mm.js';

/** Called for a new or freed table, so the kernel can emit events. */
export type TableListener = (pid: number, pfn: number, level: number, what: 'alloc' | 'free') => void;

export class PageTables {
  private readonly arch: Arch;
  private readonly fmt: PteFormat;
  private readonly mmu: Mmu;
  private readonly frames: FrameTable;
  /** Pages covered by one entry at each level. */
  readonly entrySpan: number[];
  /** Entries per table at each level. */
  readonly entries: number[];
  listener: TableListener | null = null;
  /** Called when no frame is free for a table: reclaim one. @returns false when nothing could be. */
  onNoMemory: (() => boolean) | null = null;

  constructor(arch: Arch, mmu: Mmu, frames: FrameTable) {
    this.arch = arch;
    this.fmt = arch.pte;
    this.mmu = mmu;
    this.frames = frames;
    this.entrySpan = [];
    this.entries = [];
    let span = 1;
    for (let l = arch.levels - 1; l >= 0; l--) {
      this.entrySpan[l] = span;
      this.entries[l] = 2 ** arch.indexBits[l]!;
      span *= this.entries[l]!;
    }
  }

  /** Allocates a zeroed root table for `pid`. @returns its pfn, or -1 when memory is exhausted. */
  newRoot(pid: number): number {
    const pfn = this.allocTable(pid);
    if (pfn >= 0) this.listener?.(pid, pfn, 0, 'alloc');
    return pfn;
  }

  /**
   * Physical address of the leaf entry for page `vpn`.
   * With `allocate`, missing tables are built (charged to `mm.ptPages`); otherwise a missing table
   * gives -1. @returns -1 when absent, or when a table could not be allocated (nothing is left
   * half-built: tables made before the failure stay, empty, as they would on Linux).
   */
  leafEntry(mm: Mm, pid: number, vpn: number, opts: { allocate: boolean }): number {
    const fmt = this.fmt;
    const mmu = this.mmu;
    const last = this.arch.levels - 1;
    let table = mm.rootPfn;
    for (let level = 0; level < last; level++) {
      const ea = table * this.arch.pageSize + mmu.indexAt(vpn, level) * fmt.entryBytes;
      const lo = mmu.readLo(ea);
      if ((lo & fmt.present) !== 0) {
        table = fmt.pfnOf(lo, mmu.readHi(ea));
        continue;
      }
      if (!opts.allocate) return -1;
      const child = this.allocTable(pid);
      if (child < 0) return -1;
      mm.ptPages++;
      mmu.writeEntry(ea, fmt.encodeLo(child, fmt.tableFlags), fmt.encodeHi(child, false));
      this.listener?.(pid, child, level + 1, 'alloc');
      table = child;
    }
    return table * this.arch.pageSize + mmu.indexAt(vpn, last) * fmt.entryBytes;
  }

  /**
   * Calls `fn` for every non-zero leaf entry of pages in [startVpn, endVpn), in address order,
   * skipping absent tables. `fn` may rewrite the entry it is given.
   */
  forEachLeaf(
    mm: Mm,
    startVpn: number,
    endVpn: number,
    fn: (vpn: number, entryPa: number, lo: number, hi: number) => void,
  ): void {
    if (mm.rootPfn < 0 || endVpn <= startVpn) return;
    this.visit(mm.rootPfn, 0, 0, startVpn, endVpn, fn);
  }

  private visit(
    table: number,
    level: number,
    baseVpn: number,
    startVpn: number,
    endVpn: number,
    fn: (vpn: number, entryPa: number, lo: number, hi: number) => void,
  ): void {
    const fmt = this.fmt;
    const span = this.entrySpan[level]!;
    const first = Math.max(0, Math.floor((startVpn - baseVpn) / span));
    const lastIdx = Math.min(this.entries[level]! - 1, Math.floor((endVpn - 1 - baseVpn) / span));
    const leafLevel = level === this.arch.levels - 1;
    for (let idx = first; idx <= lastIdx; idx++) {
      const ea = table * this.arch.pageSize + idx * fmt.entryBytes;
      const lo = this.mmu.readLo(ea);
      const hi = this.mmu.readHi(ea);
      if (lo === 0 && hi === 0) continue;
      const vpn = baseVpn + idx * span;
      if (leafLevel) fn(vpn, ea, lo, hi);
      else if ((lo & fmt.present) !== 0) this.visit(fmt.pfnOf(lo, hi), level + 1, vpn, startVpn, endVpn, fn);
    }
  }

  /**
   * Frees every table (below the root) whose whole span lies inside [gapStartVpn, gapEndVpn), the
   * hole between the VMAs around an unmapped range — Linux `free_pgtables` with floor and ceiling.
   * Leaf entries inside freed tables must already be clear.
   */
  freeTablesInGap(mm: Mm, pid: number, gapStartVpn: number, gapEndVpn: number): void {
    if (mm.rootPfn < 0 || gapEndVpn <= gapStartVpn) return;
    this.freeInGap(mm, pid, mm.rootPfn, 0, 0, gapStartVpn, gapEndVpn);
  }

  private freeInGap(
    mm: Mm,
    pid: number,
    table: number,
    level: number,
    baseVpn: number,
    gs: number,
    ge: number,
  ): void {
    if (level === this.arch.levels - 1) return;
    const fmt = this.fmt;
    const span = this.entrySpan[level]!;
    const first = Math.max(0, Math.floor((gs - baseVpn) / span));
    const lastIdx = Math.min(this.entries[level]! - 1, Math.floor((ge - 1 - baseVpn) / span));
    for (let idx = first; idx <= lastIdx; idx++) {
      const ea = table * this.arch.pageSize + idx * fmt.entryBytes;
      const lo = this.mmu.readLo(ea);
      if ((lo & fmt.present) === 0) continue;
      const child = fmt.pfnOf(lo, this.mmu.readHi(ea));
      const childBase = baseVpn + idx * span;
      if (childBase >= gs && childBase + span <= ge) {
        this.freeSubtree(mm, pid, child, level + 1);
        this.mmu.writeEntry(ea, 0, 0);
      } else {
        this.freeInGap(mm, pid, child, level + 1, childBase, gs, ge);
      }
    }
  }

  /** Frees the whole tree, root included (exit). Leaf entries must already be clear. */
  freeAll(mm: Mm, pid: number): void {
    if (mm.rootPfn < 0) return;
    this.freeSubtree(mm, pid, mm.rootPfn, 0);
    mm.ptPages++; // the root was not counted; freeSubtree un-counted it
    mm.rootPfn = -1;
  }

  private freeSubtree(mm: Mm, pid: number, table: number, level: number): void {
    const fmt = this.fmt;
    const n = this.entries[level]!;
    const leafLevel = level === this.arch.levels - 1;
    for (let idx = 0; idx < n; idx++) {
      const ea = table * this.arch.pageSize + idx * fmt.entryBytes;
      const lo = this.mmu.readLo(ea);
      const hi = this.mmu.readHi(ea);
      if (lo === 0 && hi === 0) continue;
      invariant(!leafLevel, `pagetable: freeing table ${table} that still holds a leaf entry`);
      if ((lo & fmt.present) !== 0) this.freeSubtree(mm, pid, fmt.pfnOf(lo, hi), level + 1);
    }
    this.frames.put(table);
    mm.ptPages--;
    this.listener?.(pid, table, level, 'free');
  }

  private allocTable(pid: number): number {
    let pfn = this.frames.alloc(0, FRAME_PAGETABLE, pid);
    while (pfn < 0 && this.onNoMemory?.()) pfn = this.frames.alloc(0, FRAME_PAGETABLE, pid);
    if (pfn >= 0) this.mmu.mem.zeroFrame(pfn);
    return pfn;
  }
}
