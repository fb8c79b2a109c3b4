/**
 * Every kernel call a strace replay makes, in one module: exec, mmap and its relatives, brk, resource
 * limits, the end of a process, and the file objects behind mappings. The replay decides what the
 * log asks for; this module is how vmscope's kernel is asked. A call the kernel does not model yet
 * answers {@link Unmodelled} with the reason, so the replay can count it as skipped (never as agreeing).
 */
import {
  EACCES,
  EBADF,
  EINVAL,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_PRIVATE,
  MAP_SHARED,
  PROT_EXEC,
  PROT_READ,
  PROT_WRITE,
} from '../kernel/errno.js';
import { type ExecRequest, type ExecResult, execve } from '../kernel/exec/load.js';
import type { Kernel } from '../kernel/kernel.js';
import { MemObject } from '../kernel/memobject.js';
import type { Rlimits } from '../kernel/mm.js';
import { mergeAround, splitVma } from '../kernel/mmap.js';
import type { MapsEntry, StatusFields } from '../kernel/proc.js';
import type { Process } from '../kernel/process.js';
import { VM_EXEC, VM_GROWSDOWN, VM_MAYSHARE, VM_READ, VM_WRITE } from '../kernel/vma.js';
import { MAP_NAMES, PROT_NAMES, SIGNAL_BY_NAME } from '../workload/strace/names.js';
import type { FileNode } from './strace-files.js';

/** The kernel has no model of this call (yet): the reason, for the skipped list. */
export interface Unmodelled {
  readonly unmodelled: string;
}

export function isUnmodelled(r: unknown): r is Unmodelled {
  return typeof r === 'object' && r !== null && 'unmodelled' in r;
}

const MAP_SHARED_VALIDATE = MAP_NAMES.get('MAP_SHARED_VALIDATE')!;
const PROT_GROWSDOWN = PROT_NAMES.get('PROT_GROWSDOWN')!;
/**
 * Flags Linux accepts with MAP_SHARED_VALIDATE: LEGACY_MAP_MASK (MAP_SYNC only for DAX files, which a
 * replay never has; MAP_FIXED_NOREPLACE is not in it).
 */
const LEGACY_MAP_MASK = [
  'MAP_SHARED',
  'MAP_PRIVATE',
  'MAP_FIXED',
  'MAP_ANONYMOUS',
  'MAP_DENYWRITE',
  'MAP_EXECUTABLE',
  'MAP_UNINITIALIZED',
  'MAP_GROWSDOWN',
  'MAP_LOCKED',
  'MAP_NORESERVE',
  'MAP_POPULATE',
  'MAP_NONBLOCK',
  'MAP_STACK',
  'MAP_HUGETLB',
  'MAP_32BIT',
].reduce((m, n) => m | MAP_NAMES.get(n)!, 0x3f << 26 /* MAP_HUGE_MASK */);
const EOPNOTSUPP = 95;

/** The resource limits the replay applies (the ones that shape the address space). */
export type Rlimit = 'stack' | 'data' | 'as';

/**
 * execve into a new process whose resource limits are `rlimits` (inherited from the caller, as Linux
 * keeps them across fork and exec; they shape mmap_base and the stack), or the kernel's defaults.
 */
export function execProgram(k: Kernel, req: ExecRequest, rlimits: Rlimits | null): ExecResult | number {
  if (rlimits === null) return execve(k, req);
  // execve reads the kernel's defaults for a new process; lend it the caller's for this one exec.
  const saved = { ...k.defaultRlimits };
  Object.assign(k.defaultRlimits, rlimits);
  try {
    return execve(k, req);
  } finally {
    Object.assign(k.defaultRlimits, saved);
  }
}

/** Renames the file `from` that `proc` maps (exec's program named against a guessed directory). */
export function renameMapped(proc: Process, from: string, to: string): void {
  for (const vma of proc.mm?.vmas ?? []) {
    if (vma.object !== null && vma.object.kind === 'file' && vma.object.path === from)
      (vma.object as { path: string }).path = to;
  }
}

