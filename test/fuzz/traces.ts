/**
 * Memory traces, as `vmscope replay` and a scenario's `replay` read them: valgrind lackey lines,
 * page-number lists, and the two binary formats (vmscope's .vmt, libCacheSim's oracleGeneral), each
 * made of plausible records, odd ones and damage. A trace is decoded whole and in chunks cut anywhere
 * (the same accesses or the same error either way); accepted accesses are pages a process can have;
 * and a short trace replayed through the whole system faults exactly as the pure cache simulation
 * with the same policy and frames does — or is refused as an input error, or (a lackey access below
 * mmap_min_addr) ends in the process's SIGSEGV.
 */
import fc from 'fast-check';
import { InputError } from '../../src/base/errors.js';
import { NEVER } from '../../src/kernel/reclaim/policy.js';
import { policyNames } from '../../src/kernel/reclaim/registry.js';
import { replayPages } from '../../src/sim/cachesim.js';
import { SystemReplay } from '../../src/sim/replay.js';
import type { PageBatch } from '../../src/workload/trace/batch.js';
import { createTraceDecoder } from '../../src/workload/trace/decoder.js';
import { detectTraceFormat, type TraceFormat } from '../../src/workload/trace/detect.js';
import { OracleGeneralEncoder } from '../../src/workload/trace/oracle-general.js';
import { VmtEncoder } from '../../src/workload/trace/vmtrace.js';
import {
  applyEdits,
  check,
  chunked,
  cutsArb,
  type Edit,
  editsArb,
  encode,
  type FuzzTarget,
  fail,
  lineCount,
  type Outcome,
  rejection,
  unitArb,
} from './harness.js';

/** Policies a process's kernel runs exactly as the cache simulation (the oracles need the future). */
const KERNEL_POLICIES = policyNames.filter((p) => p !== 'opt' && p !== 'unopt' && !p.startsWith('ostep'));

interface Decoded {
  readonly format: TraceFormat;
  readonly pages: number[];
  readonly writes: number[];
  readonly addressing: 'addresses' | 'ids';
}

