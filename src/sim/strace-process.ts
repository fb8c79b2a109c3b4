/**
 * The strace replay's process calls: execve (the program and its interpreter loaded as Linux does,
 * from the sysroot), the clone family (a thread is a kernel thread sharing its process's address
 * space; a CLONE_VM child borrows it until it execs; a fork gets the kernel's copy-on-write copy),
 * exit (one thread) and exit_group (the process), and the resource limits that shape an address
 * space or limit locking (RLIMIT_STACK, RLIMIT_DATA, RLIMIT_AS, RLIMIT_MEMLOCK).
 */
import { InputError } from '../base/errors.js';
import type { ExecFileSource } from '../kernel/exec/vfs.js';
import type { Rlimits } from '../kernel/mm.js';
import { CLONE_NAMES, RLIMIT_NAMES } from '../workload/strace/names.js';
import type { LoggedCall } from '../workload/strace/parser.js';
import { parseNumber } from '../workload/strace/scan.js';
import { or53, Value } from '../workload/strace/value.js';
import { joinPath } from './strace-files.js';
import * as kapi from './strace-kernel.js';
import { type Group, Space, Task, valueText } from './strace-model.js';
import type { StraceReplay } from './strace-replay.js';

export const CLONE_CALLS: ReadonlySet<string> = new Set(['clone', 'clone2', 'clone3', 'fork', 'vfork']);

const PROCESS_CALLS: ReadonlySet<string> = new Set([
  ...CLONE_CALLS,
  'execve',
  'execveat',
  'exit',
  'exit_group',
  'prlimit64',
  'setrlimit',
  'getrlimit',
  'ugetrlimit',
  'old_getrlimit',
]);

export function isProcessCall(name: string): boolean {
  return PROCESS_CALLS.has(name);
}

/** A clone-family call whose child may be logged before the call returns. */
export interface PendingClone {
  readonly name: string;
  readonly line: number;
  readonly args: readonly Value[];
  /** The child's tid once it has shown up. */
  child: number | null;
}

const CLONE_VM = CLONE_NAMES.get('CLONE_VM')!;
const CLONE_THREAD = CLONE_NAMES.get('CLONE_THREAD')!;
const CLONE_FILES = CLONE_NAMES.get('CLONE_FILES')!;
const CLONE_VFORK = CLONE_NAMES.get('CLONE_VFORK')!;

/** The CLONE_* bits of a clone-family call (the exit signal and unknown names left out). */
export function cloneFlags(name: string, args: readonly Value[]): number {
  if (name === 'fork') return 0;
  if (name === 'vfork') return CLONE_VM | CLONE_VFORK;
  let flagsValue: Value | null = null;
  if (name === 'clone3') flagsValue = args[0]?.field('flags') ?? null;
  else {
    for (const a of args) {
      if (a.raw.startsWith('flags=')) {
        flagsValue = new Value(a.src, a.from + 6, a.to, a.index);
        break;
      }
    }
    // Without named arguments (some architectures), flags come first.
    flagsValue ??= args[0] ?? null;
  }
  if (flagsValue === null) return 0;
  let flags = 0;
  for (const n of flagsValue.names()) {
    let bit = CLONE_NAMES.get(n);
    if (bit === undefined) {
      // -X raw or -X verbose print the bits as a number (`0x3d0f00 /* CLONE_VM|… */`); clone's
      // low byte is the exit signal (CSIGNAL), clone3 has a field of its own for it.
      const num = parseNumber(n, 0, n.length);
      if (Number.isNaN(num) || num < 0) continue;
      bit = name === 'clone3' ? num : num - (num % 256);
    }
    flags = or53(flags, bit);
  }
  return flags;
}

function has(flags: number, bit: number): boolean {
  return Math.floor(flags / bit) % 2 === 1;
}

/**
 * The child of a clone-family call by `parent`: a thread (CLONE_THREAD), a kernel thread of its
 * process; a process sharing its address space (CLONE_VM, as vfork), which borrows it until it
 * execs; or a fork, a process with a copy-on-write copy of it (the kernel's fork).
 */
