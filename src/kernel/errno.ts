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
  [ENOMEM]: 'ENOMEM',
  [EACCES]: 'EACCES',
  [EFAULT]: 'EFAULT',
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
export const MAP_GROWSDOWN = 0x100;
export const MAP_NORESERVE = 0x4000;
export const MAP_POPULATE = 0x8000;
export const MAP_STACK = 0x20000;
export const MAP_FIXED_NOREPLACE = 0x100000;
