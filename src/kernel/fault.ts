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
 *   PTE swap entry ──► do_swap_page: the swap cache, or read the slot (major)
 *   PTE none ──► anonymous: do_anonymous_page (zero-fill)
 *            └─► file/shmem: read fault (fault-around maps cached neighbours), shared write, or a
 *                private write (a copy of the cache page); past the end of the file: SIGBUS
 */
import { hex0x } from '../base/units.js';
import {
  ACCESS_EXEC,
  ACCESS_READ,
  ACCESS_WRITE,
  type AccessKind,
  FAULT_BAD_ADDRESS,
  FAULT_RESERVED,
} from '../hw/mmu.js';
import { BUS_ADRERR, SEGV_ACCERR, SEGV_MAPERR, SIGBUS, SIGKILL, SIGSEGV } from './errno.js';
import type { FaultHow } from './events.js';
import { FRAME_ANON, PG_DIRTY, PG_LAZYFREE } from './frames.js';
import type { Kernel } from './kernel.js';
import { pageKey } from './mapping.js';
import type { Mm } from './mm.js';
import { vmaLabel } from './proc.js';
import type { Process, SignalInfo } from './process.js';
import { VM_EXEC, VM_GROWSDOWN, VM_READ, VM_WRITE, type Vma } from './vma.js';

export type FaultVerdict =
  | { readonly ok: true; readonly major: boolean; readonly how: FaultHow }
  | { readonly ok: false; readonly signal: SignalInfo };

// The verdicts of the faults a replay resolves millions of times, made once (they are read-only).
const ZERO_FILL: FaultVerdict = { ok: true, major: false, how: 'zero-fill' };
const SWAP_IN: FaultVerdict = { ok: true, major: true, how: 'swap-in' };
const SWAP_CACHE: FaultVerdict = { ok: true, major: false, how: 'swap-cache' };

/**
 * Resolves a fault by `proc` at `va`. `hwKind` is what the MMU reported.
 * On success the PTE now allows the access (the caller retries the translation).
 */
export function handleMmFault(
  k: Kernel,
  proc: Process,
  va: number,
  access: AccessKind,
  hwKind: number,
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
  // The VMA's name, for sentences: built only when one is said (a fault without a sink says none).
  const label = (): string => vmaLabel(mm, vma);
  if (access === ACCESS_WRITE && (vma.flags & VM_WRITE) === 0) {
    return segv(k, proc, SEGV_ACCERR, va, access, `write at ${hex0x(va)}: ${label()} is not writable`);
  }
  const arch = k.machine.arch;
  // Without NX (i386), the CPU cannot tell a fetch from a read: the fault is checked as a read.
  if (access === ACCESS_EXEC && arch.pte.exec === 0 && arch.pte.nxHi === 0) access = ACCESS_READ;
  if (access === ACCESS_EXEC && (vma.flags & VM_EXEC) === 0) {
    return segv(k, proc, SEGV_ACCERR, va, access, `fetch at ${hex0x(va)}: ${label()} is not executable`);
  }
  // On x86 every right implies read; RISC-V can make a page execute-only.
  const readMask = arch.execOnly ? VM_READ | VM_WRITE : VM_READ | VM_WRITE | VM_EXEC;
  if (access === ACCESS_READ && (vma.flags & readMask) === 0) {
    return segv(k, proc, SEGV_ACCERR, va, access, `read at ${hex0x(va)}: ${label()} is not readable`);
  }

  const vpn = Math.floor(va / k.pageSize);
  const entryPa = k.pageTables.leafEntry(mm, mm.pid, vpn, { allocate: true });
  if (entryPa < 0) return outOfMemory(k, proc, va, access);
  const fmt = arch.pte;
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
    result = doFault(k, proc, mm, vma, vpn, entryPa, access);
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
      where: label(),
      pfn: pa < 0 ? -1 : Math.floor(pa / k.pageSize),
    });
  }
  // A changed entry may be cached with fewer rights: drop it so the retry walks.
  k.asids.flushRange(mm, vpn, vpn + 1);
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
  if (!k.commit.vmEnoughMemory(grow, mm.totalVm)) return 'the memory cannot be committed (overcommit)';
  const oldStart = stack.start;
  mm.resize(stack, newStart, stack.end);
  stack.pgoff -= grow;
  if (k.sink) k.sink.push({ type: 'stack-grow', pid: proc.pid, oldStart, newStart });
  return null;
}

