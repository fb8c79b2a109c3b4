/**
 * The corpus's strace cases (../shared/corpus/strace/<case>/), read in place: the log, the binary it
 * ran (the ELF case's, or the sharing case's own), the maps recorded at exit and, for the sharing
 * cases, the maps the program printed at each of its marked points. Helpers replay a case.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { sysrootFiles } from '../../src/cli/strace.js';
import { formatMapsLine } from '../../src/report/procfs.js';
import type { MapsLine } from '../../src/sim/snapshot.js';
import type { StraceSummary } from '../../src/sim/strace-model.js';
import { StraceReplay, type StraceReplayOptions } from '../../src/sim/strace-replay.js';
import { StraceParser } from '../../src/workload/strace/parser.js';
import { corpusPath, fromCorpus } from '../corpus.js';

const cases = fromCorpus(
  () =>
    readdirSync(corpusPath('strace'), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort(),
  [] as string[],
);

/** The 24 ELF cases (hello-pie, …) and the sharing cases (fork-cow-a-pie, …). */
export const ELF_CASES: readonly string[] = cases.filter((c) => !c.includes('-a-'));
export const SHARING_CASES: readonly string[] = cases.filter((c) => c.includes('-a-'));

export function binaryPath(name: string): string {
  return name.includes('-a-') ? corpusPath('strace', name, 'prog.gz') : corpusPath('elf', name, 'prog.gz');
}

const binaries = new Map<string, Uint8Array>();

function binary(name: string): Uint8Array {
  let b = binaries.get(name);
  if (b === undefined) {
    b = new Uint8Array(gunzipSync(readFileSync(binaryPath(name))));
    binaries.set(name, b);
  }
  return b;
}

export function logPath(name: string): string {
  return corpusPath('strace', name, 'strace.txt');
}

/**
 * Replays a case's log (environment A=1, as recorded), or the log with `edit` applied to its text,
 * and returns the replay and its summary.
 */
export function replayCase(
  name: string,
  options: Partial<StraceReplayOptions> = {},
  edit: ((text: string) => string) | null = null,
): { replay: StraceReplay; summary: StraceSummary } {
  const sysroot = sysrootFiles(corpusPath('elf', 'sysroot'), null);
  const bytes = binary(name);
  const replay = new StraceReplay(name, {
    files: { ...sysroot, program: (path) => ({ path, bytes }) },
    env: ['A=1'],
    ramBytes: 64 << 20,
    ...options,
  });
  const parser = new StraceParser(logPath(name), (e) => {
    replay.feed(e);
  });
  const log = new Uint8Array(readFileSync(logPath(name)));
  parser.push(edit === null ? log : new TextEncoder().encode(edit(new TextDecoder().decode(log))));
  if (replay.stopped === null) parser.end();
  return { replay, summary: replay.finish() };
}

/** A maps line as the corpus compares them: start-end perms offset name (device and inode aside). */
export function normalizeMaps(text: string): string[] {
  return text
    .trim()
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const f = l.trim().split(/\s+/);
      return [f[0], f[1], f[2], f.slice(5).join(' ')].join(' ');
    });
}

export function ourMaps(lines: readonly MapsLine[] | null): string[] {
  return normalizeMaps((lines ?? []).map((l) => formatMapsLine(l)).join('\n'));
}

export function recordedMaps(name: string, file = 'maps-exit.txt'): string[] {
  return normalizeMaps(readFileSync(corpusPath('strace', name, file), 'utf8'));
}

export interface MarkedPoint {
  readonly name: string;
  readonly pid: number;
  readonly maps: string[];
  /** The log line of the openat of /proc/self/maps that printed them. */
  readonly line: number;
}

/**
 * The points a sharing case printed (`=== POINT name pid=N` then `--- maps`), each matched with the
 * openat("/proc/self/maps") of that pid in the log that read them, in order.
 */
export function markedPoints(name: string): MarkedPoint[] {
  const out = readFileSync(corpusPath('strace', name, 'out.txt'), 'utf8');
  const log = readFileSync(logPath(name), 'utf8').split('\n');
  const opens = new Map<number, number[]>();
  log.forEach((l, i) => {
    const m = /^(\d+)\s+openat\([^,]*, "\/proc\/self\/maps"/.exec(l);
    if (m) opens.set(Number(m[1]), [...(opens.get(Number(m[1])) ?? []), i + 1]);
  });
  const seen = new Map<number, number>();
  const points: MarkedPoint[] = [];
  for (const m of out.matchAll(/=== POINT (\S+) pid=(\d+)\n--- maps\n([\s\S]*?)--- status/g)) {
    const pid = Number(m[2]);
    const k = seen.get(pid) ?? 0;
    seen.set(pid, k + 1);
    const line = opens.get(pid)?.[k];
    if (line === undefined) throw new Error(`${name}: no openat of /proc/self/maps for point ${m[1]}`);
    points.push({ name: m[1]!, pid, maps: normalizeMaps(m[3]!), line });
  }
  return points;
}
