/**
 * User-space allocators: random malloc/free and the corpus's real allocation traces, through every
 * allocator directly on an ArrayBuffer and through the MMU of a simulated process, beside
 * @thi.ng/malloc (a TypeScript allocator over an ArrayBuffer) in the same process.
 *
 * Random: a live set of N blocks (1k, 10k, 100k), sizes 8..4096 bytes log-uniform; each step frees a
 * random live block and mallocs a new one in its place (2 operations). Utilization is the live payload
 * over the heap extent (highest live block end - heap start) at the end. The pool is 64 MiB, except
 * for 100k blocks (about 65 MB of payload), which get 256 MiB. Through the MMU the machine has the
 * default 64-entry 4-way TLB; those runs also report TLB lookups and walks (misses) per operation, and
 * TLSF and binned run once more at 1k live with a 1536-entry 12-way TLB (a second-level TLB's reach,
 * which holds their whole heap), to show what the walks cost. The goals use the default TLB.
 *
 * Each allocator (and @thi.ng/malloc) is measured in a node process of its own, one after the other,
 * and directly and through the MMU in two processes: a program uses one allocator on one memory, and
 * a JIT that has seen five allocator classes (or both memories) at the same call sites makes them all
 * slower (megamorphic calls are not inlined; a polymorphic one checks the class at every load, which
 * cost the direct 10k and 100k runs ~12% when they came after the MMU ones in the same process). Each measurement has a time budget
 * (MALLOC_BENCH_MS, default 800 ms): a slow allocator (a list walk per operation) is measured on the
 * operations it got through, and a trace replay that did not finish says how far it came.
 *
 * Goals (issue 5): TLSF and binned >= 10 M ops/s direct, >= 2 M ops/s through the MMU, flat from 1k
 * to 100k live blocks; binned utilization >= 0.85 on the corpus traces.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { MemPool } from '@thi.ng/malloc';
import { alignUp } from '../src/base/units.js';
import { Machine } from '../src/hw/machine.js';
import type { Mmu } from '../src/hw/mmu.js';
import { Kernel } from '../src/kernel/kernel.js';
import { KernelMemory } from '../src/user/kernel-memory.js';
import { ALLOCATOR_NAMES, type Allocator, type AllocatorName } from '../src/user/malloc/api.js';
import { createAllocator } from '../src/user/malloc/registry.js';
import { DirectMemory, type HeapMemory } from '../src/user/memory.js';
import { OP_FREE, OP_REALLOC, OpColumns, replay } from '../src/user/replay.js';
import { RepParser } from '../src/workload/alloc/rep.js';
import { corpusPath } from '../test/corpus-path.js';
import { recordGoal, xorshift32 } from './harness.js';

const CORPUS_ALLOC = corpusPath('alloc');
const MiB = 1024 * 1024;
const R = 1 << 20;
const BUDGET_MS = Number(process.env['MALLOC_BENCH_MS'] ?? 800);
const LIVE = [1000, 10000, 100000] as const;
const THING = '@thi.ng/malloc';

type Mode = 'direct' | 'mmu';
type Subject = AllocatorName | typeof THING;

/** The smallest surface both vmscope's allocators and MemPool offer. */
interface Mallocator {
  malloc(bytes: number): number;
  free(ptr: number): unknown;
  realloc(ptr: number, bytes: number): number;
}

/** A TLB with a second-level TLB's reach (Skylake's STLB: 1536 entries, 12 ways), for reference. */
const BIG_TLB = { tlbEntries: 1536, tlbWays: 12 } as const;

function memory(
  mode: Mode,
  bytes: number,
  tlb: { tlbEntries: number; tlbWays: number } | null = null,
): HeapMemory {
  if (mode === 'direct') return new DirectMemory({ sizeBytes: bytes });
  const kernel = new Kernel(
    new Machine({ arch: 'x86_64', ramBytes: Math.max(bytes * 2, 256 * MiB), ...(tlb ?? {}) }),
  );
  const proc = kernel.spawn('bench', { codeBytes: 4096, dataBytes: 4096, bssBytes: 16384 });
  if (typeof proc === 'number') throw new Error('bench: spawn failed');
  const mem = KernelMemory.attach(kernel, proc, {
    staticVa: alignUp(proc.mm!.endData, 16),
    staticBytes: 16384 - 16,
  });
  if (typeof mem === 'number') throw new Error('bench: attach failed');
  return mem;
}

