/**
 * A scenario opened in the engine: parsed once, run once to record every step, and then taken to
 * any position on request (time travel).
 *
 * The kernel is deterministic, so the state at position p is the kernel after running the first p
 * statements on a fresh machine — which is what `stateAt` does, keeping the last kernel it built
 * (stepping at one position, or selecting things there, costs no re-run) and a few recent views.
 * The engine has no way yet to pause a run or copy a kernel, so a jump costs a run of the prefix;
 * see web/README.md ("engine API wished for").
 */
import { InputError, InputErrors, InvariantError } from '../../../src/base/errors.js';
import { archPreset } from '../../../src/hw/arch.js';
import type { ExecFile, ExecFileSource } from '../../../src/kernel/exec/vfs.js';
import type { Kernel } from '../../../src/kernel/kernel.js';
import { type RunOptions, runScenario, type StepRecord } from '../../../src/sim/scenario-runner.js';
import type { Scenario } from '../../../src/workload/scenario/ast.js';
import { parseScenario } from '../../../src/workload/scenario/parse.js';
import { baseName, droppedIndex } from '../logic/dropped.js';
import { stepInfo } from './narration.js';
import type {
  DroppedFiles,
  InputProblem,
  LoadedScenario,
  MachineInfo,
  Series,
  StepInfo,
} from './protocol.js';
import { TimeTravel } from './time-travel.js';

/** An InputError as data the editor can place. */
export function inputProblem(e: InputError): InputProblem {
  const more = e instanceof InputErrors ? e.errors.slice(1).map(inputProblem) : [];
  return {
    code: e.code,
    message: e.message,
    file: e.span.file,
    line: e.span.line ?? null,
    column: e.span.column ?? null,
    hint: e.hint ?? null,
    formatted: e.format(),
    more,
    omitted: e instanceof InputErrors ? e.omitted : 0,
  };
}

/** Parses `text`; @returns its problems (the first, with the others in `more`), or null when it is well formed. */
export function checkScenario(file: string, text: string): InputProblem | null {
  try {
    parseScenario(file, text);
    return null;
  } catch (e) {
    if (e instanceof InputError) return inputProblem(e);
    throw e;
  }
}

/**
 * Where `exec` finds the files the user dropped (logic/dropped.ts): by the exact path the scenario
 * names, inside a dropped folder as a sysroot, else by its last component (so `exec A ./hello` and an
 * interpreter `/lib64/ld-linux-x86-64.so.2` find the dropped `hello` and `ld-linux-x86-64.so.2`).
 * @returns null when nothing was dropped, so that `exec` says it needs files.
 */
export function droppedFileSource(files: DroppedFiles): ExecFileSource | null {
  if (files.length === 0) return null;
  const find = droppedIndex(files);
  const open = (path: string, what: string): ExecFile => {
    const found = find(path);
    if (found.kind === 'ambiguous')
      throw new InputError(
        'exec',
        `the ${what} could be any of the dropped files ${found.names.join(', ')}: drop one of them, or a folder so that the path decides`,
        { file: path },
      );
    if (found.kind === 'missing') throw new InputError('exec', `no such ${what}`, { file: path });
    return { path: found.path, bytes: found.file.bytes };
  };
  return { openProgram: (p) => open(p, 'program'), openInterpreter: (p) => open(p, 'interpreter') };
}

/**
 * Where `replay NAME FILE` finds a dropped trace (already decompressed): by the exact path, else by
 * its last component. @returns null when nothing was dropped, so that `replay` says it needs files.
 */
export function droppedTraceReader(files: DroppedFiles): ((path: string) => Uint8Array) | null {
  if (files.length === 0) return null;
  const byName = new Map(files.map((f) => [f.name, f.bytes]));
  return (path) => {
    const bytes = byName.get(path) ?? byName.get(baseName(path));
    if (bytes === undefined)
      throw new InputError('trace', 'no such file: drop the trace on the page first', { file: path });
    return bytes;
  };
}

/** The machine a scenario asks for, without building it. */
export function scenarioMachine(sc: Scenario): MachineInfo {
  const a = archPreset(sc.machine.arch);
  return {
    arch: a.name,
    description: a.description,
    pageSize: a.pageSize,
    frameCount: sc.machine.ramBytes / a.pageSize,
    ramBytes: sc.machine.ramBytes,
    levels: a.levels,
    levelNames: [...a.levelNames],
    indexBits: [...a.indexBits],
    pageShift: a.pageShift,
    vaBits: a.vaBits,
    userVaLimit: a.userVaLimit,
    addrHexDigits: a.addrHexDigits,
    tlbEntries: sc.machine.tlbEntries,
    tlbWays: sc.machine.tlbWays,
    pteBytes: a.pte.entryBytes,
  };
}

