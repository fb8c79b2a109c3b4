/**
 * mmap, munmap and mprotect with Linux's semantics and -errno results, and the VMA surgery they share:
 * split at a page boundary, merge compatible neighbours, place a new mapping (top-down from
 * mmap_base, falling back to bottom-up), and free the page tables a removed range leaves unused.
 */
import { invariant } from '../base/errors.js';
import { alignUp } from '../base/units.js';
import {
  EACCES,
  EAGAIN,
  EBADF,
  EEXIST,
  EINVAL,
  ENOMEM,
  EPERM,
  MAP_32BIT,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_FIXED_NOREPLACE,
  MAP_GROWSDOWN,
  MAP_HUGE_SHIFT,
  MAP_HUGETLB,
  MAP_LOCKED,
  MAP_NORESERVE,
  MAP_POPULATE,
  MAP_PRIVATE,
  MAP_SHARED,
  MAP_STACK,
  PROT_EXEC,
  PROT_READ,
  PROT_WRITE,
} from './errno.js';
import type { Kernel } from './kernel.js';
import { taskUnmappedBase } from './layout.js';
import { MemObject } from './memobject.js';
import type { Mm } from './mm.js';
import { vmaName } from './proc.js';
import type { Process } from './process.js';
import {
  canMerge,
  permString,
  protToVmFlags,
  VM_ACCESS_FLAGS,
  VM_ACCOUNT,
  VM_DONTEXPAND,
  VM_GROWSDOWN,
  VM_HUGETLB,
  VM_LOCKED,
  VM_LOCKONFAULT,
  VM_MAY_ALL,
  VM_MAYSHARE,
  VM_MAYWRITE,
  VM_NOHUGEPAGE,
  VM_NORESERVE,
  VM_SHARED,
  VM_SPECIAL,
  VM_STACK,
  VM_WRITE,
  Vma,
} from './vma.js';

// ---------------------------------------------------------------- placement

/** vm_start_gap: a stack below which nothing may be placed within the guard gap. */
export function vmStartGap(mm: Mm, vma: Vma): number {
  if ((vma.flags & VM_GROWSDOWN) === 0) return vma.start;
  return Math.max(0, vma.start - mm.layout.stackGuardGap);
}

/**
 * The highest hole in [low, high) of at least `len` bytes, honouring stack guard gaps (Linux
 * `unmapped_area_topdown`). @returns its start, or -ENOMEM.
 */
function unmappedAreaTopdown(mm: Mm, len: number, low: number, high: number): number {
  for (let i = mm.vmas.length; i >= 0; i--) {
    const next = mm.vmas[i];
    const prev = mm.vmas[i - 1];
    const gapEnd = Math.min(next ? vmStartGap(mm, next) : mm.taskSize, high);
    const gapStart = Math.max(prev ? prev.end : 0, low);
    if (gapEnd - gapStart >= len) return gapEnd - len;
    if (prev && prev.end <= low) break;
  }
  return -ENOMEM;
}

/** The lowest hole in [low, high) of at least `len` bytes (Linux `unmapped_area`). */
function unmappedAreaBottomup(mm: Mm, len: number, low: number, high: number): number {
  for (let i = 0; i <= mm.vmas.length; i++) {
    const next = mm.vmas[i];
    const prev = mm.vmas[i - 1];
    const gapStart = Math.max(prev ? prev.end : 0, low);
    const gapEnd = Math.min(next ? vmStartGap(mm, next) : mm.taskSize, high);
    if (gapEnd - gapStart >= len) return gapStart;
  }
  return -ENOMEM;
}

/** arch_get_unmapped_area_topdown: top-down below mmap_base, then bottom-up from TASK_UNMAPPED_BASE. */
function searchTopdown(k: Kernel, mm: Mm, len: number): number {
  const low = Math.max(k.pageSize, mm.layout.mmapMinAddr);
  const addr = unmappedAreaTopdown(mm, len, low, mm.mmapBase);
  if (addr >= 0) return addr;
  return unmappedAreaBottomup(mm, len, taskUnmappedBase(mm.layout, k.pageSize), mm.taskSize);
}

