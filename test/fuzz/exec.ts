/**
 * Programs, as `vmscope exec` and a scenario's `exec` load them: ELF binaries made here (64- and
 * 32-bit, static and with an interpreter, with a bss) and, with the corpus, real ones, their headers
 * damaged; and `#!` scripts naming interpreters, themselves or each other. An exec either builds a
 * process that keeps every invariant and gives all its memory back at exit, or is refused with an
 * input error naming one of the files at an offset inside it (or a -errno, as execve returns) —
 * with nothing left behind: no process, no frame.
 */
import fc from 'fast-check';
import { InputError } from '../../src/base/errors.js';
import { Machine } from '../../src/hw/machine.js';
import { execve } from '../../src/kernel/exec/load.js';
import { memoryFileSource } from '../../src/kernel/exec/vfs.js';
import { Kernel } from '../../src/kernel/kernel.js';
import { fromCorpus } from '../corpus-path.js';
import { caseBinary, SYSROOT_INTERPRETERS, sysrootFile } from '../exec/cases.js';
import { makeElf, PF_R, PF_W, PF_X } from '../exec/make-elf.js';
import { check, type FuzzTarget, rejection, unitArb } from './harness.js';

const LD64 = makeElf({
  bits: 64,
  type: 'dyn',
  entry: 0x1100,
  segments: [{ vaddr: 0, flags: PF_R | PF_X, bytes: new Uint8Array(200).fill(0x90) }],
});
const LD32 = makeElf({ bits: 32, type: 'dyn', entry: 0x100, segments: [{ vaddr: 0, flags: PF_R | PF_X }] });

const MADE: readonly Uint8Array[] = [
  makeElf({
    bits: 64,
    type: 'exec',
    entry: 0x401000,
    segments: [
      { vaddr: 0x400000, flags: PF_R | PF_X, bytes: new Uint8Array(300).fill(0xc3) },
      { vaddr: 0x402010, flags: PF_R | PF_W, bytes: new Uint8Array(40).fill(1), memsz: 0x3000 },
    ],
  }),
  makeElf({
    bits: 64,
    type: 'dyn',
    entry: 0x1040,
    interp: '/lib64/ld-linux-x86-64.so.2',
    segments: [
      { vaddr: 0, flags: PF_R | PF_X, bytes: new Uint8Array(500).fill(0x90) },
      { vaddr: 0x2df0, flags: PF_R | PF_W, bytes: new Uint8Array(64).fill(2), memsz: 0x1200 },
    ],
  }),
  makeElf({
    bits: 32,
    type: 'dyn',
    entry: 0x1200,
    interp: '/lib/ld-linux.so.2',
    segments: [
      { vaddr: 0, flags: PF_R | PF_X, bytes: new Uint8Array(200).fill(0x90) },
      { vaddr: 0x2ee0, flags: PF_R | PF_W, bytes: new Uint8Array(64).fill(2), memsz: 0x100 },
    ],
  }),
];

const CORPUS: readonly Uint8Array[] = fromCorpus(
  () => ['hello-pie', 'hello-m32', 'hello-nopie', 'mallocs-m32-static', 'bigdata-static-pie'].map(caseBinary),
  [],
);
/** The corpus's interpreters under the names their programs' PT_INTERP give. */
const CORPUS_LD: ReadonlyMap<string, Uint8Array> = fromCorpus(
  () =>
    new Map([
      ['/lib64/ld-linux-x86-64.so.2', sysrootFile(SYSROOT_INTERPRETERS[0]!)],
      ['/lib/ld-linux.so.2', sysrootFile(SYSROOT_INTERPRETERS[1]!)],
    ]),
  new Map(),
);
const BASES = [...MADE, ...CORPUS];

type Damage =
  | { readonly kind: 'flip'; readonly at: number; readonly mask: number }
  | { readonly kind: 'field'; readonly at: number; readonly width: 2 | 4 | 8; readonly value: number }
  | { readonly kind: 'cut'; readonly at: number };

const damage: fc.Arbitrary<Damage> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: unitArb(fc), mask: fc.integer({ min: 1, max: 255 }) }),
  fc.record({
    kind: fc.constant('field' as const),
    at: unitArb(fc),
    width: fc.constantFrom(2 as const, 4 as const, 8 as const),
    value: fc.oneof(
      fc.constantFrom(
        0,
        1,
        2,
        3,
        0x7f,
        0xff,
        0x1000,
        0xffff,
        0x7fffffff,
        0x80000000,
        0xffffffff,
        0xfffff000,
        0x7ffffffff000,
        2 ** 47,
        2 ** 53 - 1,
      ),
      fc.nat({ max: 0xffffffff }),
    ),
  }),
  fc.record({ kind: fc.constant('cut' as const), at: unitArb(fc) }),
);