/** A frame for an anonymous page of `vma` at `va` (reclaiming if needed), named, or -1. */
function allocAnonPage(k: Kernel, mm: Mm, vma: Vma, va: number, write: boolean): number {
  const av = k.vm.anonVmaPrepare(vma);
  const index = vma.linearIndex(va, k.pageSize);
  const pfn = k.vm.allocUserPage(FRAME_ANON, mm.pid, write, pageKey(av.id, index), mm.pid);
  if (pfn >= 0) k.vm.setAnonIdentity(pfn, av, index);
  return pfn;
}

/** Replaces the page an entry maps by a fresh private copy of it (wp_page_copy). */
function copyOnWrite(
  k: Kernel,
  proc: Process,
  mm: Mm,
  vma: Vma,
  va: number,
  entryPa: number,
  oldPfn: number,
): FaultVerdict {
  k.reclaim.pin(oldPfn); // the copy's allocation must not evict the page being copied
  const newPfn = allocAnonPage(k, mm, vma, va, true);
  k.reclaim.unpin(oldPfn);
  if (newPfn < 0) return oomVerdict(k, proc);
  if (oldPfn !== k.vm.zeroPfn) k.machine.mem.copyFrame(newPfn, oldPfn);
  const fmt = k.machine.arch.pte;
  const lo = k.machine.mmu.readLo(entryPa);
  k.vm.zapEntry(mm, entryPa, lo, k.machine.mmu.readHi(entryPa));
  k.vm.installPte(mm, entryPa, newPfn, k.vm.rightsFor(vma, newPfn), true);
  // The copy keeps the old entry's accessed bit (the write sets it anyway).
  if (lo & fmt.accessed) k.machine.mmu.writeLo(entryPa, (k.machine.mmu.readLo(entryPa) | fmt.accessed) >>> 0);
  if (k.sink)
    k.sink.push({ type: 'cow', pid: proc.pid, va: va - (va % k.pageSize), from: oldPfn, to: newPfn });
  return { ok: true, major: false, how: oldPfn === k.vm.zeroPfn ? 'zero-fill' : 'cow-copy' };
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
  const pfn = fmt.pfnOf(lo, hi);
  const f = k.frames;
  const mmu = k.machine.mmu;
  if (pfn === k.vm.zeroPfn) return copyOnWrite(k, proc, mm, vma, va, entryPa, pfn);
  if (vma.isShared()) {
    mmu.writeLo(entryPa, (lo | fmt.write | fmt.dirty | fmt.accessed) >>> 0);
    return { ok: true, major: false, how: 'write-enable' };
  }
  if (f.kind[pfn] === FRAME_ANON && k.vm.isExclusiveAnon(pfn)) {
    // The page is this mapper's alone: write in place. Its swap copy would go stale: drop it.
    if (f.swapSlot[pfn]! >= 0) k.vm.deleteFromSwapCache(pfn);
    f.flags[pfn]! &= ~PG_LAZYFREE;
    mmu.writeLo(entryPa, (lo | fmt.write | fmt.dirty | fmt.accessed) >>> 0);
    return { ok: true, major: false, how: 'cow-reuse' };
  }
  return copyOnWrite(k, proc, mm, vma, va, entryPa, pfn);
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
  if (access !== ACCESS_WRITE && k.vm.zeroPfn >= 0 && !vma.isShared() && !mm.forbidsZeroPage) {
    // do_anonymous_page on a read: the shared zero page, read-only, counted nowhere.
    const fmt = k.machine.arch.pte;
    const rights = { ...k.vm.rightsFor(vma, k.vm.zeroPfn), write: false };
    const zero = k.vm.zeroPfn;
    k.machine.mmu.writeEntry(
      entryPa,
      fmt.encodeLo(zero, fmt.leafFlags(rights)),
      fmt.encodeHi(zero, !rights.exec),
    );
    return { ok: true, major: false, how: 'zero-page' };
  }
  const pfn = allocAnonPage(k, mm, vma, va, access === ACCESS_WRITE);
  if (pfn < 0) return oomVerdict(k, proc);
  k.vm.installPte(mm, entryPa, pfn, k.vm.rightsFor(vma, pfn), access === ACCESS_WRITE);
  return ZERO_FILL;
}

