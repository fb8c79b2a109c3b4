/**
 * madvise, msync, mincore and the mlock family, with Linux's errors (`mm/madvise.c`, `mm/msync.c`,
 * `mm/mincore.c`, `mm/mlock.c`).
 *
 * - MADV_DONTNEED drops the range's pages at once (RSS falls; anonymous memory reads back as zeros,
 *   a private file mapping as the file); MADV_FREE marks exclusive anonymous pages clean and lazily
 *   freeable (RSS stays; reclaim discards them unless written again); MADV_WILLNEED reads a file
 *   range into the page cache; DONTFORK/DOFORK, WIPEONFORK/KEEPONFORK, RANDOM/SEQUENTIAL/NORMAL,
 *   HUGEPAGE/NOHUGEPAGE and DONTDUMP/DODUMP set VMA flags (splitting and merging as mprotect does);
 *   MADV_PAGEOUT reclaims the range's private pages; COLD, MERGEABLE and UNMERGEABLE are accepted and
 *   change nothing here (no LRU ages, no KSM).
 * - msync(MS_SYNC) writes back the dirty pages of shared file mappings in the range; MS_ASYNC does
 *   nothing more (Linux tracks dirty pages anyway).
 * - mincore reports, per page, whether it is in memory (mapped, or in the page or swap cache).
 * - mlock makes pages unevictable (VM_LOCKED, VmLck) and faults them in, within RLIMIT_MEMLOCK.
 */
import { alignUp } from '../base/units.js';
import {
  EAGAIN,
  EBADF,
  EBUSY,
  EINVAL,
  ENOMEM,
  MADV_COLD,
  MADV_DODUMP,
  MADV_DOFORK,
  MADV_DONTDUMP,
  MADV_DONTFORK,
  MADV_DONTNEED,
  MADV_FREE,
  MADV_HUGEPAGE,
  MADV_KEEPONFORK,
  MADV_MERGEABLE,
  MADV_NOHUGEPAGE,
  MADV_NORMAL,
  MADV_PAGEOUT,
  MADV_POPULATE_READ,
  MADV_POPULATE_WRITE,
  MADV_RANDOM,
  MADV_REMOVE,
  MADV_SEQUENTIAL,
  MADV_UNMERGEABLE,
  MADV_WILLNEED,
  MADV_WIPEONFORK,
  MCL_CURRENT,
  MCL_FUTURE,
  MCL_ONFAULT,
  MLOCK_ONFAULT,
  MS_ASYNC,
  MS_INVALIDATE,
  MS_SYNC,
  PROT_READ,
  PROT_WRITE,
} from './errno.js';
import { FRAME_ANON, PG_DIRTY, PG_LAZYFREE } from './frames.js';
import type { Kernel } from './kernel.js';
import type { Mm } from './mm.js';
import { populate, vmaModifyFlags } from './mmap.js';
import type { Process } from './process.js';
import {
  VM_DONTCOPY,
  VM_DONTDUMP,
  VM_HUGEPAGE,
  VM_HUGETLB,
  VM_IO,
  VM_LOCKED,
  VM_LOCKED_MASK,
  VM_LOCKONFAULT,
  VM_NOHUGEPAGE,
  VM_PFNMAP,
  VM_RAND_READ,
  VM_SEQ_READ,
  VM_SHARED,
  VM_SPECIAL,
  VM_WIPEONFORK,
  VM_WRITE,
  type Vma,
} from './vma.js';

const KNOWN_ADVICE = new Set([
  MADV_NORMAL,
  MADV_RANDOM,
  MADV_SEQUENTIAL,
  MADV_WILLNEED,
  MADV_DONTNEED,
  MADV_FREE,
  MADV_REMOVE,
  MADV_DONTFORK,
  MADV_DOFORK,
  MADV_MERGEABLE,
  MADV_UNMERGEABLE,
  MADV_HUGEPAGE,
  MADV_NOHUGEPAGE,
  MADV_DONTDUMP,
  MADV_DODUMP,
  MADV_WIPEONFORK,
  MADV_KEEPONFORK,
  MADV_COLD,
  MADV_PAGEOUT,
  MADV_POPULATE_READ,
  MADV_POPULATE_WRITE,
]);

/**
 * Calls `fn` for each VMA piece of [start, end), in order (Linux `madvise_walk_vmas`).
 * @returns 0, the first error `fn` gives, or -ENOMEM when part of the range is unmapped (after
 * applying `fn` to the mapped parts).
 */
