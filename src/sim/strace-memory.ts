/**
 * The strace replay's memory calls: each is applied to vmscope's kernel with the logged arguments
 * and its result compared with Linux's. After a divergence the replay carries on from Linux's result
 * where it can (an mmap moved to Linux's address, a brk moved to Linux's break), so that one
 * divergence does not cascade into the calls that follow.
 */
import { EINVAL, MAP_FIXED } from '../kernel/errno.js';
import {
  MADV_NAMES,
  MAP_NAMES,
  MCL_NAMES,
  MLOCK_NAMES,
  MREMAP_NAMES,
  MS_NAMES,
  PROT_NAMES,
  SHMAT_NAMES,
  SHMCTL_NAMES,
  SHMGET_NAMES,
} from '../workload/strace/names.js';
import type { LoggedCall } from '../workload/strace/parser.js';
import type { FileNode } from './strace-files.js';
import * as kapi from './strace-kernel.js';
import type { Task } from './strace-model.js';
import type { StraceReplay } from './strace-replay.js';

const MEMORY_CALLS: ReadonlySet<string> = new Set([
  'mmap',
  'mmap2',
  'munmap',
  'mprotect',
  'pkey_mprotect',
  'brk',
  'mremap',
  'madvise',
  'msync',
  'mincore',
  'mlock',
  'mlock2',
  'munlock',
  'mlockall',
  'munlockall',
  'remap_file_pages',
  'shmget',
  'shmat',
  'shmdt',
  'shmctl',
  'process_madvise',
  'process_mrelease',
  'userfaultfd',
  'mseal',
  'map_shadow_stack',
]);

export function isMemoryCall(name: string): boolean {
  return MEMORY_CALLS.has(name);
}

const MAP_ANONYMOUS = MAP_NAMES.get('MAP_ANONYMOUS')!;
const MAP_SHARED = MAP_NAMES.get('MAP_SHARED')!;
const PROT_WRITE = PROT_NAMES.get('PROT_WRITE')!;
const MREMAP_DONTUNMAP = MREMAP_NAMES.get('MREMAP_DONTUNMAP')!;
const MREMAP_FIXED = MREMAP_NAMES.get('MREMAP_FIXED')!;
const IPC_CREAT = SHMGET_NAMES.get('IPC_CREAT')!;
const SHM_REMAP = SHMAT_NAMES.get('SHM_REMAP')!;
const IPC_64 = SHMCTL_NAMES.get('IPC_64')!;
/** shmctl commands vmscope's kernel answers; the others (IPC_INFO, SHM_STAT…) report tables only. */
const SHMCTL_MODELLED = new Set(
  ['IPC_RMID', 'IPC_SET', 'IPC_STAT', 'SHM_LOCK', 'SHM_UNLOCK'].map((n) => SHMCTL_NAMES.get(n)!),
);

