/**
 * The end of a task (Linux `do_exit`, `do_group_exit`, `exit_mmap`): a thread's exit only detaches it
 * from the address space; the last user's exit unmaps every VMA, frees the page tables, drops the TLB
 * entries and the commit, and hands the replacement policy's pages back.
 */
import type { Kernel } from './kernel.js';
import type { Mm } from './mm.js';
import type { Process, SignalInfo } from './process.js';

export interface ExitHow {
  readonly code?: number;
  /** The signal that killed the task, when it was killed. */
  readonly signal?: SignalInfo;
}

/** exit_mmap: everything the address space holds is given back. */
export function exitMmap(k: Kernel, mm: Mm): void {
  for (const vma of [...mm.vmas]) {
    k.vm.zapRange(mm, vma.start, vma.end);
    mm.remove(vma);
    k.releaseVmaObject(vma);
  }
  k.pageTables.freeAll(mm, mm.pid);
  k.asids.release(mm);
  k.reclaim.processGone(mm.pid);
}

/** One task ends; the address space goes with its last user. */
export function exitTask(k: Kernel, task: Process, how: ExitHow): void {
  const mm = task.mm!;
  if (how.signal) {
    task.signal = how.signal;
    if (k.sink && !task.isThread) {
      const s = how.signal;
      k.sink.push({
        type: 'signal',
        pid: task.pid,
        signal: s.signal,
        code: s.code,
        va: s.va,
        reason: s.reason,
      });
    }
  }
  task.exitCode = how.code ?? 0;
  const last = mm.users === 1;
  const freeBefore = k.frames.freeFrames;
  const swapBefore = k.swap?.freeSlots ?? 0;
  const counters = {
    minflt: mm.minflt,
    majflt: mm.majflt,
    hiwaterRss: mm.hiwaterRss,
    hiwaterVm: mm.hiwaterVm,
  };
  if (last) exitMmap(k, mm);
  mm.users--;
  task.final = {
    ...counters,
    hiwaterRss: Math.max(counters.hiwaterRss, mm.rss),
    reclaimedFrames: k.frames.freeFrames - freeBefore,
    reclaimedSwap: (k.swap?.freeSlots ?? 0) - swapBefore,
  };
  task.state = how.signal ? 'killed' : 'exited';
  task.mm = null;
  k.liveTasks--;
  if (k.sink) {
    const code = how.signal ? 128 + how.signal.signal : task.exitCode;
    k.sink.push({ type: 'exit', pid: task.pid, code, killed: how.signal !== undefined });
  }
}

/** exit_group (or a fatal signal): every task of `proc`'s thread group ends, `proc` last. */
export function exitGroup(k: Kernel, proc: Process, how: ExitHow): void {
  for (const t of k.live()) if (t.tgid === proc.tgid && t !== proc) exitTask(k, t, how);
  exitTask(k, proc, how);
}
