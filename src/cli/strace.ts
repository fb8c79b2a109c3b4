/**
 * `vmscope strace LOG`: replays a real program's strace log through the kernel — the program and its
 * interpreter loaded from the sysroot as the log's execve did, then every memory call applied with
 * its logged arguments and checked against Linux's result. The log streams (plain, .gz or .zst).
 */
import { Buffer } from 'node:buffer';
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { InputError, InvariantError } from '../base/errors.js';
import { grouped } from '../base/units.js';
import type { ExecFile } from '../kernel/exec/vfs.js';
import { jsonText } from '../report/json.js';
import {
  formatShows,
  formatStraceSummary,
  type StraceShow,
  straceChartSvg,
  straceJson,
} from '../report/strace-report.js';
import { type LoggedMemory, loggedMemory, MAX_RAM_BYTES, ramFor } from '../sim/strace-machine.js';
import { parseStopAt, type StopAt, type StraceFiles, StraceReplay } from '../sim/strace-replay.js';
import { StraceParser } from '../workload/strace/parser.js';
import { parseEnv } from './exec.js';
import { EXIT_FAILED, EXIT_INPUT, EXIT_OK, type Io } from './io.js';
import { checkRam } from './options.js';
import { checkOutputPath, writeOutput } from './output.js';
import { terminalBar } from './progress.js';
import { openTrace } from './trace-source.js';
import { resolveInRoot } from './vfs.js';

export const STRACE_SHOW_CHOICES = ['maps', 'status', 'smaps'] as const;

export interface StraceFlags {
  readonly sysroot: string;
  readonly exe: string | null;
  readonly cwd: string | null;
  readonly env: readonly string[];
  readonly at: string | null;
  readonly pid: number | null;
  readonly show: readonly StraceShow[];
  readonly strict: boolean;
  readonly json: boolean;
  readonly plot: string | null;
  readonly check: boolean;
  /** `--ram`, or null: the recorded machine's when the log shows it, else {@link DEFAULT_RAM}. */
  readonly ramBytes: number | null;
}

/** The simulated machine's memory when neither --ram nor the log says. */
export const DEFAULT_RAM = 256 * 2 ** 20;

/** How much of a log is searched for the machine's memory (programs ask early, if at all). */
const MEMORY_SCAN_BYTES = 8 * 2 ** 20;

/**
 * The machine's memory as the head of a log (a regular file, read again afterwards) shows it, or
 * null: standard input and pipes are read once, by the replay.
 */
async function memoryInLog(log: string): Promise<LoggedMemory | null> {
  try {
    if (!statSync(log).isFile()) return null;
  } catch {
    return null; // the replay's own read names the problem
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of openTrace(log, { bytes: 0 })) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= MEMORY_SCAN_BYTES) break;
  }
  const text = new TextDecoder().decode(Buffer.concat(chunks));
  // A line cut at the end of the scan is left out.
  return loggedMemory(size >= MEMORY_SCAN_BYTES ? text.slice(0, text.lastIndexOf('\n') + 1) : text);
}

/** `--at N` (a log line) or `--at NAME#K` (the K-th call NAME). */
export function parseAt(text: string): StopAt {
  const stop = parseStopAt(text);
  if (stop !== null) return stop;
  throw new InputError('flag', `--at expects a log line number or NAME#K (e.g. mmap#12), got '${text}'`, {
    file: '--at',
  });
}

function readBinary(path: string, shown: string): Uint8Array {
  let bytes: Uint8Array;
  try {
    if (statSync(path).isDirectory()) throw new InputError('strace', 'is a directory', { file: shown });
    bytes = new Uint8Array(readFileSync(path));
  } catch (e) {
    if (e instanceof InputError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError('strace', code === 'ENOENT' ? 'no such file' : `cannot read it (${code})`, {
      file: shown,
    });
  }
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      return new Uint8Array(gunzipSync(bytes));
    } catch {
      throw new InputError('strace', 'not a valid gzip file', { file: shown });
    }
  }
  return bytes;
}

/** `--exe`'s path as Linux's maps would name the program: links resolved, without a `.gz`. */
function programPath(exe: string): string {
  let path = resolve(exe);
  try {
    path = realpathSync(path);
  } catch {
    // A missing file is named when it is read.
  }
  return path.replace(/\.gz$/, '');
}

/**
 * The files of the recorded machine, from a sysroot: the program at its path inside it (or `--exe`
 * for the log's first program), interpreters and other files with links resolved as a chroot would.
 */
