/**
 * The data of a strace replay: the log's processes (thread groups), their tasks and the address
 * spaces they use, and what the replay reports — each call's record, divergences, skipped counts,
 * the processes at their end.
 */
import { hex0x } from '../base/units.js';
import type { Rlimits } from '../kernel/mm.js';
import type { StatusFields } from '../kernel/proc.js';
import type { Process } from '../kernel/process.js';
import { errnoName } from '../workload/strace/names.js';
import type { LoggedCall } from '../workload/strace/parser.js';
import type { MapsLine, SmapsLine } from './snapshot.js';
import type { FdTable } from './strace-files.js';

/** Why a call or signal that has nothing to do with memory is skipped. */
export const NOT_MEMORY = 'not a memory call';

/** How the replay handled one event of the log. */
export type RecordKind = 'compared' | 'applied' | 'tracked' | 'skipped';

export interface CallRecord {
  readonly line: number;
  readonly endLine: number;
  readonly pid: number;
  readonly name: string;
  /** The call as logged (shortened), or the signal/exit line. */
  readonly text: string;
  readonly kind: RecordKind;
  /** Linux's result as the log shows it; vmscope's, when it was compared. */
  readonly linux: string;
  readonly vmscope: string | null;
  readonly agree: boolean | null;
  /** Why it was skipped. */
  readonly why: string | null;
}

export interface Divergence {
  readonly line: number;
  readonly pid: number;
  readonly call: string;
  readonly linux: string;
  readonly vmscope: string;
  /** What may explain it (a machine smaller than the recorded one), when something does. */
  readonly note?: string;
}

export interface SkipCount {
  readonly name: string;
  readonly why: string;
  count: number;
}

export interface StraceProcess {
  /** The pid in the log. */
  readonly pid: number;
  readonly name: string;
  readonly state: 'running' | 'exited' | 'killed' | 'unknown';
  readonly exitCode: number | null;
  readonly signal: string | null;
  /** The threads' tids in the log (the pid first). */
  readonly tids: readonly number[];
  /** /proc/PID/maps at its exit (or at the stop), or null when the replay never knew its memory. */
  readonly maps: readonly MapsLine[] | null;
  readonly status: StatusFields | null;
  /** /proc/PID/smaps at the same moment, when the replay was asked for it. */
  readonly smaps: readonly SmapsLine[] | null;
  /** vmscope's pid of its process at the end (or -1). */
  readonly vmPid: number;
}

export interface Sample {
  /** The index of the call (among compared and applied calls) and its log line. */
  readonly call: number;
  readonly line: number;
  readonly pid: number;
  readonly vmSize: number;
  readonly vmRss: number;
}

export interface StraceSummary {
  readonly file: string;
  /** Calls replayed and compared with Linux's result, and how many agreed. */
  readonly syscalls: number;
  readonly agree: number;
  readonly divergences: readonly Divergence[];
  /** Calls applied without a result to compare (exit, exit_group, a thread's clone). */
  readonly applied: number;
  /** File calls the replay follows (open, close, dup, stat, write…): not compared. */
  readonly tracked: number;
  readonly skipped: readonly SkipCount[];
  /** Faults the log shows (SIGSEGV, SIGBUS with an address) checked against vmscope's mappings. */
  readonly signals: { readonly checked: number; readonly agree: number };
  readonly processes: readonly StraceProcess[];
  readonly warnings: readonly string[];
  /** Where the replay stopped (`--at`, `--strict`), or null when it read the whole log. */
  readonly stoppedAt: { readonly line: number; readonly why: string } | null;
  readonly samples: readonly Sample[];
}

/**
 * An address space: the vmscope tasks that use it (a process and its threads, each a kernel task),
 * and the log's processes that use it — its own, and CLONE_VM children (vfork, posix_spawn) that
 * borrow it until they exec, as Linux's do.
 */
export class Space {
  /** The kernel tasks of this address space, the first one first. */
  readonly tasks: Process[];
  readonly groups = new Set<Group>();
  constructor(proc: Process) {
    this.tasks = [proc];
  }

  /** A live task of the address space (the first that is), or the first task when none is. */
  get proc(): Process {
    for (const t of this.tasks) if (t.alive) return t;
    return this.tasks[0]!;
  }

  /** The live tasks, first one first. */
  live(): Process[] {
    return this.tasks.filter((t) => t.alive);
  }
}

/** A process of the log (a thread group). */
export class Group {
  readonly pid: number;
  name: string;
  space: Space | null = null;
  readonly tasks = new Set<Task>();
  readonly tids: number[] = [];
  state: StraceProcess['state'] = 'running';
  exitCode: number | null = null;
  signal: string | null = null;
  finalMaps: MapsLine[] | null = null;
  finalStatus: StatusFields | null = null;
  finalSmaps: SmapsLine[] | null = null;
  lastVmPid = -1;
  /** Why the replay cannot apply its memory calls (a fork it cannot copy), or null. */
  unfollowed: string | null = null;
  cwd: string | null = null;
  /** The program's path made absolute against a guessed working directory (until the log shows it). */
  guessedProgram: string | null = null;
  /** It has had an image the replay loaded (its later failures to load are warnings). */
  everRan = false;
  /** Resource limits while the replay knows no address space for it (a fork's child), to pass on. */
  rlimits: Rlimits | null = null;
  /** vmscope's error when its fork failed where Linux's succeeded (-errno), or 0. */
  forkError = 0;

  constructor(pid: number, name: string) {
    this.pid = pid;
    this.name = name;
  }
}

export class Task {
  tid: number;
  readonly group: Group;
  fds: FdTable;
  alive = true;
  /** A line of the log is this task's (a clone's child of a log recorded without -f has none). */
  logged = false;
  /** Made by a clone-family call of the log (not the first process). */
  cloned = false;
  /**
   * Its own kernel task (a thread made by the kernel's clone, a fork's child, an exec's process), or
   * null when it borrows its address space's (a CLONE_VM child that is not a thread).
   */
  proc: Process | null = null;
  /** The kernel task its calls are made as: its own, or a live one of its address space. */
  caller(): Process | null {
    if (this.proc?.alive) return this.proc;
    const p = this.group.space?.proc;
    return p?.alive ? p : null;
  }
  constructor(tid: number, group: Group, fds: FdTable) {
    this.tid = tid;
    this.group = group;
    this.fds = fds;
  }
}

/** Linux's result of a call as text: an address in hex, a number, an errno name, or `?`. */
export function resultText(c: LoggedCall, address: boolean): string {
  const r = c.result;
  if (r.kind === 'error') return r.errno;
  if (r.kind === 'none') return '?';
  return address ? hex0x(r.value) : String(r.value);
}

/** vmscope's result as text: -errno as its name, else an address in hex or a number. */
export function valueText(v: number, address: boolean): string {
  if (v < 0 && v > -4096) return errnoName(-v);
  return address ? hex0x(v) : String(v);
}