/** Decodes `bytes` fed as `chunks`: the accesses, or the InputError's text. */
function decode(file: string, bytes: Uint8Array, chunks: readonly Uint8Array[]): Decoded | InputError {
  const format = detectTraceFormat(bytes);
  if (format === null) return new InputError('trace', 'no format', { file });
  const pages: number[] = [];
  const writes: number[] = [];
  const sink = (b: PageBatch): void => {
    for (let i = 0; i < b.count; i++) {
      pages.push(b.page[i]!);
      writes.push(b.write[i]!);
    }
  };
  try {
    const d = createTraceDecoder(format, file, {}, sink);
    for (const c of chunks) d.push(c);
    d.end();
    return { format, pages, writes, addressing: d.addressing };
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
}

/** The same stream decoded whole and in chunks must agree. */
function decodeBothWays(file: string, bytes: Uint8Array, cuts: readonly number[]): Decoded | InputError {
  const whole = decode(file, bytes, [bytes]);
  const parts = decode(file, bytes, chunked(bytes, cuts));
  const text = (r: Decoded | InputError) =>
    r instanceof InputError
      ? `error ${r.format()}`
      : `${r.pages.length} accesses ${r.pages.join(',')}|${r.writes.join('')}`;
  check(
    text(whole) === text(parts),
    `decoded whole and in chunks (cut at ${cuts.map((c) => Math.floor(c * bytes.length)).join(', ')}) it differs:\n  ${text(whole).slice(0, 300)}\n  ${text(parts).slice(0, 300)}`,
  );
  return whole;
}

interface ReplaySetup {
  readonly policy: string;
  readonly frames: number;
}

const replaySetup: fc.Arbitrary<ReplaySetup> = fc.record({
  policy: fc.constantFrom(...KERNEL_POLICIES),
  frames: fc.integer({ min: 1, max: 12 }),
});

/**
 * Replays accepted accesses through the whole system and the pure simulation: the same faults, hits,
 * evictions and write-backs, every kernel invariant holding, and nothing left once the process ends.
 */
function replayBoth(file: string, d: Decoded, setup: ReplaySetup): Outcome {
  const n = Math.min(d.pages.length, 400);
  const pages = Float64Array.from(d.pages.slice(0, n));
  const writes = Uint8Array.from(d.writes.slice(0, n));
  const r = new SystemReplay({
    frames: setup.frames,
    policy: setup.policy,
    tlbEntries: 8,
    tlbWays: 2,
    names: [file],
    addressing: d.addressing,
    swapBytes: 1 << 20,
  });
  let ran: number;
  try {
    ran = r.run(0, pages, writes, n);
  } catch (e) {
    return rejection(e, { file, bytes: 0 }, `replaying ${file}`);
  }
  const k = r.kernel;
  const problems = k.check();
  check(problems.length === 0, `after the replay: ${problems.join('; ')}`);
  const proc = r.procs[0]!;
  if (ran < n) {
    // Only a lackey access to the page below mmap_min_addr (address < 4096) may end a replay early.
    check(
      d.addressing === 'addresses' && pages[ran] === 0,
      `the replay stopped at access ${ran + 1} of ${n}: ${proc.signal?.reason ?? proc.state}`,
    );
    return 'accepted';
  }
  const pure = replayPages(pages, { policy: setup.policy, frames: setup.frames, writes });
  const s = r.stats();
  const full = [s.faults, s.hits, s.evictions, s.writebacks].join(' ');
  const sim = [pure.faults, pure.hits, pure.evictions, pure.writebacks].join(' ');
  check(
    full === sim,
    `${setup.policy} with ${setup.frames} frames: the whole system gives faults/hits/evictions/write-backs ${full}, the cache simulation ${sim}`,
  );
  k.exit(proc, 0);
  check(k.check().length === 0, `after exit: ${k.check().join('; ')}`);
  check(
    k.frames.freeFrames === k.bootFreeFrames,
    `after exit ${k.bootFreeFrames - k.frames.freeFrames} frames are still in use`,
  );
  return 'accepted';
}

/** A decoded trace's accesses must be pages a process can have: safe integers, writes 0 or 1. */
function checkPages(d: Decoded): void {
  for (let i = 0; i < d.pages.length; i++) {
    const p = d.pages[i]!;
    if (!Number.isSafeInteger(p) || p < 0) fail(`access ${i + 1} decoded as page ${p}`);
    if (d.writes[i] !== 0 && d.writes[i] !== 1)
      fail(`access ${i + 1} decoded with write flag ${d.writes[i]}`);
  }
}

/**
 * A text trace target: half the inputs are well-formed lines only (`good`), the other half mix in
 * odd lines (`odd`) and damage (edits), so that both the replay and the errors get exercised.
 */
function textTarget(
  name: string,
  checks: string,
  good: fc.Arbitrary<string>,
  odd: fc.Arbitrary<string>,
  pieces: readonly string[],
  quickRuns: number,
): FuzzTarget<{ lines: string[]; edits: Edit[]; cuts: number[]; crlf: boolean; setup: ReplaySetup }> {
  const lines = fc.oneof(
    fc.array(good, { minLength: 1, maxLength: 40 }),
    fc.array(fc.oneof({ weight: 6, arbitrary: good }, { weight: 1, arbitrary: odd }), {
      minLength: 1,
      maxLength: 40,
    }),
  );
  return {
    name,
    checks,
    quickRuns,
    input: fc.record({
      lines,
      edits: fc.oneof(fc.constant<Edit[]>([]), editsArb(fc, pieces)),
      cuts: cutsArb(fc),
      crlf: fc.boolean(),
      setup: replaySetup,
    }),
    run({ lines, edits, cuts, crlf, setup }) {
      const text = applyEdits(lines.join(crlf ? '\r\n' : '\n'), edits);
      const file = `fuzz.${name}`;
      const bytes = encode(text);
      const d = decodeBothWays(file, bytes, cuts);
      if (d instanceof InputError) {
        if (d.message === 'no format') return 'rejected';
        return rejection(d, { file, lines: lineCount(bytes) }, `decoding ${file}`);
      }
      checkPages(d);
      return replayBoth(file, d, setup);
    },
  };
}

const hexDigits = fc.string({
  unit: fc.constantFrom(...'0123456789abcdefABCDEF'),
  minLength: 1,
  maxLength: 14,
});
/** Addresses near where programs live and near the edges that matter. */
const address = fc.oneof(
  hexDigits,
  fc.constantFrom(
    '0',
    '10',
    'fff',
    '1000',
    '401000',
    '7ffffffff000',
    '7fffffffeff8',
    '800000000000',
    '1fffffffffffff',
    '20000000000000',
    'ffffffffffffffff',
  ),
  fc.integer({ min: 0x400000, max: 0x400000 + 64 * 4096 }).map((a) => a.toString(16)),
);
const size = fc.oneof(
  fc.constantFrom(
    '1',
    '2',
    '4',
    '8',
    '16',
    '64',
    '4095',
    '4096',
    '4097',
    '0',
    '4294967295',
    '99999999999999999999',
  ),
  fc.integer({ min: 1, max: 300 }).map(String),
);

const lackeyGood = fc
  .tuple(fc.constantFrom('I  ', ' L ', ' S ', ' M '), address, fc.integer({ min: 1, max: 64 }))
  .map(([k, a, n]) => `${k}${a},${n}`);
const lackeyOdd: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(fc.constantFrom('I  ', ' L ', ' S ', ' M '), address, size).map(([k, a, s]) => `${k}${a},${s}`),
  fc
    .tuple(
      fc.constantFrom('I', 'L', 'S', 'M', 'X', 'l'),
      fc.constantFrom(' ', '\t', '  ', ''),
      address,
      fc.constantFrom(',', ', ', ';', ''),
      size,
    )
    .map((p) => p.join('')),
  fc.constantFrom(
    '==12345== Lackey, an example Valgrind tool',
    '--123-- warning',
    '',
    '   ',
    'I  04010173',
    'I  0401017g,3',
    ' L ,8',
  ),
);