// ---------------------------------------------------------------- random malloc/free

const sizes = new Float64Array(R);
const picks = new Float64Array(R);
{
  const u32 = xorshift32(2463534242);
  const next = () => u32() / 4294967296;
  for (let i = 0; i < R; i++) {
    sizes[i] = Math.floor(8 * 2 ** (next() * 9));
    picks[i] = next();
  }
}

/** Runs `n` random steps from step `start`; records in `held` the size each slot now holds. */
function steps(a: Mallocator, ptrs: Float64Array, held: Float64Array, start: number, n: number): void {
  const live = ptrs.length;
  for (let i = start; i < start + n; i++) {
    const j = Math.floor(picks[i & (R - 1)]! * live);
    a.free(ptrs[j]!);
    const size = sizes[(i + live) & (R - 1)]!;
    ptrs[j] = a.malloc(size);
    held[j] = size;
  }
}

interface RandomResult {
  readonly live: number;
  readonly mode: Mode;
  readonly opsPerSec: number;
  readonly utilization: number;
  /** Bytes from the heap start to the end of the highest live block (plus mmapped bytes), at the end. */
  readonly extentBytes: number;
  /** Through the MMU: translations (TLB lookups) and walks (TLB misses) per operation while timed. */
  readonly translationsPerOp: number | null;
  readonly walksPerOp: number | null;
}

/** Fills `ptrs` with blocks, reaches a steady state, then runs steps for the time budget. */
function randomRun(
  a: Mallocator,
  ptrs: Float64Array,
  extent: () => number,
  dead: () => boolean,
  mmu: Mmu | null = null,
): [number, number, number, number, number] {
  const live = ptrs.length;
  const held = new Float64Array(live);
  for (let i = 0; i < live; i++) {
    held[i] = sizes[i & (R - 1)]!;
    ptrs[i] = a.malloc(held[i]!);
  }
  // A steady state and optimized code first: 2 steps per live block, at least 200k, within the budget.
  let warm = 0;
  const w0 = performance.now();
  while (warm < Math.max(live * 2, 200_000) && performance.now() - w0 < BUDGET_MS) {
    steps(a, ptrs, held, warm, 1024);
    warm += 1024;
  }
  mmu?.resetCounters();
  let done = 0;
  const t0 = performance.now();
  let elapsed = 0;
  while (elapsed < BUDGET_MS) {
    steps(a, ptrs, held, warm + done, 1024);
    done += 1024;
    elapsed = performance.now() - t0;
  }
  const lookups = mmu ? (mmu.tlbHits + mmu.tlbMisses) / (done * 2) : Number.NaN;
  const walks = mmu ? mmu.walks / (done * 2) : Number.NaN;
  if (dead()) return [Number.NaN, Number.NaN, Number.NaN, Number.NaN, Number.NaN];
  const bytes = extent();
  return [(done * 2 * 1000) / elapsed, held.reduce((x, y) => x + y, 0) / bytes, bytes, lookups, walks];
}

/** Highest end of a live block in the brk heap, from the heap start, plus mmapped bytes. */
function extentOf(a: Allocator, ptrs: Float64Array): number {
  const mem = a.mem;
  let top = mem.heapStart;
  for (const p of ptrs) if (p >= mem.heapStart && p < mem.brk()) top = Math.max(top, p + a.usableSize(p));
  return top - mem.heapStart + mem.counters.mmapBytes;
}

/** Random runs at every live-set size, in one mode (@thi.ng/malloc: direct only). */
function randomFor(subject: Subject, mode: Mode): RandomResult[] {
  return LIVE.map((live) => randomAt(subject, mode, live));
}