/**
 * A page that was swapped out: found in the swap cache (another mapper brought it back: minor), or
 * read from its slot (major), which then stays as its clean copy. A write to a page others still
 * share is a copy-on-write within the same fault.
 */
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
  const swap = k.swap!;
  const vm = k.vm;
  let pfn = swap.cachedPfn[slot]!;
  let major = false;
  if (pfn >= 0) {
    k.frames.refcount[pfn]!++; // the mapping's reference
  } else {
    const mapping = swap.mapping[slot]!;
    const index = swap.index[slot]!;
    // Not zeroed first: the slot's page overwrites all of it.
    pfn = vm.allocUserPage(
      FRAME_ANON,
      mm.pid,
      access === ACCESS_WRITE,
      pageKey(mapping, index),
      mm.pid,
      false,
    );
    if (pfn < 0) return oomVerdict(k, proc);
    swap.read(slot, k.machine.mem.bytes, pfn * k.pageSize);
    k.frames.mapping[pfn] = mapping;
    k.frames.index[pfn] = index;
    const av = k.mappings.get(mapping);
    if (av !== undefined && !('pages' in av)) av.users++;
    vm.addToSwapCache(pfn, slot);
    k.reclaim.stats.swapIns++;
    major = true;
  }
  mm.swapEnts--;
  swap.put(slot); // this entry's count (the cache keeps the slot)
  const write = access === ACCESS_WRITE;
  if (write && vm.isExclusiveAnon(pfn)) {
    // Linux `should_try_to_free_swap`: a page about to be written needs no swap copy.
    vm.deleteFromSwapCache(pfn);
  }
  vm.installPte(mm, entryPa, pfn, vm.rightsFor(vma, pfn), write && vm.isExclusiveAnon(pfn));
  if (k.sink) k.sink.push({ type: 'swap-in', pid: proc.pid, va: va - (va % k.pageSize), pfn, slot });
  if (write && (k.machine.mmu.readLo(entryPa) & k.machine.arch.pte.write) === 0) {
    const cow = copyOnWrite(k, proc, mm, vma, va, entryPa, pfn);
    if (!cow.ok || cow.how === 'oom-retry') return cow;
  }
  return major ? SWAP_IN : SWAP_CACHE;
}

/** The window of pages fault-around maps (Linux `fault_around_bytes`, 64 KiB). */
export const FAULT_AROUND_PAGES = 16;

/** A fault Linux answers with SIGBUS (BUS_ADRERR) at `va`, saying why. */
function sigbus(va: number, why: string): FaultVerdict {
  return {
    ok: false,
    signal: { signal: SIGBUS, code: BUS_ADRERR, va, reason: `access at ${hex0x(va)}: ${why}` },
  };
}

/**
 * First touch of a file or shmem page: through the page cache. A read maps the neighbours already in
 * the cache too (`do_fault_around`); a shared write maps the cache page writable; a private write gets
 * its own copy (`do_cow_fault`).
 */
