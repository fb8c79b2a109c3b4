/**
 * Virtual memory areas: half-open, page-aligned ranges `[start, end)` with Linux's `vm_flags`.
 * A VMA says what an access may do (permission) and what backs it (an object, or anonymous memory);
 * page-table entries are derived state the fault handler builds from it.
 */
import { PROT_EXEC, PROT_READ, PROT_WRITE } from './errno.js';
import type { MemObject } from './memobject.js';

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
export const VM_DONTEXPAND = 0x40000;
export const VM_ACCOUNT = 0x100000;
export const VM_NORESERVE = 0x200000;
/** No transparent huge pages here (MADV_NOHUGEPAGE; MAP_STACK sets it since Linux 6.7): VmFlags `nh`. */
export const VM_NOHUGEPAGE = 0x40000000;
/** VM_STACK: the flag that makes a VMA a stack for accounting (x86-64: VM_GROWSDOWN). */
export const VM_STACK = VM_GROWSDOWN;
export const VM_ACCESS_FLAGS = VM_READ | VM_WRITE | VM_EXEC;
export const VM_MAY_ALL = VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
/** Mappings that never merge or split (vdso, vvar). */
export const VM_SPECIAL = VM_PFNMAP | VM_DONTEXPAND;

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
   * Identity of the anonymous memory this VMA's private pages belong to (Linux's anon_vma): 0 until
   * the first anonymous page arrives. Two VMAs with different non-zero ids never merge.
   */
  anonVma: number;
  /** The fixed name of a special mapping (`[vdso]`, `[vvar]`), or null. */
  special: string | null;

  constructor(start: number, end: number, flags: number, pgoff: number, object: MemObject | null) {
    this.id = nextVmaId++;
    this.start = start;
    this.end = end;
    this.flags = flags;
    this.pgoff = pgoff;
    this.object = object;
    this.anonVma = 0;
    this.special = null;
  }

  /** A copy covering the same range (the caller narrows it), sharing object and anon identity. */
  clone(): Vma {
    const v = new Vma(this.start, this.end, this.flags, this.pgoff, this.object);
    v.anonVma = this.anonVma;
    v.special = this.special;
    return v;
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
 * True when `b` can be folded into `a` that ends where `b` starts (Linux `is_mergeable_vma` and
 * friends): same flags, same object with contiguous offsets, compatible anonymous identity, and
 * neither special.
 */
export function canMerge(a: Vma, b: Vma, pageSize: number): boolean {
  if (a.end !== b.start) return false;
  if (a.flags !== b.flags || a.object !== b.object) return false;
  if (a.special !== null || b.special !== null || (a.flags & VM_SPECIAL) !== 0) return false;
  if (a.pgoff + (a.end - a.start) / pageSize !== b.pgoff) return false;
  return a.anonVma === 0 || b.anonVma === 0 || a.anonVma === b.anonVma;
}
