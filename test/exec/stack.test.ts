/**
 * The initial stack, byte for byte as the kernel built it for every corpus case: fed with the case's
 * argv, environment, exec path and recorded auxv values (AT_RANDOM's bytes taken from the record),
 * the builder must give the recorded bytes from sp to the stack top and the recorded sp.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { alignDown } from '../../src/base/units.js';
import { E2BIG } from '../../src/kernel/errno.js';
import {
  AT_ENTRY,
  AT_EXECFN,
  AT_NULL,
  AT_PLATFORM,
  AT_RANDOM,
  AT_SYSINFO,
  AT_SYSINFO_EHDR,
  type AuxvValues,
  formatAuxv,
  RECORDED_X86,
  x86ArchDlinfo,
} from '../../src/kernel/exec/auxv.js';
import {
  buildInitialStack,
  checkExecArgs,
  decodeInitialStack,
  type InitialStackInput,
  stackStringReader,
} from '../../src/kernel/exec/stack.js';
import { describeCorpus } from '../corpus.js';
import { CASES, caseBytes, caseJson, caseText, num, stackJson } from './cases.js';

/** The builder's input for a corpus case, from what the kernel recorded. */
function recordedInput(name: string): InitialStackInput {
  const c = caseJson(name);
  const s = stackJson(name);
  const recorded = caseBytes(name, 'stack-start.bin');
  const sp = num(s.sp);
  const aux = new Map(s.auxv.map((a) => [a.name, num(a.value)]));
  const v = (n: string): number => {
    const value = aux.get(n);
    if (value === undefined) throw new Error(`${name}: no ${n} recorded`);
    return value;
  };
  const randomVa = v('AT_RANDOM');
  const values: AuxvValues = {
    arch: x86ArchDlinfo({
      vdsoBase: v('AT_SYSINFO_EHDR'),
      minSigStackSize: v('AT_MINSIGSTKSZ'),
      ...(s.word_size === 4 ? { sysinfoEntry: v('AT_SYSINFO') } : {}),
    }),
    hwcap: v('AT_HWCAP'),
    hwcap2: v('AT_HWCAP2'),
    pageSize: v('AT_PAGESZ'),
    clockTicks: v('AT_CLKTCK'),
    phdr: v('AT_PHDR'),
    phent: v('AT_PHENT'),
    phnum: v('AT_PHNUM'),
    base: v('AT_BASE'),
    flags: v('AT_FLAGS'),
    entry: v('AT_ENTRY'),
    uid: v('AT_UID'),
    euid: v('AT_EUID'),
    gid: v('AT_GID'),
    egid: v('AT_EGID'),
    secure: v('AT_SECURE'),
    rseq: { featureSize: v('AT_RSEQ_FEATURE_SIZE'), align: v('AT_RSEQ_ALIGN') },
  };
  return {
    wordSize: s.word_size,
    stackTop: num(c.stack.top),
    argv: c.run.argv,
    envp: c.run.env,
    execfn: c.run.exec_path,
    platform: c.bits === 64 ? 'x86_64' : 'i686',
    random: recorded.slice(randomVa - sp, randomVa - sp + 16),
    auxv: values,
  };
}

function hexDiff(ours: Uint8Array, theirs: Uint8Array): string {
  for (let i = 0; i < Math.max(ours.length, theirs.length); i++) {
    if (ours[i] !== theirs[i]) return `first difference at byte ${i}: ${ours[i]} vs ${theirs[i]}`;
  }
  return 'equal';
}

describeCorpus.each(CASES)('%s', (name) => {
  const recorded = caseBytes(name, 'stack-start.bin');
  const c = caseJson(name);
  const s = stackJson(name);
  const sp = num(c.stack.sp);

  test('the built stack equals stack-start.bin byte for byte, with the recorded sp', () => {
    const built = buildInitialStack(recordedInput(name));
    expect(built.sp).toBe(sp);
    expect(built.sp).toBe(num(s.sp));
    expect(built.bytes.length).toBe(recorded.length);
    expect(hexDiff(built.bytes, recorded)).toBe('equal');
  });

  test('the decoder reads back stack-start.json', () => {
    const d = decodeInitialStack(recorded, sp, s.word_size, `${name}/stack-start.bin`);
    expect(d.argc).toBe(s.argc);
    expect(d.argv.map((a) => a.text)).toEqual(s.argv);
    expect(d.envp.map((e) => e.text)).toEqual(s.envp);
    expect(d.auxv.map((a) => ({ type: a.type, name: a.name, value: `0x${a.value.toString(16)}` }))).toEqual(
      s.auxv,
    );
    expect(d.vectorBytes).toBe(s.vector_bytes);
    expect(d.areas.map((a) => ({ addr: `0x${a.va.toString(16)}`, len: a.sizeBytes, what: a.what }))).toEqual(
      s.strings,
    );
  });

  test('the auxv prints as gdb 13’s info auxv (auxv-start.txt)', () => {
    const d = decodeInitialStack(recorded, sp, s.word_size);
    const text = formatAuxv(d.auxv, { readString: stackStringReader(recorded, sp), gdb: 13 });
    expect(text).toBe(caseText(name, 'auxv-start.txt'));
  });

  test('/proc/PID/auxv holds the same words as the stack (then zeros, for an i386 process)', () => {
    const built = buildInitialStack(recordedInput(name));
    const raw = caseBytes(name, 'proc/auxv-start.bin');
    const words = built.bytes.subarray(
      built.auxvVa - built.sp,
      built.auxvVa - built.sp + built.auxv.length * 2 * s.word_size,
    );
    expect(raw.subarray(0, words.length)).toEqual(words);
    expect(raw.subarray(words.length).every((b) => b === 0)).toBe(true);
  });
});

