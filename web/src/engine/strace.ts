/**
 * A dropped strace log opened in the engine: the log's life replayed through the kernel
 * (src/sim/strace-replay.ts) with every memory call a step — its arguments as logged, Linux's
 * result and vmscope's — and time travel over the steps as over a scenario's statements.
 *
 * Position p is the kernel after the log's events up to the one of step p+1 (the file calls and
 * skipped calls between two steps belong to the step before them; the last step runs to the end of
 * the log). Like a scenario's session, the state at p is a fresh replay of that prefix: the replay is
 * deterministic. The program and its interpreter come from the dropped files (a dropped folder as a
 * sysroot, loose files by name), as `exec` finds them in a scenario.
 */
import { InputError, InvariantError } from '../../../src/base/errors.js';
import { archPreset } from '../../../src/hw/arch.js';
import { Machine } from '../../../src/hw/machine.js';
import { EventLog, type KernelEvent } from '../../../src/kernel/events.js';
import type { ExecFile } from '../../../src/kernel/exec/vfs.js';
import { Kernel } from '../../../src/kernel/kernel.js';
import { counted } from '../../../src/report/format.js';
import { tlbStats } from '../../../src/sim/snapshot.js';
import type { CallRecord } from '../../../src/sim/strace-model.js';
import { type StraceFiles, StraceReplay } from '../../../src/sim/strace-replay.js';
import { StraceParser } from '../../../src/workload/strace/parser.js';
import { baseName, droppedIndex, type Found } from '../logic/dropped.js';
import { eventInfo, summarizeEvents } from './narration.js';
import {
  type AddressSelection,
  type DroppedFiles,
  EVENT_LIMIT,
  type InputProblem,
  type LoadedScenario,
  type MachineInfo,
  type StepInfo,
} from './protocol.js';
import { eventSeries, inputProblem } from './session.js';
import { TimeTravel } from './time-travel.js';

/** The machine a log is replayed on: the CLI's default (`vmscope strace --ram 256M`). */
const ARCH = 'x86_64';
const RAM_BYTES = 256 * 1024 * 1024;
const TLB_ENTRIES = 64;
const TLB_WAYS = 4;
/** Thrown to stop a re-run where the position's state is reached. */
const REACHED = Symbol('reached');

/** What the log needs that was not dropped, in words: what to drop. */
function missing(what: 'program' | 'interpreter', path: string, found: Found): InputError {
  const base = baseName(path);
  if (found.kind === 'ambiguous')
    return new InputError(
      'strace',
      `the ${what} ${path} could be any of the dropped files ${found.names.join(', ')}: drop one of them, or a folder holding the recorded machine's files so that the path decides`,
      { file: path },
    );
  return new InputError(
    'strace',
    what === 'program'
      ? `not among the files dropped on the page: drop ${base} (or ${base}.gz) with the log, and for a dynamically linked program its interpreter too (PT_INTERP, such as ld-linux-x86-64.so.2) — or a folder holding the recorded machine's files, as a sysroot`
      : `the program's interpreter (PT_INTERP) is not among the files dropped on the page: drop ${base} (or ${base}.gz) with the log, or a folder that holds it at ${path.replace(/^\//, '')}`,
    { file: path },
  );
}

/**
 * The recorded machine's files from the files dropped on the page (logic/dropped.ts): a loose file
 * by its name (`/lib64/ld-linux-x86-64.so.2` finds a dropped `ld-linux-x86-64.so.2` when no other
 * file is so named), a dropped folder as a sysroot with its links resolved; sizes of the other files
 * the same way.
 */
export function droppedStraceFiles(files: DroppedFiles): StraceFiles {
  const findDropped = droppedIndex(files);
  const open = (path: string, what: 'program' | 'interpreter'): ExecFile => {
    const found = findDropped(path);
    if (found.kind !== 'found') throw missing(what, path, found);
    return { path: found.path, bytes: found.file.bytes };
  };
  return {
    program: (path) => open(path, 'program'),
    interpreter: (path) => open(path, 'interpreter'),
    size: (path) => {
      const found = findDropped(path);
      return found.kind === 'found' ? found.file.bytes.length : null;
    },
    resolve: (path) => {
      const found = findDropped(path);
      return found.kind === 'found' ? found.path : path;
    },
  };
}

/** The machine of every strace session. */
export function straceMachine(): MachineInfo {
  const a = archPreset(ARCH);
  return {
    arch: a.name,
    description: a.description,
    pageSize: a.pageSize,
    frameCount: RAM_BYTES / a.pageSize,
    ramBytes: RAM_BYTES,
    levels: a.levels,
    levelNames: [...a.levelNames],
    indexBits: [...a.indexBits],
    pageShift: a.pageShift,
    vaBits: a.vaBits,
    userVaLimit: a.userVaLimit,
    addrHexDigits: a.addrHexDigits,
    tlbEntries: TLB_ENTRIES,
    tlbWays: TLB_WAYS,
    pteBytes: a.pte.entryBytes,
  };
}

