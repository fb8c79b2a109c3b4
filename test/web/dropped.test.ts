/**
 * Finding the path a program or a log names among the files dropped on the page: loose files by
 * their base name when no other file has it, a dropped folder as a sysroot with its links (and git's
 * link files) resolved as a chroot would.
 */
import { describe, expect, test } from 'vitest';
import { findDropped, linkTarget } from '../../web/src/logic/dropped.js';

const bytes = (s: string) => new TextEncoder().encode(s);
const elf = (tag: string) => new Uint8Array([0x7f, 0x45, 0x4c, 0x46, ...bytes(tag)]);

/** The corpus's sysroot as a dropped folder: Debian's merged-/usr links held as link files. */
const sysroot = [
  { name: 'sysroot/lib', bytes: bytes('usr/lib') },
  { name: 'sysroot/lib32', bytes: bytes('usr/lib32') },
  { name: 'sysroot/lib64/ld-linux-x86-64.so.2', bytes: bytes('/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2') },
  { name: 'sysroot/usr/lib/ld-linux.so.2', bytes: bytes('/lib32/ld-linux.so.2') },
  { name: 'sysroot/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', bytes: elf('ld64') },
  { name: 'sysroot/usr/lib32/ld-linux.so.2', bytes: elf('ld32') },
];

function found(files: Parameters<typeof findDropped>[0], path: string) {
  const f = findDropped(files, path);
  return f.kind === 'found' ? { name: f.file.name, path: f.path } : f;
}

describe('files dropped on the page', () => {
  test('a loose file matches a path by its base name, and keeps the path it was asked by', () => {
    const files = [
      { name: 'prog', bytes: elf('p') },
      { name: 'ld-linux-x86-64.so.2', bytes: elf('ld') },
    ];
    expect(found(files, '/tmp/memsim/prog')).toEqual({ name: 'prog', path: '/tmp/memsim/prog' });
    expect(found(files, './prog')).toEqual({ name: 'prog', path: './prog' });
    expect(found(files, '/lib64/ld-linux-x86-64.so.2')).toEqual({
      name: 'ld-linux-x86-64.so.2',
      path: '/lib64/ld-linux-x86-64.so.2',
    });
    expect(findDropped(files, '/lib/ld-linux.so.2')).toEqual({ kind: 'missing' });
  });

  test('two files of the same base name are ambiguous unless more of the path decides', () => {
    const files = [
      { name: 'a/lib/libc.so.6', bytes: elf('a') },
      { name: 'b/lib32/libc.so.6', bytes: elf('b') },
    ];
    expect(findDropped(files, 'libc.so.6')).toEqual({
      kind: 'ambiguous',
      names: ['a/lib/libc.so.6', 'b/lib32/libc.so.6'],
    });
    // Inside both folders the path /lib32/libc.so.6 exists only in b.
    expect(found(files, '/lib32/libc.so.6')).toEqual({ name: 'b/lib32/libc.so.6', path: '/lib32/libc.so.6' });
  });

  test("a dropped folder is a sysroot: PT_INTERP's links resolve inside it, to the path Linux shows", () => {
    expect(found(sysroot, '/lib64/ld-linux-x86-64.so.2')).toEqual({
      name: 'sysroot/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2',
      path: '/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2',
    });
    // /lib -> usr/lib, then usr/lib/ld-linux.so.2 -> /lib32/ld-linux.so.2, /lib32 -> usr/lib32.
    expect(found(sysroot, '/lib/ld-linux.so.2')).toEqual({
      name: 'sysroot/usr/lib32/ld-linux.so.2',
      path: '/usr/lib32/ld-linux.so.2',
    });
    // A program outside the sysroot, dropped loose beside it, by its base name.
    const withProg = [...sysroot, { name: 'prog', bytes: elf('p') }];
    expect(found(withProg, '/tmp/memsim/prog')).toEqual({ name: 'prog', path: '/tmp/memsim/prog' });
  });

  test('a folder dropped below its root still finds the file by the path it ends with, links followed', () => {
    const lib64 = [{ name: 'lib64/ld-linux-x86-64.so.2', bytes: elf('ld') }];
    expect(found(lib64, '/lib64/ld-linux-x86-64.so.2')).toEqual({
      name: 'lib64/ld-linux-x86-64.so.2',
      path: '/lib64/ld-linux-x86-64.so.2',
    });
    const linkOnly = [
      { name: 'lib64/ld-linux-x86-64.so.2', bytes: bytes('../real/ld.so') },
      { name: 'lib64/real/ld.so', bytes: elf('x') },
    ];
    expect(found(linkOnly, '/x/ld-linux-x86-64.so.2')).toEqual({
      name: 'lib64/real/ld.so',
      path: '/real/ld.so',
    });
  });

  test('a link that loops is not followed forever', () => {
    const loop = [
      { name: 'r/a', bytes: bytes('/b') },
      { name: 'r/b', bytes: bytes('/a') },
    ];
    expect(findDropped(loop, '/a/x').kind).not.toBe('found');
  });

  test('a link file is a line of text naming a path; an ELF, a binary or a long file is none', () => {
    expect(linkTarget(bytes('usr/lib'))).toBe('usr/lib');
    expect(linkTarget(elf('/x'))).toBeNull();
    expect(linkTarget(bytes('no slash here'))).toBeNull();
    expect(linkTarget(bytes('a/b\n'))).toBeNull();
    expect(linkTarget(new Uint8Array(2000).fill(0x2f))).toBeNull();
  });
});
