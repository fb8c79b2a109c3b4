/**
 * Replays a real program's strace log through vmscope's kernel. The log's execve loads the binary
 * (from a sysroot) as Linux did; then every memory call — mmap, munmap, mprotect, brk, … — is applied
 * with its logged arguments, and its result compared with Linux's: an address or a number exactly,
 * an error by its errno name. A divergence is listed with its log line, the call, Linux's result and
 * vmscope's; the replay then carries on from Linux's result (so one divergence does not cascade)
 * unless it is strict. Calls that touch no memory are counted and skipped, by name; file calls are
 * tracked (fds, paths, sizes) because mappings need them.
 *
 * The log's pids and tids map to vmscope's tasks: a thread (CLONE_THREAD) is a kernel thread of its
 * process; a CLONE_VM child (vfork) shares its parent's address space until it execs; a fork's child
 * gets the kernel's copy-on-write copy. exit ends one thread, exit_group the whole process.
 *
 * Events come one at a time ({@link StraceReplay.feed}), as the parser reads them, so a log of any
 * length streams. Input errors (a call whose arguments cannot be read) are InputErrors naming the
 * log's line and column.
 */
import { type InputError, invariant } from '../base/errors.js';
import { grouped, hex0x } from '../base/units.js';
import { Machine } from '../hw/machine.js';
import { ENOMEM } from '../kernel/errno.js';
import type { ExecFile } from '../kernel/exec/vfs.js';
import { Kernel } from '../kernel/kernel.js';
import type { Process } from '../kernel/process.js';
import { errnoName, RESTART_ERRNOS } from '../workload/strace/names.js';
import { type LoggedCall, NO_PID, type StraceEvent } from '../workload/strace/parser.js';
import type { Value } from '../workload/strace/value.js';
import { smapsLines } from './snapshot.js';
import { handleFileCall, isFileCall } from './strace-file-calls.js';
import { FdTable, Filesystem } from './strace-files.js';
import * as kapi from './strace-kernel.js';
import { handleMemoryCall, isMemoryCall } from './strace-memory.js';
import {
  type CallRecord,
  type Divergence,
  Group,
  NOT_MEMORY,
  type RecordKind,
  resultText,
  type Sample,
  type SkipCount,
  type StraceProcess,
  type StraceSummary,
  Task,
  valueText,
} from './strace-model.js';

export { NOT_MEMORY } from './strace-model.js';

import {
  CLONE_CALLS,
  cloneChild,
  cloneFlags,
  handleProcessCall,
  isProcessCall,
  type PendingClone,
  startUnlogged,
} from './strace-process.js';

/** Where the program and its interpreter come from, and what the sysroot knows of other files. */
export interface StraceFiles {
  /** The program at `path` (absolute, as the process saw it). @throws InputError when it is missing */
  program(path: string): ExecFile;
  /** The interpreter named in PT_INTERP. @throws InputError when it is missing */
  interpreter(path: string): ExecFile;
  /** A file's size in the sysroot, or null when it has none. */
  size?(path: string): number | null;
  /** `path` as the process would see it, symbolic links resolved (inside the sysroot). */
  resolve?(path: string): string;
}

/** `--at`: stop after a log line, or after the nth call of a name (`mmap#12`). */
export type StopAt = { readonly line: number } | { readonly call: string; readonly nth: number };

/**
 * `N` (a log line) or `NAME#K` (the K-th call NAME; `NAME:K` too, since `#` starts a comment in a
 * scenario) as a stop, or null when it is neither.
 */
