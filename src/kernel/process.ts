/** A simulated process: a pid, a name, an address space while it lives, and how it ended. */
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
  readonly pid: number;
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

  constructor(pid: number, name: string, mm: Mm) {
    this.pid = pid;
    this.name = name;
    this.mm = mm;
  }

  get alive(): boolean {
    return this.state === 'running';
  }
}
