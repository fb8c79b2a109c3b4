/**
 * Every kernel call a strace replay makes, in one module: exec, fork, threads and their ends, mmap and
 * its relatives (munmap, mprotect, brk, mremap, madvise, msync, the mlock family), resource limits,
 * and the files behind mappings (created, grown, cut, renamed and unlinked in the kernel's
 * filesystem). The replay decides what the log asks for; this module is how vmscope's kernel is asked.
 */
import {
  EACCES,
  EBADF,
  EINVAL,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_PRIVATE,
  MAP_SHARED,
  MREMAP_FIXED,
  MREMAP_MAYMOVE,
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

/** The resource limits the replay applies (the ones that shape the address space, and mlock's). */
export type Rlimit = 'stack' | 'data' | 'as' | 'memlock';

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

/** The file at `from` is at `to` (exec's program, named against a guessed working directory). */
export function renameProgram(k: Kernel, from: string, to: string): void {
  k.fs.rename(from, to);
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
  // do_mmap: a file mapping needs an fd open for reading (the replay keeps the fds; the kernel maps files).
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

/** mremap(2). @returns the (new) address or -errno. */
export function mremap(
  k: Kernel,
  proc: Process,
  call: { old: number; oldLen: number; newLen: number; flags: number; newAddr: number },
): number {
  return k.mremap(proc, call.old, call.oldLen, call.newLen, call.flags, call.newAddr);
}

/**
 * After an mremap whose result was not Linux's: makes the address space look as Linux's did after
 * `mremap(old, oldLen, newLen, flags) = linux` (an address, or null when Linux refused it). `vm` is
 * vmscope's result. vmscope's move or resize is undone or carried to Linux's address with mremap
 * itself; where vmscope refused and Linux did not, Linux's result is built with mmap and munmap.
 * @returns false when the address space could not be put right.
 */
export function carryOnMremap(
  k: Kernel,
  proc: Process,
  call: { old: number; oldLen: number; newLen: number; dontUnmap: boolean },
  vm: number,
  linux: number | null,
): boolean {
  const ps = k.pageSize;
  const oldLen = Math.ceil(call.oldLen / ps) * ps;
  const newLen = Math.ceil(call.newLen / ps) * ps;
  const move = MREMAP_MAYMOVE | MREMAP_FIXED;
  if (vm < 0) {
    if (linux !== null) followMremap(k, proc, { ...call, result: linux });
    return true;
  }
  if (linux !== null) return vm === linux || k.mremap(proc, vm, newLen, newLen, move, linux) === linux;
  // Linux refused it: take vmscope's change back.
  if (vm === call.old) return k.mremap(proc, vm, newLen, oldLen, 0) === vm;
  if (call.dontUnmap) return k.munmap(proc, vm, newLen) === 0;
  return k.mremap(proc, vm, newLen, oldLen, move, call.old) === call.old;
}

/**
 * Makes the address space look as Linux's did after `mremap(old, oldLen, newLen, flags) = result`,
 * from the state before the call, with mmap and munmap — the mapping grown or shrunk in place, or
 * moved to `result` keeping its protection, sharing, file and offset (an anonymous mapping keeps its
 * page offset, as Linux's move does, so later merges come out the same). The pages' contents are not
 * carried.
 */
function followMremap(
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
  const anonChain = [...vma.anonChain];
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
    // As anon_vma_clone: the moved part joins every anon_vma the old one is on (an anon_vma off
    // its VMA's chain broke the kernel's invariant after an MREMAP_DONTUNMAP that Linux took).
    for (const av of anonChain)
      if (!moved.anonChain.includes(av)) {
        moved.anonChain.push(av);
        av.vmas.add(moved);
      }
    moved.anonVma = anonVma;
    mergeAround(k, mm, moved);
  }
  if (!call.dontUnmap) k.munmap(proc, call.old, oldLen);
}

/** madvise(2) (`advice` is Linux's number). @returns 0 or -errno. */
export function madvise(k: Kernel, proc: Process, addr: number, len: number, advice: number): number {
  return k.madvise(proc, addr, len, advice);
}

/**
 * mincore(2)'s result: 0 or -errno. (Which pages are resident depends on the program's touches, which
 * the log does not show, so the vector is not compared.)
 */
export function mincore(k: Kernel, proc: Process, addr: number, len: number): number {
  const r = k.mincore(proc, addr, len);
  return typeof r === 'number' ? r : 0;
}

/** msync(2). @returns 0 or -errno. */
export function msync(k: Kernel, proc: Process, addr: number, len: number, flags: number): number {
  return k.msync(proc, addr, len, flags);
}

/** mlock(2) and mlock2(2) (`flags`: MLOCK_ONFAULT). @returns 0 or -errno. */
export function mlock(k: Kernel, proc: Process, addr: number, len: number, flags: number): number {
  return k.mlock(proc, addr, len, flags);
}

export function munlock(k: Kernel, proc: Process, addr: number, len: number): number {
  return k.munlock(proc, addr, len);
}

export function mlockall(k: Kernel, proc: Process, flags: number): number {
  return k.mlockall(proc, flags);
}

export function munlockall(k: Kernel, proc: Process): number {
  return k.munlockall(proc);
}

/**
 * shmget(2). `linuxId` is the id Linux gave (when it made or found one): a new segment takes it, as
 * kernel.shm_next_id makes Linux do, so the ids and the maps' inode column are Linux's.
 */
export function shmget(
  k: Kernel,
  proc: Process,
  call: { key: number; size: number; flags: number },
  linuxId: number | null,
): number {
  k.shm.nextId = linuxId ?? -1;
  try {
    return k.shmget(proc, call.key, call.size, call.flags);
  } finally {
    k.shm.nextId = -1;
  }
}

export function shmat(k: Kernel, proc: Process, id: number, addr: number, flags: number): number {
  return k.shmat(proc, id, addr, flags);
}

export function shmdt(k: Kernel, proc: Process, addr: number): number {
  return k.shmdt(proc, addr);
}

export function shmctl(k: Kernel, proc: Process, id: number, cmd: number): number {
  return k.shmctl(proc, id, cmd);
}

/** What IPC_STAT reports of a segment that the log shows too: its size and attach count, or null. */
export function shmStat(k: Kernel, id: number): { segsz: number; nattch: number } | null {
  const seg = k.shm.segment(id);
  return seg === null ? null : { segsz: seg.size, nattch: k.shm.attaches(seg) };
}

/** fork/clone without CLONE_VM: a child with a copy-on-write copy of `proc`. @returns it, or -errno. */
export function fork(k: Kernel, proc: Process, name: string): Process | number {
  return k.fork(proc, name);
}

/** clone with CLONE_VM|CLONE_THREAD: a thread of `proc`'s process. @returns it, or -errno. */
export function thread(k: Kernel, proc: Process, name: string): Process | number {
  return k.thread(proc, name);
}

/** exit(2) of one thread: its process and address space stay while another task uses them. */
export function exitThread(k: Kernel, task: Process, code: number): void {
  if (task.alive) k.exitThread(task, code);
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

/**
 * The kernel's file behind mappings of a file node (one per node, so its page cache is shared): the
 * file of that name in the kernel's filesystem (exec's program is there already), else one created
 * there with the node's size. A node the log names only as deleted gets a file outside the namespace.
 */
export function fileObject(k: Kernel, node: FileNode): MemObject {
  if (node.object === null) {
    // Size unknown (or /dev/zero): no access of the mapping is ever past the end.
    const size = node.type === 'regular' ? (node.size ?? Number.POSITIVE_INFINITY) : Number.POSITIVE_INFINITY;
    const device = node.type === 'zero' ? '00:06' : 'fe:00';
    if (node.unlinked) {
      const obj = new MemObject('file', node.shownName, null, size, device, k.fs.newInode(), k.pageSize);
      obj.linked = false;
      node.object = k.pageCache.register(obj);
    } else node.object = k.fs.lookup(node.path) ?? k.fs.create(node.path, null, size, { device });
    node.object.hugeBytes = node.hugeBytes;
  }
  return node.object;
}

/** unlink(2) of `path`: the kernel's file goes from its directory; its mappings show `(deleted)`. */
export function unlinkFile(k: Kernel, node: FileNode | null, path: string): void {
  const obj = node?.object ?? null;
  if (obj !== null) {
    if (obj.linked && k.fs.lookup(obj.path) === obj) k.fs.unlink(obj.path);
  } else k.fs.unlink(path);
}

/** rename(2): the kernel's file at `from` (if there is one) is at `to`; one there before is unlinked. */
export function renameFile(k: Kernel, from: string, to: string): void {
  if (!k.fs.rename(from, to)) k.fs.unlink(to);
}

/**
 * The file's size changed (write, ftruncate, O_TRUNC, fallocate): the kernel's file is cut (its pages
 * past the end unmapped everywhere) or grown, so that faults past the new end get SIGBUS.
 */
export function resizeFile(k: Kernel, node: FileNode, size: number): void {
  node.size = size;
  if (node.object !== null && node.object.sizeBytes !== size) k.truncate(node.object, size);
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
  // hugetlbfs: the pool is empty (the kernel's hugetlb_no_page), so any access of a page is SIGBUS.
  if (obj !== null && obj.hugeBytes > 0) return { signal: 'SIGBUS', code: 'BUS_ADRERR' };
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
  const { minflt: _m, majflt: _j, threads: _t, ...fields } = k.status(proc);
  return fields;
}

/** The number of signal `name` (`SIGSEGV` → 11), or 0 when Linux has none of that name. */
export function signalNumber(name: string): number {
  return SIGNAL_BY_NAME.get(name) ?? 0;
}