function walkVmas(
  mm: Mm,
  start: number,
  end: number,
  fn: (vma: Vma, start: number, end: number) => number,
): number {
  let unmapped = 0;
  let cur = start;
  while (cur < end) {
    const vma = mm.findVma(cur);
    if (vma === null || vma.start >= end) return -ENOMEM;
    if (vma.start > cur) {
      unmapped = -ENOMEM;
      cur = vma.start;
    }
    const pieceEnd = Math.min(vma.end, end);
    const r = fn(vma, cur, pieceEnd);
    if (r < 0) return r;
    cur = pieceEnd;
  }
  return unmapped;
}

/** madvise(2). @returns 0 or -errno. */
export function sysMadvise(k: Kernel, proc: Process, addr: number, lenIn: number, advice: number): number {
  const mm = proc.mm!;
  const ps = k.pageSize;
  if (!KNOWN_ADVICE.has(advice)) return -EINVAL;
  if (addr % ps !== 0 || lenIn < 0) return -EINVAL;
  const len = alignUp(lenIn, ps);
  if (lenIn !== 0 && len === 0) return -EINVAL;
  const end = addr + len;
  if (end < addr || end > mm.taskSize) return -EINVAL;
  if (end === addr) return 0;
  return walkVmas(mm, addr, end, (vma, s, e) => adviseOne(k, proc, mm, vma, s, e, advice));
}

function adviseOne(k: Kernel, proc: Process, mm: Mm, vma: Vma, s: number, e: number, advice: number): number {
  const f = vma.flags;
  switch (advice) {
    case MADV_DONTNEED: {
      const huge = vma.object?.hugeBytes ?? 0;
      if (huge > 0) {
        // madvise_dontneed_free_valid_vma: a hugetlbfs range starts on a huge page, and its end is
        // rounded down to one (locked or not).
        if (s % huge !== 0) return -EINVAL;
        const hugeEnd = e - (e % huge);
        if (hugeEnd > s) k.vm.zapRange(mm, s, hugeEnd);
        return 0;
      }
      if (f & (VM_LOCKED | VM_PFNMAP)) return -EINVAL;
      k.vm.zapRange(mm, s, e);
      return 0;
    }
    case MADV_FREE:
      if (vma.object !== null || f & (VM_LOCKED | VM_PFNMAP)) return -EINVAL;
      lazyFree(k, mm, s, e);
      return 0;
    case MADV_WILLNEED:
      if (vma.object === null) return 0;
      if (vma.object.kind === 'kernel') return -EBADF;
      for (let va = s; va < e; va += k.pageSize) {
        const index = vma.linearIndex(va, k.pageSize);
        if (index >= vma.object.sizePages) break;
        if (k.pageCache.getPage(vma.object, index, false, mm.pid).pfn < 0) break;
      }
      return 0;
    case MADV_PAGEOUT:
      if (f & (VM_LOCKED | VM_PFNMAP)) return -EINVAL;
      pageout(k, mm, s, e);
      return 0;
    case MADV_REMOVE:
      if (!(f & VM_SHARED) || vma.object === null || !(f & VM_WRITE)) return -EINVAL;
      k.vm.zapRange(mm, s, e);
      for (let va = s; va < e; va += k.pageSize) {
        const index = vma.linearIndex(va, k.pageSize);
        if (vma.object.pages.has(index) && k.frames.mapcount[vma.object.pages.get(index)!] === 0) {
          k.frames.flags[vma.object.pages.get(index)!]! &= ~PG_DIRTY;
          k.pageCache.remove(vma.object, index);
        }
      }
      return 0;
    case MADV_POPULATE_READ:
    case MADV_POPULATE_WRITE: {
      if (f & (VM_IO | VM_PFNMAP)) return -EINVAL;
      const write = advice === MADV_POPULATE_WRITE;
      if (write && !(f & VM_WRITE)) return -EINVAL;
      for (let va = s; va < e && proc.alive; va += k.pageSize) k.access(proc, va, write ? 1 : 0);
      return proc.alive ? 0 : -ENOMEM;
    }
    case MADV_COLD:
    case MADV_MERGEABLE:
    case MADV_UNMERGEABLE:
      return 0;
  }
  let nf = f;
  switch (advice) {
    case MADV_NORMAL:
      nf &= ~(VM_RAND_READ | VM_SEQ_READ);
      break;
    case MADV_RANDOM:
      nf = (nf & ~VM_SEQ_READ) | VM_RAND_READ;
      break;
    case MADV_SEQUENTIAL:
      nf = (nf & ~VM_RAND_READ) | VM_SEQ_READ;
      break;
    case MADV_DONTFORK:
      nf |= VM_DONTCOPY;
      break;
    case MADV_DOFORK:
      if (f & VM_IO) return -EINVAL;
      nf &= ~VM_DONTCOPY;
      break;
    case MADV_WIPEONFORK:
      if (vma.object !== null || f & VM_SHARED) return -EINVAL;
      nf |= VM_WIPEONFORK;
      break;
    case MADV_KEEPONFORK:
      nf &= ~VM_WIPEONFORK;
      break;
    case MADV_DONTDUMP:
      nf |= VM_DONTDUMP;
      break;
    case MADV_DODUMP:
      // (hugetlbfs mappings are VM_DONTEXPAND, yet may be dumped: madvise_update_vma.)
      if (f & VM_SPECIAL && !(f & VM_HUGETLB)) return -EINVAL;
      nf &= ~VM_DONTDUMP;
      break;
    case MADV_HUGEPAGE:
      nf = (nf & ~VM_NOHUGEPAGE) | VM_HUGEPAGE;
      break;
    case MADV_NOHUGEPAGE:
      nf = (nf & ~VM_HUGEPAGE) | VM_NOHUGEPAGE;
      break;
  }
  const r = vmaModifyFlags(k, mm, vma, s, e, nf);
  return typeof r === 'number' ? r : 0;
}