/**
 * get_unmapped_area: MAP_FIXED takes `addr` as is; a hint is honoured when the hole is free; large
 * private anonymous requests (a multiple of the PMD size) are THP-aligned, and so are file mappings
 * whose file range covers a whole aligned PMD (`thp_get_unmapped_area`, as ext4 files get).
 * `file` and `pgoff` describe a file mapping (null for anonymous memory).
 * @returns the address, or -errno.
 */
export function getUnmappedArea(
  k: Kernel,
  mm: Mm,
  addr: number,
  len: number,
  flags: number,
  file: MemObject | null = null,
  pgoff = 0,
): number {
  const ps = k.pageSize;
  if (len > mm.taskSize) return -ENOMEM;
  const huge = file?.hugeBytes ?? 0;
  if (huge > 0) {
    // hugetlb_get_unmapped_area: whole huge pages, a MAP_FIXED address on one, a hint rounded up.
    if (len % huge !== 0 || (flags & MAP_FIXED && addr % huge !== 0)) return -EINVAL;
    if (!(flags & MAP_FIXED) && addr !== 0) addr = alignUp(addr, huge);
  }
  if (flags & MAP_FIXED) {
    if (addr % ps !== 0) return -EINVAL;
    if (len > mm.taskSize - addr) return -ENOMEM;
    // security_mmap_addr (cap_mmap_addr): an unprivileged process may not map below vm.mmap_min_addr.
    if (addr < mm.layout.dacMmapMinAddr) return -EPERM;
    return addr;
  }
  const area32 = flags & MAP_32BIT ? mm.layout.map32bit : null;
  if (area32 !== null) return map32bitArea(k, mm, addr, len, file, area32);
  if (addr !== 0) {
    addr = alignUp(addr, ps);
    const i = mm.findIndex(addr);
    const next = mm.vmas[i];
    const prev = i > 0 ? mm.vmas[i - 1] : undefined;
    if (
      mm.taskSize - len >= addr &&
      addr >= mm.layout.mmapMinAddr &&
      (!next || addr + len <= vmStartGap(mm, next)) &&
      (!prev || addr >= prev.end)
    ) {
      return addr;
    }
  }
  if (huge > 0) return hugetlbArea(k, mm, len, huge);
  const thp = mm.layout.thpAlign;
  if (thp > 0 && file === null && addr === 0 && (flags & MAP_SHARED) === 0 && len % thp === 0) {
    const aligned = thpArea(k, mm, len, 0, thp);
    if (aligned >= 0) return aligned;
  }
  if (thp > 0 && file !== null && file.kind === 'file') {
    // __thp_get_unmapped_area: only when the mapping covers a whole PMD-aligned stretch of the file.
    const off = pgoff * ps;
    const offAlign = alignUp(off, thp);
    if (off + len > offAlign && off + len - offAlign >= thp) {
      const aligned = thpArea(k, mm, len, off, thp);
      if (aligned >= 0) return aligned;
    }
  }
  return searchTopdown(k, mm, len);
}

/**
 * vm_unmapped_area with a hugetlbfs file's align_mask (huge - page): a gap of `len` plus the mask,
 * top-down below mmap_base (the highest aligned start in it), else bottom-up (the lowest).
 */
function hugetlbArea(k: Kernel, mm: Mm, len: number, huge: number): number {
  const mask = huge - k.pageSize;
  const low = Math.max(k.pageSize, mm.layout.mmapMinAddr);
  const top = unmappedAreaTopdown(mm, len + mask, low, mm.mmapBase);
  if (top >= 0) return Math.floor((top + mask) / huge) * huge;
  const bottom = unmappedAreaBottomup(mm, len + mask, taskUnmappedBase(mm.layout, k.pageSize), mm.taskSize);
  return bottom < 0 ? bottom : alignUp(bottom, huge);
}

/**
 * MAP_32BIT on x86-64 (`arch_get_unmapped_area_topdown` sends it to the legacy `arch_get_unmapped_area`):
 * a hint is honoured when it fits below 2 GiB, else the lowest hole in [1 GiB, 2 GiB), THP-aligned
 * for a large anonymous request as any other.
 */
