/** The narrated log and the JSON document of a scenario run. */
import type { Arch } from '../hw/arch.js';
import type { KernelEvent } from '../kernel/events.js';
import { FRAME_KIND_NAMES } from '../kernel/frames.js';
import type { Outcome, RunResult, StepRecord } from '../sim/scenario-runner.js';
import type { Snapshot } from '../sim/snapshot.js';
import { counted } from './format.js';
import { hexAddress, syscallResultJson } from './json.js';
import { narrateEvent, narrateOutcome } from './narrate.js';
import { formatSnapshot } from './show.js';

/**
 * Text for one step: the statement, what happened in words, and any `show` output. `brief` leaves
 * out the event-by-event narration.
 */
export function formatStep(
  arch: Arch,
  step: StepRecord,
  names: ReadonlyMap<number, string>,
  options: { readonly brief?: boolean } = {},
): string {
  const st = step.statement;
  const lines = [`[${st.place.line}] ${st.text}`];
  if (step.verdict) {
    const v = step.verdict;
    lines[0] += v.ok ? '  ok' : `  FAILED: is ${v.actual}, expected ${v.expected}`;
    return `${lines[0]}\n`;
  }
  if (options.brief) {
    const result = narrateOutcome(step.outcome, step);
    if (result) lines.push(`    -> ${result}`);
    if (step.killed) lines.push(`    -> ${step.killed.proc} killed`);
    return `${lines.join('\n')}\n${step.snapshot ? formatSnapshot(arch, step.snapshot) : ''}`;
  }
  let allocated = 0;
  let freed = 0;
  const tablesFreed = step.events.filter((e) => e.type === 'pt-free' && e.level > 0).length;
  for (const e of step.events) {
    if (e.type === 'frame-alloc' || e.type === 'pt-alloc') allocated++;
    if (e.type === 'frame-free' || e.type === 'pt-free') freed++;
    if (e.type === 'pt-free' && tablesFreed > 2) continue; // summarised below
    const text = narrateEvent(e, names, arch);
    if (text) lines.push(`    ${text}`);
  }
  if (tablesFreed > 2) lines.push(`    ${tablesFreed} page tables freed`);
  const result = narrateOutcome(step.outcome, step);
  if (result) lines.push(`    -> ${result}`);
  if (step.killed) {
    const n = step.killed.reclaimedFrames;
    lines.push(`    -> ${step.killed.proc} killed; ${counted(n, 'frame')} reclaimed`);
  }
  if ((allocated || freed) && step.statement.kind === 'op')
    lines.push(`    (frames: ${allocated} allocated, ${freed} freed)`);
  let out = `${lines.join('\n')}\n`;
  if (step.snapshot) out += formatSnapshot(arch, step.snapshot);
  return out;
}

/**
 * The comment lines of a scenario from line `from` to `to` (1-based, inclusive), without their `#`:
 * the lesson a teacher wrote above a statement. Blank lines between comments are kept as blanks.
 */
export function commentBlock(lines: readonly string[], from: number, to: number): string[] {
  const out: string[] = [];
  for (let n = from; n <= to; n++) {
    const t = (lines[n - 1] ?? '').trim();
    if (t.startsWith('#')) out.push(t.replace(/^#\s?/, ''));
    else if (t === '' && out.length > 0) out.push('');
  }
  while (out.at(-1) === '') out.pop();
  while (out[0] === '') out.shift();
  return out;
}

/** pid → process name, for narration. */
export function processNames(run: Pick<RunResult, 'kernel'>): Map<number, string> {
  const names = new Map<number, string>();
  for (const p of run.kernel.processes.values()) names.set(p.pid, p.name);
  return names;
}

/** The summary line at the end of a run. */
export function formatSummary(run: RunResult): string {
  const total = run.passed + run.failed;
  if (total === 0) return `${run.scenario.file}: ${run.steps.length} statements, no expectations\n`;
  return `${run.scenario.file}: ${run.passed} of ${total} expectations hold${run.failed ? `, ${run.failed} failed` : ''}\n`;
}

function snapshotJson(s: Snapshot): unknown {
  if (s.what !== 'frames') return s;
  const counts: Record<string, number> = {};
  for (const k of s.kinds) counts[FRAME_KIND_NAMES[k]!] = (counts[FRAME_KIND_NAMES[k]!] ?? 0) + 1;
  return { what: 'frames', frames: s.kinds.length, byKind: counts };
}

/** An outcome for JSON: a system call's address result as hex (the writer does the address keys). */
function outcomeJson(o: Outcome): unknown {
  return o.kind === 'syscall' ? { ...o, result: syscallResultJson(o.name, o.result) } : o;
}

/** An event for JSON: a system call's numeric arguments and address result as hex. */
function eventJson(e: KernelEvent): unknown {
  if (e.type !== 'syscall') return e;
  return {
    ...e,
    args: e.args.map((a) => (typeof a === 'number' && a >= 0 ? hexAddress(a) : a)),
    result: syscallResultJson(e.name, e.result),
  };
}

/** The run as one JSON-ready object (write it with report/json.ts's `jsonText`). */
export function runJson(run: RunResult): unknown {
  const names = processNames(run);
  const arch = run.kernel.machine.arch;
  return {
    file: run.scenario.file,
    machine: run.scenario.machine,
    passed: run.passed,
    failed: run.failed,
    ok: run.failed === 0,
    steps: run.steps.map((step) => ({
      line: step.statement.place.line,
      text: step.statement.text,
      kind: step.statement.kind,
      outcome: outcomeJson(step.outcome),
      narration: step.events.map((e) => narrateEvent(e, names, arch)).filter((t) => t !== null),
      events: step.events.map(eventJson),
      ...(step.snapshot
        ? { show: snapshotJson(step.snapshot), text: formatSnapshot(arch, step.snapshot) }
        : {}),
      ...(step.verdict ? { expect: step.verdict } : {}),
      ...(step.killed ? { killed: step.killed } : {}),
      tlb: step.tlb,
    })),
  };
}