/** Cumulative per-position series from the steps' events (length = steps + 1). */
export function eventSeries(steps: readonly StepInfo[]): Series {
  const n = steps.length + 1;
  const s: Series = {
    minorFaults: new Float64Array(n),
    majorFaults: new Float64Array(n),
    tlbHits: new Float64Array(n),
    tlbMisses: new Float64Array(n),
  };
  for (let i = 0; i < steps.length; i++) {
    const st = steps[i]!;
    s.minorFaults[i + 1] = s.minorFaults[i]! + st.minorFaults;
    s.majorFaults[i + 1] = s.majorFaults[i]! + st.majorFaults;
    s.tlbHits[i + 1] = s.tlbHits[i]! + st.tlb.hits;
    s.tlbMisses[i + 1] = s.tlbMisses[i]! + st.tlb.misses;
  }
  return s;
}

/** Positions (0..last) at which to sample kernel state for the charts: all of them, or `max` spread out. */
export function samplePositions(last: number, max = 160): number[] {
  if (last + 1 <= max) return Array.from({ length: last + 1 }, (_, i) => i);
  const out = new Set<number>();
  for (let i = 0; i < max; i++) out.add(Math.round((i * last) / (max - 1)));
  return [...out].sort((a, b) => a - b);
}

export class ScenarioSession extends TimeTravel {
  readonly scenario: Scenario;
  private readonly files: ExecFileSource | null;
  private readonly readTrace: ((path: string) => Uint8Array) | null;

  /** @throws InputError when the scenario does not parse. */
  constructor(file: string, text: string, files: DroppedFiles = []) {
    super();
    this.scenario = parseScenario(file, text);
    this.files = droppedFileSource(files);
    this.readTrace = droppedTraceReader(files);
  }

  /** What runScenario needs to reach files. */
  private runOptions(): RunOptions {
    return {
      ...(this.files ? { files: this.files } : {}),
      ...(this.readTrace ? { readTrace: this.readTrace } : {}),
    };
  }

  /**
   * Runs the whole scenario once and records each step in words. A statement the scenario cannot
   * do (an InputError at run time) ends the recording there; positions up to it stay reachable.
   * @throws InvariantError on a bug in vmscope.
   */
  run(onProgress?: (done: number, total: number) => void): LoadedScenario {
    const started = performance.now();
    const sc = this.scenario;
    const arch = archPreset(sc.machine.arch);
    const names = new Map<number, string>();
    const pids = new Map<string, number>();
    const steps: StepInfo[] = [];
    let runError: InputProblem | null = null;
    let bug: string | null = null;
    let passed = 0;
    let failed = 0;
    const total = sc.statements.length;
    try {
      const result = runScenario(sc, {
        ...this.runOptions(),
        onStep: (rec: StepRecord) => {
          const st = rec.statement;
          const o = rec.outcome;
          // A fork's child and a new thread are named by the statement that made them.
          for (const e of rec.events) {
            if (e.type !== 'fork' && e.type !== 'thread') continue;
            const pid = e.type === 'fork' ? e.child : e.tid;
            names.set(pid, e.name);
            pids.set(e.name, pid);
          }
          if (
            (o.kind === 'spawn' || o.kind === 'replay') &&
            (st.kind === 'spawn' || st.kind === 'exec' || st.kind === 'replay')
          ) {
            names.set(o.pid, st.name);
            pids.set(st.name, o.pid);
          }
          if (rec.verdict) {
            if (rec.verdict.ok) passed++;
            else failed++;
          }
          steps.push(stepInfo(steps.length, rec, names, pids, arch));
          onProgress?.(steps.length, total);
        },
      });
      this.kernels.clear();
      this.kernels.set(total, result.kernel);
      this.pinned = total;
    } catch (e) {
      if (e instanceof InputError) runError = inputProblem(e);
      else if (e instanceof InvariantError) bug = e.message;
      else throw e;
    }
    this.reachable = steps.length;
    this.focus = steps.map((st) => st.focus);
    return {
      file: sc.file,
      machine: scenarioMachine(sc),
      steps,
      statementCount: total,
      runError,
      bug,
      names: Object.fromEntries(names),
      series: eventSeries(steps),
      passed,
      failed,
      runMs: performance.now() - started,
    };
  }

  /** The last reachable position. */
  get lastPosition(): number {
    return this.reachable;
  }

  /**
   * The kernel after the first `position` statements, re-run from boot unless one of the two kept
   * is there. `background` work never evicts the kernel at the page's position.
   */
  kernelAt(position: number, background = false): Kernel {
    const p = Math.max(0, Math.min(position, this.reachable));
    const hit = this.kernels.get(p);
    if (hit !== undefined) {
      if (!background) this.pinned = p;
      return hit;
    }
    // Drop before building: a big machine's memory is freed before the next is allocated.
    for (const q of [...this.kernels.keys()]) if (!background || q !== this.pinned) this.kernels.delete(q);
    const prefix: Scenario = { ...this.scenario, statements: this.scenario.statements.slice(0, p) };
    const kernel = runScenario(prefix, this.runOptions()).kernel;
    this.kernels.set(p, kernel);
    if (!background) this.pinned = p;
    return kernel;
  }
}