/** One random run of `live` blocks (through the MMU, with the machine's TLB or else `tlb`). */
function randomAt(
  subject: Subject,
  mode: Mode,
  live: number,
  tlb: { tlbEntries: number; tlbWays: number } | null = null,
): RandomResult {
  const pool = live >= 100000 ? 256 * MiB : 64 * MiB;
  let r: [number, number, number, number, number];
  if (subject === THING) {
    const p = new MemPool({ size: pool, align: 16 });
    const start = p.stats().top;
    r = randomRun(
      p,
      new Float64Array(live),
      () => p.stats().top - start,
      () => false,
    );
  } else {
    const mem = memory(mode, pool, tlb);
    const a = createAllocator(subject, mem);
    const ptrs = new Float64Array(live);
    r = randomRun(
      a,
      ptrs,
      () => extentOf(a, ptrs),
      () => a.signal !== null,
      mem instanceof KernelMemory ? mem.kernel.machine.mmu : null,
    );
  }
  const [opsPerSec, utilization, extentBytes, lookups, walks] = r;
  const perOp = (x: number) => (mode === 'mmu' ? x : null);
  return {
    live,
    mode,
    opsPerSec,
    utilization,
    extentBytes,
    translationsPerOp: perOp(lookups),
    walksPerOp: perOp(walks),
  };
}

// ---------------------------------------------------------------- corpus traces

const TRACES = [
  'aligned/aligned.rep',
  'sort/sort.rep',
  'ls-l/ls.rep',
  'gcc-compile/gcc-12.rep',
  'gcc-compile/as.rep',
  'python-dict/python3.11.rep',
  'mallocs/mallocs.rep',
  'gcc-compile/cc1.rep.gz',
  'python-dict-sysmalloc/python3.11.rep.gz',
];

function loadTrace(path: string): OpColumns {
  const raw = readFileSync(`${CORPUS_ALLOC}/${path}`);
  const ops = new OpColumns();
  const p = new RepParser(path, ops);
  p.push(path.endsWith('.gz') ? gunzipSync(raw) : raw);
  p.end();
  return ops;
}

/**
 * Replays the trace's calls as fast as they go (no measurement) on fresh allocators from `make`:
 * again and again for a short trace (the best run counts: a JIT warmed up), once within twice the
 * time budget for a long one.
 */
function timeTrace(make: () => Mallocator, ops: OpColumns): { rate: number; share: number } {
  const { kind, id, size } = ops;
  let maxId = 0;
  for (let i = 0; i < ops.count; i++) maxId = Math.max(maxId, id[i]!);
  let best = { rate: 0, share: 0 };
  const start = performance.now();
  for (let run = 0; run < 30 && (run === 0 || performance.now() - start < BUDGET_MS); run++) {
    const a = make();
    const ptrs = new Float64Array(maxId + 1);
    const t0 = performance.now();
    let i = 0;
    for (; i < ops.count; i++) {
      const d = id[i]!;
      const k = kind[i];
      if (k === OP_FREE) {
        a.free(ptrs[d]!);
        ptrs[d] = 0;
      } else if (k === OP_REALLOC) {
        ptrs[d] = a.realloc(ptrs[d]!, size[i]!);
      } else {
        ptrs[d] = a.malloc(size[i]!);
      }
      if ((i & 4095) === 4095 && performance.now() - t0 > BUDGET_MS * 2) {
        i++;
        break;
      }
    }
    const rate = (i * 1000) / (performance.now() - t0);
    if (rate > best.rate) best = { rate, share: i / ops.count };
  }
  return best;
}

interface TraceResult {
  readonly trace: string;
  readonly direct: { rate: number; share: number };
  readonly mmu: { rate: number; share: number } | null;
  readonly utilization: number | null;
}

/** One mode's half of a trace's results: the rate in that mode, and (direct) the utilization. */
interface TraceHalf {
  readonly trace: string;
  readonly rate: { rate: number; share: number };
  readonly utilization: number | null;
}

