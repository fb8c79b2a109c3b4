/**
 * Virtual memory areas: half-open, page-aligned ranges `[start, end)` with Linux's `vm_flags`.
 * A VMA says what an access may do (permission) and what backs it (an object, or anonymous memory);
 * page-table entries are derived state the fault handler builds from it.
 */
import { PROT_EXEC, PROT_READ, PROT_WRITE } from './errno.js';
import type { AnonVma } from './mapping.js';
import type { MemObject } from './memobject.js';
import type { Mm } from './mm.js';

export const VM_READ = 0x1;
export const VM_WRITE = 0x2;
export const VM_EXEC = 0x4;
export const VM_SHARED = 0x8;
export const VM_MAYREAD = 0x10;
export const VM_MAYWRITE = 0x20;
export const VM_MAYEXEC = 0x40;
export const VM_MAYSHARE = 0x80;
export const VM_GROWSDOWN = 0x100;
export const VM_PFNMAP = 0x400;
export const VM_LOCKED = 0x2000;
export const VM_IO = 0x4000;
export const VM_SEQ_READ = 0x8000;
export const VM_RAND_READ = 0x10000;
/** MADV_DONTFORK: fork does not copy the VMA. */
export const VM_DONTCOPY = 0x20000;
export const VM_DONTEXPAND = 0x40000;
export const VM_LOCKONFAULT = 0x80000;
export const VM_ACCOUNT = 0x100000;
export const VM_NORESERVE = 0x200000;
/** A mapping of hugetlbfs (Linux VM_HUGETLB): its object's `hugeBytes` is the page size. */
export const VM_HUGETLB = 0x400000;
/** MADV_WIPEONFORK: the child gets fresh zero-filled memory here. */
export const VM_WIPEONFORK = 0x2000000;
export const VM_DONTDUMP = 0x4000000;
export const VM_HUGEPAGE = 0x20000000;
/** MADV_NOHUGEPAGE, and MAP_STACK since Linux 6.7 (so thread stacks never merge with neighbours). */
export const VM_NOHUGEPAGE = 0x40000000;
/** VM_STACK: the flag that makes a VMA a stack for accounting (x86-64: VM_GROWSDOWN). */
export const VM_STACK = VM_GROWSDOWN;
export const VM_ACCESS_FLAGS = VM_READ | VM_WRITE | VM_EXEC;
export const VM_MAY_ALL = VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
/** Mappings that never merge (Linux VM_SPECIAL: VM_IO | VM_DONTEXPAND | VM_PFNMAP | VM_MIXEDMAP). */
export const VM_SPECIAL = VM_IO | VM_PFNMAP | VM_DONTEXPAND;
export const VM_LOCKED_MASK = VM_LOCKED | VM_LOCKONFAULT;

/** The two-letter names /proc/PID/smaps prints in VmFlags, by bit (Linux `show_smap_vma_flags`). */
const VM_FLAG_NAMES: readonly (readonly [number, string])[] = [
  [VM_READ, 'rd'],
  [VM_WRITE, 'wr'],
  [VM_EXEC, 'ex'],
  [VM_SHARED, 'sh'],
  [VM_MAYREAD, 'mr'],
  [VM_MAYWRITE, 'mw'],
  [VM_MAYEXEC, 'me'],
  [VM_MAYSHARE, 'ms'],
  [VM_GROWSDOWN, 'gd'],
  [VM_PFNMAP, 'pf'],
  [VM_LOCKED, 'lo'],
  [VM_IO, 'io'],
  [VM_SEQ_READ, 'sr'],
  [VM_RAND_READ, 'rr'],
  [VM_DONTCOPY, 'dc'],
  [VM_DONTEXPAND, 'de'],
  [VM_LOCKONFAULT, 'lf'],
  [VM_ACCOUNT, 'ac'],
  [VM_NORESERVE, 'nr'],
  [VM_HUGETLB, 'ht'],
  [VM_WIPEONFORK, 'wf'],
  [VM_DONTDUMP, 'dd'],
  [VM_HUGEPAGE, 'hg'],
  [VM_NOHUGEPAGE, 'nh'],
];

/** The VmFlags line's names for `flags`, in Linux's order. */
export function vmFlagNames(flags: number): string[] {
  return VM_FLAG_NAMES.filter(([bit]) => (flags & bit) !== 0).map(([, name]) => name);
}

let nextVmaId = 1;

