/**
 * The symbolic names strace prints for the arguments a memory replay reads, with their x86 (64- and
 * 32-bit) values: mmap's PROT_* and MAP_* bits, mremap, madvise, msync and mlock flags, clone flags,
 * resource limits, errno and signal names, si_code values. The numbers are Linux's UAPI values
 * (include/uapi/asm-generic/mman-common.h, arch/x86/include/uapi/asm/mman.h, errno-base.h, errno.h,
 * asm/signal.h, siginfo.h, sched.h, resource.h).
 */

export type NameTable = ReadonlyMap<string, number>;

const table = (entries: Record<string, number>): NameTable => new Map(Object.entries(entries));

export const PROT_NAMES: NameTable = table({
  PROT_NONE: 0,
  PROT_READ: 0x1,
  PROT_WRITE: 0x2,
  PROT_EXEC: 0x4,
  PROT_SEM: 0x8,
  PROT_GROWSDOWN: 0x01000000,
  PROT_GROWSUP: 0x02000000,
});

/** MAP_HUGE_SHIFT: strace prints a huge page size as `21<<MAP_HUGE_SHIFT` (or MAP_HUGE_2MB). */
export const MAP_HUGE_SHIFT = 26;

export const MAP_NAMES: NameTable = table({
  MAP_FILE: 0,
  MAP_SHARED: 0x01,
  MAP_PRIVATE: 0x02,
  MAP_SHARED_VALIDATE: 0x03,
  MAP_TYPE: 0x0f,
  MAP_FIXED: 0x10,
  MAP_ANONYMOUS: 0x20,
  MAP_32BIT: 0x40,
  MAP_GROWSDOWN: 0x100,
  MAP_DENYWRITE: 0x800,
  MAP_EXECUTABLE: 0x1000,
  MAP_LOCKED: 0x2000,
  MAP_NORESERVE: 0x4000,
  MAP_POPULATE: 0x8000,
  MAP_NONBLOCK: 0x10000,
  MAP_STACK: 0x20000,
  MAP_HUGETLB: 0x40000,
  MAP_SYNC: 0x80000,
  MAP_FIXED_NOREPLACE: 0x100000,
  MAP_UNINITIALIZED: 0x4000000,
  MAP_HUGE_SHIFT,
  MAP_HUGE_64KB: 16 * 2 ** MAP_HUGE_SHIFT,
  MAP_HUGE_2MB: 21 * 2 ** MAP_HUGE_SHIFT,
  MAP_HUGE_1GB: 30 * 2 ** MAP_HUGE_SHIFT,
});

export const MREMAP_NAMES: NameTable = table({
  MREMAP_MAYMOVE: 1,
  MREMAP_FIXED: 2,
  MREMAP_DONTUNMAP: 4,
});

export const MADV_NAMES: NameTable = table({
  MADV_NORMAL: 0,
  MADV_RANDOM: 1,
  MADV_SEQUENTIAL: 2,
  MADV_WILLNEED: 3,
  MADV_DONTNEED: 4,
  MADV_FREE: 8,
  MADV_REMOVE: 9,
  MADV_DONTFORK: 10,
  MADV_DOFORK: 11,
  MADV_MERGEABLE: 12,
  MADV_UNMERGEABLE: 13,
  MADV_HUGEPAGE: 14,
  MADV_NOHUGEPAGE: 15,
  MADV_DONTDUMP: 16,
  MADV_DODUMP: 17,
  MADV_WIPEONFORK: 18,
  MADV_KEEPONFORK: 19,
  MADV_COLD: 20,
  MADV_PAGEOUT: 21,
  MADV_POPULATE_READ: 22,
  MADV_POPULATE_WRITE: 23,
  MADV_DONTNEED_LOCKED: 24,
  MADV_COLLAPSE: 25,
  MADV_HWPOISON: 100,
  MADV_SOFT_OFFLINE: 101,
  MADV_GUARD_INSTALL: 102,
  MADV_GUARD_REMOVE: 103,
});

export const MS_NAMES: NameTable = table({ MS_ASYNC: 1, MS_INVALIDATE: 2, MS_SYNC: 4 });

export const MLOCK_NAMES: NameTable = table({ MLOCK_ONFAULT: 1 });

export const MCL_NAMES: NameTable = table({ MCL_CURRENT: 1, MCL_FUTURE: 2, MCL_ONFAULT: 4 });

/** shmget's key and flags (the mode bits are printed as an octal number: `IPC_CREAT|0600`). */
export const SHMGET_NAMES: NameTable = table({
  IPC_PRIVATE: 0,
  IPC_CREAT: 0o1000,
  IPC_EXCL: 0o2000,
  SHM_HUGETLB: 0o4000,
  SHM_NORESERVE: 0o10000,
  SHM_HUGE_2MB: 21 << MAP_HUGE_SHIFT,
  SHM_HUGE_1GB: 30 << MAP_HUGE_SHIFT,
});

