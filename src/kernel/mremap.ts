/**
 * mremap(2) with Linux's semantics (`mm/mremap.c`): shrink in place (the tail is unmapped), grow in
 * place when the pages after the VMA are free, or — with MREMAP_MAYMOVE — move to a new place
 * (get_unmapped_area: the highest gap that fits, which may be above the old place), MREMAP_FIXED to a
 * given one (unmapping what was there), MREMAP_DONTUNMAP leaving the old range mapped and empty.
 * A move carries the page-table entries, so pages keep their frames and their identity: the moved
 * VMA keeps its page offset (a never-faulted anonymous VMA takes the new address's instead, as Linux
 * does to help it merge).
 */
import { alignUp } from '../base/units.js';
import {
  EAGAIN,
  EFAULT,
  EINVAL,
  ENOMEM,
  MAP_FIXED,
  MAP_SHARED,
  MREMAP_DONTUNMAP,
  MREMAP_FIXED,
  MREMAP_MAYMOVE,
  PROT_READ,
} from './errno.js';
import type { Kernel } from './kernel.js';
import type { Mm } from './mm.js';
import {
  enoughMemory,
  getUnmappedArea,
  mayExpandVm,
  mergeAround,
  populate,
  splitVma,
  unmapRange,
} from './mmap.js';
import { vmaName } from './proc.js';
import type { Process } from './process.js';
import {
  canMerge,
  permString,
  VM_ACCOUNT,
  VM_DONTEXPAND,
  VM_LOCKED,
  VM_LOCKED_MASK,
  VM_LOCKONFAULT,
  VM_MAYSHARE,
  VM_PFNMAP,
  VM_SHARED,
  type Vma,
} from './vma.js';

export function sysMremap(
  k: Kernel,
  proc: Process,
  addr: number,
  oldLenIn: number,
  newLenIn: number,
  flags: number,
  newAddr: number,
): number {
  const mm = proc.mm!;
  const ps = k.pageSize;
  if (flags & ~(MREMAP_FIXED | MREMAP_MAYMOVE | MREMAP_DONTUNMAP)) return -EINVAL;
  if (flags & MREMAP_FIXED && !(flags & MREMAP_MAYMOVE)) return -EINVAL;
  if (flags & MREMAP_DONTUNMAP && (!(flags & MREMAP_MAYMOVE) || oldLenIn !== newLenIn)) return -EINVAL;
  if (addr % ps !== 0) return -EINVAL;
  let oldLen = alignUp(oldLenIn, ps);
  let newLen = alignUp(newLenIn, ps);
  if (newLen === 0) return -EINVAL;
  if (newLen > mm.taskSize || oldLen > mm.taskSize) return -EINVAL;
  const vma = mm.vmaAt(addr);
  if (vma === null) return -EFAULT;
  const huge = vma.object?.hugeBytes ?? 0;
  if (huge > 0) {
    // align_hugetlb: whole huge pages, both addresses on one, and never larger (the reservation
    // cannot be split).
    oldLen = alignUp(oldLen, huge);
    newLen = alignUp(newLen, huge);
    if (addr % huge !== 0 || newAddr % huge !== 0 || newLen > oldLen) return -EINVAL;
  }
  if (flags & (MREMAP_FIXED | MREMAP_DONTUNMAP))
    return mremapTo(k, proc, mm, addr, oldLen, newAddr, newLen, flags);
  // Always allow a shrinking remap: that just unmaps the tail.
  if (oldLen >= newLen) {
    if (oldLen === newLen) return addr;
    const r = unmapRange(k, proc, mm, addr + newLen, addr + oldLen);
    return r < 0 ? r : addr;
  }
  const checked = vmaToResize(k, mm, addr, oldLen, newLen, flags);
  if (typeof checked === 'number') return checked;
  const delta = newLen - oldLen;
  // old_len exactly to the end of the VMA: can it just grow?
  if (oldLen === checked.end - addr && expandable(mm, checked, delta)) {
    const pages = delta / ps;
    if (checked.flags & VM_ACCOUNT && !enoughMemory(k, mm, pages)) return -ENOMEM;
    mm.resize(checked, checked.start, checked.end + delta);
    const grown = mergeNext(k, mm, checked);
    if (k.sink)
      k.sink.push({
        type: 'vma-map',
        pid: proc.pid,
        start: addr + oldLen,
        end: addr + newLen,
        perms: permString(grown.flags),
        name: vmaName(mm, grown),
      });
    if ((grown.flags & (VM_LOCKED | VM_LOCKONFAULT)) === VM_LOCKED)
      populate(k, proc, addr + oldLen, addr + newLen, PROT_READ);
    return addr;
  }
  if (!(flags & MREMAP_MAYMOVE)) return -ENOMEM;
  const mapFlags = checked.flags & VM_MAYSHARE ? MAP_SHARED : 0;
  const to = getUnmappedArea(k, mm, 0, newLen, mapFlags, checked.object, checked.linearIndex(addr, ps));
  if (to < 0) return to;
  return moveVma(k, proc, mm, checked, addr, oldLen, newLen, to, flags);
}

