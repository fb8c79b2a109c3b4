/**
 * Allocation traces, as `vmscope malloc` reads them: CMU malloc-lab `.rep` files and the shim's raw
 * logs, made of well-formed programs (a model keeps ids live or freed, so frees and reallocs are
 * legal), odd sizes (0, past the mmap threshold, 2^31, 2^53 - 1) and damage. A trace is parsed whole
 * and in chunks cut anywhere, alike; then replayed through one allocator inside a process on a small
 * machine, walking the heap after every operation. A legal trace must replay without a broken heap
 * and without the program dying of anything but the OOM killer (an allocation too large is NULL,
 * counted, never a crash), and the report must be printable.
 */
import fc from 'fast-check';
import { InputError } from '../../src/base/errors.js';
import { alignUp } from '../../src/base/units.js';
import { Machine } from '../../src/hw/machine.js';
import { SIGKILL } from '../../src/kernel/errno.js';
import { Kernel } from '../../src/kernel/kernel.js';
import { mallocJson, mallocTable } from '../../src/report/malloc-report.js';
import { KernelMemory } from '../../src/user/kernel-memory.js';
import { ALLOCATOR_NAMES, type AllocatorName } from '../../src/user/malloc/api.js';
import { createAllocator } from '../../src/user/malloc/registry.js';
import { OpColumns, replay } from '../../src/user/replay.js';
import { RepParser } from '../../src/workload/alloc/rep.js';
import { ShimLogParser } from '../../src/workload/alloc/shimlog.js';
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
  rejection,
} from './harness.js';

type Call =
  | { readonly op: 'malloc'; readonly size: number }
  | { readonly op: 'free'; readonly pick: number }
  | { readonly op: 'realloc'; readonly pick: number; readonly size: number };

const size = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 300 }) },
  { weight: 3, arbitrary: fc.integer({ min: 300, max: 40_000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 100_000, max: 300_000 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, 1, 24, 4096, 131072, 2 ** 31, 2 ** 32 + 8, 2 ** 53 - 1) },
);
const pick = fc.nat({ max: 1_000_000 });
const call: fc.Arbitrary<Call> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('malloc' as const), size }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('free' as const), pick }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('realloc' as const), pick, size }) },
);

/** The program as .rep lines, ids given in order of allocation, frees and reallocs of live ids only. */
function repText(calls: readonly Call[]): string {
  const ops: string[] = [];
  const live: number[] = [];
  let ids = 0;
  for (const c of calls) {
    if (c.op === 'malloc') {
      ops.push(`a ${ids} ${c.size}`);
      live.push(ids++);
    } else if (live.length > 0) {
      const at = c.pick % live.length;
      const id = live[at]!;
      if (c.op === 'free') {
        ops.push(`f ${id}`);
        live.splice(at, 1);
      } else {
        ops.push(`r ${id} ${c.size}`);
        if (c.size === 0) live.splice(at, 1); // realloc(p, 0) frees
      }
    }
  }
  return [`${20 << 20}`, `${ids}`, `${ops.length}`, '1', ...ops].join('\n');
}

/** Sizes glibc cannot give (more than a 47-bit space holds): the shim logs NULL for them. */
const TOO_LARGE = 2 ** 44;

/** The same program as the shim logs it: hex sizes and the pointers glibc might have returned. */
function shimText(calls: readonly Call[]): string {
  const lines = ['0 0 x 4242 1 fuzzprog'];
  const live: number[] = [];
  let next = 0x555555559000;
  let seq = 1;
  const hex = (v: number) => v.toString(16);
  for (const c of calls) {
    if (c.op === 'malloc') {
      if (c.size > TOO_LARGE) {
        lines.push(`${seq++} 1 m ${hex(c.size)} 0`); // glibc's NULL
        continue;
      }
      const p = next;
      next += alignUp(c.size + 16, 16);
      lines.push(`${seq++} 1 m ${hex(c.size)} ${hex(p)}`);
      live.push(p);
    } else if (live.length > 0) {
      const at = c.pick % live.length;
      const p = live[at]!;
      if (c.op === 'free') {
        lines.push(`${seq++} 1 f ${hex(p)}`);
        live.splice(at, 1);
      } else {
        if (c.size > TOO_LARGE) {
          lines.push(`${seq++} 1 r ${hex(p)} ${hex(c.size)} 0`); // NULL, and p stays
          continue;
        }
        const q = c.size === 0 ? 0 : next;
        if (q !== 0) next += alignUp(c.size + 16, 16);
        lines.push(`${seq++} 1 r ${hex(p)} ${hex(c.size)} ${hex(q)}`);
        if (q === 0) live.splice(at, 1);
        else live[at] = q;
      }
    }
  }
  return lines.join('\n');
}

