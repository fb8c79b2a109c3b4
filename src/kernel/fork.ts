/**
 * fork and threads (Linux `kernel/fork.c`: `dup_mm`, `dup_mmap`; `mm/memory.c`: `copy_page_range`).
 *
 * fork gives the child a copy of every VMA but those marked MADV_DONTFORK (VM_DONTCOPY); a VM_WIPEONFORK
 * VMA arrives empty. Page-table entries are copied only where the VMA has anonymous pages (an anon_vma)
 * or raw frames (VM_PFNMAP): a file VMA never written in the parent is refaulted by the child from the
 * page cache, as on Linux — so the child's RssAnon right after fork equals the parent's, its RssFile is
 * smaller. In private writable mappings both entries lose write access and the page is shared until
 * one side writes (fault.ts, do_wp_page). Swap entries are copied with one more count on their slot.
 * The child's VmHWM starts at its own RSS; locks (VM_LOCKED) are not inherited; the parent's
 * VM_ACCOUNT pages are committed again (fork fails with ENOMEM in overcommit mode 2 when they cannot be).
 *
 * A thread shares the address space (CLONE_VM | CLONE_THREAD): a new task, nothing copied.
 */
import { EAGAIN, ENOMEM } from './errno.js';
import { exitMmap } from './exit.js';
import type { Kernel } from './kernel.js';
import { AnonVma } from './mapping.js';
import type { Mm } from './mm.js';
import type { Process } from './process.js';
import {
  VM_ACCOUNT,
  VM_DONTCOPY,
  VM_LOCKED_MASK,
  VM_MAYWRITE,
  VM_PFNMAP,
  VM_SHARED,
  VM_WIPEONFORK,
  type Vma,
} from './vma.js';

/** Most tasks at once (a stand-in for RLIMIT_NPROC / pid_max: fork and clone give EAGAIN beyond). */
export const MAX_TASKS = 32768;

/** fork(2). @returns the child, or -ENOMEM / -EAGAIN (nothing is left behind). */
export function forkProcess(k: Kernel, parent: Process, name?: string): Process | number {
  if (k.liveTasks >= MAX_TASKS) return -EAGAIN;
  const src = parent.mm!;
  let charge = 0;
  for (const v of src.vmas)
    if ((v.flags & (VM_ACCOUNT | VM_DONTCOPY)) === VM_ACCOUNT) charge += (v.end - v.start) / k.pageSize;
  if (!k.commit.vmEnoughMemory(charge, src.totalVm)) return -ENOMEM;
  const pid = k.allocPid();
  const mm = k.newMm(pid);
  if (mm === null) return -ENOMEM;
  mm.layout = src.layout;
  mm.taskSize = src.taskSize;
  Object.assign(mm.rlimits, src.rlimits);
  mm.startCode = src.startCode;
  mm.endCode = src.endCode;
  mm.startData = src.startData;
  mm.endData = src.endData;
  mm.startBrk = src.startBrk;
  mm.brk = src.brk;
  mm.startStack = src.startStack;
  mm.mmapBase = src.mmapBase;
  mm.vsyscall = src.vsyscall;
  mm.argStart = src.argStart;
  mm.argEnd = src.argEnd;
  mm.envStart = src.envStart;
  mm.envEnd = src.envEnd;
  for (const vma of src.vmas) {
    if (vma.flags & VM_DONTCOPY) continue;
    const tmp = vma.clone();
    tmp.flags &= ~VM_LOCKED_MASK;
    const wipe = (vma.flags & VM_WIPEONFORK) !== 0;
    if (wipe) {
      tmp.anonVma = null;
      tmp.anonChain = [];
    } else if (vma.anonVma !== null) {
      // anon_vma_fork: the child's VMA sees the parent's pages and gets its own for new ones.
      const own = new AnonVma();
      k.mappings.add(own);
      tmp.anonVma = own;
      tmp.anonChain = [...vma.anonChain, own];
    }
    mm.insert(tmp);
    if (!wipe && (vma.anonVma !== null || (vma.flags & VM_PFNMAP) !== 0)) {
      if (!copyPageRange(k, src, mm, vma)) {
        exitMmap(k, mm);
        return -ENOMEM;
      }
    }
  }
  mm.hiwaterRss = mm.rss;
  mm.hiwaterVm = mm.totalVm;
  const child = k.addProcess(name ?? parent.name, mm, pid, { ppid: parent.tgid });
  child.oomScoreAdj = parent.oomScoreAdj;
  child.sp = parent.sp;
  if (k.sink) k.sink.push({ type: 'fork', pid: parent.pid, child: pid, name: child.name });
  return child;
}