/** The VMA to resize, or -errno (Linux `vma_to_resize`). */
function vmaToResize(
  k: Kernel,
  mm: Mm,
  addr: number,
  oldLen: number,
  newLen: number,
  flags: number,
): Vma | number {
  const vma = mm.vmaAt(addr);
  if (vma === null) return -EFAULT;
  // A zero old_len duplicates a shared mapping; a private one cannot be.
  if (oldLen === 0 && !(vma.flags & (VM_SHARED | VM_MAYSHARE))) return -EINVAL;
  if (flags & MREMAP_DONTUNMAP && vma.flags & (VM_DONTEXPAND | VM_PFNMAP)) return -EINVAL;
  if (oldLen > vma.end - addr) return -EFAULT;
  if (newLen === oldLen) return vma;
  if (vma.flags & (VM_DONTEXPAND | VM_PFNMAP)) return -EFAULT;
  const growPages = (newLen - oldLen) / k.pageSize;
  if (vma.flags & VM_LOCKED && (mm.lockedVm + growPages) * k.pageSize > mm.rlimits.memlock) return -EAGAIN;
  if (!mayExpandVm(k, mm, vma.flags, growPages)) return -ENOMEM;
  return vma;
}

/** vma_expandable: nothing is mapped in the `delta` bytes after the VMA, and they are user space. */
function expandable(mm: Mm, vma: Vma, delta: number): boolean {
  const end = vma.end + delta;
  if (end > mm.taskSize) return false;
  const next = mm.next(vma);
  return next === null || next.start >= end;
}

/** After growing in place, the VMA may now touch a compatible neighbour (vma_merge_extend). */
function mergeNext(k: Kernel, mm: Mm, vma: Vma): Vma {
  const next = mm.next(vma);
  return next && canMerge(vma, next, k.pageSize) ? mergeAround(k, mm, vma) : vma;
}

/** mremap_to: MREMAP_FIXED and/or MREMAP_DONTUNMAP. */
function mremapTo(
  k: Kernel,
  proc: Process,
  mm: Mm,
  addr: number,
  oldLen: number,
  newAddr: number,
  newLen: number,
  flags: number,
): number {
  const ps = k.pageSize;
  if (newAddr % ps !== 0) return -EINVAL;
  if (newLen > mm.taskSize || newAddr > mm.taskSize - newLen) return -EINVAL;
  // The old and new ranges must not overlap.
  if (addr + oldLen > newAddr && newAddr + newLen > addr) return -EINVAL;
  // Room for the worst case: both ranges split in three.
  if (mm.vmas.length + 2 >= k.maxMapCount - 3) return -ENOMEM;
  if (flags & MREMAP_FIXED) {
    const r = unmapRange(k, proc, mm, newAddr, newAddr + newLen);
    if (r < 0) return r;
  }
  if (oldLen > newLen) {
    const r = unmapRange(k, proc, mm, addr + newLen, addr + oldLen);
    if (r < 0) return r;
    oldLen = newLen;
  }
  const vma = vmaToResize(k, mm, addr, oldLen, newLen, flags);
  if (typeof vma === 'number') return vma;
  if (flags & MREMAP_DONTUNMAP && !mayExpandVm(k, mm, vma.flags, oldLen / ps)) return -ENOMEM;
  let mapFlags = flags & MREMAP_FIXED ? MAP_FIXED : 0;
  if (vma.flags & VM_MAYSHARE) mapFlags |= MAP_SHARED;
  const got = getUnmappedArea(k, mm, newAddr, newLen, mapFlags, vma.object, vma.linearIndex(addr, ps));
  if (got < 0) return got;
  const to = flags & MREMAP_FIXED ? newAddr : got;
  return moveVma(k, proc, mm, vma, addr, oldLen, newLen, to, flags);
}

