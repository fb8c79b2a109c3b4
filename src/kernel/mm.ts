/**
 * An address space (Linux `mm_struct`): the sorted VMA list, the page-table root and ASID, the
 * brk/stack/code markers, and the counters /proc/PID/status reports. Threads share one; it lives until
 * the last of its users exits.
 *
 * A VMA in the list is on the reverse-map lists of its anon_vmas and of its object (Linux's
 * anon_vma_chain and i_mmap): `insert` and `remove` keep that true.
 */
import { invariant } from '../base/errors.js';
import type { CommitAccounting } from './commit.js';
import type { UserLayout } from './layout.js';
import { VM_ACCOUNT, VM_EXEC, VM_LOCKED, VM_SHARED, VM_STACK, VM_WRITE, type Vma } from './vma.js';

/** Resource limits in bytes; `Infinity` = unlimited. */
export interface Rlimits {
  stack: number;
  data: number;
  as: number;
  /** RLIMIT_MEMLOCK (Linux's default: 8 MiB). */
  memlock: number;
}

export class Mm {
  readonly pageSize: number;
  /** The thread-group id of the process that owns it (its page tables are charged to it). */
  pid = 0;
  /** Tasks using this address space (a process and its threads). */
  users = 1;
  /** VMAs sorted by start, never overlapping. */
  readonly vmas: Vma[] = [];
  rootPfn = -1;
  asid = 0;
  /** Page-table pages below the root (Linux `mm_pgtables_bytes`, shown as VmPTE). */
  ptPages = 0;

  startCode = 0;
  endCode = 0;
  startData = 0;
  endData = 0;
  startBrk = 0;
  brk = 0;
  startStack = 0;
  mmapBase = 0;
  taskSize = 0;
  /** Show the x86-64 `[vsyscall]` page in maps (64-bit processes loaded by exec). */
  vsyscall = false;
  /**
   * Reads of untouched anonymous memory take a zeroed frame of their own instead of the shared zero
   * page (Linux's `mm_forbids_zeropage`): a trace replay wants every page it names to take a frame.
   */
  forbidsZeroPage = false;
  /** Where the argument and environment strings are (mm->arg_start … env_end), 0 when unknown. */
  argStart = 0;
  argEnd = 0;
  envStart = 0;
  envEnd = 0;
  readonly rlimits: Rlimits;

  /** Page counts per accounting class (`vm_stat_account`). */
  totalVm = 0;
  dataVm = 0;
  execVm = 0;
  stackVm = 0;
  hiwaterVm = 0;
  hiwaterRss = 0;
  rssAnon = 0;
  rssFile = 0;
  rssShmem = 0;
  swapEnts = 0;
  /** Flags every new mapping gets (mlockall(MCL_FUTURE): VM_LOCKED), Linux `mm->def_flags`. */
  defFlags = 0;
  /** Pages of VM_LOCKED VMAs (VmLck). */
  lockedVm = 0;
  minflt = 0;
  majflt = 0;

  /** The address-space policy of this process (a 32-bit process on a 64-bit kernel has its own). */
  layout: UserLayout;

  /** Where VM_ACCOUNT pages are counted (Committed_AS), or null. */
  readonly commit: CommitAccounting | null;

  constructor(
    pageSize: number,
    rlimits: Rlimits,
    layout: UserLayout,
    commit: CommitAccounting | null = null,
  ) {
    this.pageSize = pageSize;
    this.rlimits = rlimits;
    this.layout = layout;
    this.commit = commit;
  }

  get rss(): number {
    return this.rssAnon + this.rssFile + this.rssShmem;
  }

  /** Records a new RSS high-water mark if RSS just grew past it. */
  noteRss(): void {
    const rss = this.rss;
    if (rss > this.hiwaterRss) this.hiwaterRss = rss;
  }

  /** Index of the first VMA whose end is above `va` (Linux `find_vma`), or `vmas.length`. */
  findIndex(va: number): number {
    let lo = 0;
    let hi = this.vmas.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.vmas[mid]!.end > va) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** The first VMA with `end > va` (it may start above `va`), or null. */
  findVma(va: number): Vma | null {
    return this.vmas[this.findIndex(va)] ?? null;
  }

  /** The VMA containing `va`, or null. */
  vmaAt(va: number): Vma | null {
    const v = this.findVma(va);
    return v !== null && v.start <= va ? v : null;
  }

  /** The VMA just before `vma` in address order, or null. */
  prev(vma: Vma): Vma | null {
    const i = this.vmas.indexOf(vma);
    return i > 0 ? this.vmas[i - 1]! : null;
  }

  next(vma: Vma): Vma | null {
    const i = this.vmas.indexOf(vma);
    return i >= 0 && i + 1 < this.vmas.length ? this.vmas[i + 1]! : null;
  }

  /** Inserts a VMA (which must not overlap any) and accounts its pages. */
  insert(vma: Vma): void {
    const i = this.findIndex(vma.start);
    const at = this.vmas[i];
    if (at !== undefined && at.start < vma.end)
      invariant(false, `mm: insert of [${vma.start}, ${vma.end}) overlaps`);
    this.vmas.splice(i, 0, vma);
    this.account(vma.flags, (vma.end - vma.start) / this.pageSize);
    vma.mm = this;
    for (const av of vma.anonChain) av.vmas.add(vma);
    vma.object?.vmas.add(vma);
  }

  /** Removes a VMA from the list and un-accounts its pages (its page tables are the caller's). */
  remove(vma: Vma): void {
    const i = this.vmas.indexOf(vma);
    invariant(i >= 0, 'mm: remove of a VMA that is not in the list');
    this.vmas.splice(i, 1);
    this.account(vma.flags, -(vma.end - vma.start) / this.pageSize);
    vma.mm = null;
    for (const av of vma.anonChain) av.vmas.delete(vma);
    vma.object?.vmas.delete(vma);
  }

  /** Moves a VMA's bounds, keeping the accounting right. The caller keeps the list ordered. */
  resize(vma: Vma, start: number, end: number): void {
    const delta = (end - start - (vma.end - vma.start)) / this.pageSize;
    vma.start = start;
    vma.end = end;
    this.account(vma.flags, delta);
  }

  /** Changes a VMA's flags, moving its pages between accounting classes. */
  setFlags(vma: Vma, flags: number): void {
    const pages = (vma.end - vma.start) / this.pageSize;
    this.account(vma.flags, -pages);
    vma.flags = flags;
    this.account(flags, pages);
  }

  /** Linux `vm_stat_account`: total, then exec, stack or data by the flags (and locked pages). */
  account(flags: number, pages: number): void {
    this.totalVm += pages;
    if (flags & VM_LOCKED) this.lockedVm += pages;
    if (flags & VM_ACCOUNT) this.commit?.add(pages);
    if ((flags & (VM_EXEC | VM_WRITE | VM_STACK)) === VM_EXEC) this.execVm += pages;
    else if ((flags & VM_STACK) === VM_STACK) this.stackVm += pages;
    else if ((flags & (VM_WRITE | VM_SHARED | VM_STACK)) === VM_WRITE) this.dataVm += pages;
    if (this.totalVm > this.hiwaterVm) this.hiwaterVm = this.totalVm;
  }
}