export function parseStopAt(text: string): StopAt | null {
  if (/^[0-9]+$/.test(text) && Number(text) > 0) return { line: Number(text) };
  const m = /^([a-z_][a-z0-9_]*)[#:]([0-9]+)$/.exec(text);
  if (m && Number(m[2]) > 0) return { call: m[1]!, nth: Number(m[2]) };
  return null;
}

export interface StraceReplayOptions {
  readonly files: StraceFiles;
  /** The environment when the log shows only its size (`/* 1 var *\/`): `--env` values. */
  readonly env?: readonly string[];
  /** The first process's working directory, for a relative execve path (until the log shows it). */
  readonly cwd?: string | null;
  /** Stop at the first divergence instead of carrying on from Linux's result. */
  readonly strict?: boolean;
  readonly stop?: StopAt | null;
  /** Count `--at NAME#N` calls of this log pid only. */
  readonly pid?: number | null;
  /** The kernel to replay on (a scenario's); default a fresh x86-64 machine of `ramBytes`. */
  readonly kernel?: Kernel;
  readonly ramBytes?: number;
  /** Validate every kernel invariant after every call (slow; a problem is an InvariantError). */
  readonly check?: boolean;
  /** The name of the first process (scenarios); default the program's basename. */
  readonly name?: string;
  /** Called for every call, signal and exit the replay handles (the visualizer's steps). */
  readonly onRecord?: (r: CallRecord) => void;
  /** Collect VmSize/VmRSS samples for a chart. */
  readonly samples?: boolean;
  /** Keep each process's /proc/PID/smaps at its exit (or at the stop). */
  readonly smaps?: boolean;
  /**
   * A log with no execve (filtered with `-e trace=%memory`, which leaves execve out): the program the
   * first process ran, loaded just before the log's first line with argv [path] and `env` (`--exe`).
   */
  readonly firstProgram?: string | null;
  /** Leave the first process running at its exit_group (scenarios look at it afterwards). */
  readonly keepMain?: boolean;
}

/** Calls whose result is an address (shown in hex). */
const ADDRESS_CALLS = new Set(['mmap', 'mmap2', 'mremap', 'brk', 'shmat']);

const SAMPLE_LIMIT = 4096;

/** The argument giving the bytes a call asks for, for the calls that make mappings. */
const SIZE_ARG = new Map([
  ['mmap', 1],
  ['mmap2', 1],
  ['mremap', 2],
  ['shmget', 1],
]);

function short(text: string): string {
  return text.length > 240 ? `${text.slice(0, 237)}...` : text;
}

export class StraceReplay {
  readonly file: string;
  readonly kernel: Kernel;
  readonly options: StraceReplayOptions;
  readonly fs = new Filesystem();
  readonly groups: Group[] = [];
  readonly tasks = new Map<number, Task>();
  /** Clone-family calls whose child may show up before they return, by the caller's tid. */
  readonly pendingClones = new Map<number, PendingClone>();
  readonly warnings: string[] = [];
  main: Group | null = null;
  /** The first process's vmscope process, kept running at its exit (`keepMain`). */
  private kept: Process | null = null;
  stopped: { line: number; why: string } | null = null;

  private syscalls = 0;
  private agreeCount = 0;
  private applied = 0;
  private trackedCount = 0;
  private readonly divergences: Divergence[] = [];
  private readonly skipped = new Map<string, SkipCount>();
  /** What the log held, for the warnings about how it was recorded (see {@link recordingWarnings}). */
  private readonly seen = { execve: 0, memory: 0, mapsOrBrk: 0, opens: 0, succeeded: 0 };
  /** File mappings of fds no call of the log opened. */
  unopenedFdMaps = 0;
  /** The System V segment ids the log's shmget calls returned. */
  readonly shmIds = new Set<number>();
  /** The pid in a `-ff` log's file name (`LOG.1234`), for a log whose lines have none. */
  private readonly filePid: number | null;
  /** The program started without an execve in the log (`firstProgram`), once it was. */
  private startedUnlogged: string | null = null;
  /** The log's arguments are raw numbers (`-e raw=all`): nothing is replayed. */
  private raw: string | null = null;
  private signalsChecked = 0;
  private signalsAgree = 0;
  private nthCount = 0;
  private callIndex = 0;
  private readonly samples: Sample[] = [];
  private sampleEvery = 1;

  constructor(file: string, options: StraceReplayOptions) {
    this.file = file;
    const m = /\.(\d+)(?:\.gz|\.zst)?$/.exec(file);
    this.filePid = m ? Number(m[1]) : null;
    this.options = options;
    this.kernel =
      options.kernel ??
      new Kernel(new Machine({ arch: 'x86_64', ramBytes: options.ramBytes ?? 256 * 1024 * 1024 }));
  }

  // ---------------------------------------------------------------- the event loop

  /** Applies one event of the log. @returns false once the replay has stopped (`--at`, `--strict`). */
  feed(e: StraceEvent): boolean {
    if (this.stopped !== null) return false;
    const stop = this.options.stop;
    const line = e.kind === 'call' ? e.endLine : e.line;
    if (stop && 'line' in stop && line > stop.line) {
      this.stop(stop.line, `--at ${stop.line}`);
      return false;
    }
    switch (e.kind) {
      case 'call':
        this.call(e);
        if (stop && 'call' in stop && e.name === stop.call) {
          if (this.options.pid == null || this.options.pid === this.taskFor(e.pid).group.pid) {
            if (++this.nthCount === stop.nth) this.stop(e.endLine, `--at ${stop.call}#${stop.nth}`);
          }
        }
        break;
      case 'unfinished':
        if (CLONE_CALLS.has(e.name))
          this.pendingClones.set(this.taskFor(e.pid).tid, {
            name: e.name,
            line: e.line,
            args: e.args,
            child: null,
          });
        break;
      case 'lost':
        this.skip(e.pid, e.name, e.line, e.line, e.name, 'did not complete before its process ended');
        break;
      case 'orphan':
        this.skip(e.pid, e.name, e.line, e.line, e.name, 'resumed without its start in the log');
        break;
      case 'signal':
        this.signal(e);
        break;
      case 'exited':
        this.exited(e.pid, e.line, e.code);
        break;
      case 'killed':
        this.killed(e.pid, e.line, e.signal);
        break;
    }
    const t = this.tasks.get(e.pid);
    if (t !== undefined) t.logged = true;
    if (this.options.check) {
      const problems = this.kernel.check();
      invariant(problems.length === 0, `after line ${line}: ${problems.join('; ')}`);
    }
    return this.stopped === null;
  }

  private call(c: LoggedCall): void {
    const task = this.taskFor(c.pid);
    if (this.raw !== null) {
      this.skip(c.pid, c.name, c.line, c.endLine, c.text, this.raw);
      return;
    }
    this.note(c.name);
    if (c.result.kind === 'value') this.seen.succeeded++;
    const first = this.options.firstProgram;
    if (first && this.seen.execve === 0 && task.group === this.main && !task.group.everRan) {
      this.startedUnlogged = first;
      startUnlogged(this, task, first);
    }
    if (c.result.kind === 'error' && RESTART_ERRNOS.has(c.result.errno)) {
      this.skip(c.pid, c.name, c.line, c.endLine, c.text, `interrupted (${c.result.errno}): restarted later`);
      return;
    }
    if (isProcessCall(c.name)) handleProcessCall(this, task, c);
    else if (isMemoryCall(c.name)) {
      const g = task.group;
      if (g.space === null || task.caller() === null) {
        this.skip(c.pid, c.name, c.line, c.endLine, c.text, g.unfollowed ?? 'before the log shows an execve');
      } else if (c.result.kind === 'none') {
        this.skip(c.pid, c.name, c.line, c.endLine, c.text, 'no result in the log (?)');
      } else handleMemoryCall(this, task, c);
    } else if (isFileCall(c.name)) handleFileCall(this, task, c);
    else this.skip(c.pid, c.name, c.line, c.endLine, c.text, NOT_MEMORY);
  }

  /** Counts what the recording warnings look at. */
  private note(name: string): void {
    const seen = this.seen;
    if (name === 'execve' || name === 'execveat') seen.execve++;
    else if (isMemoryCall(name)) {
      seen.memory++;
      if (name === 'mmap' || name === 'mmap2' || name === 'brk') seen.mapsOrBrk++;
    } else if (name === 'open' || name === 'openat' || name === 'openat2' || name === 'creat') seen.opens++;
  }

  /** Whether the log has shown an open-family call yet (a filtered log may have none). */
  get opensSeen(): boolean {
    return this.seen.opens > 0;
  }

  /**
   * The first execve's path is a number: the log was recorded with `-e raw=all`, whose arguments
   * (pointers for strings, numbers for flags and fds) cannot be replayed. Every call is skipped.
   */
  rawLog(task: Task, c: LoggedCall): void {
    this.raw = 'the arguments are raw numbers (-e raw=all)';
    this.warnings.push(
      `line ${c.line}: the log was recorded with -e raw=all (execve's path is a pointer): its arguments are raw numbers, so it cannot be replayed; record it without -e raw`,
    );
    this.skipCall(task, c, this.raw);
  }

  /**
   * Warnings about how the log was recorded, once each: without -f (tasks that clones made have no
   * line), or filtered with -e trace= (no execve, no mapping at all, or mappings without the opens
   * that made their fds) — the replay runs, but the maps at exit cannot be checked.
   */
  private recordingWarnings(): string[] {
    const out: string[] = [];
    // A replay stopped early (--at, --strict) has not seen the rest of the log.
    if (this.raw !== null || this.stopped !== null) return out;
    const silent = [...this.tasks.values()].filter((t) => t.cloned && !t.logged);
    if (silent.length > 0) {
      const pids = silent.map((t) => t.tid);
      const shown = pids.length > 5 ? `${pids.slice(0, 5).join(', ')}, …` : pids.join(', ');
      out.push(
        `${pids.length} ${pids.length === 1 ? 'task' : 'tasks'} that clones made (pid ${shown}) ${pids.length === 1 ? 'has' : 'have'} no line in the log: it was recorded without -f (or with -ff, which writes each process to a LOG.PID file of its own), so ${pids.length === 1 ? 'its' : 'their'} calls are missing (record with strace -f)`,
      );
    }
    const seen = this.seen;
    const filtered = 'the log was filtered (strace -e trace=…)';
    if (seen.execve === 0 && seen.succeeded === 0 && seen.memory > 0)
      out.push(
        'the log shows only failed calls (strace -Z, or -e status=failed): what the program mapped is not in it, so its replay cannot be checked; record it without -Z',
      );
    else if (seen.execve === 0 && this.startedUnlogged !== null)
      out.push(
        `${filtered} or attached to a running process (-p): it shows no execve, so ${this.startedUnlogged} (--exe) was started just before its first line, with argv [${this.startedUnlogged}] and --env's ${this.options.env?.length ?? 0} variables: the initial stack may differ from Linux's, and a log attached to a running process diverges from the start`,
      );
    else if (seen.execve === 0 && this.main !== null)
      out.push(
        `${filtered} or attached to a running process (-p): it shows no execve, so no call could be replayed (give --exe PROG to start the program just before the log's first line)`,
      );
    else if (seen.execve > 0 && seen.mapsOrBrk === 0)
      out.push(
        `${filtered}: it shows no mmap or brk (${seen.memory} other memory ${seen.memory === 1 ? 'call' : 'calls'}), so the maps at exit cannot be checked`,
      );
    else if (seen.opens === 0 && this.unopenedFdMaps > 0)
      out.push(
        `${filtered}: it shows no open call, so ${this.unopenedFdMaps} file ${this.unopenedFdMaps === 1 ? 'mapping uses an fd' : 'mappings use fds'} it never opened and the maps at exit cannot be checked`,
      );
    return out;
  }

  // ---------------------------------------------------------------- pids and tids

  /** The task behind a log pid, made on first sight (a clone's child, or the first process). */
  taskFor(pid: number): Task {
    const known = this.tasks.get(pid);
    if (known !== undefined) return known;
    if (pid === NO_PID) {
      // A line without a pid belongs to the only process there is (strace prints none then).
      const live = [...this.tasks.values()].filter((t) => t.alive);
      if (live.length === 1) return live[0]!;
      if (this.main !== null) return [...this.main.tasks][0] ?? this.newGroup(NO_PID);
      return this.newGroup(NO_PID);
    }
    for (const [parentTid, pending] of this.pendingClones) {
      if (pending.child === null) {
        const parent = this.tasks.get(parentTid);
        if (parent !== undefined) {
          pending.child = pid;
          return cloneChild(this, parent, pid, cloneFlags(pending.name, pending.args));
        }
      }
    }
    const placeholder = this.tasks.get(NO_PID);
    if (placeholder !== undefined) {
      // The first process was logged without its pid (terminal output): this is it.
      this.tasks.delete(NO_PID);
      placeholder.tid = pid;
      this.tasks.set(pid, placeholder);
      return placeholder;
    }
    const first = this.main === null;
    const t = this.newGroup(pid);
    if (!first && this.raw !== null) t.group.unfollowed = this.raw;
    else if (!first) {
      t.group.unfollowed = 'a process the log does not show being created';
      this.warnings.push(`pid ${pid} appears without a clone or fork that made it: its calls are skipped`);
    }
    return t;
  }

  /** A new process of the log with one task. */
  newGroup(pid: number, fds = new FdTable()): Task {
    // A log without pids names its process only in the file name strace -ff gave it (LOG.PID).
    const shown = pid === NO_PID && this.groups.length === 0 ? (this.filePid ?? NO_PID) : pid;
    const g = new Group(shown, `pid ${shown}`);
    this.groups.push(g);
    this.main ??= g;
    const t = new Task(pid, g, fds);
    g.tasks.add(t);
    g.tids.push(pid);
    this.tasks.set(pid, t);
    return t;
  }

  // ---------------------------------------------------------------- results

  /**
   * Compares vmscope's result `vm` with Linux's; records a divergence, with `why` as its note when
   * the caller knows the cause. @returns whether they agree.
   */
  compare(task: Task, c: LoggedCall, vm: number, why: string | null = null): boolean {
    const address = ADDRESS_CALLS.has(c.name);
    const agree = this.agrees(c, vm);
    this.syscalls++;
    if (agree) this.agreeCount++;
    else {
      const d: Divergence = {
        line: c.line,
        pid: task.group.pid,
        call: short(c.text),
        linux: resultText(c, address),
        vmscope: valueText(vm, address),
      };
      const note = why ?? (vm === -ENOMEM && c.result.kind === 'value' ? this.ramNote(c) : null);
      this.divergences.push(note === null ? d : { ...d, note });
      if (this.options.strict) this.stop(c.endLine, `--strict: the first divergence, at line ${c.line}`);
    }
    // The texts only for whoever reads records (they cost more than the comparison).
    if (this.options.onRecord)
      this.record(c, task, 'compared', resultText(c, address), valueText(vm, address), agree, null);
    this.sample(task, c.endLine);
    return agree;
  }

  /** Why vmscope may refuse memory that Linux gave: its machine may be smaller than the recorded one. */
  private ramNote(c: LoggedCall): string | null {
    const at = SIZE_ARG.get(c.name);
    const size = at === undefined || at >= c.argc ? null : c.arg(at).tryInt();
    const ram = this.kernel.machine.mem.sizeBytes;
    if (size === null || size <= ram) return null;
    const mib = grouped(ram / 2 ** 20);
    return `vmscope's machine has ${mib} MiB of RAM and overcommit refuses a mapping larger than RAM plus swap: a larger --ram may be needed`;
  }

  /** Whether vmscope's result `vm` (a value or -errno) is Linux's. */
  agrees(c: LoggedCall, vm: number): boolean {
    const linux = c.result;
    if (linux.kind === 'error') return vm < 0 && errnoName(-vm) === linux.errno;
    if (linux.kind === 'value') return vm === linux.value;
    return false;
  }

  /** A check that is not a call's result (a fault's signal, a limit's value). */
  compareValues(task: Task, line: number, call: string, linux: string, vm: string, name: string): boolean {
    const agree = linux === vm;
    this.syscalls++;
    if (agree) this.agreeCount++;
    else {
      this.divergences.push({ line, pid: task.group.pid, call: short(call), linux, vmscope: vm });
      if (this.options.strict) this.stop(line, `--strict: the first divergence, at line ${line}`);
    }
    this.emit({
      line,
      endLine: line,
      pid: task.group.pid,
      name,
      text: short(call),
      kind: 'compared',
      linux,
      vmscope: vm,
      agree,
      why: null,
    });
    return agree;
  }

  appliedCall(task: Task, c: LoggedCall): void {
    this.applied++;
    this.record(c, task, 'applied', resultText(c, ADDRESS_CALLS.has(c.name)), null, null, null);
    this.sample(task, c.endLine);
  }

  trackedCall(task: Task, c: LoggedCall): void {
    this.trackedCount++;
    this.record(c, task, 'tracked', resultText(c, false), null, null, null);
  }

  skipCall(task: Task, c: LoggedCall, why: string): void {
    this.skip(
      task.group.pid,
      c.name,
      c.line,
      c.endLine,
      c.text,
      why,
      resultText(c, ADDRESS_CALLS.has(c.name)),
    );
  }

  skip(
    pid: number,
    name: string,
    line: number,
    endLine: number,
    text: string,
    why: string,
    linux = '',
  ): void {
    const key = `${name}\0${why}`;
    const s = this.skipped.get(key);
    if (s) s.count++;
    else this.skipped.set(key, { name, why, count: 1 });
    if (this.options.onRecord)
      this.emit({
        line,
        endLine,
        pid,
        name,
        text: short(text),
        kind: 'skipped',
        linux,
        vmscope: null,
        agree: null,
        why,
      });
  }

  private record(
    c: LoggedCall,
    task: Task,
    kind: RecordKind,
    linux: string,
    vm: string | null,
    agree: boolean | null,
    why: string | null,
  ): void {
    if (!this.options.onRecord) return;
    this.emit({
      line: c.line,
      endLine: c.endLine,
      pid: task.group.pid,
      name: c.name,
      text: short(c.text),
      kind,
      linux,
      vmscope: vm,
      agree,
      why,
    });
  }

  private emit(r: CallRecord): void {
    this.options.onRecord?.(r);
  }

  private sample(task: Task, line: number): void {
    this.callIndex++;
    if (!this.options.samples || this.callIndex % this.sampleEvery !== 0) return;
    const proc = task.caller();
    if (proc === null) return;
    const st = kapi.status(this.kernel, proc);
    this.samples.push({
      call: this.callIndex,
      line,
      pid: task.group.pid,
      vmSize: st.VmSize,
      vmRss: st.VmRSS,
    });
    if (this.samples.length > SAMPLE_LIMIT) {
      let w = 0;
      for (let i = 0; i < this.samples.length; i += 2) this.samples[w++] = this.samples[i]!;
      this.samples.length = w;
      this.sampleEvery *= 2;
    }
  }

  stop(line: number, why: string): void {
    if (this.stopped === null) this.stopped = { line, why };
  }

  warn(line: number, message: string): void {
    if (this.warnings.length < 100) this.warnings.push(`line ${line}: ${message}`);
  }

  /** An input error at a value of the log. */
  inputError(v: Value, message: string): InputError {
    return v.error(message);
  }

  // ---------------------------------------------------------------- signals and exits

  private signal(e: Extract<StraceEvent, { kind: 'signal' }>): void {
    const task = this.taskFor(e.pid);
    const g = task.group;
    const code = e.info?.field('si_code')?.raw ?? null;
    const addrValue = e.info?.field('si_addr') ?? null;
    const checkable =
      (e.signal === 'SIGSEGV' && (code === 'SEGV_MAPERR' || code === 'SEGV_ACCERR')) ||
      (e.signal === 'SIGBUS' && code === 'BUS_ADRERR');
    if (e.signal !== 'SIGSEGV' && e.signal !== 'SIGBUS') {
      // SIGCHLD, SIGALRM, SIGINT…: no memory event (what the signal does, exit or not, the log shows).
      this.skip(g.pid, e.signal, e.line, e.line, `--- ${e.signal} ---`, NOT_MEMORY);
      return;
    }
    if (!checkable || addrValue === null) {
      this.skip(g.pid, e.signal, e.line, e.line, `--- ${e.signal} ---`, 'a signal the replay cannot check');
      return;
    }
    const va = addrValue.int('the faulting address (si_addr)');
    const proc = g.space?.proc;
    if (!proc?.alive) {
      this.skip(
        g.pid,
        e.signal,
        e.line,
        e.line,
        `--- ${e.signal} ---`,
        g.unfollowed ?? 'its process is not replayed',
      );
      return;
    }
    const verdict = kapi.faultAt(this.kernel, proc, va);
    const linux = `${e.signal} ${code}`;
    let vm: string;
    if (verdict.signal !== null) vm = `${verdict.signal} ${verdict.code}`;
    else if (code === 'SEGV_ACCERR' && verdict.missingRights)
      vm = linux; // some access kind is refused
    else vm = verdict.missingRights ? 'SEGV_ACCERR for some accesses, none for others' : 'no fault';
    this.signalsChecked++;
    const ok = this.compareValues(task, e.line, `--- ${e.signal} at ${hex0x(va)} ---`, linux, vm, e.signal);
    if (ok) this.signalsAgree++;
  }

  /** `+++ exited with N +++`: the process is gone (if exit_group did not already end it). */
  private exited(pid: number, line: number, code: number): void {
    const task = this.tasks.get(pid) ?? (pid === NO_PID ? this.taskFor(pid) : undefined);
    if (task === undefined) return;
    this.endTask(task, line, { code });
    this.pendingClones.delete(task.tid);
  }

  private killed(pid: number, line: number, signal: string): void {
    const task = this.tasks.get(pid) ?? (pid === NO_PID ? this.taskFor(pid) : undefined);
    if (task === undefined) return;
    const g = task.group;
    for (const t of g.tasks) t.alive = false;
    this.endGroup(g, line, { signal });
    this.pendingClones.delete(task.tid);
  }

  /**
   * A task ends (exit(2), or `+++ exited +++`): the last one of its process ends the process; another
   * one's kernel task goes, leaving the address space to the others (exit of one thread).
   */
  endTask(task: Task, line: number, how: { code: number }): void {
    if (!task.alive) return;
    task.alive = false;
    const g = task.group;
    if ([...g.tasks].every((t) => !t.alive)) this.endGroup(g, line, how);
    else if (task.proc !== null && (g.space?.live().length ?? 0) > 1)
      kapi.exitThread(this.kernel, task.proc, how.code);
  }

  /** A process of the log ends: its maps are kept as they were, then its address space goes. */
  endGroup(g: Group, _line: number, how: { code: number } | { signal: string }): void {
    if (g.state !== 'running') return;
    for (const t of g.tasks) t.alive = false;
    this.snapshot(g);
    if ('code' in how) {
      g.state = 'exited';
      g.exitCode = how.code;
    } else {
      g.state = 'killed';
      g.signal = how.signal;
    }
    this.detach(g, 'code' in how ? { code: how.code } : { signal: how.signal });
  }

  /**
   * Takes `g` off its address space (its exit, or an execve replacing it): its own kernel tasks end,
   * unless they carry the address space for another process of the log that still uses it (a CLONE_VM
   * child); the last user's exit reclaims the address space. The first process is left running at its
   * exit when the replay keeps it (`keepMain`): one kernel task of it stays, its other threads go.
   */
  detach(g: Group, how: { code: number } | { signal: string }, opts = { replacing: false }): void {
    const space = g.space;
    if (space === null) return;
    space.groups.delete(g);
    g.space = null;
    const own = new Set<Process>();
    for (const t of g.tasks) {
      if (t.proc?.alive) own.add(t.proc);
      t.proc = null;
    }
    const k = this.kernel;
    if (this.options.keepMain && g === this.main && !opts.replacing) {
      const [kept, ...others] = own.size > 0 ? [...own] : space.live();
      for (const p of others) kapi.exitThread(k, p, 'code' in how ? how.code : 0);
      this.kept = kept ?? null;
      return;
    }
    const code = 'code' in how ? how.code : 0;
    if (space.groups.size > 0) {
      // Another process of the log still uses the address space: keep one task alive for it.
      for (const p of own) if (space.live().length > 1) kapi.exitThread(k, p, code);
      return;
    }
    // The last user: every task still on the address space ends, one thread group at a time.
    for (let live = space.live(); live.length > 0; live = space.live()) {
      const p = live[0]!;
      if ('code' in how) kapi.exit(k, p, how.code);
      else kapi.kill(k, p, kapi.signalNumber(how.signal), `killed by ${how.signal} (as in the log)`);
    }
  }

  /** Keeps a process's maps and status as they are now (its exit, or the stop). */
  snapshot(g: Group): void {
    const proc = g.space?.proc;
    if (!proc?.alive) return;
    g.finalMaps = kapi.maps(this.kernel, proc).map(({ vma: _v, ...line }) => line);
    g.finalStatus = kapi.status(this.kernel, proc);
    if (this.options.smaps) g.finalSmaps = smapsLines(this.kernel, proc);
    g.lastVmPid = proc.tgid;
  }

  // ---------------------------------------------------------------- the end

  /** The vmscope process of the log's first process: running, or kept at its exit (`keepMain`). */
  mainProcess(): Process | null {
    const space = this.main?.space;
    const proc = space ? space.proc : this.kept;
    return proc?.alive ? proc : null;
  }

  /** The replay's summary; processes still running are shown as they are now. */
  finish(): StraceSummary {
    const processes: StraceProcess[] = this.groups.map((g) => {
      if (g.state === 'running') this.snapshot(g);
      return {
        pid: g.pid,
        name: g.name,
        state: g.finalMaps === null && g.state === 'running' ? 'unknown' : g.state,
        exitCode: g.exitCode,
        signal: g.signal,
        tids: g.tids,
        maps: g.finalMaps,
        status: g.finalStatus,
        smaps: g.finalSmaps,
        vmPid: g.space?.proc.tgid ?? g.lastVmPid,
      };
    });
    return {
      file: this.file,
      syscalls: this.syscalls,
      agree: this.agreeCount,
      divergences: this.divergences,
      applied: this.applied,
      tracked: this.trackedCount,
      skipped: [...this.skipped.values()].sort((a, b) => b.count - a.count || a.name.localeCompare(b.name)),
      signals: { checked: this.signalsChecked, agree: this.signalsAgree },
      processes,
      warnings: [...this.warnings, ...this.recordingWarnings()],
      stoppedAt: this.stopped,
      samples: this.samples,
    };
  }
}
