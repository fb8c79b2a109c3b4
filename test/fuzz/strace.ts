/**
 * strace logs, as `vmscope strace` reads them. Two kinds of input:
 *
 *  - `strace-log`: the logs of our own programs recorded on Linux (test/fixtures/strace), damaged
 *    line by line and character by character. Parsed whole and in chunks, alike; with the corpus
 *    (whose sysroot holds their interpreter) also replayed.
 *  - `strace-replay`: made-up lives of a static program — brk, mmap of every flag, munmap, mprotect,
 *    mremap, madvise, files opened, written, truncated and mapped, forks, threads, signals, exits,
 *    interrupted calls — with results that Linux may or may not have given. Replayed with every
 *    kernel invariant checked after every call.
 *
 * A replay either ends (its divergences are findings, not failures) or stops at an input error
 * placed on a line of the log; its report prints without `NaN` or `undefined`; and once every process
 * has ended and the page cache is dropped, RAM is whole again.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { sysrootFiles } from '../../src/cli/strace.js';
import { formatShows, formatStraceSummary, straceJson } from '../../src/report/strace-report.js';
import { type StraceFiles, StraceReplay } from '../../src/sim/strace-replay.js';
import { type StraceEvent, StraceParser } from '../../src/workload/strace/parser.js';
import { corpusPath, hasCorpus } from '../corpus-path.js';
import { MADE_UP_FILES } from '../sim/made-up-program.js';
import {
  applyEdits,
  check,
  chunked,
  cutsArb,
  type Edit,
  editsArb,
  encode,
  type FuzzTarget,
  lineCount,
  type Outcome,
  rejection,
  unitArb,
} from './harness.js';

const SLOPPY = /\bNaN\b|\bundefined\b|\[object /;

/** The events of a log fed as `chunks`, as text to compare, or the InputError. */
function parseEvents(
  file: string,
  chunks: readonly Uint8Array[],
): { events: StraceEvent[]; text: string } | unknown {
  const events: StraceEvent[] = [];
  const p = new StraceParser(file, (e) => {
    events.push(e);
  });
  try {
    for (const c of chunks) p.push(c);
    p.end();
  } catch (e) {
    return e;
  }
  const text = events
    .map((e) =>
      e.kind === 'call'
        ? `${e.pid} ${e.name}@${e.line}-${e.endLine} ${e.text}`
        : `${e.kind} ${e.pid}@${e.line}`,
    )
    .join('\n');
  return { events, text };
}

function isParsed(r: unknown): r is { events: StraceEvent[]; text: string } {
  return typeof r === 'object' && r !== null && 'events' in r;
}

/**
 * Replays `events` on a fresh kernel; checks the report and that nothing leaks. @returns the
 * outcome (an input error placed in the log is a rejection).
 */
function replayEvents(
  file: string,
  lines: number,
  events: readonly StraceEvent[],
  files: StraceFiles,
): Outcome {
  let replay: StraceReplay;
  try {
    replay = new StraceReplay(file, { files, ramBytes: 8 << 20, check: true, smaps: true });
    for (const e of events) replay.feed(e);
  } catch (e) {
    return rejection(e, { file, lines }, `replaying ${file}`);
  }
  const summary = replay.finish();
  const k = replay.kernel;
  const problems = k.check();
  check(problems.length === 0, `after the replay: ${problems.join('; ')}`);
  const text = `${formatStraceSummary(summary)}\n${formatShows(summary, ['maps', 'status', 'smaps'], null)}`;
  check(!SLOPPY.test(text), `the report reads:\n${text}`);
  JSON.stringify(straceJson(summary, ['maps', 'status', 'smaps'], null));
  for (const proc of k.live()) if (proc.alive) k.exit(proc, 0);
  k.dropCaches();
  check(k.check().length === 0, `after every exit: ${k.check().join('; ')}`);
  check(
    k.frames.freeFrames === k.bootFreeFrames,
    `after every exit ${k.bootFreeFrames - k.frames.freeFrames} frames are still in use`,
  );
  return 'accepted';
}

// ---------------------------------------------------------------- damaged recorded logs

const FIXTURES = ['files', 'errors', 'procs'] as const;
const fixture = (name: string, file: string) =>
  new URL(`../fixtures/strace/${name}/${file}`, import.meta.url);
const LOGS = FIXTURES.map((name) => readFileSync(fixture(name, 'strace.txt'), 'utf8'));