function map32bitArea(
  k: Kernel,
  mm: Mm,
  addr: number,
  len: number,
  file: MemObject | null,
  [low, high]: readonly [number, number],
): number {
  if (len > high) return -ENOMEM;
  if (addr !== 0) {
    addr = alignUp(addr, k.pageSize);
    const next = mm.vmas[mm.findIndex(addr)];
    if (high - len >= addr && (!next || addr + len <= vmStartGap(mm, next))) return addr;
    return unmappedAreaBottomup(mm, len, low, high);
  }
  const search = (n: number): number => unmappedAreaBottomup(mm, n, low, high);
  const thp = mm.layout.thpAlign;
  if (thp > 0 && file === null && len % thp === 0) {
    const aligned = thpArea(k, mm, len, 0, thp, search);
    if (aligned >= 0) return aligned;
  }
  return search(len);
}

/** A PMD-aligned placement (relative to file offset `off`): search with a padded length, then align. */
function thpArea(
  k: Kernel,
  mm: Mm,
  len: number,
  off: number,
  thp: number,
  search = (n: number): number => searchTopdown(k, mm, n),
): number {
  const padded = search(len + thp);
  if (padded < 0) return padded;
  const sub = (((off - padded) % thp) + thp) % thp;
  return sub === 0 ? padded + thp : padded + sub;
}

// ---------------------------------------------------------------- VMA surgery

/**
 * Splits `vma` at `at` (page-aligned, strictly inside). @returns the upper part, now in the list, or
 * -errno: special mappings refuse (EINVAL); with `checkCount` (Linux `split_vma`, as mprotect and madvise
 * split) the map count limit gives ENOMEM — munmap's splits (`__split_vma`) may exceed it for a moment.
 */
export function splitVma(
  k: Kernel,
  mm: Mm,
  vma: Vma,
  at: number,
  opts: { checkCount: boolean } = { checkCount: true },
): Vma | number {
  invariant(at > vma.start && at < vma.end && at % k.pageSize === 0, 'splitVma: bad split point');
  if (refusesSplit(vma, at)) return -EINVAL;
  if (opts.checkCount && mm.vmas.length >= k.maxMapCount) return -ENOMEM;
  const upper = vma.clone();
  upper.start = at;
  upper.pgoff = vma.pgoff + (at - vma.start) / k.pageSize;
  mm.resize(vma, vma.start, at);
  mm.insert(upper);
  return upper;
}

/**
 * A split Linux refuses: special mappings anywhere, a hugetlbfs mapping off a huge page boundary
 * (`hugetlb_vm_op_split`).
 */
export function refusesSplit(vma: Vma, at: number): boolean {
  const huge = vma.object?.hugeBytes ?? 0;
  // (VM_SPECIAL alone does not refuse on Linux: hugetlbfs mappings are VM_DONTEXPAND and split.)
  if (vma.special !== null || ((vma.flags & VM_SPECIAL) !== 0 && huge === 0)) return true;
  return huge > 0 && at % huge !== 0;
}

/** Merges `vma` with its neighbours where Linux would. @returns the VMA that now covers it. */
export function mergeAround(k: Kernel, mm: Mm, vma: Vma): Vma {
  let cur = vma;
  const prev = mm.prev(cur);
  if (prev && canMerge(prev, cur, k.pageSize)) {
    absorb(k, mm, prev, cur);
    cur = prev;
  }
  const next = mm.next(cur);
  if (next && canMerge(cur, next, k.pageSize)) absorb(k, mm, cur, next);
  return cur;
}

/** Folds `b` (just above) into `a`; `a` adopts `b`'s anon_vma when it has none. */
function absorb(k: Kernel, mm: Mm, a: Vma, b: Vma): void {
  const end = b.end;
  if (a.anonVma === null && b.anonVma !== null) {
    a.anonVma = b.anonVma;
    a.anonChain = [...b.anonChain];
    for (const av of a.anonChain) av.vmas.add(a);
  }
  mm.remove(b);
  k.releaseVmaObject(b);
  mm.resize(a, a.start, end);
}

/**
 * Removes [start, end) from the address space: splits the VMAs at the edges, zaps their pages and
 * frees the page tables the hole leaves unused (Linux `do_vmi_align_munmap`). @returns 0 or -errno;
 * on error nothing has changed.
 *
 * The only error is Linux's: a hole in the middle of one VMA when the map count is at its limit
 * (-ENOMEM), checked before anything is split. Other splits may take the count one over the limit
 * for a moment; removing the range brings it back (munmap never leaves more VMAs than it found, but
 * for that middle case).
 */