/**
 * MADV_FREE (Linux `madvise_free_pte_range`): exclusive anonymous pages become clean and lazily free;
 * swap entries in the range are dropped (their contents are no longer wanted).
 */
function lazyFree(k: Kernel, mm: Mm, s: number, e: number): void {
  const fmt = k.machine.arch.pte;
  const mmu = k.machine.mmu;
  const ps = k.pageSize;
  const f = k.frames;
  k.pageTables.forEachLeaf(mm, s / ps, e / ps, (_vpn, entryPa, lo, hi) => {
    if ((lo & fmt.present) === 0) {
      if ((lo & fmt.swSwap) !== 0) k.vm.zapEntry(mm, entryPa, lo, hi);
      return;
    }
    const pfn = fmt.pfnOf(lo, hi);
    if (f.kind[pfn] !== FRAME_ANON || f.mapcount[pfn]! > 1) return;
    if (f.swapSlot[pfn]! >= 0) {
      if (!k.vm.isExclusiveAnon(pfn)) return;
      k.vm.deleteFromSwapCache(pfn);
    }
    f.flags[pfn] = (f.flags[pfn]! & ~PG_DIRTY) | PG_LAZYFREE;
    mmu.writeLo(entryPa, (lo & ~(fmt.dirty | fmt.accessed)) >>> 0);
  });
  k.asids.flushRange(mm, s / ps, e / ps);
}

/** MADV_PAGEOUT: each private page of the range mapped here alone leaves memory now. */
function pageout(k: Kernel, mm: Mm, s: number, e: number): void {
  const fmt = k.machine.arch.pte;
  const ps = k.pageSize;
  const victims: number[] = [];
  k.pageTables.forEachLeaf(mm, s / ps, e / ps, (_vpn, _pa, lo, hi) => {
    if ((lo & fmt.present) === 0) return;
    const pfn = fmt.pfnOf(lo, hi);
    if (k.frames.mapcount[pfn] === 1 && k.reclaim.slotOf[pfn]! >= 0) victims.push(pfn);
  });
  for (const pfn of victims) k.reclaim.pageOut(pfn);
}