/** The fixtures' programs with the corpus's interpreter; null without the corpus. */
function fixtureFiles(name: string): StraceFiles | null {
  if (!hasCorpus) return null;
  const bytes = new Uint8Array(gunzipSync(readFileSync(fixture(name, 'prog.gz'))));
  const sysroot = sysrootFiles(corpusPath('elf', 'sysroot'), null);
  const main = `/tmp/vmscope-fx/${name}`;
  return { ...sysroot, program: (path) => (path === main ? { path, bytes } : sysroot.program(path)) };
}

export const straceLogTarget: FuzzTarget<{ which: number; edits: Edit[]; cuts: number[] }> = {
  name: 'strace-log',
  checks:
    'strace logs recorded on Linux, damaged: parsed alike in any chunks, errors placed on a line of the log; with the corpus, replayed with every invariant checked and nothing left behind',
  quickRuns: 25,
  input: fc.record({
    which: fc.nat({ max: FIXTURES.length - 1 }),
    edits: fc.oneof(
      fc.constant<Edit[]>([]),
      editsArb(fc, [
        '(',
        ')',
        ', ',
        ' = ',
        ' = -1 ENOMEM (Cannot allocate memory)',
        '"',
        '\\',
        '<unfinished ...>',
        '<... mmap resumed>',
        '0x',
        'MAP_FIXED|',
        '\n',
        '+++ exited with 0 +++',
        '--- SIGSEGV {si_signo=SIGSEGV} ---',
      ]),
    ),
    cuts: cutsArb(fc),
  }),
  show: ({ which, edits }) => applyEdits(LOGS[which]!, edits),
  run({ which, edits, cuts }) {
    const name = FIXTURES[which]!;
    const file = `${name}.strace`;
    const text = applyEdits(LOGS[which]!, edits);
    const bytes = encode(text);
    const lines = lineCount(bytes);
    const whole = parseEvents(file, [bytes]);
    const parts = parseEvents(file, chunked(bytes, cuts));
    const said = (r: unknown) =>
      isParsed(r)
        ? r.text
        : r instanceof Error
          ? `error ${'format' in r ? (r as { format(): string }).format() : r.message}`
          : String(r);
    check(
      said(whole) === said(parts),
      `parsed whole and in chunks the log differs:\n  ${said(whole).slice(-300)}\n  ${said(parts).slice(-300)}`,
    );
    if (!isParsed(whole)) {
      check(edits.length > 0, `a recorded log was refused: ${said(whole)}`);
      return rejection(whole, { file, lines }, `parsing ${file}`);
    }
    const files = fixtureFiles(name);
    return files === null ? 'accepted' : replayEvents(file, lines, whole.events, files);
  },
};

// ---------------------------------------------------------------- made-up lives

interface CallDraw {
  readonly kind: number;
  readonly a: number;
  readonly b: number;
  readonly n: number;
  readonly result: number;
}

const callDraw: fc.Arbitrary<CallDraw> = fc.record({
  kind: unitArb(fc),
  a: unitArb(fc),
  b: unitArb(fc),
  n: fc.nat({ max: 64 }),
  result: unitArb(fc),
});

function pick<T>(list: readonly T[], f: number): T {
  return list[Math.floor(f * list.length)]!;
}

const PROT = [
  'PROT_NONE',
  'PROT_READ',
  'PROT_READ|PROT_WRITE',
  'PROT_READ|PROT_EXEC',
  'PROT_READ|PROT_WRITE|PROT_EXEC',
  'PROT_WRITE',
  'PROT_READ|PROT_GROWSDOWN',
  '0x10',
];
const MAP_ANON = [
  'MAP_PRIVATE|MAP_ANONYMOUS',
  'MAP_SHARED|MAP_ANONYMOUS',
  'MAP_PRIVATE|MAP_ANONYMOUS|MAP_STACK',
  'MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE',
  'MAP_PRIVATE|MAP_ANONYMOUS|MAP_POPULATE',
  'MAP_PRIVATE|MAP_ANONYMOUS|MAP_GROWSDOWN',
  'MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED',
  'MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED_NOREPLACE',
  'MAP_SHARED_VALIDATE|MAP_ANONYMOUS',
  'MAP_PRIVATE',
];
const MAP_FILE = [
  'MAP_PRIVATE',
  'MAP_SHARED',
  'MAP_PRIVATE|MAP_FIXED',
  'MAP_SHARED|MAP_FIXED',
  'MAP_PRIVATE|MAP_DENYWRITE',
];
const ADVICE = [
  'MADV_DONTNEED',
  'MADV_FREE',
  'MADV_WILLNEED',
  'MADV_DONTFORK',
  'MADV_WIPEONFORK',
  'MADV_HUGEPAGE',
  'MADV_NORMAL',
  'MADV_REMOVE',
  'MADV_PAGEOUT',
  'MADV_COLD',
  '0x99',
];
const ERRORS = [
  '-1 ENOMEM (Cannot allocate memory)',
  '-1 EINVAL (Invalid argument)',
  '-1 EEXIST (File exists)',
  '-1 EACCES (Permission denied)',
  '-1 EBADF (Bad file descriptor)',
  '-1 EFAULT (Bad address)',
];