export class Vma {
  /** A stable identity for the UI and events (not a Linux concept). */
  readonly id: number;
  start: number;
  end: number;
  flags: number;
  /** Offset into `object` in pages; for anonymous private memory, `start / pageSize` as on Linux. */
  pgoff: number;
  /** The file or shmem object backing the VMA; null for anonymous private memory. */
  object: MemObject | null;
  /**
   * The anon_vma new private pages of this VMA belong to: null until the first one arrives (or until
   * fork gives the VMA one). Two VMAs with different anon_vmas never merge.
   */
  anonVma: AnonVma | null;
  /** Every anon_vma whose pages this VMA may map: its own and those inherited across fork. */
  anonChain: AnonVma[];
  /** The fixed name of a special mapping (`[vdso]`, `[vvar]`), or null. */
  special: string | null;
  /** The address space the VMA is in (set by `Mm.insert`), for the reverse map. */
  mm: Mm | null;
  /** `[anon:NAME]` from prctl(PR_SET_VMA_ANON_NAME), or null. */
  anonName: string | null;

  constructor(start: number, end: number, flags: number, pgoff: number, object: MemObject | null) {
    this.id = nextVmaId++;
    this.start = start;
    this.end = end;
    this.flags = flags;
    this.pgoff = pgoff;
    this.object = object;
    this.anonVma = null;
    this.anonChain = [];
    this.special = null;
    this.mm = null;
    this.anonName = null;
  }

  /**
   * A copy covering the same range (the caller narrows it), sharing object and anon identity (Linux
   * `vm_area_dup` + `anon_vma_clone`); it joins the lists when inserted into an mm.
   */
  clone(): Vma {
    const v = new Vma(this.start, this.end, this.flags, this.pgoff, this.object);
    v.anonVma = this.anonVma;
    v.anonChain = [...this.anonChain];
    v.special = this.special;
    v.anonName = this.anonName;
    return v;
  }

  /** The page offset of `va` in the VMA's mapping (Linux `linear_page_index`). */
  linearIndex(va: number, pageSize: number): number {
    return this.pgoff + Math.floor((va - this.start) / pageSize);
  }

  get sizeBytes(): number {
    return this.end - this.start;
  }

  contains(va: number): boolean {
    return va >= this.start && va < this.end;
  }

  isAnonymous(): boolean {
    return this.object === null;
  }

  isShared(): boolean {
    return (this.flags & VM_SHARED) !== 0;
  }

  /** An access of some kind is possible (Linux `vma_is_accessible`). */
  isAccessible(): boolean {
    return (this.flags & VM_ACCESS_FLAGS) !== 0;
  }
}

/** VM_READ/WRITE/EXEC for mmap's `prot`. */
export function protToVmFlags(prot: number): number {
  return (
    (prot & PROT_READ ? VM_READ : 0) | (prot & PROT_WRITE ? VM_WRITE : 0) | (prot & PROT_EXEC ? VM_EXEC : 0)
  );
}

/** The `rwxp` / `rw-s` column of /proc/PID/maps. */
export function permString(flags: number): string {
  return (
    (flags & VM_READ ? 'r' : '-') +
    (flags & VM_WRITE ? 'w' : '-') +
    (flags & VM_EXEC ? 'x' : '-') +
    (flags & VM_MAYSHARE ? 's' : 'p')
  );
}

/**
 * Linux `anon_vma_compatible`: two adjacent VMAs that could merge but for their anon_vmas (the access
 * rights may differ too), so that one may adopt the other's anon_vma.
 */
export function canMergeAnonVma(x: Vma, y: Vma, pageSize: number): boolean {
  const [a, b] = x.start < y.start ? [x, y] : [y, x];
  if (a.end !== b.start || a.object !== b.object) return false;
  if (((a.flags ^ b.flags) & ~VM_ACCESS_FLAGS) !== 0) return false;
  return b.pgoff === a.pgoff + (b.start - a.start) / pageSize;
}

/**
 * Linux `is_mergeable_anon_vma`: equal anon_vmas merge; a VMA without one merges with one that has
 * one, unless the one that has it was forked (its chain holds more than its own anon_vma).
 */
function mergeableAnon(a: Vma, b: Vma): boolean {
  if (a.anonVma === b.anonVma) return true;
  if (a.anonVma !== null && b.anonVma !== null) return false;
  const withAnon = a.anonVma !== null ? a : b;
  return withAnon.anonChain.length <= 1;
}

/**
 * True when `b` can be folded into `a` that ends where `b` starts (Linux `is_mergeable_vma` and
 * friends): same flags, same object with contiguous offsets, compatible anonymous identity, the same
 * anon name, and neither special.
 */
export function canMerge(a: Vma, b: Vma, pageSize: number): boolean {
  if (a.end !== b.start) return false;
  if (a.flags !== b.flags || a.object !== b.object) return false;
  if (a.special !== null || b.special !== null || (a.flags & VM_SPECIAL) !== 0) return false;
  if (a.pgoff + (a.end - a.start) / pageSize !== b.pgoff) return false;
  if (a.anonName !== b.anonName) return false;
  return mergeableAnon(a, b);
}