/** msync(2). @returns 0 or -errno (EINVAL for bad flags or alignment, ENOMEM for a hole, EBUSY). */
export function sysMsync(k: Kernel, proc: Process, start: number, lenIn: number, flags: number): number {
  const mm = proc.mm!;
  const ps = k.pageSize;
  if (flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC)) return -EINVAL;
  if (start % ps !== 0) return -EINVAL;
  if (flags & MS_ASYNC && flags & MS_SYNC) return -EINVAL;
  const end = start + alignUp(lenIn, ps);
  if (end < start) return -EINVAL;
  if (end === start) return 0;
  let unmapped = 0;
  let cur = start;
  for (;;) {
    const vma = mm.findVma(cur);
    if (vma === null) return -ENOMEM;
    if (cur < vma.start) {
      if (flags === MS_ASYNC) return unmapped || -ENOMEM;
      cur = vma.start;
      if (cur >= end) return -ENOMEM;
      unmapped = -ENOMEM;
    }
    if (flags & MS_INVALIDATE && vma.flags & VM_LOCKED) return -EBUSY;
    const pieceEnd = Math.min(end, vma.end);
    if (flags & MS_SYNC && vma.object !== null && vma.object.kind === 'file' && vma.flags & VM_SHARED)
      syncFileRange(k, vma, cur, pieceEnd);
    cur = vma.end;
    if (cur >= end) return unmapped;
  }
}

/**
 * vfs_fsync_range over the file pages [start, end) of `vma` maps: every dirty cached page of that part
 * of the file (dirtied through any mapping) is cleaned in all its mappers and written back.
 */
function syncFileRange(k: Kernel, vma: Vma, start: number, end: number): void {
  const obj = vma.object!;
  const first = vma.linearIndex(start, k.pageSize);
  const last = vma.linearIndex(end - 1, k.pageSize);
  for (const [index, pfn] of [...obj.pages])
    if (index >= first && index <= last) k.pageCache.syncPage(obj, pfn);
}

/** mincore(2): 1 for each page of [start, start+len) that is in memory. @returns the vector or -errno. */
export function sysMincore(k: Kernel, proc: Process, start: number, lenIn: number): Uint8Array | number {
  const mm = proc.mm!;
  const ps = k.pageSize;
  if (start % ps !== 0) return -EINVAL;
  const pages = Math.ceil(lenIn / ps);
  if (start + pages * ps > mm.taskSize) return -ENOMEM;
  const out = new Uint8Array(pages);
  const fmt = k.machine.arch.pte;
  const mmu = k.machine.mmu;
  for (let i = 0; i < pages; i++) {
    const va = start + i * ps;
    const vma = mm.vmaAt(va);
    if (vma === null) return -ENOMEM;
    const ea = k.pageTables.leafEntry(mm, mm.pid, va / ps, { allocate: false });
    const lo = ea < 0 ? 0 : mmu.readLo(ea);
    const hi = ea < 0 ? 0 : mmu.readHi(ea);
    if (lo & (fmt.present | fmt.swProtNone)) out[i] = 1;
    else if (lo & fmt.swSwap) out[i] = k.swap!.cachedPfn[fmt.pfnOf(lo, hi)]! >= 0 ? 1 : 0;
    else if (vma.object !== null) out[i] = vma.object.pages.has(vma.linearIndex(va, ps)) ? 1 : 0;
  }
  return out;
}

// ---------------------------------------------------------------- mlock

/** Pages of [start, end) already in VM_LOCKED VMAs (count_mm_mlocked_page_nr). */
function lockedPagesIn(mm: Mm, start: number, end: number): number {
  let n = 0;
  for (const v of mm.vmas)
    if (v.flags & VM_LOCKED) n += Math.max(0, Math.min(v.end, end) - Math.max(v.start, start)) / mm.pageSize;
  return n;
}

/**
 * apply_vma_lock_flags over [start, end): VM_LOCKED (and ONFAULT) on or off. Unlike madvise it stops
 * at the first hole (-ENOMEM), the VMAs before it changed.
 */
function applyLock(k: Kernel, mm: Mm, start: number, end: number, lockFlags: number): number {
  const first = mm.vmaAt(start);
  if (first === null) return -ENOMEM;
  let cur = start;
  while (cur < end) {
    const vma = mm.vmaAt(cur);
    if (vma === null) return -ENOMEM;
    const e = Math.min(vma.end, end);
    const r = lockOne(k, mm, vma, cur, e, lockFlags);
    if (r < 0) return r;
    cur = e;
  }
  return 0;
}

function lockOne(k: Kernel, mm: Mm, vma: Vma, s: number, e: number, lockFlags: number): number {
  {
    const nf = (vma.flags & ~VM_LOCKED_MASK) | lockFlags;
    // Special and hugetlbfs mappings are never locked nor counted (mlock_fixup).
    if (nf === vma.flags || vma.flags & VM_SPECIAL || vma.flags & VM_HUGETLB) return 0;
    const r = vmaModifyFlags(k, mm, vma, s, e, nf);
    return typeof r === 'number' ? r : 0;
  }
}