/** Renders a life of pid 100: an execve, then the calls, then (usually) an exit. */
export function renderLife(draws: readonly CallDraw[], ending: number): string {
  const lines = ['100 execve("/prog", ["/prog", "x"], ["A=1"]) = 0'];
  const hex = (v: number) => `0x${v.toString(16)}`;
  const maps: { at: number; len: number }[] = [];
  const fds: number[] = [];
  const pids = [100];
  let brk = 0x406000;
  let top = 0x7ffff7fff000;
  let nextPid = 101;
  let nextFd = 3;
  const len = (d: CallDraw) => (1 + (d.n % 16)) * 4096 * (d.n > 60 ? 512 : 1) + (d.n % 13 === 0 ? 123 : 0);
  for (const d of draws) {
    const pid = pick(pids, d.b);
    const ok = d.result < 0.85;
    const err = pick(ERRORS, d.result);
    const where = maps.length > 0 && d.a < 0.8 ? pick(maps, d.a) : { at: 0x10000 * (1 + d.n), len: 4096 };
    const k = d.kind;
    if (k < 0.1) {
      const to = d.a < 0.3 ? 0 : brk + (d.n - 20) * 4096;
      lines.push(`${pid} brk(${to === 0 ? 'NULL' : hex(to)}) = ${hex(ok && to !== 0 ? to : brk)}`);
      if (ok && to !== 0) brk = to;
    } else if (k < 0.35) {
      const l = len(d);
      const fixed = d.n % 5 === 0;
      const flags = fds.length > 0 && d.a > 0.7 ? pick(MAP_FILE, d.b) : pick(MAP_ANON, d.b);
      const fd =
        flags.includes('ANONYMOUS') || fds.length === 0 ? '-1' : `${pick(fds, d.a)}</tmp/f${d.n % 3}>`;
      const at = fixed || flags.includes('FIXED') ? where.at : 0;
      top -= Math.ceil(l / 4096) * 4096;
      const result = at !== 0 ? at : top;
      lines.push(
        `${pid} mmap(${at === 0 ? 'NULL' : hex(at)}, ${l}, ${pick(PROT, d.a)}, ${flags}, ${fd}, ${d.n % 4 === 1 ? '0x1000' : '0'}) = ${ok ? hex(result) : err}`,
      );
      if (ok) maps.push({ at: result, len: l });
    } else if (k < 0.45) {
      lines.push(
        `${pid} munmap(${hex(where.at + (d.n % 3) * 4096)}, ${d.n % 7 === 0 ? where.len + 4096 : where.len}) = ${ok ? 0 : err}`,
      );
    } else if (k < 0.55) {
      lines.push(
        `${pid} mprotect(${hex(where.at)}, ${d.n % 2 ? where.len : 4096}, ${pick(PROT, d.b)}) = ${ok ? 0 : err}`,
      );
    } else if (k < 0.62) {
      const newLen = len({ ...d, n: d.n + 2 });
      const flags = pick(
        ['0', 'MREMAP_MAYMOVE', 'MREMAP_MAYMOVE|MREMAP_FIXED', 'MREMAP_MAYMOVE|MREMAP_DONTUNMAP'],
        d.b,
      );
      const extra = flags.includes('FIXED') ? `, ${hex(where.at + 0x100000)}` : '';
      lines.push(
        `${pid} mremap(${hex(where.at)}, ${where.len}, ${newLen}, ${flags}${extra}) = ${ok ? hex(d.b < 0.5 ? where.at : top - newLen) : err}`,
      );
    } else if (k < 0.68) {
      lines.push(`${pid} madvise(${hex(where.at)}, ${where.len}, ${pick(ADVICE, d.b)}) = ${ok ? 0 : err}`);
    } else if (k < 0.76) {
      const fd = nextFd;
      const path = `/tmp/f${d.n % 3}`;
      if (d.a < 0.4) {
        lines.push(
          `${pid} openat(AT_FDCWD</tmp>, "${path}", O_RDWR|O_CREAT, 0600) = ${ok ? `${fd}<${path}>` : err}`,
        );
        if (ok) {
          fds.push(fd);
          nextFd++;
        }
      } else if (fds.length > 0) {
        const f = pick(fds, d.b);
        const call = pick(['ftruncate', 'write', 'close', 'fstat'], d.a);
        if (call === 'ftruncate')
          lines.push(`${pid} ftruncate(${f}</tmp/f${d.n % 3}>, ${d.n * 1000}) = ${ok ? 0 : err}`);
        else if (call === 'write')
          lines.push(
            `${pid} write(${f}</tmp/f${d.n % 3}>, "${'x'.repeat(d.n % 9)}"..., ${d.n * 100}) = ${d.n * 100}`,
          );
        else if (call === 'close') {
          lines.push(`${pid} close(${f}</tmp/f${d.n % 3}>) = 0`);
          fds.splice(fds.indexOf(f), 1);
        } else
          lines.push(
            `${pid} fstat(${f}</tmp/f${d.n % 3}>, {st_mode=S_IFREG|0600, st_size=${d.n * 1000}, ...}) = 0`,
          );
      }
    } else if (k < 0.82) {
      const child = nextPid++;
      if (d.a < 0.5)
        lines.push(
          `${pid} clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7ffff7dd1a10) = ${child}`,
        );
      else
        lines.push(
          `${pid} clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, child_tid=0x7ffff75cf990, parent_tid=0x7ffff75cf990, exit_signal=0, stack=0x7ffff6dcf000, stack_size=0x7fff00, tls=0x7ffff75cf6c0} => {parent_tid=[${child}]}, 88) = ${child}`,
        );
      pids.push(child);
    } else if (k < 0.86) {
      lines.push(
        `${pid} mmap(NULL, ${len(d)}, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0 <unfinished ...>`,
      );
      if (pids.length > 1) lines.push(`${pick(pids, d.a)} getpid() = ${pid}`);
      top -= Math.ceil(len(d) / 4096) * 4096;
      lines.push(`${pid} <... mmap resumed>) = ${ok ? hex(top) : err}`);
    } else if (k < 0.9) {
      lines.push(
        `${pid} --- SIGSEGV {si_signo=SIGSEGV, si_code=${d.a < 0.5 ? 'SEGV_MAPERR' : 'SEGV_ACCERR'}, si_addr=${hex(where.at + 8)}} ---`,
      );
      if (d.b < 0.5) {
        lines.push(`${pid} +++ killed by SIGSEGV +++`);
        if (pid !== 100) pids.splice(pids.indexOf(pid), 1);
      }
    } else if (k < 0.94 && pid !== 100) {
      lines.push(
        `${pid} ${d.a < 0.5 ? 'exit' : 'exit_group'}(${d.n % 4}) = ?`,
        `${pid} +++ exited with ${d.n % 4} +++`,
      );
      pids.splice(pids.indexOf(pid), 1);
    } else {
      lines.push(`${pid} getrandom("\\x01\\x02", 2, GRND_NONBLOCK) = 2`);
    }
  }
  if (ending < 0.8)
    lines.push(
      `100 exit_group(${Math.floor(ending * 3)}) = ?`,
      `100 +++ exited with ${Math.floor(ending * 3)} +++`,
    );
  return `${lines.join('\n')}\n`;
}