function tracesFor(subject: Subject, mode: Mode, traces: readonly [string, OpColumns][]): TraceHalf[] {
  return traces.map(([trace, ops]) => {
    if (subject === THING)
      return {
        trace,
        rate: timeTrace(() => new MemPool({ size: 256 * MiB, align: 16 }), ops),
        utilization: null,
      };
    return {
      trace,
      rate: timeTrace(() => createAllocator(subject, memory(mode, 256 * MiB)), ops),
      utilization:
        mode === 'direct'
          ? replay(createAllocator(subject, memory('direct', 256 * MiB)), trace, ops).utilization
          : null,
    };
  });
}

// ---------------------------------------------------------------- child processes and the report

interface JobResult {
  readonly subject: Subject;
  readonly random: RandomResult[];
  readonly traces: TraceResult[];
  /** TLSF and binned: 1k live blocks through the MMU with {@link BIG_TLB}, for reference. */
  readonly bigTlb: RandomResult | null;
}

/** What one child process measures: one subject in one mode. */
interface HalfResult {
  readonly random: RandomResult[];
  readonly traces: TraceHalf[];
  readonly bigTlb: RandomResult | null;
}

/** The allocators the goals name, which the MMU job also runs with {@link BIG_TLB}. */
const GOAL_SUBJECTS: readonly Subject[] = ['tlsf', 'binned'];

const JOB_FLAG = '--malloc-bench-job';

function runJob(subject: Subject, mode: Mode): HalfResult {
  const traces = TRACES.map((t) => [t.split('/')[1]!, loadTrace(t)] as [string, OpColumns]);
  const random = randomFor(subject, mode);
  const bigTlb =
    mode === 'mmu' && GOAL_SUBJECTS.includes(subject) ? randomAt(subject, mode, 1000, BIG_TLB) : null;
  return { random, traces: tracesFor(subject, mode, traces), bigTlb };
}