/** An x86-64 (or i386) input with the recorded machine's values and the given strings. */
function input64(
  argv: string[],
  envp: string[],
  execfn = '/bin/prog',
  wordSize: 4 | 8 = 8,
): InitialStackInput {
  const ia32 = wordSize === 4;
  return {
    wordSize,
    stackTop: ia32 ? 0xffffe000 : 0x7ffffffff000,
    argv,
    envp,
    execfn,
    platform: ia32 ? 'i686' : 'x86_64',
    random: new Uint8Array(16).fill(0xaa),
    auxv: {
      arch: x86ArchDlinfo({
        vdsoBase: ia32 ? 0xf7fc7000 : 0x7ffff7fc8000,
        minSigStackSize: RECORDED_X86.minSigStackSize,
        ...(ia32 ? { sysinfoEntry: 0xf7fc75e0 } : {}),
      }),
      hwcap: RECORDED_X86.hwcap,
      hwcap2: RECORDED_X86.hwcap2,
      pageSize: 4096,
      clockTicks: RECORDED_X86.clockTicks,
      phdr: 0x400040,
      phent: 56,
      phnum: 13,
      base: 0,
      flags: 0,
      entry: 0x401000,
      uid: 1000,
      euid: 1000,
      gid: 1000,
      egid: 1000,
      secure: 0,
      rseq: RECORDED_X86.rseq,
    },
  };
}