const pagesGood = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0, max: 200 }).map(String) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '0',
      '9007199254740991',
      '68719476736',
      '34359738368',
      '4294967296',
      '00012',
      ' 7 ',
      '\t8',
    ),
  },
  { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: 2n ** 53n - 1n }).map(String) },
);
const pagesOdd: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('9007199254740992', '18446744073709551615', '-1', '1e3', '0x10', '12 13', '', '1.5'),
  fc.bigInt({ min: 2n ** 53n - 2n, max: 2n ** 64n }).map(String),
);

export const lackeyTarget = textTarget(
  'lackey',
  'valgrind lackey lines, plausible and damaged: decoded alike in any chunks, errors placed, replayed as in the cache simulation',
  lackeyGood,
  lackeyOdd,
  [' L ', 'I  ', ',', '\n', '\r', '==1==', 'ffffffffffffff', ',99999'],
  120,
);

export const pagesTarget = textTarget(
  'pages',
  'page-number lists up to and past 2^53, damaged: decoded alike in any chunks, errors placed, replayed as in the cache simulation',
  pagesGood,
  pagesOdd,
  ['\n', ' ', '9007199254740992', '-', 'x', '\r\n'],
  80,
);

type BinaryDamage =
  | { readonly kind: 'flip'; readonly at: number; readonly mask: number }
  | { readonly kind: 'word'; readonly at: number; readonly value: number }
  | { readonly kind: 'cut'; readonly at: number };

const binaryDamage: fc.Arbitrary<BinaryDamage> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: unitArb(fc), mask: fc.integer({ min: 1, max: 255 }) }),
  fc.record({
    kind: fc.constant('word' as const),
    at: unitArb(fc),
    value: fc.constantFrom(0, 1, 2, 3, 0xff, 0x1000, 0xffff, 0x10000, 0x7fffffff, 0xffffffff),
  }),
  fc.record({ kind: fc.constant('cut' as const), at: unitArb(fc) }),
);

