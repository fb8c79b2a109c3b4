/**
 * Scenarios (`*.vms`), as `vmscope run` and the visualizer take them: random programs of every
 * statement the language has — processes spawned and exec-ed, files, fork, threads, mmap of every
 * kind, mremap, madvise, msync, mlock, malloc/free/realloc, brk, accesses, exits and kills, shows and
 * expectations — on small machines of every architecture, with swap, frame caps, local replacement and
 * overcommit, then sometimes damaged. Each is parsed (every error placed on a line of the file), run
 * with every kernel invariant checked after every statement, narrated as `vmscope run` prints it (no
 * `NaN`, `undefined` or `[object …]`), and ended: once every process has exited and the page cache is
 * dropped, RAM must be whole again.
 */
import fc from 'fast-check';
import { InputError } from '../../src/base/errors.js';
import { type ArchName, archPreset } from '../../src/hw/arch.js';
import { memoryFileSource } from '../../src/kernel/exec/vfs.js';
import { jsonText } from '../../src/report/json.js';
import { formatStep, formatSummary, processNames, runJson } from '../../src/report/scenario-report.js';
import { runScenario } from '../../src/sim/scenario-runner.js';
import type { Scenario } from '../../src/workload/scenario/ast.js';
import { parseScenario } from '../../src/workload/scenario/parse.js';
import { makeElf, PF_R, PF_W, PF_X } from '../exec/make-elf.js';
import {
  applyEdits,
  check,
  type Edit,
  editsArb,
  type FuzzTarget,
  lineCount,
  rejection,
  unitArb,
} from './harness.js';

/** A statement to be rendered against the names defined so far: choices are fractions in [0, 1). */
interface Draw {
  readonly kind: number;
  readonly a: number;
  readonly b: number;
  readonly c: number;
  readonly n: number;
  readonly m: number;
}

const unit = unitArb(fc);
const draw: fc.Arbitrary<Draw> = fc.record({
  kind: unit,
  a: unit,
  b: unit,
  c: unit,
  n: fc.nat({ max: 40 }),
  m: fc.nat({ max: 7 }),
});

interface MachineDraw {
  readonly arch: ArchName;
  readonly ram: number;
  readonly swap: number;
  readonly frames: number;
  readonly policy: string;
  readonly scope: 0 | 1 | 2 | 3;
  readonly malloc: string;
  readonly overcommit: number;
}

const machineDraw: fc.Arbitrary<MachineDraw> = fc.record({
  arch: fc.constantFrom<ArchName>('x86_64', 'x86_64', 'riscv-sv39', 'i386', 'teach16'),
  ram: fc.nat({ max: 3 }),
  swap: fc.nat({ max: 3 }),
  frames: fc.nat({ max: 3 }),
  policy: fc.constantFrom('clock', 'lru', 'fifo', 'second-chance', 'random', 'arc', 'sieve', 'lfu'),
  scope: fc.constantFrom(0 as const, 0 as const, 1 as const, 2 as const, 3 as const),
  malloc: fc.constantFrom('binned', 'first-fit', 'buddy', 'tlsf', 'segregated', 'best-fit'),
  overcommit: fc.nat({ max: 3 }),
});

function pick<T>(list: readonly T[], f: number): T | undefined {
  return list.length === 0 ? undefined : list[Math.floor(f * list.length)];
}