/** The resource limits of `proc`'s address space (a copy). */
export function rlimitsOf(proc: Process): Rlimits {
  return { ...proc.mm!.rlimits };
}

/**
 * mmap(2) as the log called it. `file` is the mapped file's node (null for MAP_ANONYMOUS);
 * `writableFd` says whether its fd was opened for writing (a shared writable mapping needs it),
 * `readableFd` whether for reading (every file mapping needs it).
 */
export function mmap(
  k: Kernel,
  proc: Process,
  call: {
    readonly addr: number;
    readonly len: number;
    readonly prot: number;
    readonly flags: number;
    readonly file: FileNode | null;
    readonly offset: number;
    readonly writableFd: boolean;
    /** The fd was opened for reading (true when the log does not say). */
    readonly readableFd: boolean;
  },
): number {
  let flags = call.flags;
  const anonymous = (flags & MAP_ANONYMOUS) !== 0;
  // ksys_mmap_pgoff looks the fd up before do_mmap checks anything else.
  if (!anonymous && call.file === null) return -EBADF;
  if ((flags & 0x3) === MAP_SHARED_VALIDATE && !anonymous && call.file !== null) {
    // do_mmap: a file mapping with MAP_SHARED_VALIDATE refuses flags it does not know, then acts as
    // MAP_SHARED (an anonymous one is EINVAL, as the kernel's mmap answers for both type bits).
    if ((flags & ~LEGACY_MAP_MASK) !== 0 || flags >= 2 ** 32) return -EOPNOTSUPP;
    flags = (flags & ~0x3) | MAP_SHARED;
  }
  // do_mmap: a file mapping needs an fd open for reading (vmscope's kernel has no open files yet).
  if (!anonymous && call.file !== null && !call.readableFd && (flags & 0x3) !== 0 && (flags & 0x3) !== 0x3)
    return -EACCES;
  let object: MemObject | null = null;
  if (!anonymous && call.file !== null) {
    if (call.file.type === 'zero' && (flags & MAP_SHARED) !== 0) {
      // A shared mapping of /dev/zero is shmem, as MAP_SHARED|MAP_ANONYMOUS ("/dev/zero (deleted)");
      // a private one stays named /dev/zero and reads zeros (below, a file of no end).
      flags |= MAP_ANONYMOUS;
    } else {
      object = fileObject(k, call.file);
      object.writable = call.writableFd;
    }
  }
  const r = k.mmap(proc, {
    addr: call.addr,
    len: call.len,
    prot: call.prot,
    flags: flags % 2 ** 32,
    file: object,
    offset: anonymous ? 0 : call.offset,
  });
  // The log cannot show the program's stores: a private writable mapping is taken to be written
  // (as TLS, arenas and loader data are), so it has an anon_vma from the start, which decides
  // whether a later mprotect to read-only keeps VM_ACCOUNT and what merges (mprotect_fixup).
  if (r >= 0 && (flags & MAP_SHARED) === 0 && call.prot & PROT_WRITE) {
    const vma = proc.mm!.vmaAt(r);
    if (vma !== null) k.vm.anonVmaPrepare(vma);
  }
  return r;
}

export function munmap(k: Kernel, proc: Process, addr: number, len: number): number {
  return k.munmap(proc, addr, len);
}

/**
 * mprotect(2). PROT_GROWSDOWN (glibc's way to make a whole stack executable) extends the range down
 * to the start of the grows-down VMA the address is in, as Linux does; PROT_GROWSUP is EINVAL on x86.
 */
export function mprotect(k: Kernel, proc: Process, addr: number, len: number, prot: number): number {
  const rights = PROT_READ | PROT_WRITE | PROT_EXEC;
  if (prot & PROT_GROWSDOWN) {
    if (prot & ~(rights | PROT_GROWSDOWN)) return -EINVAL;
    const vma = proc.mm!.vmaAt(addr);
    if (vma === null || (vma.flags & VM_GROWSDOWN) === 0) return -EINVAL;
    return k.mprotect(proc, vma.start, len + (addr - vma.start), prot & rights);
  }
  if (prot & ~rights) return -EINVAL;
  return k.mprotect(proc, addr, len, prot);
}