/** Runs one subject's measurements in one mode in a fresh node process (fresh JIT state). */
function inChild(subject: Subject, mode: Mode): HalfResult {
  const file = fileURLToPath(import.meta.url);
  const loader = file.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const out = execFileSync(process.execPath, [...loader, file, JOB_FLAG, subject, mode], {
    encoding: 'utf8',
    maxBuffer: 64 * MiB,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return JSON.parse(out) as HalfResult;
}

/** A subject measured directly and (but @thi.ng/malloc) through the MMU, in two processes. */
function measureSubject(subject: Subject): JobResult {
  const direct = inChild(subject, 'direct');
  const mmu = subject === THING ? null : inChild(subject, 'mmu');
  return {
    subject,
    random: [...direct.random, ...(mmu?.random ?? [])],
    bigTlb: mmu?.bigTlb ?? null,
    traces: direct.traces.map((d, i) => ({
      trace: d.trace,
      direct: d.rate,
      mmu: mmu ? mmu.traces[i]!.rate : null,
      utilization: d.utilization,
    })),
  };
}

function fmtRate(x: number): string {
  if (!Number.isFinite(x)) return 'died';
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)} M/s`;
  return `${(x / 1e3).toFixed(1)} k/s`;
}

/** Every malloc benchmark. @returns the report lines. */
export function benchMalloc(): string[] {
  const results: JobResult[] = [];
  for (const subject of [...ALLOCATOR_NAMES, THING] as const) results.push(measureSubject(subject));
  // Labels: the file's name, or its folder where two files share a name (the two python runs).
  const loaded = TRACES.map((t) => ({
    name: t.startsWith('python-dict-sysmalloc')
      ? 'py-sysmalloc'
      : t.startsWith('python-dict')
        ? 'py-dict'
        : t.split('/')[1]!,
  }));

  const lines: string[] = [];
  lines.push(
    'random malloc/free: 8..4096 B log-uniform, free one + malloc one per step; ops/s, utilization at the end',
  );
  lines.push(
    `${'allocator'.padEnd(15)}${LIVE.map((n) => `${`${n / 1000}k direct`.padStart(20)}${`${n / 1000}k MMU`.padStart(12)}`).join('')}`,
  );
  for (const r of results) {
    const cells = LIVE.map((live) => {
      const d = r.random.find((x) => x.live === live && x.mode === 'direct')!;
      const m = r.random.find((x) => x.live === live && x.mode === 'mmu');
      return `${`${fmtRate(d.opsPerSec)} u=${Number(d.utilization).toFixed(2)}`.padStart(20)}${(m ? fmtRate(m.opsPerSec) : '-').padStart(12)}`;
    });
    lines.push(`${r.subject.padEnd(15)}${cells.join('')}`);
  }
  lines.push(...mmuPerOp(results));
  const short = (x: number) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : `${(x / 1e3).toFixed(0)}k`);
  const head = `${''.padEnd(15)}${loaded
    .map((t) =>
      t.name
        .replace(/\.rep(\.gz)?$/, '')
        .slice(0, 10)
        .padStart(11),
    )
    .join('')}`;
  const table = (title: string, cell: (t: TraceResult) => string | null) => {
    lines.push('', title, head);
    for (const r of results) {
      const cells = r.traces.map((t) => cell(t));
      if (cells.every((c) => c === null)) continue;
      lines.push(`${r.subject.padEnd(15)}${cells.map((c) => (c ?? '-').padStart(11)).join('')}`);
    }
  };
  const rate = (x: { rate: number; share: number }) => `${x.share < 1 ? '*' : ''}${short(x.rate)}`;
  table('corpus traces (.rep), ops/s directly on an ArrayBuffer', (t) => rate(t.direct));
  table('corpus traces, ops/s through the MMU (a process of the kernel)', (t) =>
    t.mmu ? rate(t.mmu) : null,
  );
  table('corpus traces, utilization (peak live payload / peak heap extent)', (t) =>
    t.utilization === null ? null : t.utilization.toFixed(3),
  );
  lines.push(
    '* = not finished within the time budget (the rate of the part replayed); short traces are timed warm, best of several runs',
  );
  lines.push(...flatnessGoals(results));
  const binned = results.find((r) => r.subject === 'binned')!.traces.map((t) => t.utilization!);
  lines.push(
    `binned utilization on the traces: min ${Math.min(...binned).toFixed(3)}, ${binned.filter((u) => u >= 0.85).length} of ${binned.length} at 0.85 or more`,
  );
  return lines;
}

/**
 * What an operation costs the MMU in the random runs: TLB lookups and walks (misses) per operation,
 * and the goal allocators at 1k live blocks again with {@link BIG_TLB}, whose reach (6 MiB) holds
 * their whole heap, where the machine's 64 entries reach 256 KiB.
 */
function mmuPerOp(results: readonly JobResult[]): string[] {
  const lines = [
    '',
    'through the MMU (64-entry 4-way TLB), per operation: TLB lookups / walks (misses)',
    `${'allocator'.padEnd(15)}${LIVE.map((n) => `${n / 1000}k live`.padStart(20)).join('')}`,
  ];
  const f = (x: number | null) => (x === null || !Number.isFinite(x) ? '-' : x.toFixed(2));
  for (const r of results) {
    const cells = LIVE.map((live) => {
      const m = r.random.find((x) => x.live === live && x.mode === 'mmu');
      return m ? `${f(m.translationsPerOp)} / ${f(m.walksPerOp)}` : '-';
    });
    if (cells.every((c) => c === '-')) continue;
    lines.push(`${r.subject.padEnd(15)}${cells.map((c) => c.padStart(20)).join('')}`);
  }
  for (const r of results) {
    const big = r.bigTlb;
    if (!big) continue;
    const small = r.random.find((x) => x.live === 1000 && x.mode === 'mmu')!;
    lines.push(
      `${r.subject} at 1k live with a TLB of ${BIG_TLB.tlbEntries} entries, ${BIG_TLB.tlbWays} ways (reference, not the goal's): ${fmtRate(big.opsPerSec)}, ${f(big.walksPerOp)} walks/op (64 entries: ${fmtRate(small.opsPerSec)}, ${f(small.walksPerOp)}); heap ${(small.extentBytes / 2 ** 20).toFixed(2)} MiB, 64 entries reach 0.25 MiB`,
    );
  }
  return lines;
}