/** Damage lands in the headers (the first `span` bytes) most of the time, where it matters. */
function damaged(base: Uint8Array, edits: readonly Damage[], wide: boolean): Uint8Array {
  let out = base.slice();
  const span = wide ? out.length : Math.min(out.length, 64 + 56 * 8);
  for (const e of edits) {
    const at = Math.floor(e.at * span);
    if (e.kind === 'flip') {
      if (at < out.length) out[at] = out[at]! ^ e.mask;
    } else if (e.kind === 'field') {
      if (at + e.width > out.length) continue;
      const view = new DataView(out.buffer, out.byteOffset);
      if (e.width === 2) view.setUint16(at, e.value & 0xffff, true);
      else if (e.width === 4) view.setUint32(at, e.value >>> 0, true);
      else view.setBigUint64(at, BigInt(e.value), true);
    } else out = out.slice(0, Math.max(0, Math.floor(e.at * out.length)));
  }
  return out;
}

interface ExecInput {
  readonly base: number;
  readonly edits: Damage[];
  readonly wide: boolean;
  readonly script: number;
  readonly interpEdits: Damage[];
  readonly arch: 'x86_64' | 'i386' | 'riscv-sv39';
}

/** `#!` lines: an interpreter with an argument, one naming the script itself, a chain, junk. */
const SCRIPTS = [
  null,
  '#!/prog -x\n',
  '#! /prog\techo  hi\n',
  '#!/script\n',
  '#!/chain1\n',
  '#!\n',
  `#!/${'p'.repeat(300)}\n`,
  '#!/missing arg\n',
  '#!/prog',
];

export const execTarget: FuzzTarget<ExecInput> = {
  name: 'exec',
  checks:
    'ELF binaries with damaged headers and #! scripts, exec-ed: a process that keeps every invariant and gives its memory back, or an input error (or -errno) placed in one of the files, nothing left behind',
  quickRuns: 120,
  input: fc.record({
    base: fc.nat({ max: BASES.length - 1 }),
    edits: fc.array(damage, { minLength: 0, maxLength: 5 }),
    wide: fc.boolean(),
    script: fc.nat({ max: SCRIPTS.length - 1 }),
    interpEdits: fc.oneof(fc.constant<Damage[]>([]), fc.array(damage, { minLength: 1, maxLength: 3 })),
    arch: fc.constantFrom('x86_64' as const, 'x86_64' as const, 'i386' as const, 'riscv-sv39' as const),
  }),
  run({ base, edits, wide, script, interpEdits, arch }) {
    const prog = damaged(BASES[base]!, edits, wide);
    const files = new Map<string, Uint8Array>([
      ['/prog', prog],
      [
        '/lib64/ld-linux-x86-64.so.2',
        damaged(CORPUS_LD.get('/lib64/ld-linux-x86-64.so.2') ?? LD64, interpEdits, false),
      ],
      ['/lib/ld-linux.so.2', damaged(CORPUS_LD.get('/lib/ld-linux.so.2') ?? LD32, interpEdits, false)],
      ['/chain1', new TextEncoder().encode('#!/chain2\n')],
      ['/chain2', new TextEncoder().encode('#!/chain1\n')],
    ]);
    const line = SCRIPTS[script];
    const path = line === null || line === undefined ? '/prog' : '/script';
    // A `#!` line without its newline is the whole file (nothing may follow it on that line).
    if (path === '/script')
      files.set('/script', new TextEncoder().encode(line!.endsWith('\n') ? `${line}echo\n` : line!));
    const k = new Kernel(new Machine({ arch, ramBytes: 8 << 20 }));
    const free = k.frames.freeFrames;
    let result: ReturnType<typeof execve>;
    try {
      result = execve(k, { path, argv: [path, 'a'], envp: ['A=1'], files: memoryFileSource(files) });
    } catch (e) {
      // The error names one of the files (the program, the script, an interpreter), at an offset in it.
      const named = e instanceof InputError ? e.span.file : '';
      const bytes = files.get(named)?.length;
      // Or an interpreter that is not there (a `#!` line's or a damaged PT_INTERP's): Linux's ENOENT.
      const missing = e instanceof InputError && e.message === 'no such interpreter';
      check(
        !(e instanceof InputError) || bytes !== undefined || missing,
        `the error names ${named}, which is no file of the exec: ${(e as InputError).format?.()}`,
      );
      const outcome = rejection(e, { file: named, bytes: bytes ?? 0 }, 'exec');
      // File pages the load read stay in the page cache, as on Linux; everything else must be back.
      k.dropCaches();
      check(
        k.processes.size === 0 && k.frames.freeFrames === free,
        'a refused exec left a process or frames behind',
      );
      check(k.check().length === 0, `after a refused exec: ${k.check().join('; ')}`);
      return outcome;
    }
    if (typeof result === 'number') {
      check(result < 0, `exec returned ${result}`);
      k.dropCaches();
      check(
        k.processes.size === 0 && k.frames.freeFrames === free,
        `exec failed with ${result} and left a process or frames behind`,
      );
      return 'rejected';
    }
    const problems = k.check();
    check(problems.length === 0, `after exec: ${problems.join('; ')}`);
    for (const proc of k.live()) if (proc.alive) k.exit(proc, 0);
    k.dropCaches();
    check(k.check().length === 0, `after exit: ${k.check().join('; ')}`);
    check(k.frames.freeFrames === free, `after exit ${free - k.frames.freeFrames} frames are still in use`);
    return 'accepted';
  },
};
