/**
 * Whole commands, timed from the outside (wall time and peak resident memory of the process, best
 * of a few runs), against the goals of issue 12 and against a plain C LRU over the same text file
 * (`bench/lru.c`, built here with `gcc -O2` when a compiler is present).
 *
 * The traces are the corpus's, made long the way the issue measured them: the four page traces
 * (memwalk, sort, gzip, python-dict) concatenated and repeated to 68.8 M accesses (one decimal page
 * id per line, ~346 MB), and the four lackey traces three times over (31.3 M records, ~445 MB).
 * `VMSCOPE_BENCH_ACCESSES` makes the page trace shorter; `VMSCOPE_BENCH_ROUNDS` sets the runs per
 * command (default 3). Everything is written to a temporary folder and removed at the end.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { policyNames } from '../src/kernel/reclaim/registry.js';
import { VmtDecoder } from '../src/workload/trace/vmtrace.js';
import { corpusPath } from '../test/corpus.js';
import { recordGoal } from './harness.js';

const ROUNDS = Number(process.env['VMSCOPE_BENCH_ROUNDS'] ?? 3);
const ACCESSES = Number(process.env['VMSCOPE_BENCH_ACCESSES'] ?? 68_800_000);
const TRACES = ['memwalk', 'sort', 'gzip', 'python-dict'];
const TIME = '/usr/bin/time';

/** How to start the vmscope CLI: the compiled copy beside this file, or the sources through tsx. */
function cli(): string[] {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.ts'))
    return ['--import', 'tsx', fileURLToPath(new URL('../src/cli/main.ts', import.meta.url))];
  return [fileURLToPath(new URL('../src/cli/main.js', import.meta.url))];
}

interface Run {
  readonly seconds: number;
  /** Peak resident memory in MB, or null without GNU time. */
  readonly rssMB: number | null;
  readonly stdout: string;
}

/** Runs `cmd` `rounds` times: the best wall time, the largest peak RSS, the last output. */
function timed(cmd: string, args: readonly string[], rounds = ROUNDS): Run {
  let best = Number.POSITIVE_INFINITY;
  let rss: number | null = null;
  let stdout = '';
  const hasTime = existsSync(TIME);
  for (let r = 0; r < rounds; r++) {
    const stats = join(tmpdir(), `vmscope-bench-time-${process.pid}`);
    const t0 = performance.now();
    const p = hasTime
      ? spawnSync(TIME, ['-f', '%e %M', '-o', stats, cmd, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 })
      : spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
    const wall = (performance.now() - t0) / 1000;
    if (p.status !== 0) throw new Error(`bench: ${cmd} ${args.join(' ')} failed: ${p.stderr}`);
    stdout = p.stdout;
    best = Math.min(best, wall);
    if (hasTime) {
      const kb = Number(readFileSync(stats, 'utf8').trim().split(/\s+/).at(-1));
      rss = Math.max(rss ?? 0, kb / 1024);
      rmSync(stats, { force: true });
    }
  }
  return { seconds: best, rssMB: rss, stdout };
}

function vmscope(args: readonly string[], rounds = ROUNDS): Run {
  return timed(process.execPath, [...cli(), ...args], rounds);
}