export function cloneChild(r: StraceReplay, parent: Task, tid: number, flags: number): Task {
  const fds = has(flags, CLONE_FILES) ? parent.fds : parent.fds.clone();
  const pg = parent.group;
  const caller = parent.caller();
  if (has(flags, CLONE_THREAD)) {
    const t = new Task(tid, pg, fds);
    pg.tasks.add(t);
    pg.tids.push(tid);
    r.tasks.set(tid, t);
    if (caller !== null && pg.space !== null) {
      const made = kapi.thread(r.kernel, caller, pg.name);
      // A thread the kernel could not make (EAGAIN) borrows the address space as it is.
      if (typeof made !== 'number') {
        t.proc = made;
        pg.space.tasks.push(made);
      }
    }
    return t;
  }
  const child = r.newGroup(tid, fds);
  const g = child.group;
  g.name = pg.name;
  g.cwd = pg.cwd;
  g.rlimits = inheritedRlimits(pg);
  const space = pg.space;
  if (space === null || caller === null) {
    g.unfollowed = pg.unfollowed ?? 'its parent is not replayed';
  } else if (has(flags, CLONE_VM)) {
    g.space = space;
    space.groups.add(g);
  } else {
    const forked = kapi.fork(r.kernel, caller, pg.name);
    if (typeof forked === 'number') {
      g.forkError = forked;
      g.unfollowed = `its fork failed in vmscope (${valueText(forked, false)})`;
    } else {
      child.proc = forked;
      g.space = new Space(forked);
      g.space.groups.add(g);
      g.rlimits = null;
    }
  }
  return child;
}

/** The limits a child or a new image inherits from `g` (its address space's, or those it carries). */
function inheritedRlimits(g: Group): Rlimits | null {
  const proc = g.space?.proc;
  return proc?.alive ? kapi.rlimitsOf(proc) : g.rlimits;
}

export function handleProcessCall(r: StraceReplay, task: Task, c: LoggedCall): void {
  switch (c.name) {
    case 'execve':
    case 'execveat':
      execCall(r, task, c);
      return;
    case 'exit':
      r.appliedCall(task, c);
      r.endTask(task, c.endLine, { code: exitCode(c) });
      return;
    case 'exit_group':
      r.appliedCall(task, c);
      r.endGroup(task.group, c.endLine, { code: exitCode(c) });
      return;
    case 'prlimit64':
    case 'setrlimit':
    case 'getrlimit':
    case 'ugetrlimit':
    case 'old_getrlimit':
      rlimitCall(r, task, c);
      return;
    default:
      cloneCall(r, task, c);
  }
}

function exitCode(c: LoggedCall): number {
  const v = c.arg(0).int('an exit status');
  return ((v % 256) + 256) % 256;
}

function cloneCall(r: StraceReplay, task: Task, c: LoggedCall): void {
  const pending = r.pendingClones.get(task.tid);
  r.pendingClones.delete(task.tid);
  if (c.result.kind !== 'value') {
    r.skipCall(task, c, 'failed on Linux: no child');
    return;
  }
  const tid = c.result.value;
  const flags = cloneFlags(c.name, args(c));
  let child = r.tasks.get(tid);
  if (child === undefined) {
    child = cloneChild(r, task, tid, flags);
    child.cloned = true;
  } else if (pending?.child !== tid)
    r.warn(c.line, `pid ${tid} was in the log before the ${c.name} that made it`);
  const g = child.group;
  if (g.forkError !== 0) {
    // Linux made the child; vmscope's fork could not.
    r.compareValues(task, c.endLine, c.text, String(tid), valueText(g.forkError, false), c.name);
    g.forkError = 0;
  } else if (g === task.group || g.space !== null) r.appliedCall(task, c);
  else r.skipCall(task, c, g.unfollowed ?? 'its child is not replayed');
}

function args(c: LoggedCall): Value[] {
  const out: Value[] = [];
  for (let i = 0; i < c.argc; i++) out.push(c.arg(i));
  return out;
}

// ---------------------------------------------------------------- execve