export function sysrootFiles(sysroot: string, exe: string | null): StraceFiles {
  const root = resolve(sysroot);
  const inside = (p: string): string => resolveInRoot(root, p);
  const host = (p: string): string => (root === '/' ? p : `${root}${p}`);
  let exePath: string | null = null;
  return {
    program(path: string): ExecFile {
      if (exe !== null && (exePath === null || exePath === path)) {
        exePath = path;
        return { path, bytes: readBinary(exe, exe) };
      }
      const seen = inside(path);
      const where = root === '/' ? seen : `${host(seen)} (in --sysroot ${sysroot})`;
      return { path: seen, bytes: readBinary(host(seen), where) };
    },
    interpreter(path: string): ExecFile {
      const seen = inside(path);
      return { path: seen, bytes: readBinary(host(seen), `${host(seen)} (the interpreter ${path})`) };
    },
    size(path: string): number | null {
      try {
        const st = statSync(host(inside(path)));
        return st.isFile() ? st.size : null;
      } catch {
        return null;
      }
    },
    resolve: inside,
  };
}

function progressBar(path: string, progress: { bytes: number }, io: Io): { tick(): void; stop(): void } {
  let total = 0;
  try {
    total = statSync(path).size;
  } catch {
    total = 0;
  }
  const bar =
    total < 8 << 20
      ? null
      : terminalBar(io, 'strace [{bar}] {percentage}% | {value}/{total} MB read', Math.ceil(total / 1e6), {});
  if (bar === null) return { tick() {}, stop() {} };
  let last = 0;
  return {
    tick() {
      const now = Date.now();
      if (now - last < 200) return;
      last = now;
      bar.update(Math.floor(progress.bytes / 1e6));
    },
    stop() {
      bar.stop();
    },
  };
}

function mibText(bytes: number): string {
  return `${grouped(Math.floor(bytes / 2 ** 20))} MiB`;
}

export async function runStrace(log: string, flags: StraceFlags, io: Io): Promise<number> {
  if (flags.plot !== null) checkOutputPath('--plot', flags.plot);
  const stop = flags.at === null ? null : parseAt(flags.at);
  const env = parseEnv(flags.env);
  if (flags.ramBytes !== null) checkRam(flags.ramBytes);
  let ramBytes = flags.ramBytes ?? DEFAULT_RAM;
  if (flags.ramBytes === null) {
    const logged = await memoryInLog(log);
    if (logged !== null) {
      ramBytes = ramFor(logged);
      const capped = ramBytes < logged.bytes ? ` (vmscope's largest: ${mibText(MAX_RAM_BYTES)})` : '';
      io.err(
        `${log}: note: line ${logged.line}: the recorded machine had ${mibText(logged.bytes)} of RAM (${logged.source}): replaying on ${mibText(ramBytes)}${capped}; --ram sets another size\n`,
      );
    }
  }
  const replay = new StraceReplay(log, {
    files: sysrootFiles(flags.sysroot, flags.exe),
    // A relative execve path: the working directory the log was recorded in, or (with the host as
    // the sysroot) this one.
    cwd: flags.cwd ?? (resolve(flags.sysroot) === '/' ? process.cwd() : null),
    env,
    // A log without an execve (-e trace=%memory) starts from --exe, at its path on this machine.
    firstProgram: flags.exe === null ? null : programPath(flags.exe),
    strict: flags.strict,
    stop,
    pid: flags.pid,
    ramBytes,
    check: flags.check,
    samples: flags.plot !== null,
    smaps: flags.show.includes('smaps'),
  });
  const parser = new StraceParser(log, (e) => {
    replay.feed(e);
  });
  const progress = { bytes: 0 };
  const bar = progressBar(log, progress, io);
  try {
    for await (const chunk of openTrace(log, progress)) {
      parser.push(chunk);
      bar.tick();
      if (replay.stopped !== null) break;
    }
    if (replay.stopped === null) parser.end();
  } finally {
    bar.stop();
  }
  const problems = replay.kernel.check();
  if (problems.length > 0) throw new InvariantError(`after the replay: ${problems.join('; ')}`);
  const summary = replay.finish();
  for (const w of summary.warnings) io.err(`${log}: warning: ${w}\n`);
  if (flags.pid !== null && !summary.processes.some((p) => p.pid === flags.pid))
    throw new InputError('flag', `--pid ${flags.pid}: the log has no such process`, { file: '--pid' });
  if (flags.json) {
    io.out(jsonText(straceJson(summary, flags.show, flags.pid)));
  } else {
    io.out(formatStraceSummary(summary));
    if (flags.show.length > 0) io.out(`\n${formatShows(summary, flags.show, flags.pid)}`);
  }
  // The file last, so that one that cannot be written loses nothing but itself.
  if (flags.plot !== null && !writeOutput('--plot', flags.plot, await straceChartSvg(summary), io))
    return EXIT_INPUT;
  return summary.divergences.length > 0 ? EXIT_FAILED : EXIT_OK;
}