export const SHMAT_NAMES: NameTable = table({
  SHM_RDONLY: 0o10000,
  SHM_RND: 0o20000,
  SHM_REMAP: 0o40000,
  SHM_EXEC: 0o100000,
});

/** shmctl's commands; IPC_64 is the flag i386's glibc adds for the 64-bit structures. */
export const SHMCTL_NAMES: NameTable = table({
  IPC_RMID: 0,
  IPC_SET: 1,
  IPC_STAT: 2,
  IPC_INFO: 3,
  SHM_LOCK: 11,
  SHM_UNLOCK: 12,
  SHM_STAT: 13,
  SHM_INFO: 14,
  SHM_STAT_ANY: 15,
  IPC_64: 0x100,
});

export const CLONE_NAMES: NameTable = table({
  CLONE_VM: 0x100,
  CLONE_FS: 0x200,
  CLONE_FILES: 0x400,
  CLONE_SIGHAND: 0x800,
  CLONE_PIDFD: 0x1000,
  CLONE_PTRACE: 0x2000,
  CLONE_VFORK: 0x4000,
  CLONE_PARENT: 0x8000,
  CLONE_THREAD: 0x10000,
  CLONE_NEWNS: 0x20000,
  CLONE_SYSVSEM: 0x40000,
  CLONE_SETTLS: 0x80000,
  CLONE_PARENT_SETTID: 0x100000,
  CLONE_CHILD_CLEARTID: 0x200000,
  CLONE_DETACHED: 0x400000,
  CLONE_UNTRACED: 0x800000,
  CLONE_CHILD_SETTID: 0x1000000,
  CLONE_NEWCGROUP: 0x2000000,
  CLONE_NEWUTS: 0x4000000,
  CLONE_NEWIPC: 0x8000000,
  CLONE_NEWUSER: 0x10000000,
  CLONE_NEWPID: 0x20000000,
  CLONE_NEWNET: 0x40000000,
  CLONE_IO: 0x80000000,
  CLONE_CLEAR_SIGHAND: 0x100000000,
  CLONE_INTO_CGROUP: 0x200000000,
  CLONE_NEWTIME: 0x80,
});

export const RLIMIT_NAMES: NameTable = table({
  RLIMIT_CPU: 0,
  RLIMIT_FSIZE: 1,
  RLIMIT_DATA: 2,
  RLIMIT_STACK: 3,
  RLIMIT_CORE: 4,
  RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6,
  RLIMIT_NOFILE: 7,
  RLIMIT_MEMLOCK: 8,
  RLIMIT_AS: 9,
  RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11,
  RLIMIT_MSGQUEUE: 12,
  RLIMIT_NICE: 13,
  RLIMIT_RTPRIO: 14,
  RLIMIT_RTTIME: 15,
});

/** Names strace prints for an unlimited resource limit. */
export const RLIM_INFINITY_NAMES: ReadonlySet<string> = new Set(['RLIM_INFINITY', 'RLIM64_INFINITY']);

export const FALLOC_NAMES: NameTable = table({
  FALLOC_FL_KEEP_SIZE: 0x01,
  FALLOC_FL_PUNCH_HOLE: 0x02,
  FALLOC_FL_NO_HIDE_STALE: 0x04,
  FALLOC_FL_COLLAPSE_RANGE: 0x08,
  FALLOC_FL_ZERO_RANGE: 0x10,
  FALLOC_FL_INSERT_RANGE: 0x20,
  FALLOC_FL_UNSHARE_RANGE: 0x40,
});

export const SEEK_NAMES: NameTable = table({
  SEEK_SET: 0,
  SEEK_CUR: 1,
  SEEK_END: 2,
  SEEK_DATA: 3,
  SEEK_HOLE: 4,
});