/** mlock(2)/mlock2(2). @returns 0 or -errno (EINVAL, ENOMEM over RLIMIT_MEMLOCK or for a hole). */
export function sysMlock(k: Kernel, proc: Process, startIn: number, lenIn: number, flags: number): number {
  const mm = proc.mm!;
  const ps = k.pageSize;
  if (flags & ~MLOCK_ONFAULT) return -EINVAL;
  const start = startIn - (startIn % ps);
  const len = alignUp(lenIn + (startIn % ps), ps);
  const end = start + len;
  if (end < start) return -EINVAL;
  let locked = len / ps + mm.lockedVm;
  const limit = Math.floor(mm.rlimits.memlock / ps);
  if (locked > limit) locked -= lockedPagesIn(mm, start, end);
  if (locked > limit) return -ENOMEM;
  if (end === start) return 0;
  const lockFlags = VM_LOCKED | (flags & MLOCK_ONFAULT ? VM_LOCKONFAULT : 0);
  const r = applyLock(k, mm, start, end, lockFlags);
  if (r < 0) return r;
  // __mm_populate's -EFAULT (a hugetlbfs page the empty pool cannot give) is mlock's ENOMEM.
  if (!(flags & MLOCK_ONFAULT) && !populateLocked(k, proc, mm, start, end)) return -ENOMEM;
  return proc.alive ? 0 : -ENOMEM;
}

/**
 * __mm_populate: fault the locked range in (a write fault in private writable mappings breaks COW).
 * @returns false when a hugetlbfs mapping was in it: the empty pool has no page to fault in.
 */
function populateLocked(k: Kernel, proc: Process, mm: Mm, start: number, end: number): boolean {
  let all = true;
  for (const v of [...mm.vmas]) {
    if (v.end <= start || v.start >= end) continue;
    if (v.flags & VM_HUGETLB) {
      // Never VM_LOCKED, but populated all the same: the empty pool has no page (-EFAULT).
      if (v.isAccessible()) all = false;
      continue;
    }
    if (!(v.flags & VM_LOCKED) || v.flags & VM_LOCKONFAULT) continue;
    if (!v.isAccessible()) continue;
    const prot = (v.flags & VM_WRITE && !(v.flags & VM_SHARED) ? PROT_WRITE : 0) | PROT_READ;
    populate(k, proc, Math.max(v.start, start), Math.min(v.end, end), prot);
  }
  return all;
}

export function sysMunlock(k: Kernel, proc: Process, startIn: number, lenIn: number): number {
  const mm = proc.mm!;
  const ps = k.pageSize;
  const start = startIn - (startIn % ps);
  const end = start + alignUp(lenIn + (startIn % ps), ps);
  if (end < start) return -EINVAL;
  if (end === start) return 0;
  return applyLock(k, mm, start, end, 0);
}

/** mlockall(2). @returns 0 or -errno. */
export function sysMlockall(k: Kernel, proc: Process, flags: number): number {
  const mm = proc.mm!;
  if (!flags || flags & ~(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) || flags === MCL_ONFAULT) return -EINVAL;
  const limit = Math.floor(mm.rlimits.memlock / k.pageSize);
  if (flags & MCL_CURRENT && mm.totalVm > limit) return -ENOMEM;
  const lockFlags = VM_LOCKED | (flags & MCL_ONFAULT ? VM_LOCKONFAULT : 0);
  mm.defFlags = flags & MCL_FUTURE ? lockFlags : 0;
  if (flags & MCL_CURRENT) {
    for (const v of [...mm.vmas]) {
      if (v.mm !== mm) continue;
      applyLock(k, mm, v.start, v.end, lockFlags);
    }
    if (!(flags & MCL_ONFAULT)) populateLocked(k, proc, mm, 0, mm.taskSize);
  }
  return proc.alive ? 0 : -EAGAIN;
}

export function sysMunlockall(k: Kernel, proc: Process): number {
  const mm = proc.mm!;
  mm.defFlags = 0;
  for (const v of [...mm.vmas]) if (v.mm === mm) applyLock(k, mm, v.start, v.end, 0);
  return 0;
}