/**
 * copy_page_range for one VMA: every leaf entry of `vma` in `src` gets its twin in `dst`.
 * @returns false when a page table could not be allocated.
 */
function copyPageRange(k: Kernel, src: Mm, dst: Mm, vma: Vma): boolean {
  const ps = k.pageSize;
  const fmt = k.machine.arch.pte;
  const mmu = k.machine.mmu;
  const cow = (vma.flags & (VM_SHARED | VM_MAYWRITE)) === VM_MAYWRITE;
  // The parent's leaf entries first (their addresses stay valid: reclaim rewrites entries, it frees
  // no table), then the child's tables, one leaf table per run of pages it covers.
  const leaves: number[] = [];
  k.pageTables.forEachLeaf(src, vma.start / ps, vma.end / ps, (vpn, ea) => leaves.push(vpn, ea));
  const perTable = k.pageTables.entries[k.machine.arch.levels - 1]!;
  let tableOf = -1;
  let tableBase = -1;
  let protectedAny = false;
  for (let i = 0; i < leaves.length; i += 2) {
    const vpn = leaves[i]!;
    const srcPa = leaves[i + 1]!;
    const t = Math.floor(vpn / perTable);
    if (t !== tableOf) {
      // Allocating a table may reclaim, which may change the parent's entries: read them after.
      const ea = k.pageTables.leafEntry(dst, dst.pid, vpn, { allocate: true });
      if (ea < 0) return false;
      tableOf = t;
      tableBase = ea - (vpn % perTable) * fmt.entryBytes;
    }
    const dstPa = tableBase + (vpn % perTable) * fmt.entryBytes;
    let lo = mmu.readLo(srcPa);
    const hi = mmu.readHi(srcPa);
    if (lo === 0 && hi === 0) continue;
    if ((lo & fmt.present) === 0 && (lo & fmt.swProtNone) === 0) {
      // A swap entry: the slot gets one more user.
      k.swap!.get(fmt.pfnOf(lo, hi));
      dst.swapEnts++;
      mmu.writeEntry(dstPa, lo, hi);
      continue;
    }
    const pfn = fmt.pfnOf(lo, hi);
    // A PROT_NONE entry is not present: its software bits may sit where W, A and D sit in a present
    // one (teach16), so it is copied as it is; mprotect computes its rights again later.
    const present = (lo & fmt.present) !== 0;
    if (pfn === k.vm.zeroPfn) {
      mmu.writeEntry(dstPa, present ? (lo & ~fmt.accessed) >>> 0 : lo, hi);
      continue;
    }
    if (present && cow && (lo & fmt.write) !== 0) {
      lo = (lo & ~fmt.write) >>> 0;
      mmu.writeLo(srcPa, lo);
      protectedAny = true;
    }
    let child = present ? (lo & ~fmt.accessed) >>> 0 : lo; // pte_mkold
    if (present && !cow) child = (child & ~fmt.dirty) >>> 0; // shared: pte_mkclean (the parent's keeps it)
    k.frames.refcount[pfn]!++;
    k.frames.mapcount[pfn]!++;
    k.vm.addRss(dst, pfn, 1);
    mmu.writeEntry(dstPa, child, hi);
  }
  dst.noteRss();
  if (protectedAny) k.asids.flushRange(src, vma.start / ps, vma.end / ps);
  return true;
}

/** clone(CLONE_VM | CLONE_THREAD): a new task in `proc`'s address space. @returns it, or -EAGAIN. */
export function newThread(k: Kernel, proc: Process, name?: string): Process | number {
  if (k.liveTasks >= MAX_TASKS) return -EAGAIN;
  const mm = proc.mm!;
  const tid = k.allocPid();
  mm.users++;
  const task = k.addProcess(name ?? proc.name, mm, tid, { tgid: proc.tgid, ppid: proc.ppid });
  task.oomScoreAdj = proc.oomScoreAdj;
  if (k.sink) k.sink.push({ type: 'thread', pid: proc.pid, tid, name: task.name });
  return task;
}
