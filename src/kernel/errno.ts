/** Linux errno values and signals, as the simulated programs see them. */

export const EPERM = 1;
export const ENOENT = 2;
export const EIO = 5;
/** The arguments and environment do not fit (execve). */
export const E2BIG = 7;
export const EBADF = 9;
export const ENOMEM = 12;
export const EACCES = 13;
export const EFAULT = 14;
export const EAGAIN = 11;
export const EBUSY = 16;
export const EEXIST = 17;
export const EINVAL = 22;
export const ENOSPC = 28;
export const EOVERFLOW = 75;

export const ERRNO_NAMES: Readonly<Record<number, string>> = {
  [EPERM]: 'EPERM',
  [ENOENT]: 'ENOENT',
  [EIO]: 'EIO',
  [E2BIG]: 'E2BIG',
  [EBADF]: 'EBADF',
  [EAGAIN]: 'EAGAIN',
  [ENOMEM]: 'ENOMEM',
  [EACCES]: 'EACCES',
  [EFAULT]: 'EFAULT',
  [EBUSY]: 'EBUSY',
  [EEXIST]: 'EEXIST',
  [EINVAL]: 'EINVAL',
  [ENOSPC]: 'ENOSPC',
  [EOVERFLOW]: 'EOVERFLOW',
};

/** The errno number for a name such as `ENOMEM`, or undefined. */
export function errnoByName(name: string): number | undefined {
  for (const [n, s] of Object.entries(ERRNO_NAMES)) if (s === name) return Number(n);
  return undefined;
}

export const SIGABRT = 6;
export const SIGBUS = 7;
export const SIGKILL = 9;
export const SIGSEGV = 11;

export const SIGNAL_NAMES: Readonly<Record<number, string>> = {
  [SIGABRT]: 'SIGABRT',
  [SIGBUS]: 'SIGBUS',
  [SIGKILL]: 'SIGKILL',
  [SIGSEGV]: 'SIGSEGV',
};

/** si_code values for SIGSEGV. */
export const SEGV_MAPERR = 1;
export const SEGV_ACCERR = 2;
export const SEGV_CODE_NAMES: Readonly<Record<number, string>> = {
  [SEGV_MAPERR]: 'SEGV_MAPERR',
  [SEGV_ACCERR]: 'SEGV_ACCERR',
};

/** si_code for SIGBUS: a nonexistent physical address (a mapping past the end of its file). */
export const BUS_ADRERR = 2;

/** mmap/mprotect `prot` bits. */
export const PROT_NONE = 0;
export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const PROT_EXEC = 4;

/** mmap flags (x86-64 values). */
export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
/** x86-64 only: place the mapping in the first 2 GiB (for code of the small model). */
export const MAP_32BIT = 0x40;
export const MAP_GROWSDOWN = 0x100;
export const MAP_DENYWRITE = 0x800;
export const MAP_EXECUTABLE = 0x1000;
export const MAP_LOCKED = 0x2000;
export const MAP_NORESERVE = 0x4000;
export const MAP_POPULATE = 0x8000;
export const MAP_NONBLOCK = 0x10000;
/** A thread stack: since Linux 6.7 it also makes the mapping VM_NOHUGEPAGE. */
export const MAP_STACK = 0x20000;
export const MAP_HUGETLB = 0x40000;
/** MAP_HUGETLB's page size, log2, in bits 26-31 (0: the default huge page size). */
export const MAP_HUGE_SHIFT = 26;
export const MAP_SYNC = 0x80000;
export const MAP_FIXED_NOREPLACE = 0x100000;

/** mremap flags. */
export const MREMAP_MAYMOVE = 1;
export const MREMAP_FIXED = 2;
export const MREMAP_DONTUNMAP = 4;

/** madvise advice. */
export const MADV_NORMAL = 0;
export const MADV_RANDOM = 1;
export const MADV_SEQUENTIAL = 2;
export const MADV_WILLNEED = 3;
export const MADV_DONTNEED = 4;
export const MADV_FREE = 8;
export const MADV_REMOVE = 9;
export const MADV_DONTFORK = 10;
export const MADV_DOFORK = 11;
export const MADV_MERGEABLE = 12;
export const MADV_UNMERGEABLE = 13;
export const MADV_HUGEPAGE = 14;
export const MADV_NOHUGEPAGE = 15;
export const MADV_DONTDUMP = 16;
export const MADV_DODUMP = 17;
export const MADV_WIPEONFORK = 18;
export const MADV_KEEPONFORK = 19;
export const MADV_COLD = 20;
export const MADV_PAGEOUT = 21;
export const MADV_POPULATE_READ = 22;
export const MADV_POPULATE_WRITE = 23;

/** msync flags. */
export const MS_ASYNC = 1;
export const MS_INVALIDATE = 2;
export const MS_SYNC = 4;

/** mlockall / mlock2 flags. */
export const MCL_CURRENT = 1;
export const MCL_FUTURE = 2;
export const MCL_ONFAULT = 4;
export const MLOCK_ONFAULT = 1;