export function unmapRange(k: Kernel, proc: Process, mm: Mm, start: number, end: number): number {
  let i = mm.findIndex(start);
  let first = mm.vmas[i];
  if (!first || first.start >= end) return 0;
  if (first.start < start && first.end > end && mm.vmas.length >= k.maxMapCount) return -ENOMEM;
  // Special and hugetlbfs mappings refuse some splits: find out before splitting anything.
  const lastIndex = mm.findIndex(end - 1);
  const last = mm.vmas[lastIndex];
  const splitsLast = last !== undefined && last.start < end && last.end > end;
  if ((first.start < start && refusesSplit(first, start)) || (splitsLast && refusesSplit(last!, end)))
    return -EINVAL;
  if (first.start < start) {
    const upper = splitVma(k, mm, first, start, { checkCount: false });
    invariant(typeof upper !== 'number', 'unmapRange: a checked split failed');
    first = upper;
    i++;
  }
  const doomed: Vma[] = [];
  for (let j = i; j < mm.vmas.length && mm.vmas[j]!.start < end; j++) doomed.push(mm.vmas[j]!);
  const lastVma = doomed[doomed.length - 1]!;
  if (lastVma.end > end) {
    const upper = splitVma(k, mm, lastVma, end, { checkCount: false });
    invariant(typeof upper !== 'number', 'unmapRange: a checked split failed');
  }
  for (const vma of doomed) {
    k.vm.zapRange(mm, vma.start, vma.end);
    mm.remove(vma);
    k.releaseVmaObject(vma);
    if (k.sink) k.sink.push({ type: 'vma-unmap', pid: proc.pid, start: vma.start, end: vma.end });
  }
  const after = mm.findIndex(start);
  const gapStart = after > 0 ? mm.vmas[after - 1]!.end : 0;
  const gapEnd = mm.vmas[after]?.start ?? mm.taskSize;
  k.pageTables.freeTablesInGap(
    mm,
    proc.pid,
    Math.ceil(gapStart / k.pageSize),
    Math.floor(gapEnd / k.pageSize),
  );
  return 0;
}

// ---------------------------------------------------------------- syscalls

/** Whether a mapping with these flags is charged to the commit limit (Linux `accountable_mapping`). */
function accountable(vmFlags: number): boolean {
  return (vmFlags & (VM_NORESERVE | VM_SHARED | VM_WRITE)) === VM_WRITE;
}

/** may_expand_vm: RLIMIT_AS on the total, RLIMIT_DATA on data pages. */
export function mayExpandVm(k: Kernel, mm: Mm, vmFlags: number, pages: number): boolean {
  if ((mm.totalVm + pages) * k.pageSize > mm.rlimits.as) return false;
  const isData = (vmFlags & (VM_WRITE | VM_SHARED | VM_STACK)) === VM_WRITE;
  if (isData && (mm.dataVm + pages) * k.pageSize > mm.rlimits.data) return false;
  return true;
}

/** security_vm_enough_memory_mm: may `mm` commit `pages` more (commit.ts, per overcommit mode)? */
export function enoughMemory(k: Kernel, mm: Mm, pages: number): boolean {
  return k.commit.vmEnoughMemory(pages, mm.totalVm);
}

export interface MmapRequest {
  readonly addr: number;
  readonly len: number;
  readonly prot: number;
  readonly flags: number;
  /** The file to map (without MAP_ANONYMOUS); null or absent for anonymous memory. */
  readonly file?: MemObject | null;
  /** Offset into the file in bytes, page-aligned. */
  readonly offset?: number;
}

/**
 * mmap(2) of anonymous memory or of a file. @returns the mapping's address, or -errno:
 * EINVAL (length 0, neither/both of MAP_SHARED and MAP_PRIVATE, unaligned MAP_FIXED address or file
 * offset, bad prot), EBADF (a file mapping without a file), EACCES (a shared writable mapping of a
 * read-only file), ENOMEM (no room, limits), EEXIST (MAP_FIXED_NOREPLACE overlap), EPERM (a MAP_FIXED
 * address below vm.mmap_min_addr).
 */
