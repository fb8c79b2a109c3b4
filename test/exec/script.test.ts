/**
 * `#!` scripts as Linux's binfmt_script runs them. The expected argv and errors are what Linux 6.18
 * gave for the same files (a small C program printing its argv, run through each script, and
 * execve's errno for the broken ones).
 */
import { describe, expect, test } from 'vitest';
import { InputError } from '../../src/base/errors.js';
import { Machine } from '../../src/hw/machine.js';
import { execve } from '../../src/kernel/exec/load.js';
import { parseScriptLine, resolveScripts } from '../../src/kernel/exec/script.js';
import { decodeInitialStack } from '../../src/kernel/exec/stack.js';
import { memoryFileSource } from '../../src/kernel/exec/vfs.js';
import { Kernel } from '../../src/kernel/kernel.js';
import { makeElf, PF_R, PF_X } from './make-elf.js';

const text = (s: string) => new TextEncoder().encode(s);
const PROG = makeElf({
  bits: 64,
  type: 'exec',
  entry: 0x401000,
  segments: [{ vaddr: 0x400000, flags: PF_R | PF_X }],
});

function errorOf(run: () => unknown): InputError {
  try {
    run();
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error('expected an InputError');
}

describe('the #! line, read as load_script reads it', () => {
  test.each([
    ['#!/bin/pargv  one two \t\nbody\n', '/bin/pargv', 'one two'],
    ['#! /bin/pargv\n', '/bin/pargv', null],
    ['#!/bin/pargv', '/bin/pargv', null],
    // A NUL ends the name, and no argument follows it.
    ['#!/bin/pargv\0junk arg\n', '/bin/pargv', null],
    // No newline in a short file: the NUL padding after a blank is an empty argument.
    ['#!/bin/pargv   \t', '/bin/pargv', ''],
    ['#!/bin/sh -e\n#\n', '/bin/sh', '-e'],
  ])('%j names %s with argument %j', (line, interpreter, arg) => {
    expect(parseScriptLine(text(line), 's')).toEqual({ interpreter, arg });
  });

  test('an argument is cut where the first 256 bytes end', () => {
    const line = parseScriptLine(text(`#!/tmp/rb/sh/pargv ${'x'.repeat(300)}\n`), 's');
    expect(line.arg).toBe('x'.repeat(236));
  });

  test.each([
    ['#!\n', 'names no interpreter'],
    [`#!${' '.repeat(300)}`, 'only blanks'],
    [`#!/${'a'.repeat(300)}`, 'does not end within the first 256 bytes'],
  ])('%j is refused as Linux refuses it (ENOEXEC), with the offset', (line, why) => {
    const e = errorOf(() => parseScriptLine(text(line), 'bad.sh'));
    expect(e.message).toContain(why);
    expect(e.message).toContain('ENOEXEC');
    expect(e.span.file).toBe('bad.sh');
    expect(e.span.offset).toBeGreaterThanOrEqual(0);
  });
});

describe('argv through scripts', () => {
  /** n1 runs /bin/pargv, n2 runs n1, …: as in the Linux run. */
  function chain(depth: number) {
    const files = new Map<string, Uint8Array>([['/bin/pargv', PROG]]);
    let prev = '/bin/pargv';
    for (let k = 1; k <= depth; k++) {
      files.set(`/s/n${k}`, text(`#!${prev} n${k}\n`));
      prev = `/s/n${k}`;
    }
    return memoryFileSource(files);
  }

  test('a nested script gets every interpreter, argument and script path, innermost first', () => {
    const r = resolveScripts(chain(2), '/s/n2', ['./n2', 'arg']);
    expect(r.argv).toEqual(['/bin/pargv', 'n1', '/s/n1', 'n2', '/s/n2', 'arg']);
    expect(r.scripts.map((s) => s.path)).toEqual(['/s/n2', '/s/n1']);
    expect(r.file.path).toBe('/bin/pargv');
  });

  test('the first script is named by the path execve was given, not by argv[0]', () => {
    const r = resolveScripts(chain(1), '/s/n1', ['whatever', 'a', 'b']);
    expect(r.argv).toEqual(['/bin/pargv', 'n1', '/s/n1', 'a', 'b']);
  });

  test('five scripts in a row run; a sixth is ELOOP', () => {
    expect(resolveScripts(chain(5), '/s/n5', ['n5']).scripts).toHaveLength(5);
    const e = errorOf(() => resolveScripts(chain(6), '/s/n6', ['n6']));
    expect(e.message).toContain('ELOOP');
    expect(e.message).toContain('/s/n6 → /s/n5');
  });

  test('a missing interpreter is an input error naming it', () => {
    const files = memoryFileSource(new Map([['/s', text('#!/nonexistent/interp\n')]]));
    expect(errorOf(() => resolveScripts(files, '/s', ['/s'])).format()).toBe(
      '/nonexistent/interp: error: no such interpreter',
    );
  });

  test('execve of a script: the interpreter is loaded, argv rewritten on the stack, AT_EXECFN and the name are the script', () => {
    const k = new Kernel(new Machine({ arch: 'x86_64', ramBytes: 16 << 20 }));
    const free = k.frames.freeFrames;
    const r = execve(k, { path: '/s/n1', argv: ['/s/n1', 'x'], envp: ['A=1'], files: chain(1) });
    if (typeof r === 'number') throw new Error(`execve failed: ${r}`);
    expect(r.scripts).toEqual(['/s/n1']);
    expect(r.proc.name).toBe('n1');
    expect(k.maps(r.proc)[0]?.name).toBe('/bin/pargv');
    const bytes = k.peekUser(r.proc, r.stack.sp, r.stack.stackTop - r.stack.sp)!;
    const d = decodeInitialStack(bytes, r.stack.sp, 8);
    expect(d.argv.map((a) => a.text)).toEqual(['/bin/pargv', 'n1', '/s/n1', 'x']);
    expect(d.envp.map((a) => a.text)).toEqual(['A=1']);
    const at = r.stack.execfnVa - r.stack.sp;
    expect(new TextDecoder().decode(bytes.subarray(at, at + 6))).toBe('/s/n1\0');
    k.exit(r.proc, 0);
    expect(k.frames.freeFrames).toBe(free);
  });
});