const PROTS = ['rw-', 'r--', 'r-x', '---', 'rwx', '-w-'];
const ADVICE = [
  'dontneed',
  'free',
  'willneed',
  'dontfork',
  'dofork',
  'wipeonfork',
  'keeponfork',
  'random',
  'sequential',
  'normal',
  'hugepage',
  'cold',
  'pageout',
  'remove',
  'populate_read',
  'populate_write',
];
const STATUS = [
  'VmSize',
  'VmRSS',
  'VmHWM',
  'RssAnon',
  'RssFile',
  'RssShmem',
  'VmData',
  'VmStk',
  'VmPTE',
  'VmSwap',
  'VmLck',
  'Pss',
  'Swap',
  'Locked',
  'minflt',
  'majflt',
  'maps',
  'Threads',
];
const MEMINFO = [
  'MemFree',
  'Cached',
  'SwapFree',
  'Dirty',
  'AnonPages',
  'Shmem',
  'PageTables',
  'Committed_AS',
  'CommitLimit',
  'SwapCached',
  'Mapped',
];
const SMAPS = [
  'Rss',
  'Pss',
  'Size',
  'Private_Dirty',
  'Shared_Clean',
  'Swap',
  'Anonymous',
  'Locked',
  'LazyFree',
];
/** Fields compared with words, and the words. */
const WORD_FIELDS: readonly (readonly [string, readonly string[]])[] = [
  ['state', ['running', 'exited', 'killed']],
  ['signal', ['SIGSEGV', 'SIGBUS', 'SIGKILL', 'SIGABRT', 'none']],
  ['exitcode', ['0', '1', '7']],
  ['ret', ['0', '-ENOMEM', '-EINVAL', '-EEXIST', '-EPERM']],
];
const SHOWS = ['maps', 'status', 'smaps', 'smaps_rollup', 'pagetable', 'tlb'];

/** The machine-dependent unit of sizes: a page. */
function pageOf(arch: ArchName): number {
  return archPreset(arch).pageSize;
}

interface Proc {
  readonly name: string;
  alive: boolean;
  /** Labels, shared by threads of one address space (a fork copies them). */
  labels: string[];
}