export function brk(k: Kernel, proc: Process, addr: number): number {
  return k.brk(proc, addr);
}

export function mremap(): number | Unmodelled {
  return { unmodelled: 'mremap is not modelled by the kernel yet' };
}

/**
 * Until the kernel models mremap: makes the address space look as Linux's did after
 * `mremap(old, oldLen, newLen, flags) = result`, with mmap and munmap — the mapping grown or shrunk
 * in place, or moved to `result` keeping its protection, sharing, file and offset (an anonymous
 * mapping keeps its page offset, as Linux's move does, so later merges come out the same). The
 * pages' contents are not carried (the replay never reads them).
 */
export function followMremap(
  k: Kernel,
  proc: Process,
  call: { old: number; oldLen: number; newLen: number; dontUnmap: boolean; result: number },
): void {
  const mm = proc.mm!;
  const ps = k.pageSize;
  const vma = mm.vmaAt(call.old);
  if (vma === null) return;
  const oldLen = Math.ceil(call.oldLen / ps) * ps;
  const newLen = Math.ceil(call.newLen / ps) * ps;
  const prot =
    (vma.flags & VM_READ ? PROT_READ : 0) |
    (vma.flags & VM_WRITE ? PROT_WRITE : 0) |
    (vma.flags & VM_EXEC ? PROT_EXEC : 0);
  const shared = (vma.flags & VM_MAYSHARE) !== 0;
  const file = vma.object !== null && vma.object.kind === 'file' ? vma.object : null;
  const pgoff = vma.pgoff + (call.old - vma.start) / ps;
  const base = (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_FIXED | (file === null ? MAP_ANONYMOUS : 0);
  const map = (at: number, len: number, pageOffset: number): number =>
    k.mmap(proc, { addr: at, len, prot, flags: base, file, offset: file === null ? 0 : pageOffset * ps });
  if (call.result === call.old) {
    if (newLen > oldLen) map(call.old + oldLen, newLen - oldLen, pgoff + oldLen / ps);
    else if (newLen < oldLen) k.munmap(proc, call.old + newLen, oldLen - newLen);
    return;
  }
  if (oldLen === 0) return; // a shared mapping duplicated: nothing to move
  const anonVma = vma.anonVma;
  const at = map(call.result, newLen, pgoff);
  if (at === call.result && file === null) {
    // Linux's move keeps the page offset and anon_vma: undo the merges mmap made on the new
    // address's terms, give the moved part its old identity, and merge again on Linux's terms.
    let moved = mm.vmaAt(at)!;
    if (moved.start < at) {
      const upper = splitVma(k, mm, moved, at);
      if (typeof upper === 'number') return;
      moved = upper;
    }
    if (moved.end > at + newLen && typeof splitVma(k, mm, moved, at + newLen) === 'number') return;
    moved.pgoff = pgoff;
    moved.anonVma = anonVma;
    mergeAround(k, mm, moved);
  }
  if (!call.dontUnmap) k.munmap(proc, call.old, oldLen);
}

export function madvise(): number | Unmodelled {
  return { unmodelled: 'madvise is not modelled by the kernel yet' };
}

export function msync(): number | Unmodelled {
  return { unmodelled: 'msync is not modelled by the kernel yet' };
}

export function mlock(): number | Unmodelled {
  return { unmodelled: 'memory locking is not modelled by the kernel yet' };
}

/** fork/clone without CLONE_VM: a copy-on-write copy of `proc`. */
export function fork(): Process | Unmodelled {
  return { unmodelled: 'fork (a copy-on-write address space) is not modelled by the kernel yet' };
}

/** exit_group (or the last thread's exit): the process's memory is reclaimed. */
export function exit(k: Kernel, proc: Process, code: number): void {
  if (proc.alive) k.exit(proc, code);
}

/** A process killed by a signal (`+++ killed by SIGSEGV +++`). */
export function kill(k: Kernel, proc: Process, signal: number, reason: string): void {
  if (proc.alive) k.kill(proc, { signal, code: 0, va: 0, reason });
}

export function getRlimit(proc: Process, which: Rlimit): number {
  return proc.mm!.rlimits[which];
}

export function setRlimit(proc: Process, which: Rlimit, value: number): void {
  proc.mm!.rlimits[which] = value;
}

/** The kernel object behind mappings of a file node (one per node, so its page cache is shared). */
export function fileObject(k: Kernel, node: FileNode): MemObject {
  if (node.object === null) {
    // Size unknown (or /dev/zero): no access of the mapping is ever past the end.
    const size = node.type === 'regular' ? (node.size ?? Number.POSITIVE_INFINITY) : Number.POSITIVE_INFINITY;
    const device = node.type === 'zero' ? '00:06' : 'fe:00';
    node.object = k.pageCache.register(
      new MemObject('file', node.shownName, null, size, device, k.fs.newInode(), k.pageSize),
    );
  }
  return node.object;
}

/**
 * A file's name changed (unlink, rename): its mappings show the new one. The kernel's object keeps
 * its name as plain data until its filesystem comes; the kernel looks objects up by name only for
 * files with contents (exec's), which these are not.
 */
export function renameFile(node: FileNode): void {
  if (node.object !== null) (node.object as { path: string }).path = node.shownName;
}

/** The file's size changed (write, ftruncate, O_TRUNC): faults past the new end get SIGBUS. */
export function resizeFile(node: FileNode, size: number): void {
  node.size = size;
  // The kernel's MemObject has no setter yet (its filesystem is coming); its size is plain data.
  if (node.object !== null) (node.object as { sizeBytes: number }).sizeBytes = size;
}

/**
 * What an access at `va` would meet, without making it (the log shows a signal the program caught,
 * so vmscope must not kill it): SIGSEGV SEGV_MAPERR where nothing is mapped (and no stack can grow
 * down to it), SIGBUS BUS_ADRERR in a file mapping a whole page past the end of its file; otherwise
 * the access is possible, and `missingRights` says whether some kind of access (read, write, exec)
 * would be refused (SEGV_ACCERR).
 */
export function faultAt(
  k: Kernel,
  proc: Process,
  va: number,
): { signal: string; code: string } | { signal: null; missingRights: boolean } {
  const mm = proc.mm!;
  const ps = k.pageSize;
  const vma = mm.vmaAt(va);
  if (vma === null) {
    const next = mm.findVma(va);
    if (next !== null && next.flags & VM_GROWSDOWN) {
      const prev = mm.prev(next);
      const start = va - (va % ps);
      const blocked =
        start < mm.layout.mmapMinAddr ||
        next.end - start > mm.rlimits.stack ||
        (prev !== null &&
          (prev.end > start ||
            ((prev.flags & VM_GROWSDOWN) === 0 &&
              prev.isAccessible() &&
              start - prev.end < mm.layout.stackGuardGap)));
      if (!blocked) return { signal: null, missingRights: false };
    }
    return { signal: 'SIGSEGV', code: 'SEGV_MAPERR' };
  }
  const obj = vma.object;
  if (obj !== null && obj.kind === 'file' && vma.special === null) {
    const index = vma.pgoff + Math.floor((va - vma.start) / ps);
    if (index * ps >= Math.ceil(obj.sizeBytes / ps) * ps) return { signal: 'SIGBUS', code: 'BUS_ADRERR' };
  }
  const all = VM_READ | VM_WRITE | VM_EXEC;
  return { signal: null, missingRights: (vma.flags & all) !== all };
}

export function maps(k: Kernel, proc: Process): MapsEntry[] {
  return k.maps(proc);
}

export function status(k: Kernel, proc: Process): StatusFields {
  const { minflt: _m, majflt: _j, ...fields } = k.status(proc);
  return fields;
}

/** The number of signal `name` (`SIGSEGV` → 11), or 0 when Linux has none of that name. */
export function signalNumber(name: string): number {
  return SIGNAL_BY_NAME.get(name) ?? 0;
}