export function sysMmap(k: Kernel, proc: Process, req: MmapRequest): number {
  const mm = proc.mm!;
  const ps = k.pageSize;
  let { addr, flags } = req;
  const { prot } = req;
  const type = flags & (MAP_SHARED | MAP_PRIVATE);
  if (type === 0 || type === (MAP_SHARED | MAP_PRIVATE)) return -EINVAL;
  if ((prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC)) !== 0) return -EINVAL;
  const anyFile = flags & MAP_ANONYMOUS ? null : (req.file ?? null);
  if (!(flags & MAP_ANONYMOUS) && anyFile === null) return -EBADF;
  const offset = anyFile === null ? 0 : (req.offset ?? 0);
  if (offset % ps !== 0 || offset < 0) return -EINVAL;
  let file: MemObject | null = anyFile;
  if (flags & MAP_HUGETLB && anyFile === null) {
    // ksys_mmap_pgoff: an anonymous MAP_HUGETLB maps a new unlinked hugetlbfs file of whole huge
    // pages (hugetlb_file_setup), of the size bits 26-31 name (EINVAL for one the machine lacks).
    const huge = hugePageBytes(mm, Math.floor(flags / 2 ** MAP_HUGE_SHIFT) & 0x3f);
    if (huge === 0 || req.len === 0) return -EINVAL;
    const size = alignUp(req.len, huge);
    // Registered once the mapping is made (below).
    file = new MemObject(
      'shmem',
      '/anon_hugepage (deleted)',
      null,
      size,
      hugetlbfsDevice(huge),
      k.fs.newInode(),
      ps,
    );
    file.hugeBytes = huge;
    file.writable = true;
    file.linked = false;
    flags &= ~MAP_ANONYMOUS;
  } else if (flags & MAP_HUGETLB && anyFile !== null && anyFile.hugeBytes === 0) return -EINVAL;
  if (req.len === 0) return -EINVAL;
  const len = alignUp(req.len, file?.hugeBytes || ps);
  if (len > mm.taskSize) return -ENOMEM;
  if (flags & MAP_FIXED_NOREPLACE) flags |= MAP_FIXED;
  if (!(flags & MAP_FIXED) && addr !== 0) {
    addr -= addr % ps;
    if (addr < mm.layout.mmapMinAddr) addr = alignUp(mm.layout.mmapMinAddr, ps);
  }
  // do_mmap: "too many mappings?" (the count may reach the limit plus one).
  if (mm.vmas.length > k.maxMapCount) return -ENOMEM;
  addr = getUnmappedArea(k, mm, addr, len, flags, file, offset / ps);
  if (addr < 0) return addr;
  const end = addr + len;
  const overlapping = mm.findVma(addr);
  const overlaps = overlapping !== null && overlapping.start < end;
  if (overlaps && flags & MAP_FIXED_NOREPLACE) return -EEXIST;

  const shared = (flags & MAP_SHARED) !== 0;
  let vmFlags = protToVmFlags(prot) | VM_MAY_ALL | (shared ? VM_SHARED | VM_MAYSHARE : 0);
  if (file !== null && shared && !file.writable) {
    // A shared mapping of a file opened read-only: never writable, and not really shared.
    if (prot & PROT_WRITE) return -EACCES;
    vmFlags &= ~(VM_MAYWRITE | VM_SHARED);
  }
  if (flags & MAP_GROWSDOWN) vmFlags |= VM_GROWSDOWN;
  const hugetlb = file !== null && file.hugeBytes > 0;
  if (hugetlb) {
    // hugetlbfs_file_mmap: a file offset on a huge page, then hugetlb_reserve_pages finds the pool empty (vm.nr_hugepages 0, Linux's
    // default) unless MAP_NORESERVE reserves nothing; such memory is never charged to the commit
    // limit (accountable_mapping), and its pages fault in as SIGBUS.
    if (offset % file!.hugeBytes !== 0) return -EINVAL;
    // A System V segment's file (S_PRIVATE) reserved at shmget: its attaches reserve nothing more.
    if (!(flags & MAP_NORESERVE) && !file!.hugeNoReserve) return -ENOMEM;
    vmFlags |= VM_HUGETLB | VM_DONTEXPAND | (flags & MAP_NORESERVE ? VM_NORESERVE : 0);
  }
  // MAP_NORESERVE is honoured only where overcommit is allowed.
  else if (flags & MAP_NORESERVE && k.commit.mode !== 2) vmFlags |= VM_NORESERVE;
  if (flags & MAP_STACK) vmFlags |= VM_NOHUGEPAGE;
  if (flags & MAP_LOCKED) vmFlags |= VM_LOCKED;
  vmFlags |= mm.defFlags;
  const pages = len / ps;
  // Pages an overlapped MAP_FIXED region gives back count against the limits too.
  let replaced = 0;
  if (overlaps)
    for (const v of mm.vmas) replaced += Math.max(0, Math.min(v.end, end) - Math.max(v.start, addr)) / ps;
  if (!mayExpandVm(k, mm, vmFlags, pages - replaced)) return -ENOMEM;
  if (vmFlags & VM_LOCKED && (mm.lockedVm + pages) * ps > mm.rlimits.memlock) return -EAGAIN;
  const shmem = file === null && shared;
  if (accountable(vmFlags) || (shmem && !(vmFlags & VM_NORESERVE))) {
    // Private writable memory is charged through its VMA; shmem through its object (shmem_acct_size).
    if (!enoughMemory(k, mm, pages)) return -ENOMEM;
    if (!shmem) vmFlags |= VM_ACCOUNT;
  }
  if (overlaps) {
    const r = unmapRange(k, proc, mm, addr, end);
    if (r < 0) return r;
  }
  let object = file;
  if (hugetlb) object = k.pageCache.register(file!);
  if (shmem) {
    object = k.pageCache.register(
      new MemObject('shmem', '/dev/zero (deleted)', null, len, '00:01', k.fs.newInode(), ps),
    );
    if (!(vmFlags & VM_NORESERVE)) {
      object.committedPages = pages;
      k.commit.add(pages);
    }
  }
  const pgoff = file !== null ? offset / ps : shared ? 0 : addr / ps;
  const vma = new Vma(addr, end, vmFlags, pgoff, object);
  if (vma.object) k.holdObject(vma.object);
  mm.insert(vma);
  const merged = mergeAround(k, mm, vma);
  if (k.sink)
    k.sink.push({
      type: 'vma-map',
      pid: proc.pid,
      start: addr,
      end,
      perms: permString(vmFlags),
      name: vmaName(mm, merged),
    });
  const lockNow = (vmFlags & (VM_LOCKED | VM_LOCKONFAULT)) === VM_LOCKED;
  // (GUP on hugetlb with an empty pool fails quietly: nothing to fault in.)
  if ((flags & MAP_POPULATE || lockNow) && !hugetlb)
    populate(k, proc, addr, end, prot & PROT_WRITE && !shared ? prot : prot & ~PROT_WRITE);
  return addr;
}

