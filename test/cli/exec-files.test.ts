/**
 * What `vmscope exec` opens on the host: only regular files are read (execve refuses anything else
 * with EACCES, and reading a FIFO would wait forever), and `#!` scripts run through their
 * interpreter, found in the sysroot as the process's root would have it.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { makeElf, PF_R, PF_X } from '../exec/make-elf.js';
import { run } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'vmscope-exec-files-'));
const root = join(dir, 'root');
mkdirSync(join(root, 'lib'), { recursive: true });
mkdirSync(join(root, 'bin'), { recursive: true });

const STATIC = makeElf({
  bits: 64,
  type: 'exec',
  entry: 0x401000,
  segments: [{ vaddr: 0x400000, flags: PF_R | PF_X }],
});
const DYNAMIC = makeElf({
  bits: 64,
  type: 'dyn',
  entry: 0x1000,
  interp: '/lib/ld.so',
  segments: [{ vaddr: 0, flags: PF_R | PF_X }],
});
writeFileSync(join(root, 'bin', 'interp'), STATIC);

describe('files that are not regular are refused without being read', () => {
  test('an interpreter that is a FIFO: EACCES at once, no hang (regression: the loader waited on it)', async () => {
    execFileSync('mkfifo', [join(root, 'lib', 'ld.so')]);
    const prog = join(dir, 'dyn');
    writeFileSync(prog, DYNAMIC);
    const r = await run('exec', '--sysroot', root, prog);
    expect(r.status).toBe(2);
    expect(r.err).toBe(
      `${root}/lib/ld.so: error: the interpreter /lib/ld.so under ${root} is a FIFO, not a regular file (execve: EACCES)\n`,
    );
  });

  test('an interpreter behind a loop of links in the sysroot: ELOOP in words, exit 2, no hang', async () => {
    const loops = join(dir, 'loops');
    mkdirSync(loops);
    // /lib -> /usr/lib -> /lib: an absolute target starts again at the sysroot, so it never ends.
    symlinkSync('/usr/lib', join(loops, 'lib'));
    mkdirSync(join(loops, 'usr'));
    symlinkSync('/lib', join(loops, 'usr', 'lib'));
    const prog = join(dir, 'dyn-loop');
    writeFileSync(prog, DYNAMIC);
    const r = await run('exec', '--sysroot', loops, prog);
    expect(r.status).toBe(2);
    expect(r.err).toBe('/lib/ld.so: error: too many levels of symbolic links\n');
  });

  test.each([
    ['a character device', '/dev/zero', 'a character device'],
    ['a directory', dir, 'a directory'],
  ])('a program that is %s: EACCES', async (_what, path, kind) => {
    const r = await run('exec', path);
    expect(r.status).toBe(2);
    expect(r.err).toBe(`${path}: error: the program is ${kind}, not a regular file (execve: EACCES)\n`);
  });
});

describe('#! scripts', () => {
  test('run through their interpreter in the sysroot, with argv as binfmt_script rewrites it', async () => {
    const script = join(dir, 'tool');
    writeFileSync(script, '#!/bin/interp -e\necho hello\n');
    const r = await run('exec', '--sysroot', root, '--show', 'stack', '--show', 'maps', script, 'a1');
    expect(r.err).toBe('');
    expect(r.status).toBe(0);
    expect(r.out).toContain('argv[0] = ');
    for (const arg of ['"/bin/interp"', '"-e"', `"${script}"`, '"a1"']) expect(r.out).toContain(arg);
    expect(r.out).toMatch(/^00400000-00401000 r-xp 00000000 \S+ \d+ +\/bin\/interp$/m);
  });

  test('a script whose interpreter is missing names it', async () => {
    const script = join(dir, 'broken');
    writeFileSync(script, '#!/bin/nothing\n');
    const r = await run('exec', '--sysroot', root, script);
    expect(r.status).toBe(2);
    expect(r.err).toContain('no such interpreter /bin/nothing');
  });

  test('a file that is neither ELF nor script is "not an ELF file", exit 2', async () => {
    const file = join(dir, 'text');
    writeFileSync(file, 'just words\n');
    const r = await run('exec', file);
    expect(r.status).toBe(2);
    expect(r.err).toContain('not an ELF file');
  });
});