/** Linux errno numbers by name (asm-generic; x86 uses these). */
export const ERRNO_BY_NAME: NameTable = table({
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  EIO: 5,
  ENXIO: 6,
  E2BIG: 7,
  ENOEXEC: 8,
  EBADF: 9,
  ECHILD: 10,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  ENOTBLK: 15,
  EBUSY: 16,
  EEXIST: 17,
  EXDEV: 18,
  ENODEV: 19,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  ENFILE: 23,
  EMFILE: 24,
  ENOTTY: 25,
  ETXTBSY: 26,
  EFBIG: 27,
  ENOSPC: 28,
  ESPIPE: 29,
  EROFS: 30,
  EMLINK: 31,
  EPIPE: 32,
  EDOM: 33,
  ERANGE: 34,
  EDEADLK: 35,
  ENAMETOOLONG: 36,
  ENOLCK: 37,
  ENOSYS: 38,
  ENOTEMPTY: 39,
  ELOOP: 40,
  ENOMSG: 42,
  EIDRM: 43,
  ENOSTR: 60,
  ENODATA: 61,
  ETIME: 62,
  ENOSR: 63,
  EREMOTE: 66,
  ENOLINK: 67,
  EPROTO: 71,
  EMULTIHOP: 72,
  EBADMSG: 74,
  EOVERFLOW: 75,
  EBADFD: 77,
  EILSEQ: 84,
  ERESTART: 85,
  EUSERS: 87,
  ENOTSOCK: 88,
  EDESTADDRREQ: 89,
  EMSGSIZE: 90,
  EPROTOTYPE: 91,
  ENOPROTOOPT: 92,
  EPROTONOSUPPORT: 93,
  ESOCKTNOSUPPORT: 94,
  EOPNOTSUPP: 95,
  EPFNOSUPPORT: 96,
  EAFNOSUPPORT: 97,
  EADDRINUSE: 98,
  EADDRNOTAVAIL: 99,
  ENETDOWN: 100,
  ENETUNREACH: 101,
  ENETRESET: 102,
  ECONNABORTED: 103,
  ECONNRESET: 104,
  ENOBUFS: 105,
  EISCONN: 106,
  ENOTCONN: 107,
  ESHUTDOWN: 108,
  ETOOMANYREFS: 109,
  ETIMEDOUT: 110,
  ECONNREFUSED: 111,
  EHOSTDOWN: 112,
  EHOSTUNREACH: 113,
  EALREADY: 114,
  EINPROGRESS: 115,
  ESTALE: 116,
  EDQUOT: 122,
  ENOMEDIUM: 123,
  EMEDIUMTYPE: 124,
  ECANCELED: 125,
  ENOKEY: 126,
  EKEYEXPIRED: 127,
  EKEYREVOKED: 128,
  EKEYREJECTED: 129,
  EOWNERDEAD: 130,
  ENOTRECOVERABLE: 131,
  ERFKILL: 132,
  EHWPOISON: 133,
  ERESTARTSYS: 512,
  ERESTARTNOINTR: 513,
  ERESTARTNOHAND: 514,
  ENOIOCTLCMD: 515,
  ERESTART_RESTARTBLOCK: 516,
  EPROBE_DEFER: 517,
  EOPENSTALE: 518,
  ENOPARAM: 519,
  EBADHANDLE: 521,
  ENOTSYNC: 522,
  EBADCOOKIE: 523,
  ENOTSUPP: 524,
  ETOOSMALL: 525,
  ESERVERFAULT: 526,
  EBADTYPE: 527,
  EJUKEBOX: 528,
  EIOCBQUEUED: 529,
  ERECALLCONFLICT: 530,
});

const ERRNO_BY_NUMBER = new Map<number, string>([...ERRNO_BY_NAME].map(([name, n]) => [n, name]));

/** The name of errno `n` (`ENOMEM`), or `errno N` for a number Linux does not name. */
export function errnoName(n: number): string {
  return ERRNO_BY_NUMBER.get(n) ?? `errno ${n}`;
}

/** The kernel-internal codes strace shows for a call that will be restarted (not a real result). */
export const RESTART_ERRNOS: ReadonlySet<string> = new Set([
  'ERESTARTSYS',
  'ERESTARTNOINTR',
  'ERESTARTNOHAND',
  'ERESTART_RESTARTBLOCK',
]);

export const SIGNAL_BY_NAME: NameTable = table({
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
  SIGSTKFLT: 16,
  SIGCHLD: 17,
  SIGCONT: 18,
  SIGSTOP: 19,
  SIGTSTP: 20,
  SIGTTIN: 21,
  SIGTTOU: 22,
  SIGURG: 23,
  SIGXCPU: 24,
  SIGXFSZ: 25,
  SIGVTALRM: 26,
  SIGPROF: 27,
  SIGWINCH: 28,
  SIGIO: 29,
  SIGPWR: 30,
  SIGSYS: 31,
});

/** si_code values of the faults a replay can check (SIGSEGV's and SIGBUS's share numbers). */
export const SI_CODE_BY_NAME: NameTable = table({
  SEGV_MAPERR: 1,
  SEGV_ACCERR: 2,
  SEGV_BNDERR: 3,
  SEGV_PKUERR: 4,
  BUS_ADRALN: 1,
  BUS_ADRERR: 2,
  BUS_OBJERR: 3,
  BUS_MCEERR_AR: 4,
  BUS_MCEERR_AO: 5,
});