/** The device of the internal hugetlbfs mount of a huge page size, as the recorded machine numbers them. */
export function hugetlbfsDevice(huge: number): string {
  return huge >= 2 ** 30 ? '00:12' : '00:11';
}

/** The huge page size in bytes that mmap's or shmget's size bits name (0: the default), or 0 if none. */
export function hugePageBytes(mm: Mm, shift: number): number {
  const shifts = mm.layout.hugePageShifts;
  const want = shift === 0 ? shifts[0] : shift;
  return want !== undefined && shifts.includes(want) ? 2 ** want : 0;
}

/** MAP_POPULATE, mlock: fault every page in now (a write fault where writable and private). */
export function populate(k: Kernel, proc: Process, start: number, end: number, prot: number): void {
  if (!(prot & (PROT_READ | PROT_WRITE))) return;
  const access = prot & PROT_WRITE ? 1 : 0;
  for (let va = start; va < end && proc.alive; va += k.pageSize) k.access(proc, va, access);
}

/** munmap(2). @returns 0 or -EINVAL (unaligned address, length 0, range outside user space). */
export function sysMunmap(k: Kernel, proc: Process, addr: number, len: number): number {
  const mm = proc.mm!;
  const ps = k.pageSize;
  if (addr % ps !== 0 || addr > mm.taskSize || len > mm.taskSize - addr) return -EINVAL;
  const alen = alignUp(len, ps);
  if (alen === 0) return -EINVAL;
  return unmapRange(k, proc, mm, addr, addr + alen);
}