interface AllocInput {
  readonly format: 'rep' | 'shim';
  readonly calls: Call[];
  readonly edits: Edit[];
  readonly cuts: number[];
  readonly allocator: AllocatorName;
  readonly ramKiB: number;
}

/** Parses `bytes` fed as `chunks` into operations, or the InputError. */
function parse(format: 'rep' | 'shim', file: string, chunks: readonly Uint8Array[]): OpColumns | InputError {
  const ops = new OpColumns();
  const parser = format === 'rep' ? new RepParser(file, ops) : new ShimLogParser(file, ops);
  try {
    for (const c of chunks) parser.push(c);
    parser.end();
    return ops;
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
}

function describeOps(r: OpColumns | InputError): string {
  if (r instanceof InputError) return `error ${r.format()}`;
  const parts: string[] = [];
  for (let i = 0; i < r.count; i++) parts.push(`${r.kind[i]}:${r.id[i]}:${r.size[i]}:${r.line[i]}`);
  return `${r.count} ops ${parts.join(' ')}`;
}

export const allocTarget: FuzzTarget<AllocInput> = {
  name: 'alloc-trace',
  checks:
    '.rep traces and shim logs, legal and damaged: parsed alike in any chunks, errors placed; a legal one replays through every allocator on a small machine with a clean heap after every operation and no death but the OOM killer',
  quickRuns: 120,
  input: fc.record({
    format: fc.constantFrom('rep' as const, 'shim' as const),
    calls: fc.array(call, { minLength: 0, maxLength: 40 }),
    edits: fc.oneof(
      fc.constant<Edit[]>([]),
      editsArb(fc, ['a ', 'f ', 'r ', '\n', ' 0', '99999999999999999999', '-1', 'x']),
    ),
    cuts: cutsArb(fc),
    allocator: fc.constantFrom(...ALLOCATOR_NAMES),
    ramKiB: fc.constantFrom(512, 2048, 8192),
  }),
  run({ format, calls, edits, cuts, allocator, ramKiB }) {
    const file = format === 'rep' ? 'fuzz.rep' : 'fuzz.log';
    const text = applyEdits(format === 'rep' ? repText(calls) : shimText(calls), edits);
    const bytes = encode(text);
    const whole = parse(format, file, [bytes]);
    const parts = parse(format, file, chunked(bytes, cuts));
    check(
      describeOps(whole) === describeOps(parts),
      `parsed whole and in chunks the trace differs:\n  ${describeOps(whole).slice(0, 300)}\n  ${describeOps(parts).slice(0, 300)}`,
    );
    if (whole instanceof InputError) {
      check(edits.length > 0, `a legal trace was refused: ${whole.format()}`);
      return rejection(whole, { file, lines: lineCount(text) }, `parsing ${file}`);
    }
    const kernel = new Kernel(new Machine({ arch: 'x86_64', ramBytes: ramKiB * 1024 }));
    const proc = kernel.spawn('fuzzprog', { codeBytes: 4096, dataBytes: 4096, bssBytes: 16 * 1024 });
    check(typeof proc !== 'number', `spawn failed on ${ramKiB} KiB`);
    const mem = KernelMemory.attach(kernel, proc, {
      staticVa: alignUp(proc.mm!.endData, 16),
      staticBytes: 16 * 1024 - 16,
    });
    check(typeof mem !== 'number', `attach failed on ${ramKiB} KiB`);
    const result = replay(createAllocator(allocator, mem), file, whole, { check: true });
    const problems = kernel.check();
    check(problems.length === 0, `after the replay: ${problems.join('; ')}`);
    check(
      result.checkFailure === null,
      `${allocator}: the heap walk failed after op ${result.checkFailure?.op}: ${result.checkFailure?.problems.join('; ')}`,
    );
    if (result.died !== null && edits.length === 0)
      check(
        result.died.signal === SIGKILL,
        `${allocator}: a legal trace killed the program at op ${result.died.op}: ${result.died.reason}`,
      );
    for (const v of [
      result.utilization,
      result.internalFragmentation,
      result.externalFragmentation,
      result.brkUtilization,
    ])
      check(Number.isFinite(v) && v >= 0 && v <= 1, `${allocator}: a ratio of ${v} in the result`);
    const table = mallocTable([result], { wide: true });
    check(!/NaN|undefined|\[object/.test(table), `the table says:\n${table}`);
    JSON.stringify(mallocJson([result]));
    if (proc.alive) kernel.exit(proc, 0);
    check(
      kernel.frames.freeFrames === kernel.bootFreeFrames,
      `after exit ${kernel.bootFreeFrames - kernel.frames.freeFrames} frames are still in use`,
    );
    return 'accepted';
  },
};
