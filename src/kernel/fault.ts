/**
 * The page-fault handler (Linux `handle_mm_fault` and the arch code in front of it). It returns a
 * typed verdict — resolved (minor or major, and how), or the signal the process gets — and never
 * throws for anything a program can do.
 *
 *   find_vma ──► none / below and not a stack ─────────────► SIGSEGV (SEGV_MAPERR)
 *      │         below a stack: expand_downwards ── fails ─► SIGSEGV (SEGV_MAPERR)
 *      ▼
 *   access_error (the VMA forbids it) ─────────────────────► SIGSEGV (SEGV_ACCERR)
 *      ▼
 *   PTE present, write to a read-only entry ──► do_wp_page: reuse an exclusive page, or copy (COW)
 *   PTE none ──► anonymous: do_anonymous_page (zero-fill)
 *            └─► file/shmem: the page cache (major on a miss), copied first on a private write
 */
import { hex0x } from '../base/units.js';
import {
  ACCESS_EXEC,
  ACCESS_READ,
  ACCESS_WRITE,
  type AccessKind,
  FAULT_BAD_ADDRESS,
  FAULT_RESERVED,
  type FaultKind,
} from '../hw/mmu.js';
import { SEGV_ACCERR, SEGV_MAPERR, SIGBUS, SIGKILL, SIGSEGV } from './errno.js';
import type { FaultHow } from './events.js';
import { FRAME_ANON } from './frames.js';
import type { Kernel } from './kernel.js';
import type { Mm } from './mm.js';
import { vmaLabel } from './proc.js';
import type { Process, SignalInfo } from './process.js';
import { anonPageId } from './reclaim.js';
import { VM_EXEC, VM_GROWSDOWN, VM_READ, VM_WRITE, type Vma } from './vma.js';

export type FaultVerdict =
  | { readonly ok: true; readonly major: boolean; readonly how: FaultHow }
  | { readonly ok: false; readonly signal: SignalInfo };

/** VMA rights that make a read possible: on x86 any right implies read; RISC-V needs R (or W). */
function readMask(arch: string): number {
  return arch === 'riscv-sv39' ? VM_READ | VM_WRITE : VM_READ | VM_WRITE | VM_EXEC;
}

/**
 * Resolves a fault by `proc` at `va`. `hwKind` is what the MMU reported.
 * On success the PTE now allows the access (the caller retries the translation).
 */