/** Writes `unit` repeated until `lines` lines are written (cut at a line boundary). @returns the path. */
function repeatToLines(path: string, unit: Uint8Array, lines: number): string {
  let perUnit = 0;
  for (let i = 0; i < unit.length; i++) if (unit[i] === 10) perUnit++;
  const fd = openSync(path, 'w');
  let left = lines;
  while (left >= perUnit) {
    writeSync(fd, unit);
    left -= perUnit;
  }
  let end = 0;
  for (let n = 0; n < left; end++) if (unit[end] === 10) n++;
  writeSync(fd, unit.subarray(0, end));
  closeSync(fd);
  return path;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const mps = (n: number, s: number) => `${(n / s / 1e6).toFixed(1)} M/s`;
const secs = (s: number) => `${s.toFixed(2)} s`;

export function benchCommands(): string[] {
  const lines: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'vmscope-bench-'));
  try {
    const load = loadavg()[0]!;
    lines.push(
      `whole commands (wall time, best of ${ROUNDS}; peak RSS; load average ${load.toFixed(2)} on ${availableParallelism()} CPUs${load > availableParallelism() ? ' — the machine is busy: times are pessimistic' : ''})`,
    );
    const pagesUnit = concat(
      TRACES.map((n) => gunzipSync(readFileSync(corpusPath('memtrace', `${n}.pages.gz`)))),
    );
    const pages = repeatToLines(join(dir, 'trace.pages'), pagesUnit, ACCESSES);
    const lackeyUnit = concat(
      TRACES.map((n) => gunzipSync(readFileSync(corpusPath('memtrace', `${n}.lackey.gz`)))),
    );
    const lackey = join(dir, 'trace.lackey');
    {
      const fd = openSync(lackey, 'w');
      for (let i = 0; i < 3; i++) writeSync(fd, lackeyUnit);
      closeSync(fd);
    }
    lines.push(
      `  traces: ${(ACCESSES / 1e6).toFixed(1)} M page ids as text (${(readFileSync(pages).length / 1e6).toFixed(0)} MB); lackey x3 (${((lackeyUnit.length * 3) / 1e6).toFixed(0)} MB)`,
    );

    // The baseline.
    let cSeconds: number | null = null;
    let cFaults: number | null = null;
    const lruBin = join(dir, 'lru');
    // bench/lru.c: beside this file, or two folders up from its compiled copy in dist-bench/bench.
    const lruC = ['./lru.c', '../../bench/lru.c']
      .map((u) => fileURLToPath(new URL(u, import.meta.url)))
      .find((f) => existsSync(f))!;
    const gcc = spawnSync('gcc', ['-O2', '-o', lruBin, lruC], { encoding: 'utf8' });
    if (gcc.status === 0) {
      const c = timed(lruBin, ['64', pages]);
      cSeconds = c.seconds;
      cFaults = Number(c.stdout.trim().split(' ')[2]);
      lines.push(
        `  plain C LRU (gcc -O2 bench/lru.c), 64 frames: ${secs(c.seconds)} = ${mps(ACCESSES, c.seconds)}, ${c.rssMB?.toFixed(0) ?? '?'} MB, ${cFaults} faults`,
      );
    } else {
      lines.push('  (no C compiler: the rows against the plain C LRU are skipped)');
    }

    // vmscope's binary format, made by vmscope convert.
    const vmt = join(dir, 'trace.vmt');
    const conv = vmscope(['convert', pages, vmt], 1);
    const vmtBytes = readFileSync(vmt);
    lines.push(
      `  vmscope convert text → .vmt: ${secs(conv.seconds)} (${(vmtBytes.length / ACCESSES).toFixed(2)} bytes an access)`,
    );
    {
      let best = Number.POSITIVE_INFINITY;
      let records = 0;
      for (let r = 0; r < ROUNDS; r++) {
        const t0 = performance.now();
        const d = new VmtDecoder('bench', () => {});
        for (let i = 0; i < vmtBytes.length; i += 1 << 20) d.push(vmtBytes.subarray(i, i + (1 << 20)));
        d.end();
        best = Math.min(best, (performance.now() - t0) / 1000);
        records = d.records;
      }
      lines.push(`  .vmt decoding alone (in memory, one thread): ${mps(records, best)}`);
      recordGoal(
        '.vmt read at a few hundred M records/s (>= 200 M/s)',
        mps(records, best),
        records / best >= 200e6,
      );
    }

    const faultsOf = (out: string) => JSON.parse(out).faults as number;
    for (const policy of ['lru', 'fifo', 'clock']) {
      for (const [label, file, limit] of [
        ['text', pages, 1.5],
        ['.vmt', vmt, 1.0],
      ] as const) {
        const r = vmscope(['replay', '--policy-only', '--policy', policy, '--frames', '64', '--json', file]);
        const f = faultsOf(r.stdout);
        if (policy === 'lru' && cFaults !== null && f !== cFaults)
          throw new Error(`bench: LRU faults ${f} != C's ${cFaults}`);
        lines.push(
          `  replay --policy-only ${policy.padEnd(5)} from ${label.padEnd(4)}: ${secs(r.seconds)} = ${mps(ACCESSES, r.seconds)}, ${r.rssMB?.toFixed(0) ?? '?'} MB${cSeconds ? `, ${(r.seconds / cSeconds).toFixed(2)}x the C LRU` : ''}`,
        );
        recordGoal(
          `replay --policy-only ${policy} from ${label} <= ${limit.toFixed(1)}x the C LRU`,
          cSeconds
            ? `${(r.seconds / cSeconds).toFixed(2)}x (${secs(r.seconds)} vs ${secs(cSeconds)})`
            : 'no C compiler',
          cSeconds ? r.seconds / cSeconds <= limit : null,
        );
      }
    }

    const opt = vmscope(['replay', '--policy-only', '--policy', 'opt', '--frames', '64', '--json', pages]);
    lines.push(
      `  replay --policy-only opt from text: ${secs(opt.seconds)} = ${mps(ACCESSES, opt.seconds)}, ${opt.rssMB?.toFixed(0) ?? '?'} MB, ${faultsOf(opt.stdout)} faults`,
    );
    recordGoal(
      'OPT >= 35 M accesses/s (whole command, text)',
      mps(ACCESSES, opt.seconds),
      ACCESSES / opt.seconds >= 35e6,
    );
    recordGoal(
      `OPT resident memory < 100 MB (${(ACCESSES / 1e6).toFixed(1)} M accesses)`,
      opt.rssMB === null ? 'no GNU time' : `${opt.rssMB.toFixed(0)} MB`,
      opt.rssMB === null ? null : opt.rssMB < 100,
    );

    const lvmt = join(dir, 'trace-lackey.vmt');
    vmscope(['convert', lackey, lvmt], 1);
    for (const [label, file, want] of [
      ['lackey text', lackey, 25],
      ['.vmt', lvmt, 40],
    ] as const) {
      const r = vmscope(['replay', '--policy', 'clock', '--frames', '256', '--json', file]);
      const n = JSON.parse(r.stdout).accesses as number;
      lines.push(
        `  replay (full system) clock@256 from ${label}: ${secs(r.seconds)} = ${mps(n, r.seconds)} (${(n / 1e6).toFixed(1)} M accesses), ${r.rssMB?.toFixed(0) ?? '?'} MB`,
      );
      recordGoal(
        `full system from ${label} >= ${want} M accesses/s`,
        mps(n, r.seconds),
        n / r.seconds >= want * 1e6,
      );
    }

    lines.push(...flatness(dir));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return lines;
}