/**
 * mprotect(2). @returns 0 or -errno: EINVAL (unaligned start, unknown prot bits), ENOMEM (a hole in
 * the range; VMAs before the hole keep their new protection, as on Linux), EACCES (a right the mapping
 * may never have, e.g. PROT_WRITE on a shared read-only file mapping).
 */
export function sysMprotect(k: Kernel, proc: Process, start: number, len: number, prot: number): number {
  const mm = proc.mm!;
  const ps = k.pageSize;
  if (start % ps !== 0) return -EINVAL;
  if ((prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC)) !== 0) return -EINVAL;
  if (len === 0) return 0;
  const end = start + alignUp(len, ps);
  if (end <= start) return -ENOMEM;
  let vma = mm.findVma(start);
  if (vma === null || vma.start > start) return -ENOMEM;
  let nstart = start;
  for (;;) {
    let newFlags = (vma.flags & ~VM_ACCESS_FLAGS) | protToVmFlags(prot);
    // A right the VMA's VM_MAY* bits never allowed.
    if ((newFlags & ~(vma.flags >> 4) & VM_ACCESS_FLAGS) !== 0) return -EACCES;
    const tmpEnd = Math.min(vma.end, end);
    const pages = (tmpEnd - nstart) / ps;
    if (newFlags & VM_WRITE) {
      // mprotect_fixup: memory turning into data is checked against the limits, and charged.
      if (!mayExpandVm(k, mm, newFlags, pages) && mayExpandVm(k, mm, vma.flags, pages)) return -ENOMEM;
      if (!(vma.flags & (VM_ACCOUNT | VM_WRITE | VM_SHARED | VM_NORESERVE))) {
        if (!enoughMemory(k, mm, pages)) return -ENOMEM;
        newFlags |= VM_ACCOUNT;
      }
    } else if (vma.flags & VM_ACCOUNT && vma.isAnonymous() && vma.anonVma === null) {
      // Anonymous memory with no page yet stops being charged when it can no longer be written, so
      // it may merge with a neighbour that never was (Linux mprotect_fixup).
      newFlags &= ~VM_ACCOUNT;
    }
    const r = mprotectFixup(k, proc, mm, vma, nstart, tmpEnd, newFlags);
    if (r < 0) return r;
    nstart = tmpEnd;
    if (nstart >= end) return 0;
    // The VMA just changed may have merged with the next one: then it already covers nstart.
    const next = mm.findVma(nstart);
    if (next === null || next.start > nstart) return -ENOMEM;
    vma = next;
  }
}

/**
 * Gives [start, end) of `vma` the flags `newFlags` (Linux `vma_modify_flags`): split, set, rewrite the
 * entries when the access rights changed, merge. @returns the VMA now covering the range, or -errno
 * (a split refused: special mappings, or the map count limit).
 */
export function vmaModifyFlags(
  k: Kernel,
  mm: Mm,
  vma: Vma,
  start: number,
  end: number,
  newFlags: number,
): Vma | number {
  if (newFlags === vma.flags) return vma;
  let target = vma;
  // As on Linux, a second split that fails leaves the first one made (two VMAs that could merge).
  if (start > target.start) {
    const upper = splitVma(k, mm, target, start);
    if (typeof upper === 'number') return upper;
    target = upper;
  }
  if (end < target.end) {
    const r = splitVma(k, mm, target, end);
    if (typeof r === 'number') return r;
  }
  const rightsChanged = ((target.flags ^ newFlags) & VM_ACCESS_FLAGS) !== 0;
  mm.setFlags(target, newFlags);
  if (rightsChanged) k.vm.changeProtection(mm, target);
  return mergeAround(k, mm, target);
}

/** mprotect's step over one VMA. */
function mprotectFixup(
  k: Kernel,
  proc: Process,
  mm: Mm,
  vma: Vma,
  start: number,
  end: number,
  newFlags: number,
): number {
  const oldFlags = vma.flags;
  const merged = vmaModifyFlags(k, mm, vma, start, end, newFlags);
  if (typeof merged === 'number') return merged;
  if (k.sink && newFlags !== oldFlags)
    k.sink.push({ type: 'vma-protect', pid: proc.pid, start, end, perms: permString(merged.flags) });
  return 0;
}