export function handleMmFault(
  k: Kernel,
  proc: Process,
  va: number,
  access: AccessKind,
  hwKind: FaultKind,
): FaultVerdict {
  const mm = proc.mm!;
  const what = access === ACCESS_WRITE ? 'write' : access === ACCESS_EXEC ? 'fetch' : 'read';
  if (hwKind === FAULT_BAD_ADDRESS) {
    return segv(k, proc, SEGV_MAPERR, va, access, `${what} at ${hex0x(va)}: outside user space`);
  }
  if (hwKind === FAULT_RESERVED) {
    return fail(k, proc, va, access, {
      signal: SIGBUS,
      code: 0,
      va,
      reason: `${what} at ${hex0x(va)}: malformed page-table entry`,
    });
  }
  let vma = mm.findVma(va);
  if (vma === null || vma.start > va) {
    if (vma === null || (vma.flags & VM_GROWSDOWN) === 0) {
      return segv(k, proc, SEGV_MAPERR, va, access, `${what} at ${hex0x(va)}: no mapping there`);
    }
    const problem = expandStack(k, proc, mm, vma, va);
    if (problem !== null) {
      const reason = `${what} at ${hex0x(va)}: no mapping there, and ${vmaLabel(mm, vma)} cannot grow down to it: ${problem}`;
      return segv(k, proc, SEGV_MAPERR, va, access, reason);
    }
  }
  vma = vma!;
  const label = vmaLabel(mm, vma);
  if (access === ACCESS_WRITE && (vma.flags & VM_WRITE) === 0) {
    return segv(k, proc, SEGV_ACCERR, va, access, `write at ${hex0x(va)}: ${label} is not writable`);
  }
  // Without NX (i386), the CPU cannot tell a fetch from a read: the fault is checked as a read.
  const fmt0 = k.machine.arch.pte;
  if (access === ACCESS_EXEC && fmt0.exec === 0 && fmt0.nxHi === 0) access = ACCESS_READ;
  if (access === ACCESS_EXEC && (vma.flags & VM_EXEC) === 0) {
    return segv(k, proc, SEGV_ACCERR, va, access, `fetch at ${hex0x(va)}: ${label} is not executable`);
  }
  if (
    access !== ACCESS_WRITE &&
    access !== ACCESS_EXEC &&
    (vma.flags & readMask(k.machine.arch.name)) === 0
  ) {
    return segv(k, proc, SEGV_ACCERR, va, access, `read at ${hex0x(va)}: ${label} is not readable`);
  }

  const vpn = Math.floor(va / k.pageSize);
  const entryPa = k.pageTables.leafEntry(mm, proc.pid, vpn, { allocate: true });
  if (entryPa < 0) return outOfMemory(k, proc, va, access);
  const fmt = k.machine.arch.pte;
  const mmu = k.machine.mmu;
  const lo = mmu.readLo(entryPa);
  const hi = mmu.readHi(entryPa);

  let result: FaultVerdict;
  if ((lo & fmt.present) !== 0) {
    result =
      access === ACCESS_WRITE && (lo & fmt.write) === 0
        ? doWpPage(k, proc, mm, vma, va, entryPa, lo, hi)
        : { ok: true, major: false, how: 'spurious' };
  } else if ((lo & fmt.swSwap) !== 0) {
    result = doSwapPage(k, proc, mm, vma, va, entryPa, fmt.pfnOf(lo, hi), access);
  } else if (lo !== 0 || hi !== 0) {
    return fail(k, proc, va, access, {
      signal: SIGBUS,
      code: 0,
      va,
      reason: `${what} at ${hex0x(va)}: unexpected non-present entry ${fmt.formatRaw(lo, hi)}`,
    });
  } else if (vma.object === null) {
    result = doAnonymousPage(k, proc, mm, vma, va, entryPa, access);
  } else {
    result = doFilePage(k, proc, mm, vma, vpn, entryPa, access);
  }
  if (!result.ok) return fail(k, proc, va, access, result.signal);
  if (result.how === 'oom-retry') return result; // not a completed fault: nothing to count
  if (result.major) mm.majflt++;
  else mm.minflt++;
  if (k.sink) {
    const pa = mmu.probe(mm.rootPfn, va).pa;
    k.sink.push({
      type: 'fault',
      pid: proc.pid,
      va,
      access,
      result: result.major ? 'major' : 'minor',
      how: result.how,
      where: label,
      pfn: pa < 0 ? -1 : Math.floor(pa / k.pageSize),
    });
  }
  // A changed entry may be cached with fewer rights: drop it so the retry walks.
  k.flushTlbRange(mm, vpn, vpn + 1);
  return result;
}

/** expand_downwards: grows a stack VMA down to cover `va`. @returns null, or why it cannot. */
function expandStack(k: Kernel, proc: Process, mm: Mm, stack: Vma, va: number): string | null {
  const newStart = Math.floor(va / k.pageSize) * k.pageSize;
  if (newStart < mm.layout.mmapMinAddr) return 'below mmap_min_addr';
  const prev = mm.prev(stack);
  if (
    prev !== null &&
    (prev.flags & VM_GROWSDOWN) === 0 &&
    prev.isAccessible() &&
    newStart - prev.end < mm.layout.stackGuardGap
  ) {
    return `within the ${mm.layout.stackGuardGap / k.pageSize}-page stack guard gap above ${vmaLabel(mm, prev)}`;
  }
  if (prev !== null && newStart < prev.end) return 'it would overlap the mapping below';
  const newSize = stack.end - newStart;
  if (newSize > mm.rlimits.stack)
    return `the stack would be ${newSize / 1024} KiB, over RLIMIT_STACK (${mm.rlimits.stack / 1024} KiB)`;
  const grow = (stack.start - newStart) / k.pageSize;
  if ((mm.totalVm + grow) * k.pageSize > mm.rlimits.as) return 'over RLIMIT_AS';
  const oldStart = stack.start;
  mm.resize(stack, newStart, stack.end);
  stack.pgoff -= grow;
  if (k.sink) k.sink.push({ type: 'stack-grow', pid: proc.pid, oldStart, newStart });
  return null;
}