export const straceReplayTarget: FuzzTarget<{ draws: CallDraw[]; ending: number; edits: Edit[] }> = {
  name: 'strace-replay',
  checks:
    'made-up strace logs of a static program (brk, mmap of every flag, munmap, mprotect, mremap, madvise, files, forks, threads, signals, exits, interrupted calls): replayed with every invariant checked, errors placed, nothing left behind',
  quickRuns: 60,
  input: fc.record({
    draws: fc.array(callDraw, { minLength: 0, maxLength: 40 }),
    ending: unitArb(fc),
    edits: fc.oneof(
      { weight: 3, arbitrary: fc.constant<Edit[]>([]) },
      { weight: 1, arbitrary: editsArb(fc, ['(', ')', ', ', ' = ', '0x', '|MAP_FIXED', '\n']) },
    ),
  }),
  show: ({ draws, ending, edits }) => applyEdits(renderLife(draws, ending), edits),
  run({ draws, ending, edits }) {
    const text = applyEdits(renderLife(draws, ending), edits);
    const file = 'life.strace';
    const bytes = encode(text);
    const lines = lineCount(bytes);
    const parsed = parseEvents(file, [bytes]);
    if (!isParsed(parsed)) return rejection(parsed, { file, lines }, `parsing ${file}`);
    return replayEvents(file, lines, parsed.events, MADE_UP_FILES);
  },
};