/**
 * Peak RSS of replay (policy only, full system) and mrc for every policy, on a trace and on the
 * same trace four times over (the same pages, four times the accesses): flat means within 10%.
 */
function flatness(dir: string): string[] {
  if (!existsSync(TIME)) {
    recordGoal('peak RSS flat in trace length (every policy)', 'no GNU time (/usr/bin/time)', null);
    return ['  (no /usr/bin/time: the memory-flatness rows are skipped)'];
  }
  const unit = gunzipSync(readFileSync(corpusPath('memtrace', 'python-dict.pages.gz')));
  let n = 0;
  for (const b of unit) if (b === 10) n++;
  const one = repeatToLines(join(dir, 'flat1.pages'), unit, n);
  const four = repeatToLines(join(dir, 'flat4.pages'), unit, 4 * n);
  const out: string[] = [`  peak RSS, ${(n / 1e6).toFixed(1)} M accesses vs the same x4 (MB):`];
  const commands: [string, string[]][] = [
    ['replay --policy-only', ['replay', '--policy-only', '--frames', '64', '--json']],
    ['replay (full system)', ['replay', '--frames', '64', '--json']],
    ['mrc', ['mrc', '--frames', '64,256', '--json']],
  ];
  for (const [label, args] of commands) {
    let worst = { policy: '', ratio: 0 };
    const cells: string[] = [];
    for (const policy of policyNames) {
      const flag = label === 'mrc' ? '--policies' : '--policy';
      const a = vmscope([...args, flag, policy, one], 1).rssMB!;
      const b = vmscope([...args, flag, policy, four], 1).rssMB!;
      cells.push(`${policy} ${a.toFixed(0)}/${b.toFixed(0)}`);
      if (b / a > worst.ratio) worst = { policy, ratio: b / a };
    }
    out.push(`    ${label}: ${cells.join(', ')}`);
    recordGoal(
      `peak RSS of ${label} flat in trace length, every policy (4x within 10%)`,
      `worst ${worst.policy}: x${worst.ratio.toFixed(2)}`,
      worst.ratio <= 1.1,
    );
  }
  return out;
}

// Run directly: `node dist-bench/bench/commands.js`.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const line of benchCommands()) console.log(line);
}
