/** `vmscope run FILE`: runs a scenario and narrates it. */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { InputError } from '../base/errors.js';
import { archPreset } from '../hw/arch.js';
import { describePolicy } from '../kernel/reclaim/registry.js';
import { jsonText } from '../report/json.js';
import { commentBlock, formatStep, formatSummary, runJson } from '../report/scenario-report.js';
import { runScenario } from '../sim/scenario-runner.js';
import type { Scenario } from '../workload/scenario/ast.js';
import { parseScenario } from '../workload/scenario/parse.js';
import { detectCompression } from '../workload/trace/detect.js';
import { colors, EXIT_FAILED, EXIT_OK, type Io } from './io.js';
import { loadPolicy } from './plugins.js';
import { hostFileSource } from './vfs.js';

export interface RunFlags {
  readonly json?: boolean;
  readonly check?: boolean;
  /** Where `exec` statements find interpreters (default `/`). */
  readonly sysroot?: string;
  /** The scenario's text: its comments are printed above the statements they precede (the tour). */
  readonly lesson?: string;
  /** Each statement with its result only, no event-by-event narration. */
  readonly brief?: boolean;
}

/**
 * Reads a text file, or throws an InputError naming it — also for a binary file (an ELF program
 * given to `run` is pointed to `exec`).
 */
export function readTextFile(path: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'is a directory'
          : `cannot read it (${code ?? String(e)})`;
    throw new InputError('file', why, { file: path });
  }
  if (bytes.subarray(0, 4).equals(Buffer.from('\x7fELF', 'latin1')))
    throw new InputError(
      'file',
      'this is an ELF program, not a scenario',
      { file: path },
      `to load it as Linux's execve does: vmscope exec ${path}; in a scenario: exec P ${path}`,
    );
  if (bytes.subarray(0, 8192).includes(0))
    throw new InputError('file', 'this is a binary file, not a scenario (a text file of statements)', {
      file: path,
    });
  return bytes.toString('utf8');
}

/** A whole trace file for a scenario's `replay` (gunzipped when its first bytes say gzip). */
function readTraceFile(hostPath: string, shown: string): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(hostPath));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError('trace', code === 'ENOENT' ? 'no such file' : `cannot read it (${code})`, {
      file: shown,
    });
  }
  if (detectCompression(bytes) !== 'gzip') return bytes;
  try {
    return new Uint8Array(gunzipSync(bytes));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'Z_BUF_ERROR')
      throw new InputError('trace', 'the gzip stream ended early (the file is truncated)', { file: shown });
    throw new InputError('trace', 'not a valid gzip file', { file: shown });
  }
}

/**
 * Parses and runs one scenario file, loading the plug-in policy its machine line names (relative to
 * the scenario's folder); returns the exit status. Input errors propagate.
 */
export async function runScenarioFile(path: string, flags: RunFlags, io: Io): Promise<number> {
  return runParsed(await withPlugin(parseScenario(path, readTextFile(path))), flags, io);
}

/** The scenario with its plug-in policy loaded and named by its registry key. */
export async function withPlugin(sc: Scenario): Promise<Scenario> {
  if (sc.policyPlace === null) return sc;
  const where = { file: sc.file, ...sc.policyPlace };
  const key = await loadPolicy(sc.policy, dirname(sc.file), where);
  const d = describePolicy(key);
  if (d.needsFuture) {
    throw new InputError(
      'scenario',
      `plug-in policy '${d.name}' needs the future: it runs only in trace replays (vmscope replay)`,
      where,
    );
  }
  return { ...sc, policy: key };
}

/** Runs a parsed scenario, printing the narrated log (or JSON at the end). */
export function runParsed(scenario: Scenario, flags: RunFlags, io: Io): number {
  const c = colors(io);
  const arch = archPreset(scenario.machine.arch);
  const names = new Map<number, string>();
  const lessonLines = flags.lesson?.split(/\r?\n/) ?? null;
  let lastLine = 0;
  const run = runScenario(scenario, {
    check: flags.check ?? false,
    files: hostFileSource(flags.sysroot ?? '/', dirname(scenario.file)),
    readTrace: (path) => readTraceFile(resolve(dirname(scenario.file), path), path),
    onStep: (step) => {
      if (step.outcome.kind === 'spawn' && step.statement.kind === 'spawn')
        names.set(step.outcome.pid, step.statement.name);
      for (const e of step.events) {
        if (e.type === 'fork') names.set(e.child, e.name);
        if (e.type === 'thread') names.set(e.tid, e.name);
      }
      if (flags.json) return;
      const line = step.statement.place.line;
      if (lessonLines !== null) {
        const comments = commentBlock(lessonLines, lastLine + 1, line - 1);
        if (comments.length > 0) io.out(`\n${comments.map((t) => c.cyan(t ? `  ${t}` : '')).join('\n')}\n`);
        lastLine = line;
      }
      let text = formatStep(arch, step, names, { brief: flags.brief ?? false });
      if (step.verdict)
        text = text
          .replace(/ {2}ok\n$/, `  ${c.green('ok')}\n`)
          .replace(/ {2}FAILED:/, `  ${c.red('FAILED')}:`);
      io.out(text);
    },
  });
  if (flags.json) {
    io.out(jsonText(runJson(run)));
  } else {
    const failures = run.steps.filter((s) => s.verdict && !s.verdict.ok);
    if (failures.length > 0) io.out('\n');
    for (const f of failures) {
      io.out(
        `${scenario.file}:${f.statement.place.line}: expectation failed: ${f.statement.text} (is ${f.verdict!.actual})\n`,
      );
    }
    io.out(`\n${formatSummary(run)}`);
  }
  return run.failed > 0 ? EXIT_FAILED : EXIT_OK;
}