/** Renders draws into the text of a scenario, keeping names mostly defined and processes mostly alive. */
export function renderScenario(m: MachineDraw, draws: readonly Draw[]): string {
  const ps = pageOf(m.arch);
  const big = m.arch === 'teach16' ? 1 : 4;
  const ram = m.arch === 'teach16' ? [16, 32, 64, 8][m.ram]! * 1024 : [1, 4, 16, 2][m.ram]! * 1024 * 1024;
  const opts = [`ram=${ram}`];
  if (m.swap > 0) opts.push(`swap=${[0, 8, 64, 512][m.swap]! * ps}`);
  if (m.frames > 0) opts.push(`frames=${[0, 2, 6, 24][m.frames]}`);
  opts.push(`policy=${m.policy}`);
  if (m.scope > 0) opts.push('scope=local', `allocation=${['', 'equal', 'proportional', 'pff'][m.scope]}`);
  opts.push(`malloc=${m.malloc}`);
  if (m.overcommit > 0) opts.push(`overcommit=${m.overcommit - 1}`);
  const lines = [`machine ${m.arch} ${opts.join(' ')}`];
  const procs: Proc[] = [];
  const files: string[] = [];
  let serial = 0;
  const fresh = (prefix: string) => `${prefix}${serial++}`;
  const size = (d: Draw) => `${(1 + (d.n % 12)) * ps * (d.m === 0 ? big * 8 : 1)}`;
  const live = () => procs.filter((p) => p.alive);
  /** An address: a label with an offset, a base, a number. */
  const addr = (p: Proc, d: Draw): string => {
    const off = d.m % 3 === 0 ? '' : `+${(d.n % 5) * ps + (d.m === 5 ? 8 : 0)}`;
    const label = pick(p.labels, d.b);
    if (label !== undefined && d.c < 0.75) return `${label}${off}`;
    if (d.c < 0.9)
      return `${pick(['code', 'data', 'bss', 'heap', 'brk', 'stack'], d.b)}${d.m === 1 ? `-${ps}` : off}`;
    return `0x${Math.floor(d.a * 2 ** (m.arch === 'teach16' ? 16 : 32)).toString(16)}`;
  };
  const spawn = (d: Draw) => {
    const name = fresh('P');
    procs.push({ name, alive: true, labels: [] });
    if (m.arch === 'x86_64' && d.c < 0.25) return `exec ${name} /bin/prog one two`;
    if (m.arch !== 'teach16' && d.c < 0.35) {
      procs.at(-1)!.labels = [];
      return `replay ${name} trace${d.m % 2}.txt`;
    }
    const parts = [`spawn ${name}`];
    if (d.a < 0.5) parts.push(`code=${ps * (1 + (d.n % 3))}`);
    if (d.b < 0.5) parts.push(`data=${ps * (d.n % 3)}`);
    if (d.b > 0.5) parts.push(`bss=${ps * (d.n % 4)}`);
    return parts.join(' ');
  };
  lines.push(spawn({ kind: 0, a: 0, b: 0, c: 0.5, n: 1, m: 1 }));
  for (const d of draws) {
    const p = pick(live(), d.a) ?? (d.b < 0.1 ? pick(procs, d.a) : undefined);
    const k = d.kind;
    if (p === undefined || k < 0.04) {
      lines.push(spawn(d));
      continue;
    }
    const P = p.name;
    if (k < 0.1) {
      const name = pick(files, d.b);
      if (name === undefined || d.c < 0.5) {
        const f = fresh('f');
        files.push(f);
        lines.push(`file ${f} ${(d.n % 9) * ps + (d.m === 3 ? 100 : 0)}${d.m % 2 ? ` fill=${d.n}` : ''}`);
      } else
        lines.push(
          d.c < 0.8
            ? `truncate ${name} ${(d.n % 7) * ps + (d.m === 2 ? 5 : 0)}`
            : d.c < 0.9
              ? 'sync'
              : 'drop_caches',
        );
    } else if (k < 0.3) {
      const op = pick(['read', 'write', 'write', 'fetch'], d.b)!;
      const len = d.m < 3 || op === 'fetch' ? '' : ` ${(d.n % 3) * ps + d.m}`;
      lines.push(`${P}: ${op} ${addr(p, d)}${len}${op === 'write' && d.c > 0.5 ? ` fill=${d.n}` : ''}`);
    } else if (k < 0.42) {
      const label = fresh('m');
      const flags: string[] = [d.b < 0.4 ? 'shared' : 'private'];
      const f = pick(files, d.c);
      if (f !== undefined && d.m < 4) flags.push(`file=${f}`, ...(d.m === 1 ? [`offset=${ps}`] : []));
      if (d.n % 7 === 0) flags.push(`fixed=${addr(p, { ...d, c: 0.1 })}`);
      else if (d.n % 7 === 1) flags.push(`noreplace=${addr(p, { ...d, c: 0.95 })}`);
      else if (d.n % 7 === 2) flags.push(`hint=${addr(p, { ...d, c: 0.95 })}`);
      if (d.m === 5) flags.push('populate');
      if (d.m === 6) flags.push(pick(['stack', 'growsdown', 'noreserve', 'locked'], d.a)!);
      p.labels.push(label);
      lines.push(`${P}: mmap ${label} ${size(d)} ${pick(PROTS, d.a)} ${flags.join(' ')}`);
    } else if (k < 0.5) {
      const label = pick(p.labels, d.b);
      if (label === undefined) continue;
      const op = pick(['munmap', 'mprotect', 'mremap', 'madvise', 'msync', 'mlock', 'munlock'], d.c)!;
      const len = size(d);
      if (op === 'mprotect') lines.push(`${P}: mprotect ${addr(p, d)} ${len} ${pick(PROTS, d.a)}`);
      else if (op === 'mremap')
        lines.push(
          `${P}: mremap ${label} ${size({ ...d, n: d.n + 3 })}${d.m % 2 ? ' maymove' : ''}${d.m === 3 ? ' dontunmap' : ''}${d.m === 5 ? ` fixed=${addr(p, { ...d, c: 0.95 })}` : ''}`,
        );
      else if (op === 'madvise') lines.push(`${P}: madvise ${addr(p, d)} ${len} ${pick(ADVICE, d.a)}`);
      else if (op === 'msync')
        lines.push(
          `${P}: msync ${addr(p, d)} ${len} ${d.m % 2 ? 'async' : 'sync'}${d.m > 4 ? ' invalidate' : ''}`,
        );
      else if (op === 'mlock') lines.push(`${P}: mlock ${addr(p, d)} ${len}${d.m % 2 ? ' onfault' : ''}`);
      else lines.push(`${P}: ${op} ${addr(p, d)} ${len}`);
    } else if (k < 0.6) {
      const label = pick(p.labels, d.b);
      if (label === undefined || d.c < 0.4) {
        const l = fresh('b');
        p.labels.push(l);
        lines.push(`${P}: malloc ${l} ${d.m === 0 ? 200_000 : (d.n + 1) * (d.m + 1) * 8}`);
      } else
        lines.push(
          d.c < 0.7 ? `${P}: free ${label}` : `${P}: realloc ${label} ${(d.n + 1) * (d.m * 300 + 1)}`,
        );
    } else if (k < 0.65) {
      lines.push(
        `${P}: ${d.b < 0.5 ? `sbrk ${d.m === 0 ? '-' : ''}${(d.n % 5) * ps}` : `brk ${addr(p, { ...d, c: 0.7 })}`}`,
      );
    } else if (k < 0.71) {
      const child = fresh(d.b < 0.6 ? 'C' : 'T');
      const thread = child.startsWith('T');
      // A fork copies the labels; a thread shares them.
      const labels = thread ? p.labels : [...p.labels];
      const entry: Proc = { name: child, alive: true, labels };
      procs.push(entry);
      lines.push(`${P}: ${thread ? 'thread' : 'fork'} ${child}`);
    } else if (k < 0.75) {
      if (d.b < 0.5) lines.push(`${P}: exit${d.m ? ` ${d.m}` : ''}`);
      else lines.push(`kill ${P}`);
      // A process's exit ends its threads; the model only needs to stop using this one.
      p.alive = false;
    } else if (k < 0.77) {
      lines.push(`${P}: oom_score_adj ${Math.floor(d.c * 2001) - 1000}`);
    } else if (k < 0.87) {
      const what = d.c < 0.2 ? pick(['meminfo', 'frames', 'tlb', 'swap'], d.b)! : `${P} ${pick(SHOWS, d.b)}`;
      const at = (what.endsWith('smaps') || what.endsWith('pagetable')) && d.m % 2 ? ` ${addr(p, d)}` : '';
      lines.push(`show ${what}${at}`);
    } else {
      const cmp = pick(['==', '!=', '<', '<=', '>', '>='], d.c)!;
      const label = pick(p.labels, d.b);
      if (d.m === 0)
        lines.push(`expect meminfo ${pick(MEMINFO, d.a)} ${cmp} ${d.n % 2 ? 'boot' : `${d.n * 4} kB`}`);
      else if (d.m === 1 && label !== undefined)
        lines.push(`expect ${P} smaps ${label} ${pick(SMAPS, d.a)} ${cmp} ${d.n * 4} kB`);
      else if (d.m === 2) {
        const [field, values] = pick(WORD_FIELDS, d.a)!;
        lines.push(`expect ${P} ${field} ${d.c < 0.5 ? '==' : '!='} ${pick(values, d.b)}`);
      } else if (d.m === 3 && label !== undefined)
        lines.push(`expect ${P} @${label} ${cmp} 0x${(d.n * ps).toString(16)}`);
      else lines.push(`expect ${P} ${pick(STATUS, d.a)} ${cmp} ${d.n * 4}${d.m % 2 ? ' kB' : ''}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** A static x86-64 program for `exec` lines: code, data and a bss. */
const PROGRAM = makeElf({
  bits: 64,
  type: 'exec',
  entry: 0x401000,
  segments: [
    { vaddr: 0x400000, flags: PF_R | PF_X, bytes: new Uint8Array(300).fill(0xc3) },
    { vaddr: 0x402010, flags: PF_R | PF_W, bytes: new Uint8Array(40).fill(1), memsz: 0x3000 },
  ],
});
const FILES = memoryFileSource(new Map([['/bin/prog', PROGRAM]]));
const TRACES: Record<string, string> = {
  'trace0.txt': '1\n2\n3\n1\n4\n5\n1\n2\n9007199254740991\n',
  'trace1.txt': 'I  00401000,3\n L 7ff000000000,8\n S 00600010,4\n M 00600010,4\n',
};

function readTrace(path: string): Uint8Array {
  const text = TRACES[path];
  if (text === undefined) throw new InputError('trace', 'no such file', { file: path });
  return new TextEncoder().encode(text);
}

function scenarioText(input: { machine: MachineDraw; draws: Draw[]; edits: Edit[] }): string {
  return applyEdits(renderScenario(input.machine, input.draws), input.edits);
}

const SLOPPY = /\bNaN\b|\bundefined\b|\[object /;

export const scenarioTarget: FuzzTarget<{ machine: MachineDraw; draws: Draw[]; edits: Edit[] }> = {
  name: 'scenario',
  checks:
    'random scenarios of every statement on small machines of every architecture, some damaged: errors placed, every invariant after every statement, narration without NaN or undefined, RAM whole after the last exit',
  quickRuns: 80,
  input: fc.record({
    machine: machineDraw,
    draws: fc.array(draw, { minLength: 1, maxLength: 30 }),
    edits: fc.oneof(
      { weight: 4, arbitrary: fc.constant<Edit[]>([]) },
      {
        weight: 1,
        arbitrary: editsArb(fc, [' ', '\n', ': ', 'mmap ', ' 4K', '0x', '+', '=', 'K', '#', 'x86_64']),
      },
    ),
  }),
  show: (input) => scenarioText(input),
  run({ machine, draws, edits }) {
    let text = scenarioText({ machine, draws, edits });
    const file = 'fuzz.vms';
    let sc: Scenario;
    try {
      sc = parseScenario(file, text);
    } catch (e) {
      return rejection(e, { file, lines: lineCount(text) }, 'parsing the scenario');
    }
    // A statement the run refuses (most often one of a process that died before it) is checked as
    // an error, then taken out and the run tried again, so that scenarios go deep.
    let run: ReturnType<typeof runScenario> | null = null;
    for (let attempt = 0; run === null; attempt++) {
      try {
        run = runScenario(sc, { check: true, files: FILES, readTrace });
      } catch (e) {
        const outcome = rejection(e, { file, lines: lineCount(text) }, 'running the scenario');
        const line = (e as InputError).span.line;
        if (attempt === 12 || line === undefined || line <= 1) return outcome;
        const lines = text.split('\n');
        lines.splice(line - 1, 1);
        text = lines.join('\n');
        try {
          sc = parseScenario(file, text); // it fails when the line defined a label used later
        } catch (e2) {
          return rejection(e2, { file, lines: lineCount(text) }, 'parsing the scenario');
        }
      }
    }
    // What `vmscope run` prints, and its --json.
    const arch = archPreset(run.scenario.machine.arch);
    const names = processNames(run);
    for (const step of run.steps) {
      const out = formatStep(arch, step, names);
      check(!SLOPPY.test(out), `line ${step.statement.place.line} is narrated as:\n${out}`);
    }
    const summary = formatSummary(run);
    check(!SLOPPY.test(summary), `the summary reads: ${summary}`);
    jsonText(runJson(run));
    // Nothing leaks: with every process gone and the page cache dropped, RAM is whole.
    const k = run.kernel;
    for (const proc of k.live()) if (proc.alive) k.exit(proc, 0);
    k.dropCaches();
    const problems = [...k.check(), ...k.frames.validate()];
    check(problems.length === 0, `after every exit: ${problems.join('; ')}`);
    const free = k.meminfo().MemFree;
    const boot = k.bootFreeFrames * k.pageSize;
    check(
      free === boot,
      `after every exit and drop_caches MemFree is ${free}, at boot ${boot}: ${(boot - free) / k.pageSize} frames lost`,
    );
    return 'accepted';
  },
};