function damage(bytes: Uint8Array, edits: readonly BinaryDamage[]): Uint8Array {
  let out = bytes.slice();
  for (const e of edits) {
    const at = Math.floor(e.at * out.length);
    if (e.kind === 'flip') {
      if (at < out.length) out[at] = out[at]! ^ e.mask;
    } else if (e.kind === 'word') {
      if (at + 4 <= out.length) new DataView(out.buffer, out.byteOffset).setUint32(at, e.value >>> 0, true);
    } else out = out.slice(0, at);
  }
  return out;
}

/** Page streams with repeats, jumps and ids up to 2^53 - 1. */
const pageStream = fc.array(
  fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: 0, max: 40 }) },
    { weight: 1, arbitrary: fc.constantFrom(2 ** 32, 2 ** 40 + 3, 2 ** 49 + 1, 2 ** 53 - 1) },
  ),
  { minLength: 0, maxLength: 300 },
);

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function encodeVmt(pages: readonly number[], writes: readonly number[], addresses: boolean): Uint8Array {
  const parts: Uint8Array[] = [];
  const enc = new VmtEncoder(
    { addressing: addresses ? 'addresses' : 'ids', pageSize: 4096, writes: true },
    (b) => parts.push(b.slice()),
  );
  enc.push(Float64Array.from(pages), Uint8Array.from(writes), pages.length);
  enc.end();
  return concat(parts);
}

function encodeOracle(pages: readonly number[]): Uint8Array {
  const next = new Float64Array(pages.length).fill(NEVER);
  const last = new Map<number, number>();
  for (let i = pages.length - 1; i >= 0; i--) {
    const at = last.get(pages[i]!);
    if (at !== undefined) next[i] = at;
    last.set(pages[i]!, i);
  }
  const parts: Uint8Array[] = [];
  new OracleGeneralEncoder(4096, (b) => parts.push(b)).push(Float64Array.from(pages), next, pages.length);
  return concat(parts);
}

export const binaryTraceTarget: FuzzTarget<{
  format: 'vmscope' | 'oracleGeneral';
  pages: number[];
  writeSeed: number;
  addresses: boolean;
  edits: BinaryDamage[];
  cuts: number[];
  setup: ReplaySetup;
}> = {
  name: 'binary-trace',
  checks:
    "vmscope's .vmt and oracleGeneral traces, whole and damaged: the encoded accesses read back exactly, damage is refused at an offset inside the file or read as pages, alike in any chunks",
  quickRuns: 100,
  input: fc.record({
    format: fc.constantFrom('vmscope' as const, 'oracleGeneral' as const),
    pages: pageStream,
    writeSeed: fc.nat(),
    addresses: fc.boolean(),
    edits: fc.array(binaryDamage, { maxLength: 3 }),
    cuts: cutsArb(fc),
    setup: replaySetup,
  }),
  run({ format, pages, writeSeed, addresses, edits, cuts, setup }) {
    const writes = pages.map((p, i) => ((p * 31 + i + writeSeed) >>> 3) & 1);
    const clean = format === 'vmscope' ? encodeVmt(pages, writes, addresses) : encodeOracle(pages);
    const file = `fuzz.${format === 'vmscope' ? 'vmt' : 'oracleGeneral'}`;
    const bytes = damage(clean, edits);
    const d = decodeBothWays(file, bytes, cuts);
    if (d instanceof InputError) {
      if (d.message === 'no format') return 'rejected';
      check(edits.length > 0, `the undamaged trace was refused: ${d.format()}`);
      return rejection(d, { file, bytes: bytes.length }, `decoding ${file}`);
    }
    checkPages(d);
    if (edits.length === 0 && pages.length > 0) {
      check(d.format === format, `an undamaged ${format} trace was read as ${d.format}`);
      check(d.pages.join(',') === pages.join(','), `the pages read back differ from those written`);
      if (format === 'vmscope')
        check(d.writes.join('') === writes.join(''), 'the write flags read back differ');
    }
    return replayBoth(file, d, setup);
  },
};