function doFault(
  k: Kernel,
  proc: Process,
  mm: Mm,
  vma: Vma,
  vpn: number,
  entryPa: number,
  access: AccessKind,
): FaultVerdict {
  const obj = vma.object!;
  const ps = k.pageSize;
  const va = vpn * ps;
  const index = vma.linearIndex(va, ps);
  // hugetlb_no_page: alloc_hugetlb_folio finds the pool empty (vm.nr_hugepages 0): VM_FAULT_SIGBUS.
  if (obj.hugeBytes > 0) return sigbus(va, `no huge page in the pool for ${obj.path}`);
  if (obj.kind !== 'kernel' && index >= obj.sizePages) return sigbus(va, `beyond the end of ${obj.path}`);
  const write = access === ACCESS_WRITE;
  const privateWrite = write && !vma.isShared();
  if (!write && k.faultAroundPages > 1 && obj.kind !== 'kernel' && obj.pages.has(index)) {
    faultAround(k, mm, vma, vpn);
    const lo = k.machine.mmu.readLo(entryPa);
    if (lo & k.machine.arch.pte.present) return { ok: true, major: false, how: 'cache-hit' };
  }
  const { pfn: cachePfn, major } = k.pageCache.getPage(obj, index, write && !privateWrite, mm.pid);
  if (cachePfn < 0) return oomVerdict(k, proc);
  const swappedIn = major && obj.kind === 'shmem';
  const how: FaultHow = swappedIn
    ? 'swap-in'
    : obj.kind === 'shmem'
      ? 'shmem-zero'
      : major
        ? 'file-read'
        : 'cache-hit';
  if (privateWrite) {
    k.reclaim.pin(cachePfn); // the copy's allocation must not evict the page being copied
    const pfn = allocAnonPage(k, mm, vma, va, true);
    k.reclaim.unpin(cachePfn);
    if (pfn < 0) return oomVerdict(k, proc);
    k.machine.mem.copyFrame(pfn, cachePfn);
    k.vm.installPte(mm, entryPa, pfn, k.vm.rightsFor(vma, pfn), true);
    return { ok: true, major, how: 'cow-copy' };
  }
  k.frames.refcount[cachePfn]!++;
  if (write) k.frames.flags[cachePfn]! |= PG_DIRTY;
  k.vm.installPte(mm, entryPa, cachePfn, k.vm.rightsFor(vma, cachePfn), write);
  return { ok: true, major, how };
}

/**
 * Linux `do_fault_around` + `filemap_map_pages`: maps the pages of the fault's window that are in the
 * page cache and not mapped yet — the window is `faultAroundPages` aligned, clipped to the VMA, the
 * page table and the file. No I/O, no allocation; the pages stay where the policy has them.
 */
function faultAround(k: Kernel, mm: Mm, vma: Vma, vpn: number): void {
  const obj = vma.object!;
  const ps = k.pageSize;
  const n = k.faultAroundPages;
  const perTable = k.pageTables.entries[k.machine.arch.levels - 1]!;
  const pteOff = vpn % perTable;
  const vmaOff = vpn - vma.start / ps;
  const fromPte = Math.max(pteOff - (pteOff % n), pteOff - Math.min(pteOff, vmaOff));
  const toPte = Math.min(fromPte + n, perTable, pteOff + (vma.end - vma.start) / ps - vmaOff) - 1;
  const fmt = k.machine.arch.pte;
  const mmu = k.machine.mmu;
  for (let p = fromPte; p <= toPte; p++) {
    const v = vpn - pteOff + p;
    const index = vma.linearIndex(v * ps, ps);
    if (index >= obj.sizePages) break;
    const pfn = obj.pages.get(index);
    if (pfn === undefined) continue;
    const ea = k.pageTables.leafEntry(mm, mm.pid, v, { allocate: false });
    if (ea < 0 || mmu.readLo(ea) !== 0 || mmu.readHi(ea) !== 0) continue;
    k.frames.refcount[pfn]!++;
    const rights = k.vm.rightsFor(vma, pfn);
    // Mapped without the accessed bit (Linux maps around-pages "old" unless it is the faulting one).
    k.vm.installPte(mm, ea, pfn, rights, false);
    if (v !== vpn) mmu.writeLo(ea, (mmu.readLo(ea) & ~fmt.accessed) >>> 0);
  }
}

/** No frame for the fault: the OOM killer runs; if it chose someone else, the fault is retried. */
function oomVerdict(k: Kernel, proc: Process): FaultVerdict {
  const victim = k.oomKill();
  if (victim === null || victim.mm === proc.mm || !proc.alive) {
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