/**
 * move_vma: a new VMA at `to` with the old one's attributes, the page-table entries of
 * [addr, addr + oldLen) carried over, the old range unmapped (or, with DONTUNMAP, left mapped empty).
 */
function moveVma(
  k: Kernel,
  proc: Process,
  mm: Mm,
  vma: Vma,
  addr: number,
  oldLen: number,
  newLen: number,
  to: number,
  flags: number,
): number {
  const ps = k.pageSize;
  if (mm.vmas.length >= k.maxMapCount - 3) return -ENOMEM;
  if (vma.special !== null) return -EINVAL;
  const grow = Math.max(0, newLen - oldLen) / ps;
  if (vma.flags & VM_ACCOUNT && !enoughMemory(k, mm, grow)) return -ENOMEM;
  // Isolate [addr, addr + oldLen) as one VMA of its own.
  let src = vma;
  if (addr > src.start) {
    const upper = splitVma(k, mm, src, addr, { checkCount: false });
    if (typeof upper === 'number') return upper;
    src = upper;
  }
  if (addr + oldLen < src.end) {
    const r = splitVma(k, mm, src, addr + oldLen, { checkCount: false });
    if (typeof r === 'number') return r;
  }
  const moved = src.clone();
  moved.start = to;
  moved.end = to + newLen;
  if (src.isAnonymous() && src.anonVma === null) moved.pgoff = to / ps;
  mm.insert(moved);
  if (!movePageTables(k, mm, addr, to, oldLen)) {
    // No memory for the new place's tables: the move is undone (the splits stay, as on Linux).
    mm.remove(moved);
    k.releaseVmaObject(moved);
    return -ENOMEM;
  }
  if (flags & MREMAP_DONTUNMAP) {
    // The old range stays, empty; its new pages will be a new anon_vma's.
    mm.setFlags(src, src.flags & ~VM_LOCKED_MASK);
    for (const av of src.anonChain) av.vmas.delete(src);
    src.anonChain = [];
    src.anonVma = null;
  } else {
    // The commit moves with the pages: the new VMA counted newLen, the old range's oldLen goes.
    unmapRange(k, proc, mm, addr, addr + oldLen);
  }
  const merged = mergeAround(k, mm, moved);
  if (k.sink)
    k.sink.push({
      type: 'vma-map',
      pid: proc.pid,
      start: to,
      end: to + newLen,
      perms: permString(merged.flags),
      name: vmaName(mm, merged),
    });
  return to;
}

/**
 * move_page_tables: the entries of [from, from + len) go to [to, to + len), frames and counts
 * unchanged. The destination's tables are built first, while every page is still mapped where the
 * reverse map looks for it (building them may reclaim); only then do the entries move.
 * @returns false when a table could not be built (nothing has moved).
 */
function movePageTables(k: Kernel, mm: Mm, from: number, to: number, len: number): boolean {
  const ps = k.pageSize;
  const mmu = k.machine.mmu;
  const vpns: number[] = [];
  k.pageTables.forEachLeaf(mm, from / ps, (from + len) / ps, (vpn) => vpns.push(vpn));
  const shift = to / ps - from / ps;
  for (const vpn of vpns)
    if (k.pageTables.leafEntry(mm, mm.pid, vpn + shift, { allocate: true }) < 0) return false;
  for (const vpn of vpns) {
    const src = k.pageTables.leafEntry(mm, mm.pid, vpn, { allocate: false });
    const lo = mmu.readLo(src);
    const hi = mmu.readHi(src);
    mmu.writeEntry(src, 0, 0);
    mmu.writeEntry(k.pageTables.leafEntry(mm, mm.pid, vpn + shift, { allocate: false }), lo, hi);
  }
  k.asids.flushRange(mm, from / ps, (from + len) / ps);
  return true;
}