function execCall(r: StraceReplay, task: Task, c: LoggedCall): void {
  const at = c.name === 'execveat' ? 1 : 0;
  if (c.result.kind !== 'value' || c.result.value !== 0) {
    r.skipCall(task, c, 'failed on Linux: nothing changed');
    return;
  }
  const g = task.group;
  const pathArg = c.arg(at);
  const pathStr = pathArg.str();
  if (pathStr === null && pathArg.tryInt() !== null && r.main === task.group && g.space === null) {
    // `-e raw=all` (or raw=execve): the path is a pointer, and so is every string and flag after it.
    r.rawLog(task, c);
    return;
  }
  if (pathStr === null) throw pathArg.error(`expected the program's path as a string in ${c.name}`);
  if (pathStr.truncated)
    throw pathArg.error(
      'the program path is cut short (record the log with -s 4096 so strace prints it whole)',
    );
  let path = pathStr.value;
  if (c.name === 'execveat') {
    const dir = c.arg(0).fd();
    if (path === '' && dir.path !== null) path = dir.path;
    else if (!path.startsWith('/') && dir.path !== null) path = joinPath(dir.path, path);
  }
  const argv = execStrings(r, c, c.arg(at + 1), 'argv');
  let envp = execStrings(r, c, c.arg(at + 2), 'environment');
  if (envp === null) {
    envp = [...(r.options.env ?? [])];
    const count = /\/\* (\d+) vars? \*\//.exec(c.arg(at + 2).raw)?.[1];
    r.warn(
      c.line,
      `the log shows the environment only as a count${count ? ` (${count})` : ''}: using --env (${envp.length} variable${envp.length === 1 ? '' : 's'}); the initial stack may differ from Linux's`,
    );
  }
  let absolute = path;
  if (!path.startsWith('/')) {
    // The log shows the working directory (`AT_FDCWD</tmp>`) only after the first exec: until then
    // it is --cwd's, and the program's name is put right if the log later says otherwise.
    const cwd = g.cwd ?? r.options.cwd ?? null;
    if (cwd === null)
      r.warn(c.line, `the working directory is not known yet (give --cwd): ${path} is taken from /`);
    absolute = joinPath(cwd ?? '/', path);
    if (g.cwd === null) g.guessedProgram = absolute;
  }
  const name = (r.main === g || r.main === null) && r.options.name ? r.options.name : basename(absolute);
  const rlimits = inheritedRlimits(g);
  let result: ReturnType<typeof kapi.execProgram>;
  try {
    result = load(r, path, absolute, argv ?? [path], envp, name, rlimits);
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    const why = `${e.span.file}: ${e.message}`;
    // The log's first program must be there; a program it runs later may not be in the sysroot.
    if (r.main === g && !g.everRan) throw pathArg.error(`cannot load the program ${path}: ${why}`);
    r.warn(c.line, `cannot load ${path} (${why}): its process is not replayed from here`);
    for (const t of g.tasks) if (t !== task) t.alive = false;
    r.detach(g, { code: 0 }, { replacing: true });
    g.name = basename(absolute);
    g.unfollowed = `its program ${path} could not be loaded`;
    g.rlimits = rlimits;
    r.skipCall(task, c, 'its program is not in the sysroot');
    return;
  }
  g.everRan = true;
  // The old image goes (and the other threads with it: de_thread).
  for (const t of g.tasks) if (t !== task) t.alive = false;
  r.detach(g, { code: 0 }, { replacing: true });
  g.unfollowed = null;
  g.name = basename(absolute);
  if (typeof result === 'number') {
    g.unfollowed = `its execve failed in vmscope (${valueText(result, false)})`;
    g.rlimits = rlimits;
    r.compare(task, c, result);
    return;
  }
  g.space = new Space(result.proc);
  g.space.groups.add(g);
  task.proc = result.proc;
  g.rlimits = null;
  if (absolute === path) g.guessedProgram = null;
  r.compare(task, c, 0);
}

/**
 * A log with no execve (`-e trace=%memory`): the first process is started from `path` before its
 * first line, as its execve would have, with argv [path] and the `--env` environment.
 * @throws InputError when the program cannot be loaded
 */
export function startUnlogged(r: StraceReplay, task: Task, path: string): void {
  const g = task.group;
  const envp = [...(r.options.env ?? [])];
  const name = r.options.name ?? basename(path);
  const rlimits = inheritedRlimits(g);
  g.everRan = true;
  g.name = basename(path);
  const result = load(r, path, path, [path], envp, name, rlimits);
  if (typeof result === 'number') {
    g.unfollowed = `its program ${path} could not be started (${valueText(result, false)})`;
    g.rlimits = rlimits;
    return;
  }
  g.space = new Space(result.proc);
  g.space.groups.add(g);
  task.proc = result.proc;
  g.rlimits = null;
  g.unfollowed = null;
}

function basename(p: string): string {
  return p.split('/').pop() || p;
}

/**
 * Loads the program at `absolute` into a new process (a `#!` script runs its interpreter, which exec
 * finds as it finds PT_INTERP's: in the sysroot). @throws InputError when a file is missing or is not
 * a program.
 */
