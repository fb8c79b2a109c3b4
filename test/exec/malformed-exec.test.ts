/**
 * Binaries the ELF reader accepts but exec cannot place: their errors are input errors naming the
 * file and the field, and the half-built process is gone (no internal error, nothing left behind).
 */
import { describe, expect, test } from 'vitest';
import { InputError } from '../../src/base/errors.js';
import { Machine } from '../../src/hw/machine.js';
import { execve } from '../../src/kernel/exec/load.js';
import { memoryFileSource } from '../../src/kernel/exec/vfs.js';
import { Kernel } from '../../src/kernel/kernel.js';
import { type ElfSpec, makeElf, PF_R, PF_X } from './make-elf.js';

const LD32 = makeElf({ bits: 32, type: 'dyn', entry: 0x100, segments: [{ vaddr: 0, flags: PF_R | PF_X }] });

function execOf(spec: ElfSpec, interp: Uint8Array = LD32) {
  const k = new Kernel(new Machine({ arch: 'x86_64', ramBytes: 16 << 20 }));
  const free = k.frames.freeFrames;
  const files = memoryFileSource(
    new Map([
      ['/prog', makeElf(spec)],
      ['/lib/ld-linux.so.2', interp],
    ]),
  );
  let error: unknown = null;
  try {
    execve(k, { path: '/prog', argv: ['/prog'], envp: [], files });
  } catch (e) {
    error = e;
  }
  return { k, free, error };
}

describe('a 32-bit entry point that the load bias carries past 4 GiB (regression: internal error "initial stack: word out of range")', () => {
  test.each([
    [
      'a PIE with an interpreter',
      {
        bits: 32,
        type: 'dyn',
        entry: 0xfff00000,
        interp: '/lib/ld-linux.so.2',
        segments: [{ vaddr: 0, flags: PF_R | PF_X }],
      },
    ],
    [
      'a static PIE',
      { bits: 32, type: 'dyn', entry: 0x10000000, segments: [{ vaddr: 0, flags: PF_R | PF_X }] },
    ],
  ] as const)('%s: an input error at e_entry, and nothing left behind', (_what, spec) => {
    const { k, free, error } = execOf(spec as ElfSpec);
    expect(error).toBeInstanceOf(InputError);
    const e = error as InputError;
    expect(e.span).toEqual({ file: '/prog', offset: 24 });
    expect(e.message).toMatch(
      /^e_entry 0x[0-9a-f]+ plus the load bias 0x[0-9a-f]+ is 0x1[0-9a-f]{8}, outside user space .*EINVAL$/,
    );
    expect(k.processes.size).toBe(0);
    expect(k.frames.freeFrames).toBe(free);
    expect(k.check()).toEqual([]);
  });

  test("the interpreter's own entry point too names the interpreter", () => {
    const ld = makeElf({
      bits: 32,
      type: 'dyn',
      entry: 0xffff0000,
      segments: [{ vaddr: 0, flags: PF_R | PF_X }],
    });
    const { k, error } = execOf(
      {
        bits: 32,
        type: 'dyn',
        entry: 0x100,
        interp: '/lib/ld-linux.so.2',
        segments: [{ vaddr: 0, flags: PF_R | PF_X }],
      },
      ld,
    );
    expect((error as InputError).span).toEqual({ file: '/lib/ld-linux.so.2', offset: 24 });
    expect(k.processes.size).toBe(0);
  });

  test('an entry point that stays below 4 GiB loads', () => {
    const { k, error } = execOf({
      bits: 32,
      type: 'dyn',
      entry: 0x100,
      interp: '/lib/ld-linux.so.2',
      segments: [{ vaddr: 0, flags: PF_R | PF_X }],
    });
    expect(error).toBeNull();
    expect(k.processes.size).toBe(1);
    expect(k.check()).toEqual([]);
  });
});