/** A write to a present, write-protected page of a writable VMA. */
function doWpPage(
  k: Kernel,
  proc: Process,
  mm: Mm,
  vma: Vma,
  va: number,
  entryPa: number,
  lo: number,
  hi: number,
): FaultVerdict {
  const fmt = k.machine.arch.pte;
  const oldPfn = fmt.pfnOf(lo, hi);
  const f = k.frames;
  if (vma.isShared()) {
    k.machine.mmu.writeLo(entryPa, (lo | fmt.write | fmt.dirty | fmt.accessed) >>> 0);
    return { ok: true, major: false, how: 'write-enable' };
  }
  if (f.kind[oldPfn] === FRAME_ANON && f.mapcount[oldPfn] === 1 && f.refcount[oldPfn] === 1) {
    k.machine.mmu.writeLo(entryPa, (lo | fmt.write | fmt.dirty | fmt.accessed) >>> 0);
    return { ok: true, major: false, how: 'cow-reuse' };
  }
  k.reclaim.pin(oldPfn); // the copy's allocation must not evict the page being copied
  const newPfn = allocAnonPage(k, proc, va, true);
  k.reclaim.unpin(oldPfn);
  if (newPfn < 0) return oomVerdict(k, proc);
  k.machine.mem.copyFrame(newPfn, oldPfn);
  if (vma.anonVma === 0) vma.anonVma = k.newAnonVma();
  f.mapcount[oldPfn]!--;
  k.addRss(mm, oldPfn, -1);
  k.putPage(oldPfn);
  k.installPte(mm, entryPa, newPfn, k.rightsFor(vma, newPfn), true, va);
  return { ok: true, major: false, how: 'cow-copy' };
}

/** First touch of anonymous private memory: a zeroed page. */
/** A frame for `proc`'s anonymous page at `va` (reclaiming if needed), or -1 when none can be had. */
function allocAnonPage(k: Kernel, proc: Process, va: number, write: boolean): number {
  return k.allocUserPage(FRAME_ANON, proc.pid, write, anonPageId(proc.pid, Math.floor(va / k.pageSize)));
}

function doAnonymousPage(
  k: Kernel,
  proc: Process,
  mm: Mm,
  vma: Vma,
  va: number,
  entryPa: number,
  access: AccessKind,
): FaultVerdict {
  const pfn = allocAnonPage(k, proc, va, access === ACCESS_WRITE);
  if (pfn < 0) return oomVerdict(k, proc);
  if (vma.anonVma === 0) vma.anonVma = k.newAnonVma();
  k.installPte(mm, entryPa, pfn, k.rightsFor(vma, pfn), access === ACCESS_WRITE, va);
  return { ok: true, major: false, how: 'zero-fill' };
}

/** A page that was swapped out: read it back from its slot (a major fault), keeping the slot as its copy. */
function doSwapPage(
  k: Kernel,
  proc: Process,
  mm: Mm,
  vma: Vma,
  va: number,
  entryPa: number,
  slot: number,
  access: AccessKind,
): FaultVerdict {
  const pfn = allocAnonPage(k, proc, va, access === ACCESS_WRITE);
  if (pfn < 0) return oomVerdict(k, proc);
  k.swap!.read(slot, k.machine.mem.frame(pfn));
  k.frames.swapSlot[pfn] = slot; // the entry's reference to the slot becomes the swap cache's
  mm.swapEnts--;
  k.reclaim.stats.swapIns++;
  k.installPte(mm, entryPa, pfn, k.rightsFor(vma, pfn), access === ACCESS_WRITE, va);
  if (k.sink) k.sink.push({ type: 'swap-in', pid: proc.pid, va: va - (va % k.pageSize), pfn, slot });
  return { ok: true, major: true, how: 'swap-in' };
}