function load(
  r: StraceReplay,
  path: string,
  absolute: string,
  argv: string[],
  envp: readonly string[],
  name: string,
  rlimits: Rlimits | null,
): ReturnType<typeof kapi.execProgram> {
  const files: ExecFileSource = {
    openProgram: () => r.options.files.program(absolute),
    openInterpreter: (p) => r.options.files.interpreter(p),
  };
  return kapi.execProgram(r.kernel, { path, argv, envp, files, name }, rlimits);
}

/** argv or envp as strings, or null when the log shows only an address (`0x7ff… /* 1 var *\/`). */
function execStrings(r: StraceReplay, c: LoggedCall, v: Value, what: string): string[] | null {
  const items = v.items();
  if (items === null) return null;
  const out: string[] = [];
  let cut = false;
  for (const item of items) {
    if (item.raw === '...') {
      cut = true;
      continue;
    }
    const s = item.str();
    if (s === null) throw item.error(`expected a string in the ${what} of ${c.name}`);
    if (s.truncated) cut = true;
    out.push(s.value);
  }
  if (cut)
    r.warn(
      c.line,
      `the log cuts the ${what} short (record with -v -s 4096): the initial stack may differ from Linux's`,
    );
  return out;
}

// ---------------------------------------------------------------- resource limits

const LIMITS: ReadonlyMap<number, kapi.Rlimit> = new Map([
  [RLIMIT_NAMES.get('RLIMIT_STACK')!, 'stack'],
  [RLIMIT_NAMES.get('RLIMIT_DATA')!, 'data'],
  [RLIMIT_NAMES.get('RLIMIT_AS')!, 'as'],
  [RLIMIT_NAMES.get('RLIMIT_MEMLOCK')!, 'memlock'],
]);

/**
 * prlimit64(pid, resource, new, old), setrlimit(resource, new), getrlimit(resource, old): for the
 * limits that shape an address space, the old soft limit Linux reported is compared with vmscope's,
 * and a new soft limit is applied. (vmscope keeps no hard limits.)
 */
function rlimitCall(r: StraceReplay, task: Task, c: LoggedCall): void {
  const pl = c.name === 'prlimit64';
  const resArg = c.arg(pl ? 1 : 0);
  const which = LIMITS.get(resArg.flags(RLIMIT_NAMES, 'a resource (RLIMIT_…)'));
  if (which === undefined) {
    r.skipCall(task, c, 'a resource limit that does not shape memory');
    return;
  }
  let target = task;
  if (pl) {
    const pid = c.arg(0).int('a pid');
    if (pid !== 0) target = r.tasks.get(pid) ?? task;
  }
  const proc = target.caller();
  if (proc === null) {
    // No address space to check against, but the limit passes on to what the process execs.
    const limits = target.group.rlimits;
    const newLimit = pl ? c.arg(2) : c.name === 'setrlimit' ? c.arg(1) : null;
    const cur = newLimit !== null && !newLimit.isNull ? newLimit.field('rlim_cur') : null;
    if (limits !== null && cur !== null && c.result.kind === 'value') limits[which] = cur.limit('a limit');
    r.skipCall(task, c, target.group.unfollowed ?? 'its process is not replayed');
    return;
  }
  if (c.result.kind !== 'value') {
    r.skipCall(task, c, 'failed on Linux: nothing changed');
    return;
  }
  const newArg = pl ? c.arg(2) : c.name === 'setrlimit' ? c.arg(1) : null;
  const oldArg = pl ? c.arg(3) : c.name === 'setrlimit' ? null : c.arg(1);
  if (oldArg !== null && !oldArg.isNull) {
    const cur = oldArg.field('rlim_cur');
    if (cur === null) throw oldArg.error(`expected {rlim_cur=…, rlim_max=…} in ${c.name}`);
    const linux = cur.limit('a limit (a number or RLIM_INFINITY)');
    const vm = kapi.getRlimit(proc, which);
    const agree = r.compareValues(
      task,
      c.endLine,
      c.text,
      `rlim_cur=${limitText(linux)}`,
      `rlim_cur=${limitText(vm)}`,
      c.name,
    );
    if (!agree && !r.options.strict) kapi.setRlimit(proc, which, linux);
  } else {
    r.appliedCall(task, c);
  }
  if (newArg !== null && !newArg.isNull) {
    const cur = newArg.field('rlim_cur');
    if (cur === null) throw newArg.error(`expected {rlim_cur=…, rlim_max=…} in ${c.name}`);
    kapi.setRlimit(proc, which, cur.limit('a limit (a number or RLIM_INFINITY)'));
  }
}

function limitText(v: number): string {
  return v === Number.POSITIVE_INFINITY ? 'RLIM_INFINITY' : String(v);
}
