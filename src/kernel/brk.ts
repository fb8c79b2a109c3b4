/**
 * brk(2) with Linux's semantics: the raw syscall returns the new break on success and the old one on
 * failure; `sbrk` is the C library's wrapper over it.
 */
import { alignUp } from '../base/units.js';
import { ENOMEM } from './errno.js';
import type { Kernel } from './kernel.js';
import { enoughMemory, mayExpandVm, unmapRange, vmStartGap } from './mmap.js';
import type { Process } from './process.js';
import { permString, VM_ACCOUNT, VM_MAY_ALL, VM_READ, VM_WRITE, Vma } from './vma.js';

/** Flags of the brk VMA (VM_DATA_DEFAULT_FLAGS | VM_ACCOUNT). */
export const BRK_VMA_FLAGS = VM_READ | VM_WRITE | VM_MAY_ALL | VM_ACCOUNT;

/**
 * brk(addr). Fails (returning the current break) below start_brk, over RLIMIT_DATA, when the grown
 * heap would come within a page (plus the guard gap, for a stack) of the next mapping, or when memory
 * cannot be committed. Shrinking always succeeds.
 */
export function sysBrk(k: Kernel, proc: Process, brk: number): number {
  const mm = proc.mm!;
  const ps = k.pageSize;
  if (brk < mm.startBrk) return mm.brk;
  // check_data_rlimit: heap plus initialised data against RLIMIT_DATA.
  if (brk - mm.startBrk + (mm.endData - mm.startData) > mm.rlimits.data) return mm.brk;
  const newBrk = alignUp(brk, ps);
  const oldBrk = alignUp(mm.brk, ps);
  if (oldBrk === newBrk) {
    mm.brk = brk;
    return brk;
  }
  if (brk <= mm.brk) {
    const heap = mm.findVma(newBrk);
    if (!heap || heap.start >= oldBrk) return mm.brk;
    mm.brk = brk;
    unmapRange(k, proc, mm, newBrk, oldBrk);
    return brk;
  }
  if (newBrk > mm.taskSize) return mm.brk;
  // The expansion must leave a page (and a stack's guard gap) before the next mapping.
  const next = mm.findVma(oldBrk);
  if (next && newBrk + ps > vmStartGap(mm, next)) return mm.brk;
  const pages = (newBrk - oldBrk) / ps;
  if (!mayExpandVm(k, mm, BRK_VMA_FLAGS, pages) || !enoughMemory(k, mm, pages)) return mm.brk;
  // do_brk_flags: extend the heap VMA (one starting at or above start_brk and ending at the old
  // break), or create one. The VMA below start_brk (bss) is never extended.
  const i = mm.findIndex(oldBrk - 1);
  const heap = mm.vmas[i];
  if (
    heap &&
    heap.end === oldBrk &&
    heap.start >= mm.startBrk &&
    heap.flags === BRK_VMA_FLAGS &&
    heap.object === null
  ) {
    mm.resize(heap, heap.start, newBrk);
  } else {
    mm.insert(new Vma(oldBrk, newBrk, BRK_VMA_FLAGS, oldBrk / ps, null));
  }
  mm.brk = brk;
  if (k.sink)
    k.sink.push({
      type: 'vma-map',
      pid: proc.pid,
      start: oldBrk,
      end: newBrk,
      perms: permString(BRK_VMA_FLAGS),
      name: '[heap]',
    });
  return brk;
}

/**
 * sbrk(delta) as glibc implements it over brk. @returns the old break, or -ENOMEM (glibc's -1 with
 * errno ENOMEM) when the kernel refused.
 */
export function sysSbrk(k: Kernel, proc: Process, delta: number): number {
  const mm = proc.mm!;
  const old = mm.brk;
  if (delta === 0) return old;
  const want = old + delta;
  if (want < 0) return -ENOMEM;
  const got = sysBrk(k, proc, want);
  return got === want ? old : -ENOMEM;
}