/** Precondition: the task's process is replayed (it has a live kernel task) and the call returned. */
export function handleMemoryCall(r: StraceReplay, task: Task, c: LoggedCall): void {
  const proc = task.caller()!;
  const k = r.kernel;
  switch (c.name) {
    case 'mmap':
    case 'mmap2': {
      const addr = c.arg(0).int('an address or NULL');
      const len = c.arg(1).int('a length');
      const prot = c.arg(2).flags(PROT_NAMES, 'PROT_* flags');
      const flags = c.arg(3).flags(MAP_NAMES, 'MAP_* flags');
      const fdArg = c.arg(4);
      // strace prints mmap2's page offset in bytes, like mmap's.
      const offset = c.arg(5).int('a file offset');
      let file: FileNode | null = null;
      let writableFd = false;
      let readableFd = true;
      if ((flags & MAP_ANONYMOUS) === 0) {
        const { fd, path } = fdArg.fd();
        const { node, open } = r.fs.nodeOf(task.fds, fd, path);
        file = node;
        // An fd no call of the log opened (a filtered log, or one attached late) has an unknown
        // access mode: Linux's answer is the only evidence of it. EACCES says it lacked what the
        // call asked (write for a shared writable mapping, else read); any other answer, that it had.
        const refused = open === null && c.result.kind === 'error' && c.result.errno === 'EACCES';
        const sharedWrite = (flags & MAP_SHARED) !== 0 && (prot & PROT_WRITE) !== 0;
        writableFd = open?.writable ?? !(refused && sharedWrite);
        readableFd = open?.readable ?? !(refused && !sharedWrite);
        if (open === null && node !== null && !task.fds.fds.has(fd)) {
          // Without any open in the log, it was filtered: one warning at the end says so.
          r.unopenedFdMaps++;
          if (r.opensSeen) r.warn(c.line, `fd ${fd} was opened before the log starts: mapping ${path}`);
        }
        // Linux looks the fd up before anything else: any answer but EBADF says it was open.
        const fdWasOpen =
          c.result.kind === 'value' || (c.result.kind === 'error' && c.result.errno !== 'EBADF');
        if (node === null && fdWasOpen) {
          file = r.fs.node(`/proc/self/fd/${fd}`);
          // A log with no open at all was filtered: the warning at the end counts these too.
          if (!r.opensSeen) r.unopenedFdMaps++;
          else r.warn(c.line, `mmap of fd ${fd}, which the log never opened: its name is unknown`);
        }
        if (file !== null && file.size === null && file.type === 'regular' && !file.unlinked) {
          const size = r.options.files.size?.(file.path) ?? null;
          if (size !== null) file.size = size;
        }
      }
      const call = { addr, len, prot, flags, file, offset, writableFd, readableFd };
      const vm = kapi.mmap(k, proc, call);
      if (!r.compare(task, c, vm) && !r.options.strict) {
        // Carry on from Linux's result: vmscope's mapping goes, Linux's is made where Linux put it.
        if (vm >= 0) kapi.munmap(k, proc, vm, len);
        if (c.result.kind === 'value' && proc.alive)
          kapi.mmap(k, proc, { ...call, addr: c.result.value, flags: flags | MAP_FIXED });
      }
      return;
    }
    case 'munmap': {
      const vm = kapi.munmap(k, proc, c.arg(0).int('an address'), c.arg(1).int('a length'));
      r.compare(task, c, vm);
      return;
    }
    case 'mprotect':
    case 'pkey_mprotect': {
      const addr = c.arg(0).int('an address');
      const len = c.arg(1).int('a length');
      const prot = c.arg(2).flags(PROT_NAMES, 'PROT_* flags');
      if (c.name === 'pkey_mprotect' && c.arg(3).int('a protection key') !== -1) {
        r.skipCall(task, c, 'protection keys are not modelled');
        return;
      }
      r.compare(task, c, kapi.mprotect(k, proc, addr, len, prot));
      return;
    }
    case 'brk': {
      const want = c.arg(0).int('an address or NULL');
      const vm = kapi.brk(k, proc, want);
      if (!r.compare(task, c, vm) && !r.options.strict && c.result.kind === 'value')
        kapi.brk(k, proc, c.result.value);
      return;
    }
    case 'mremap': {
      const old = c.arg(0).int('an address');
      const oldLen = c.arg(1).int('a length');
      const newLen = c.arg(2).int('a length');
      const flags = c.arg(3).flags(MREMAP_NAMES, 'MREMAP_* flags');
      const newAddr = c.argc > 4 ? c.arg(4).int('an address') : 0;
      const dontUnmap = (flags & MREMAP_DONTUNMAP) !== 0;
      const vm = kapi.mremap(k, proc, { old, oldLen, newLen, flags, newAddr });
      // With MREMAP_DONTUNMAP but not MREMAP_FIXED the kernel still reads new_address (a hint, or
      // EINVAL when it is not aligned), which strace does not print: glibc passes whatever its
      // register held. The result then cannot be checked unless it came out the same.
      const unlogged = dontUnmap && (flags & MREMAP_FIXED) === 0 && c.argc <= 4;
      let agree: boolean;
      if (unlogged && !r.agrees(c, vm)) {
        r.skipCall(task, c, 'MREMAP_DONTUNMAP without MREMAP_FIXED: its new address is not in the log');
        agree = false;
      } else agree = r.compare(task, c, vm);
      if (!agree && !r.options.strict) {
        const linux = c.result.kind === 'value' ? c.result.value : null;
        if (!kapi.carryOnMremap(k, proc, { old, oldLen, newLen, dontUnmap }, vm, linux))
          r.warn(c.line, "mremap: vmscope's address space could not be made Linux's again after it");
      }
      return;
    }
    case 'madvise': {
      const addr = c.arg(0).int('an address');
      const len = c.arg(1).int('a length');
      const advice = c.arg(2).flags(MADV_NAMES, 'an MADV_* advice');
      r.compare(task, c, kapi.madvise(k, proc, addr, len, advice));
      return;
    }
    case 'msync': {
      const addr = c.arg(0).int('an address');
      const len = c.arg(1).int('a length');
      const flags = c.arg(2).flags(MS_NAMES, 'MS_* flags');
      r.compare(task, c, kapi.msync(k, proc, addr, len, flags));
      return;
    }
    case 'mincore':
      r.compare(task, c, kapi.mincore(k, proc, c.arg(0).int('an address'), c.arg(1).int('a length')));
      return;
    case 'mlock':
    case 'mlock2': {
      const addr = c.arg(0).int('an address');
      const len = c.arg(1).int('a length');
      const flags = c.name === 'mlock2' ? c.arg(2).flags(MLOCK_NAMES, 'MLOCK_* flags') : 0;
      r.compare(task, c, kapi.mlock(k, proc, addr, len, flags));
      return;
    }
    case 'munlock':
      r.compare(task, c, kapi.munlock(k, proc, c.arg(0).int('an address'), c.arg(1).int('a length')));
      return;
    case 'mlockall':
      r.compare(task, c, kapi.mlockall(k, proc, c.arg(0).flags(MCL_NAMES, 'MCL_* flags')));
      return;
    case 'munlockall':
      r.compare(task, c, kapi.munlockall(k, proc));
      return;
    case 'shmget': {
      const key = c.arg(0).flags(SHMGET_NAMES, 'a key or IPC_PRIVATE');
      const size = c.arg(1).int('a size');
      const flags = c.arg(2).flags(SHMGET_NAMES, 'IPC_* and SHM_* flags and a mode');
      const linux = c.result.kind === 'value' ? c.result.value : null;
      if (linux !== null) r.shmIds.add(linux);
      const vm = kapi.shmget(k, proc, { key, size, flags }, linux);
      if (!r.compare(task, c, vm) && !r.options.strict && vm < 0 && linux !== null && size > 0) {
        // A segment made before the log started (Linux found it by its key): made now, as Linux has it.
        r.warn(c.line, `shmget: segment ${linux} existed before the log starts; made with the size asked`);
        kapi.shmget(k, proc, { key, size, flags: flags | IPC_CREAT }, linux);
      }
      return;
    }
    case 'shmat': {
      const id = c.arg(0).int('a segment id');
      const addr = c.arg(1).int('an address or NULL');
      const flags = c.arg(2).flags(SHMAT_NAMES, 'SHM_* flags');
      const vm = kapi.shmat(k, proc, id, addr, flags);
      // Linux attached a segment no shmget of the log made: its size is unknown, so it stays missing.
      const unmade = vm === -EINVAL && c.result.kind === 'value' && !r.shmIds.has(id);
      const why = unmade
        ? `segment ${id} was never created in the log: no shmget returned it (strace -e trace=memory leaves shmget out, as does any -e trace= without %ipc; or it was made before the log starts): vmscope cannot attach it, and the calls on this attach diverge after it`
        : null;
      if (!r.compare(task, c, vm, why) && !r.options.strict) {
        // Carry on from Linux's result: vmscope's attach goes, Linux's is made where Linux put it.
        if (vm >= 0) kapi.shmdt(k, proc, vm);
        if (c.result.kind === 'value' && proc.alive)
          kapi.shmat(k, proc, id, c.result.value, flags | SHM_REMAP);
      }
      return;
    }
    case 'shmdt':
      r.compare(task, c, kapi.shmdt(k, proc, c.arg(0).int('an address')));
      return;
    case 'shmctl': {
      const id = c.arg(0).int('a segment id');
      const cmd = c.arg(1).flags(SHMCTL_NAMES, 'an IPC_* or SHM_* command') & ~IPC_64;
      if (!SHMCTL_MODELLED.has(cmd)) {
        r.skipCall(task, c, 'reports the system-wide tables only');
        return;
      }
      const stat = cmd === SHMCTL_NAMES.get('IPC_STAT') ? kapi.shmStat(k, id) : null;
      if (r.compare(task, c, kapi.shmctl(k, proc, id, cmd)) && stat !== null && c.argc > 2) {
        // IPC_STAT's answer as strace printed it: the size and shm_nattch (VMAs mapping the segment).
        const ds = c.arg(2);
        for (const [field, vm] of [
          ['shm_segsz', stat.segsz],
          ['shm_nattch', stat.nattch],
        ] as const) {
          const linux = ds.field(field)?.tryInt() ?? null;
          if (linux !== null)
            r.compareValues(task, c.line, `${c.text} ${field}`, String(linux), String(vm), c.name);
        }
      }
      return;
    }
    default:
      r.skipCall(task, c, 'not modelled by the kernel');
  }
}
