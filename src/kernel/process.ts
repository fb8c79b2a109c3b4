/**
 * A simulated task: a process, or a thread of one (Linux `task_struct`). Threads of a process share
 * its address space and its thread-group id (`tgid`, the process's pid); a process's own task has
 * `pid === tgid`. A task has an address space while it lives, and records how it ended.
 */
import type { Mm } from './mm.js';

export type ProcessState = 'running' | 'exited' | 'killed';

/** What killed a process (like `siginfo_t`). */
export interface SignalInfo {
  readonly signal: number;
  /** si_code (SEGV_MAPERR, SEGV_ACCERR, or 0). */
  readonly code: number;
  /** Faulting address, when there is one. */
  readonly va: number;
  /** A sentence saying why, for people. */
  readonly reason: string;
}

export class Process {
  /** The task id (a thread's tid). */
  readonly pid: number;
  /** The thread group: the pid of the process this task belongs to. */
  readonly tgid: number;
  /** The parent process's pid (0 for none). */
  readonly ppid: number;
  readonly name: string;
  state: ProcessState = 'running';
  /** The address space; null once the process has exited and everything was reclaimed. */
  mm: Mm | null;
  exitCode = 0;
  signal: SignalInfo | null = null;
  /** The last syscall's return value (for `expect A ret == -ENOMEM`). */
  lastResult = 0;
  /** Initial stack pointer. */
  sp = 0;
  /** /proc/PID/oom_score_adj: -1000 (never kill) … 1000. */
  oomScoreAdj = 0;
  /** The counters as they were at exit, so /proc-style queries on a dead process still answer. */
  final: {
    minflt: number;
    majflt: number;
    hiwaterRss: number;
    hiwaterVm: number;
    /** Frames the teardown gave back (pages, page tables) and swap slots it freed. */
    reclaimedFrames: number;
    reclaimedSwap: number;
  } | null = null;

  constructor(pid: number, name: string, mm: Mm, opts: { tgid?: number; ppid?: number } = {}) {
    this.pid = pid;
    this.tgid = opts.tgid ?? pid;
    this.ppid = opts.ppid ?? 0;
    this.name = name;
    this.mm = mm;
  }

  get alive(): boolean {
    return this.state === 'running';
  }

  /** True for a thread other than its process's first one. */
  get isThread(): boolean {
    return this.pid !== this.tgid;
  }
}