/** First touch of a file or shmem page: through the page cache; a private write gets its own copy. */
function doFilePage(
  k: Kernel,
  proc: Process,
  mm: Mm,
  vma: Vma,
  vpn: number,
  entryPa: number,
  access: AccessKind,
): FaultVerdict {
  const obj = vma.object!;
  const index = vma.pgoff + (vpn - vma.start / k.pageSize);
  if (obj.kind === 'file' && index * k.pageSize >= Math.ceil(obj.sizeBytes / k.pageSize) * k.pageSize) {
    const va = vpn * k.pageSize;
    return {
      ok: false,
      signal: {
        signal: SIGBUS,
        code: 2,
        va,
        reason: `access at ${hex0x(va)}: beyond the end of ${obj.path}`,
      },
    };
  }
  const privateWrite = access === ACCESS_WRITE && !vma.isShared();
  const { pfn: cachePfn, major } = k.objectPage(
    obj,
    index,
    access === ACCESS_WRITE && !privateWrite,
    proc.pid,
  );
  if (cachePfn < 0) return oomVerdict(k, proc);
  const swappedIn = major && obj.kind === 'shmem';
  const how: FaultHow = swappedIn
    ? 'swap-in'
    : obj.kind === 'shmem'
      ? 'shmem-zero'
      : major
        ? 'file-read'
        : 'cache-hit';
  const va = vpn * k.pageSize;
  if (privateWrite) {
    k.reclaim.pin(cachePfn); // the copy's allocation must not evict the page being copied
    const pfn = allocAnonPage(k, proc, va, true);
    k.reclaim.unpin(cachePfn);
    if (pfn < 0) return oomVerdict(k, proc);
    k.machine.mem.copyFrame(pfn, cachePfn);
    if (vma.anonVma === 0) vma.anonVma = k.newAnonVma();
    k.installPte(mm, entryPa, pfn, k.rightsFor(vma, pfn), true, va);
    return { ok: true, major, how: 'cow-copy' };
  }
  k.frames.refcount[cachePfn]!++;
  k.installPte(mm, entryPa, cachePfn, k.rightsFor(vma, cachePfn), access === ACCESS_WRITE, va);
  return { ok: true, major, how };
}

/** No frame for the fault: the OOM killer runs; if it chose someone else, the fault is retried. */
function oomVerdict(k: Kernel, proc: Process): FaultVerdict {
  const victim = k.oomKill();
  if (victim === null || victim === proc) {
    return { ok: false, signal: { signal: SIGKILL, code: 0, va: 0, reason: 'out of memory' } };
  }
  return { ok: true, major: false, how: 'oom-retry' };
}

function outOfMemory(k: Kernel, proc: Process, va: number, access: AccessKind): FaultVerdict {
  const v = oomVerdict(k, proc);
  return v.ok ? v : fail(k, proc, va, access, v.signal);
}

function segv(
  k: Kernel,
  proc: Process,
  code: number,
  va: number,
  access: AccessKind,
  reason: string,
): FaultVerdict {
  return fail(k, proc, va, access, { signal: SIGSEGV, code, va, reason });
}

function fail(k: Kernel, proc: Process, va: number, access: AccessKind, signal: SignalInfo): FaultVerdict {
  if (k.sink) {
    const mm = proc.mm;
    const vma = mm?.vmaAt(va) ?? null;
    k.sink.push({
      type: 'fault',
      pid: proc.pid,
      va,
      access,
      result: 'segv',
      how: null,
      where: mm !== null && vma !== null ? vmaLabel(mm, vma) : '',
      reason: signal.reason,
      pfn: -1,
    });
  }
  return { ok: false, signal };
}