/**
 * The honest ceiling for flatness: a plain loop of random 8-byte loads and stores (one of each per
 * operation) over a buffer as large as the allocator's heap. @returns operations per second.
 */
function plainRandomLoop(bytes: number): number {
  const words = new Float64Array(Math.max(1024, Math.floor(bytes / 8)));
  const n = words.length;
  const next = xorshift32(88172645);
  const index = new Int32Array(1 << 20);
  for (let i = 0; i < index.length; i++) index[i] = next() % n;
  let best = 0;
  for (let round = 0; round < 5; round++) {
    let sum = 0;
    const t0 = performance.now();
    const ops = 1 << 23;
    for (let i = 0; i < ops; i++) {
      const a = index[i & 0xfffff]!;
      const b = index[(i + 12345) & 0xfffff]!;
      sum += words[a]!;
      words[b] = i;
    }
    const dt = (performance.now() - t0) / 1000;
    best = Math.max(best, ops / dt);
    if (sum === -1) best = 0; // keeps the loads
  }
  return best;
}

/** TLSF and binned against the goals: rates direct and through the MMU, and flatness from 1k to 100k live blocks. */
function flatnessGoals(results: readonly JobResult[]): string[] {
  const lines: string[] = [];
  const rate = (r: JobResult, live: number, mode: Mode) =>
    r.random.find((x) => x.live === live && x.mode === mode)!;
  const tlsf = results.find((r) => r.subject === 'tlsf')!;
  const small = rate(tlsf, 1000, 'direct').extentBytes;
  const large = rate(tlsf, 100000, 'direct').extentBytes;
  const plainSmall = plainRandomLoop(small);
  const plainLarge = plainRandomLoop(large);
  const plainRatio = plainSmall / plainLarge;
  const allowed = Math.max(1.5, plainRatio);
  lines.push(
    `plain random load+store loop: ${fmtRate(plainSmall)} over ${(small / 2 ** 20).toFixed(1)} MiB, ${fmtRate(plainLarge)} over ${(large / 2 ** 20).toFixed(0)} MiB: ${plainRatio.toFixed(2)}x slower (so 100k live blocks may be ${allowed.toFixed(2)}x slower than 1k)`,
  );
  for (const name of ['tlsf', 'binned'] as const) {
    const r = results.find((x) => x.subject === name)!;
    const d1 = rate(r, 1000, 'direct').opsPerSec;
    const d100 = rate(r, 100000, 'direct').opsPerSec;
    const m1 = rate(r, 1000, 'mmu').opsPerSec;
    const m100 = rate(r, 100000, 'mmu').opsPerSec;
    recordGoal(
      `malloc ${name} >= 10 M ops/s direct (1k / 100k live)`,
      `${fmtRate(d1)} / ${fmtRate(d100)}`,
      Math.min(d1, d100) >= 10e6,
    );
    recordGoal(
      `malloc ${name} >= 2 M ops/s through the MMU (1k / 100k)`,
      `${fmtRate(m1)} / ${fmtRate(m100)}`,
      Math.min(m1, m100) >= 2e6,
    );
    recordGoal(
      `malloc ${name} 100k live no more than ${allowed.toFixed(2)}x slower than 1k (direct)`,
      `${(d1 / d100).toFixed(2)}x`,
      d1 / d100 <= allowed,
    );
  }
  return lines;
}

const jobAt = process.argv.indexOf(JOB_FLAG);
if (jobAt > 0) {
  process.stdout.write(
    JSON.stringify(runJob(process.argv[jobAt + 1] as Subject, process.argv[jobAt + 2] as Mode), (_k, v) =>
      Number.isNaN(v) ? null : v,
    ),
  );
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const line of benchMalloc()) console.log(line);
}