describe('layout rules', () => {
  test('an empty argv becomes [""] (Linux 5.18+), so argc is 1', () => {
    const built = buildInitialStack(input64([], []));
    expect(built.argc).toBe(1);
    const d = decodeInitialStack(built.bytes, built.sp, 8);
    expect(d.argv.map((a) => a.text)).toEqual(['']);
  });

  test('the 8 bytes at the top are zero and the exec path ends just below them', () => {
    const built = buildInitialStack(input64(['a'], ['B=2'], '/x'));
    expect([...built.bytes.subarray(-8)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(built.execfnVa).toBe(0x7ffffffff000 - 8 - 3);
    expect(built.envEnd).toBe(built.execfnVa);
    expect(built.argEnd).toBe(built.envStart);
  });

  test('a 32-bit stack has no AT_SYSINFO without a vdso, and no AT_PLATFORM without a platform', () => {
    const base = input64(['a'], [], '/a', 4);
    const built = buildInitialStack({
      ...base,
      platform: null,
      auxv: {
        ...base.auxv,
        arch: x86ArchDlinfo({ vdsoBase: null, minSigStackSize: 0xd30, sysinfoEntry: 1 }),
      },
    });
    const types = built.auxv.map((a) => a.type);
    expect(types).not.toContain(AT_SYSINFO);
    expect(types).not.toContain(AT_SYSINFO_EHDR);
    expect(types).not.toContain(AT_PLATFORM);
    expect(built.platformVa).toBeNull();
    expect(built.randomVa).toBe(alignDown(built.argStart, 16) - 16);
  });

  test('for any strings: sp is 16-aligned, the decoder reads back what was built, and the strings sit where the kernel puts them', () => {
    const str = fc.string({ unit: 'grapheme', maxLength: 40 }).filter((s) => !s.includes('\0'));
    fc.assert(
      fc.property(
        fc.array(str, { maxLength: 8 }),
        fc.array(str, { maxLength: 8 }),
        str,
        fc.integer({ min: 0, max: 8191 }),
        fc.constantFrom(4 as const, 8 as const),
        (argv, envp, execfn, alignRandomBytes, wordSize) => {
          const base = input64(argv, envp, execfn, wordSize);
          const built = buildInitialStack({ ...base, alignRandomBytes });
          expect(built.sp % 16).toBe(0);
          const d = decodeInitialStack(built.bytes, built.sp, wordSize);
          const expectedArgv = argv.length === 0 ? [''] : argv;
          expect(d.argc).toBe(expectedArgv.length);
          expect(d.argv.map((a) => a.text)).toEqual(expectedArgv);
          expect(d.envp.map((e) => e.text)).toEqual(envp);
          expect(d.auxv.map(({ type, value }) => ({ type, value }))).toEqual(built.auxv);
          expect(d.auxv.find((a) => a.type === AT_EXECFN)?.text).toBe(execfn);
          expect(d.auxv.find((a) => a.type === AT_RANDOM)?.random).toEqual(base.random);
          expect(d.auxv.find((a) => a.type === AT_ENTRY)?.value).toBe(0x401000);
          expect(d.auxv.at(-1)?.type).toBe(AT_NULL);
          // The vectors end below the random bytes, with less than 16 bytes of padding.
          const vectorsEnd = built.sp + d.vectorBytes;
          expect(built.randomVa - vectorsEnd).toBeGreaterThanOrEqual(0);
          expect(built.randomVa - vectorsEnd).toBeLessThan(16);
          // The platform string sits right below the 16-aligned, randomly lowered, argument strings.
          const platformBytes = wordSize === 8 ? 7 : 5;
          expect(built.platformVa).toBe(alignDown(built.argStart - alignRandomBytes, 16) - platformBytes);
        },
      ),
      { seed: 0x5eed, numRuns: 300 },
    );
  });
});

describe('checkExecArgs (E2BIG as execve reports it)', () => {
  const MiB = 1024 * 1024;

  test('ordinary arguments fit', () => {
    expect(
      checkExecArgs({ argv: ['/bin/ls', '-l'], envp: ['A=1'], execfn: '/bin/ls', rlimitStack: 8 * MiB }),
    ).toBe(0);
  });

  test('one string longer than 128 KiB is E2BIG', () => {
    const long = 'x'.repeat(128 * 1024);
    expect(checkExecArgs({ argv: ['p', long], envp: [], execfn: 'p', rlimitStack: 8 * MiB })).toBe(-E2BIG);
    expect(checkExecArgs({ argv: ['p', long.slice(1)], envp: [], execfn: 'p', rlimitStack: 8 * MiB })).toBe(
      0,
    );
  });

  test('the total may use a quarter of RLIMIT_STACK (2 MiB of 8 MiB), pointers included', () => {
    const chunk = 'y'.repeat(64 * 1024 - 1);
    const argv = Array.from({ length: 31 }, () => chunk);
    expect(checkExecArgs({ argv: ['p', ...argv], envp: [], execfn: 'p', rlimitStack: 8 * MiB })).toBe(0);
    const more = Array.from({ length: 33 }, () => chunk);
    expect(checkExecArgs({ argv: ['p', ...more], envp: [], execfn: 'p', rlimitStack: 8 * MiB })).toBe(-E2BIG);
  });

  test('a tiny RLIMIT_STACK still allows 128 KiB (ARG_MAX)', () => {
    const chunk = 'z'.repeat(100 * 1024);
    expect(checkExecArgs({ argv: ['p', chunk], envp: [], execfn: 'p', rlimitStack: 64 * 1024 })).toBe(0);
  });
});

describe('formatAuxv and decodeInitialStack edges', () => {
  test('a current gdb names AT_RSEQ_* and prints them in decimal', () => {
    const text = formatAuxv([
      { type: 27, value: 28 },
      { type: 28, value: 32 },
      { type: 99, value: 255 },
    ]);
    expect(text).toBe(
      [
        '27   AT_RSEQ_FEATURE_SIZE rseq supported feature size    28',
        '28   AT_RSEQ_ALIGN        rseq allocation alignment      32',
        `99   ???                  ${' '.repeat(30)} 0xff`,
        '',
      ].join('\n'),
    );
  });

  test('strings are quoted as gdb quotes them, and an unreadable one says so', () => {
    const bytes = new TextEncoder().encode('a"b\\c\nd\u0001');
    const text = formatAuxv(
      [
        { type: AT_EXECFN, value: 0x1000 },
        { type: AT_PLATFORM, value: 0x2000 },
      ],
      { readString: (va) => (va === 0x1000 ? bytes : null) },
    );
    expect(text).toContain('0x1000 "a\\"b\\\\c\\nd\\001"');
    expect(text).toContain('0x2000 <error: Cannot access memory at address 0x2000>');
  });

  test('a stack cut inside the auxv is an InputError at the offset where it ends', () => {
    const built = buildInitialStack(input64(['a'], []));
    const cut = built.bytes.subarray(0, 100);
    expect(() => decodeInitialStack(cut, built.sp, 8, 'cut.bin')).toThrow(
      expect.objectContaining({ code: 'stack', span: { file: 'cut.bin', offset: 96 } }),
    );
  });
});