/** A record that is a step: a call compared with Linux's result, or one applied (exit, clone…). */
function isStep(r: CallRecord): boolean {
  return r.kind === 'compared' || r.kind === 'applied';
}

/** Calls whose result is the address they are about; the others are about their first argument. */
const RESULT_ADDRESS = new Set(['mmap', 'mmap2', 'mremap']);
const FIRST_ARG_ADDRESS = new Set([
  'munmap',
  'mprotect',
  'madvise',
  'msync',
  'mlock',
  'mlock2',
  'munlock',
  'brk',
]);

function addressIn(text: string | null): number | null {
  const m = text === null ? null : /^0x([0-9a-f]+)$/.exec(text);
  if (!m) return null;
  const v = Number.parseInt(m[1]!, 16);
  return Number.isSafeInteger(v) ? v : null;
}

/** The address a call is about: where vmscope mapped it, or the range it acts on. */
function focusAddress(r: CallRecord): number | null {
  if (RESULT_ADDRESS.has(r.name)) return addressIn(r.vmscope) ?? addressIn(r.linux);
  if (FIRST_ARG_ADDRESS.has(r.name)) {
    const m = /^[a-z0-9_]+\((0x[0-9a-f]+)/.exec(r.text);
    return addressIn(m ? m[1]! : null);
  }
  return null;
}

/** The result of a step in words: Linux's and vmscope's. */
function resultWords(records: readonly CallRecord[]): string {
  return records
    .map((r) =>
      r.kind === 'compared'
        ? `Linux: ${r.linux} · vmscope: ${r.vmscope}${r.agree ? '' : ' (they differ)'}`
        : `applied (Linux returned ${r.linux})`,
    )
    .join('; ');
}

interface PendingStep {
  readonly records: CallRecord[];
  readonly pid: number;
  readonly focus: AddressSelection | null;
  readonly events: KernelEvent[];
  tlb: { hits: number; misses: number; walks: number };
}

export class StraceSession extends TimeTravel {
  readonly file: string;
  private readonly bytes: Uint8Array;
  private readonly files: StraceFiles;
  /** Per step, the index of the log event (as the parser hands them) that made it. */
  private stepEvents: number[] = [];

  constructor(file: string, text: string, files: DroppedFiles = []) {
    super();
    this.file = file;
    this.bytes = new TextEncoder().encode(text);
    this.files = droppedStraceFiles(files);
  }

  private newKernel(): Kernel {
    return new Kernel(
      new Machine({ arch: ARCH, ramBytes: RAM_BYTES, tlbEntries: TLB_ENTRIES, tlbWays: TLB_WAYS }),
    );
  }

  private newReplay(kernel: Kernel, onRecord?: (r: CallRecord) => void): StraceReplay {
    return new StraceReplay(this.file, {
      files: this.files,
      kernel,
      keepMain: true,
      ...(onRecord ? { onRecord } : {}),
    });
  }

  /**
   * Replays the whole log once and records each step in words. An input error in the log (or a
   * missing program) ends the recording there; the steps before it stay reachable.
   * @throws InvariantError on a bug in vmscope.
   */
  run(onProgress?: (done: number, total: number) => void): LoadedScenario {
    const started = performance.now();
    const arch = archPreset(ARCH);
    const kernel = this.newKernel();
    const log = new EventLog();
    kernel.sink = log;
    let records: CallRecord[] = [];
    const replay = this.newReplay(kernel, (r) => records.push(r));
    const names = new Map<number, string>();
    const steps: StepInfo[] = [];
    const stepEvents: number[] = [];
    let open: PendingStep | null = null;
    let passed = 0;
    let failed = 0;
    let runError: InputProblem | null = null;
    let bug: string | null = null;
    const tlbNow = () => {
      const t = tlbStats(kernel);
      return { hits: t.hits, misses: t.misses, walks: t.walks };
    };
    let tlbBefore = tlbNow();
    /** Ends the open step where the kernel is at `tlb` (before the next step's event). */
    const close = (tlb = tlbNow()): void => {
      if (open === null) return;
      open.tlb = {
        hits: tlb.hits - tlbBefore.hits,
        misses: tlb.misses - tlbBefore.misses,
        walks: tlb.walks - tlbBefore.walks,
      };
      tlbBefore = tlb;
      steps.push(this.stepInfo(steps.length, open, names, arch));
      open = null;
    };
    const total = this.bytes.length;
    let fed = 0;
    const parser = new StraceParser(this.file, (e) => {
      records = [];
      open?.events.push(...log.drain());
      const tlb = tlbNow();
      replay.feed(e);
      const made = records.filter(isStep);
      for (const g of replay.groups)
        for (const t of g.space?.tasks ?? []) names.set(t.pid, `${g.name}[${g.pid}]`);
      if (made.length > 0) {
        close(tlb);
        const first = made[0]!;
        const g = replay.groups.find((x) => x.pid === first.pid);
        const pid = g?.space?.proc.pid ?? -1;
        const va = focusAddress(first);
        for (const r of made) {
          if (r.agree === true) passed++;
          if (r.agree === false) failed++;
        }
        tlbBefore = tlb;
        open = { records: made, pid, focus: va !== null && pid >= 0 ? { pid, va } : null, events: [], tlb };
        open.events.push(...log.drain());
        stepEvents.push(fed);
      }
      fed++;
    });
    try {
      // In pieces, so that the page hears how far the replay is.
      const piece = 1 << 16;
      for (let off = 0; off < total; off += piece) {
        parser.push(this.bytes.subarray(off, off + piece));
        onProgress?.(Math.min(off + piece, total), total);
      }
      parser.end();
      (open as PendingStep | null)?.events.push(...log.drain());
      close();
      const problems = kernel.check();
      if (problems.length > 0) throw new InvariantError(`after the replay: ${problems.join('; ')}`);
      this.kernels.clear();
      this.kernels.set(steps.length, kernel);
      this.pinned = steps.length;
    } catch (e) {
      close();
      if (e instanceof InputError) runError = inputProblem(e);
      else if (e instanceof InvariantError) bug = e.message;
      else throw e;
    }
    kernel.sink = null;
    this.stepEvents = stepEvents.slice(0, steps.length);
    this.reachable = steps.length;
    this.focus = steps.map((s) => s.focus);
    return {
      file: this.file,
      machine: straceMachine(),
      steps,
      statementCount: steps.length,
      runError,
      bug,
      names: Object.fromEntries(names),
      series: eventSeries(steps),
      passed,
      failed,
      runMs: performance.now() - started,
    };
  }

  private stepInfo(
    index: number,
    s: PendingStep,
    names: ReadonlyMap<number, string>,
    arch: ReturnType<typeof archPreset>,
  ): StepInfo {
    const first = s.records[0]!;
    let minor = 0;
    let major = 0;
    let signals = 0;
    for (const e of s.events) {
      if (e.type === 'fault' && e.result === 'minor') minor++;
      if (e.type === 'fault' && e.result === 'major') major++;
      if (e.type === 'signal') signals++;
    }
    const compared = s.records.filter((r) => r.kind === 'compared');
    const agree = compared.every((r) => r.agree === true);
    const proc = names.get(s.pid) ?? `pid ${first.pid}`;
    return {
      index,
      line: first.line,
      column: 1,
      text: first.endLine === first.line ? first.text : `${first.text} (resumed at line ${first.endLine})`,
      kind: `strace-${first.kind}`,
      proc,
      result: resultWords(s.records),
      verdict:
        compared.length === 0
          ? null
          : {
              ok: agree,
              actual: compared.map((r) => r.vmscope ?? '?').join(', '),
              expected: compared.map((r) => r.linux).join(', '),
            },
      killed: null,
      events: s.events.slice(0, EVENT_LIMIT).map((e) => eventInfo(e, names, arch)),
      eventCount: s.events.length,
      eventSummary: s.events.length > EVENT_LIMIT ? summarizeEvents(s.events, arch) : [],
      show: null,
      tlb: s.tlb,
      minorFaults: minor,
      majorFaults: major,
      signals,
      focus: s.focus,
    };
  }

  /** The last reachable position. */
  get lastPosition(): number {
    return this.reachable;
  }

  /**
   * The kernel at `position`: the log replayed on a fresh machine up to the event of step
   * `position + 1` (to the end of the log after the last step), unless one of the two kept is there.
   */
  kernelAt(position: number, background = false): Kernel {
    const p = Math.max(0, Math.min(position, this.reachable));
    const hit = this.kernels.get(p);
    if (hit !== undefined) {
      if (!background) this.pinned = p;
      return hit;
    }
    for (const q of [...this.kernels.keys()]) if (!background || q !== this.pinned) this.kernels.delete(q);
    const kernel = this.newKernel();
    if (p > 0) {
      const replay = this.newReplay(kernel);
      const limit = p < this.stepEvents.length ? this.stepEvents[p]! : Number.POSITIVE_INFINITY;
      let fed = 0;
      const parser = new StraceParser(this.file, (e) => {
        if (fed++ >= limit) throw REACHED;
        replay.feed(e);
      });
      try {
        parser.push(this.bytes);
        parser.end();
      } catch (e) {
        // The next step's event is reached; or the input error that ended the recording run (which
        // said it): the state is the one before it, as there.
        if (e !== REACHED && !(e instanceof InputError)) throw e;
      }
    }
    this.kernels.set(p, kernel);
    if (!background) this.pinned = p;
    return kernel;
  }
}

/** Counts of a finished session's steps in words (`88 calls compared: 88 agree`), for the page's notice. */
export function straceVerdict(sc: LoadedScenario): string {
  const compared = sc.passed + sc.failed;
  return `${counted(compared, 'call')} compared with Linux's results: ${sc.passed} agree, ${sc.failed} diverge`;
}
