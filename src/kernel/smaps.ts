/**
 * /proc/PID/smaps and smaps_rollup as data, counted as Linux's `smaps_pte_entry` / `smaps_account`
 * count them (fs/proc/task_mmu.c):
 *
 * - a page mapped by one entry is private, by more it is shared — whatever MAP_SHARED says;
 * - Pss gives each mapper 1/mapcount of the page, kept in 1/4096-byte units (PSS_SHIFT) so that
 *   rounding happens only when printed;
 * - a page is dirty when its entry or the page itself is (a file page written by write(2) and not yet
 *   written back is dirty);
 * - Anonymous counts anonymous pages, COW copies of file pages included; LazyFree the MADV_FREE'd ones
 *   still clean; Swap the swap entries, SwapPss each divided by the slot's users;
 * - the shared zero page is counted nowhere.
 */
import { FRAME_ANON, FRAME_SHMEM, PG_DIRTY, PG_LAZYFREE, PG_REFERENCED } from './frames.js';
import type { Kernel } from './kernel.js';
import type { Mm } from './mm.js';
import { type MapsEntry, mapsEntries } from './proc.js';
import { VM_HUGEPAGE, VM_LOCKED, VM_NOHUGEPAGE, type Vma, vmFlagNames } from './vma.js';

/** The counters of one VMA (or of all, for the rollup), in bytes; the `pss*` ones in bytes × 4096. */
export interface SmapsFields {
  Rss: number;
  Pss: number;
  Pss_Dirty: number;
  Pss_Anon: number;
  Pss_File: number;
  Pss_Shmem: number;
  Shared_Clean: number;
  Shared_Dirty: number;
  Private_Clean: number;
  Private_Dirty: number;
  Referenced: number;
  Anonymous: number;
  LazyFree: number;
  Swap: number;
  SwapPss: number;
  Locked: number;
}

/** `Pss`, `Pss_*`, `SwapPss` and `Locked` carry this many fraction bits (Linux PSS_SHIFT). */
export const PSS_SHIFT = 12;

export interface SmapsEntry {
  readonly maps: MapsEntry;
  readonly size: number;
  readonly fields: SmapsFields;
  readonly flags: readonly string[];
  /** THPeligible: with transparent huge pages in `madvise` mode (the recorded machine's), an anonymous
   * VMA marked MADV_HUGEPAGE that covers an aligned PMD. */
  readonly thpEligible: boolean;
  /** KernelPageSize and MMUPageSize: the huge page size of a hugetlbfs mapping, else the page size. */
  readonly kernelPageSize: number;
}

export function emptySmaps(): SmapsFields {
  return {
    Rss: 0,
    Pss: 0,
    Pss_Dirty: 0,
    Pss_Anon: 0,
    Pss_File: 0,
    Pss_Shmem: 0,
    Shared_Clean: 0,
    Shared_Dirty: 0,
    Private_Clean: 0,
    Private_Dirty: 0,
    Referenced: 0,
    Anonymous: 0,
    LazyFree: 0,
    Swap: 0,
    SwapPss: 0,
    Locked: 0,
  };
}

/** Adds the pages of `vma` to `acc` (smap_gather_stats). */
export function gatherVma(k: Kernel, mm: Mm, vma: Vma, acc: SmapsFields): void {
  const ps = k.pageSize;
  const fmt = k.machine.arch.pte;
  const f = k.frames;
  const locked = (vma.flags & VM_LOCKED) !== 0;
  const unit = ps * 2 ** PSS_SHIFT;
  k.pageTables.forEachLeaf(mm, vma.start / ps, vma.end / ps, (_vpn, _ea, lo, hi) => {
    const present = (lo & (fmt.present | fmt.swProtNone)) !== 0;
    if (!present) {
      if ((lo & fmt.swSwap) === 0 || k.swap === null) return;
      const slot = fmt.pfnOf(lo, hi);
      acc.Swap += ps;
      const users = k.swap.count[slot]! - (k.swap.cachedPfn[slot]! >= 0 ? 1 : 0);
      acc.SwapPss += users >= 2 ? Math.floor(unit / users) : unit;
      return;
    }
    const pfn = fmt.pfnOf(lo, hi);
    if (pfn === k.vm.zeroPfn) return;
    const kind = f.kind[pfn];
    const dirty = (fmt.dirty !== 0 && (lo & fmt.dirty) !== 0) || (f.flags[pfn]! & PG_DIRTY) !== 0;
    const young = (lo & fmt.accessed) !== 0 || (f.flags[pfn]! & PG_REFERENCED) !== 0;
    if (kind === FRAME_ANON) {
      acc.Anonymous += ps;
      if (f.flags[pfn]! & PG_LAZYFREE && !dirty) acc.LazyFree += ps;
    }
    acc.Rss += ps;
    if (young) acc.Referenced += ps;
    const mapcount = f.mapcount[pfn]!;
    const pss = mapcount >= 2 ? Math.floor(unit / mapcount) : unit;
    const shared = mapcount >= 2;
    acc.Pss += pss;
    if (kind === FRAME_ANON) acc.Pss_Anon += pss;
    else if (kind === FRAME_SHMEM) acc.Pss_Shmem += pss;
    else acc.Pss_File += pss;
    if (locked) acc.Locked += pss;
    if (dirty) {
      acc.Pss_Dirty += pss;
      if (shared) acc.Shared_Dirty += ps;
      else acc.Private_Dirty += ps;
    } else if (shared) acc.Shared_Clean += ps;
    else acc.Private_Clean += ps;
  });
  // Shmem pages out in swap have no entry in the tables: the object knows them.
  const obj = vma.object;
  if (obj !== null && obj.kind === 'shmem' && obj.swapped.size > 0) {
    const first = vma.pgoff;
    const last = vma.pgoff + (vma.end - vma.start) / ps;
    for (const index of obj.swapped.keys()) if (index >= first && index < last) acc.Swap += ps;
  }
}

/** Every VMA's smaps record, in address order (the [vsyscall] page has an empty one). */
export function smapsEntries(k: Kernel, mm: Mm): SmapsEntry[] {
  return mapsEntries(mm, k.machine.arch.vsyscallPage).map((maps) => {
    const fields = emptySmaps();
    if (maps.vma !== null) gatherVma(k, mm, maps.vma, fields);
    // [vsyscall] is VM_EXEC only (the gate area's flags).
    const flags = maps.vma !== null ? vmFlagNames(maps.vma.flags) : ['ex'];
    const v = maps.vma;
    const pmd = mm.layout.thpAlign;
    const thpEligible =
      v !== null &&
      pmd > 0 &&
      v.object === null &&
      (v.flags & (VM_HUGEPAGE | VM_NOHUGEPAGE)) === VM_HUGEPAGE &&
      Math.floor(v.end / pmd) * pmd - Math.ceil(v.start / pmd) * pmd >= pmd;
    const kernelPageSize = v?.object?.hugeBytes || k.pageSize;
    return { maps, size: maps.end - maps.start, fields, flags, thpEligible, kernelPageSize };
  });
}

/** smaps_rollup: the sums over every VMA. */
export function smapsRollup(k: Kernel, mm: Mm): SmapsFields {
  const acc = emptySmaps();
  for (const vma of mm.vmas) gatherVma(k, mm, vma, acc);
  return acc;
}
