/**
 * System V shared memory as Linux's ipc/shm.c keeps it: segments named SYSV<key> mapped MAP_SHARED,
 * shared across attaches and forks, outliving their attaches until IPC_RMID and the last detach.
 * Expected placements and maps lines are what a program doing the same calls printed under
 * `setarch -R` on Linux 6.x (x86-64).
 */
import { describe, expect, test } from 'vitest';
import { PROT_READ, PROT_WRITE } from '../../src/kernel/errno.js';
import type { Kernel } from '../../src/kernel/kernel.js';
import type { Process } from '../../src/kernel/process.js';
import {
  IPC_CREAT,
  IPC_EXCL,
  IPC_PRIVATE,
  IPC_RMID,
  IPC_STAT,
  SHM_HUGETLB,
  SHM_NORESERVE,
  SHM_RDONLY,
  SHM_REMAP,
  SHM_RND,
} from '../../src/kernel/shm.js';
import { bootKernel, drawMaps, expectAllFreedAfterExit, mmapAnon, spawnOk } from './../helpers.js';

const PAGE = 4096;
const EINVAL = -22;

function attachOk(k: Kernel, p: Process, id: number, addr = 0, flags = 0): number {
  const at = k.shmat(p, id, addr, flags);
  expect(at, `shmat(${id}, ${addr}, ${flags})`).toBeGreaterThan(0);
  return at;
}

function write(k: Kernel, p: Process, va: number, text: string): boolean {
  return k.writeUser(p, va, new TextEncoder().encode(text));
}

function read(k: Kernel, p: Process, va: number, len: number): string {
  return new TextDecoder().decode(k.readUser(p, va, len)!);
}

function shmLines(k: Kernel, p: Process) {
  return k
    .maps(p)
    .filter((m) => m.name.startsWith('/SYSV'))
    .map((m) => ({
      start: m.start,
      end: m.end,
      perms: m.perms,
      dev: m.device,
      inode: m.inode,
      name: m.name,
    }));
}

describe('System V shared memory', () => {
  test('two attaches of one segment share its pages; the maps name it SYSV<key> (deleted), inode its id', () => {
    const k = bootKernel();
    const a = spawnOk(k, 'A');
    const id = k.shmget(a, 0x1234abcd, 10000, IPC_CREAT | 0o600);
    expect(id).toBe(0);
    const rw = attachOk(k, a, id);
    const ro = attachOk(k, a, id, 0, SHM_RDONLY);
    // Top-down as mmap places: the second attach right below the first, 10000 bytes taking 3 pages.
    expect(ro).toBe(rw - 3 * PAGE);
    expect(shmLines(k, a)).toEqual([
      { start: ro, end: rw, perms: 'r--s', dev: '00:01', inode: 0, name: '/SYSV1234abcd (deleted)' },
      {
        start: rw,
        end: rw + 3 * PAGE,
        perms: 'rw-s',
        dev: '00:01',
        inode: 0,
        name: '/SYSV1234abcd (deleted)',
      },
    ]);
    expect(write(k, a, rw + 2 * PAGE + 5, 'hello')).toBe(true);
    expect(read(k, a, ro + 2 * PAGE + 5, 5)).toBe('hello');
    expect(k.status(a).RssShmem).toBe(2 * PAGE);
    expect(k.meminfo().Shmem).toBe(PAGE);
    // The read-only attach may never be made writable, and a write to it is a fault.
    expect(k.mprotect(a, ro, PAGE, PROT_READ | PROT_WRITE)).toBe(-13);
    expect(write(k, a, ro, 'x')).toBe(false);
    expect(a.alive).toBe(false);
    expect(k.check()).toEqual([]);
  });

  test('a fork inherits the attaches: what the child writes the parent reads', () => {
    const k = bootKernel();
    const a = spawnOk(k, 'A');
    const id = k.shmget(a, IPC_PRIVATE, 5000, IPC_CREAT | 0o600);
    const at = attachOk(k, a, id);
    expect(write(k, a, at, 'parent')).toBe(true);
    const b = k.fork(a, 'B') as Process;
    expect(shmLines(k, b)).toEqual(shmLines(k, a));
    expect(read(k, b, at, 6)).toBe('parent');
    expect(write(k, b, at + PAGE, 'child')).toBe(true);
    expect(k.shmdt(b, at)).toBe(0);
    expect(shmLines(k, b)).toEqual([]);
    k.exit(b, 0);
    expect(read(k, a, at + PAGE, 5)).toBe('child');
    expect(k.check()).toEqual([]);
  });

  test('the segment outlives the exit of every attacher; another process finds it by key', () => {
    const k = bootKernel();
    const a = spawnOk(k, 'A');
    const id = k.shmget(a, 42, 3 * PAGE, IPC_CREAT | 0o600);
    expect(write(k, a, attachOk(k, a, id) + PAGE, 'kept')).toBe(true);
    k.exit(a, 0);
    expect(k.check()).toEqual([]);
    expect(k.meminfo().Shmem).toBe(PAGE);
    const b = spawnOk(k, 'B');
    expect(k.shmget(b, 42, 0, 0)).toBe(id);
    expect(read(k, b, attachOk(k, b, id) + PAGE, 4)).toBe('kept');
    expect(k.shmctl(b, id, IPC_RMID)).toBe(0);
    expectAllFreedAfterExit(k);
  });

  test('IPC_RMID then the last detach frees the frames and the charge; the removed id is EINVAL', () => {
    const k = bootKernel();
    const a = spawnOk(k, 'A');
    const committed = k.meminfo().Committed_AS;
    const free = k.meminfo().MemFree;
    const id = k.shmget(a, 0x77, 4 * PAGE, IPC_CREAT | 0o600);
    expect(k.meminfo().Committed_AS).toBe(committed + 4 * PAGE);
    const one = attachOk(k, a, id);
    const two = attachOk(k, a, id);
    for (let i = 0; i < 4; i++) expect(write(k, a, one + i * PAGE, 'z')).toBe(true);
    expect(k.shmctl(a, id, IPC_RMID)).toBe(0);
    // Marked, not gone: its key finds it no more, its id still attaches (Linux allows it).
    expect(k.shmget(a, 0x77, 0, 0)).toBe(-2);
    expect(read(k, a, two, 1)).toBe('z');
    const three = attachOk(k, a, id);
    expect(k.shmdt(a, one)).toBe(0);
    expect(k.shmdt(a, two)).toBe(0);
    expect(k.meminfo().Shmem).toBe(4 * PAGE);
    expect(k.shmdt(a, three)).toBe(0);
    expect(k.meminfo().Shmem).toBe(0);
    expect(k.meminfo().Committed_AS).toBe(committed);
    expect(k.meminfo().MemFree).toBe(free);
    expect(k.shmat(a, id, 0, 0)).toBe(EINVAL);
    expect(k.shmctl(a, id, IPC_STAT)).toBe(EINVAL);
    expect(k.shmdt(a, one)).toBe(EINVAL);
    expect(k.shm.segments()).toEqual([]);
    expect(k.check()).toEqual([]);
  });

  test('IPC_RMID of an unattached segment frees it at once', () => {
    const k = bootKernel();
    const a = spawnOk(k, 'A');
    const id = k.shmget(a, IPC_PRIVATE, PAGE, IPC_CREAT);
    const at = attachOk(k, a, id);
    expect(write(k, a, at, 'x')).toBe(true);
    expect(k.shmdt(a, at)).toBe(0);
    expect(k.meminfo().Shmem).toBe(PAGE);
    expect(k.shmctl(a, id, IPC_RMID)).toBe(0);
    expect(k.meminfo().Shmem).toBe(0);
    expectAllFreedAfterExit(k);
  });

  test("shmget's refusals and lookups as Linux's ipcget and newseg", () => {
    const k = bootKernel();
    const a = spawnOk(k, 'A');
    expect(k.shmget(a, 5, PAGE, 0)).toBe(-2); // ENOENT
    expect(k.shmget(a, 5, 0, IPC_CREAT)).toBe(EINVAL); // below SHMMIN
    const id = k.shmget(a, 5, 2 * PAGE, IPC_CREAT);
    expect(k.shmget(a, 5, PAGE, IPC_CREAT | IPC_EXCL)).toBe(-17); // EEXIST
    expect(k.shmget(a, 5, 2 * PAGE + 1, 0)).toBe(EINVAL); // larger than the segment
    expect(k.shmget(a, 5, PAGE, IPC_CREAT)).toBe(id);
    expect(k.shmget(a, IPC_PRIVATE, PAGE, SHM_HUGETLB)).toBe(-12); // no huge page in the pool
    // Larger than memory and swap: refused by the commit check unless SHM_NORESERVE.
    expect(k.shmget(a, IPC_PRIVATE, 2 ** 40, 0)).toBe(-12);
    const big = k.shmget(a, IPC_PRIVATE, 2 ** 40, SHM_NORESERVE);
    expect(big).toBeGreaterThan(0);
    expect(k.shmctl(a, big, 99)).toBe(EINVAL);
    expect(k.check()).toEqual([]);
  });

  test('ids cycle upwards as ipc_idr_alloc gives them; shm_next_id names the next one', () => {
    const k = bootKernel();
    const a = spawnOk(k, 'A');
    const ids = [0, 1, 2].map(() => k.shmget(a, IPC_PRIVATE, PAGE, 0));
    expect(ids).toEqual([0, 1, 2]);
    expect(k.shmctl(a, 0, IPC_RMID)).toBe(0);
    expect(k.shmget(a, IPC_PRIVATE, PAGE, 0)).toBe(3);
    k.shm.nextId = 52;
    expect(k.shmget(a, IPC_PRIVATE, PAGE, 0)).toBe(52);
    k.shm.nextId = 52;
    expect(k.shmget(a, IPC_PRIVATE, PAGE, 0)).toBe(53);
    expect(k.shmget(a, IPC_PRIVATE, PAGE, 0)).toBe(4);
    // With few in use, the cycle is 64 slots: past index 63 it wraps to the lowest free index, with
    // the next sequence number; with more in use (in_use * 3/2 > 64) it runs further first.
    for (const id of [1, 2, 3, 4, 52, 53]) expect(k.shmctl(a, id, IPC_RMID)).toBe(0);
    const made: number[] = [];
    for (let i = 0; i < 60; i++) {
      made.push(k.shmget(a, IPC_PRIVATE, PAGE, 0));
      expect(k.shmctl(a, made.at(-1)!, IPC_RMID)).toBe(0);
    }
    expect(made.slice(0, 3)).toEqual([5, 6, 7]);
    expect(made.slice(-2)).toEqual([63, (1 << 15) + 0]);
    const many = Array.from({ length: 50 }, () => k.shmget(a, IPC_PRIVATE, PAGE, 0));
    expect(many.at(-1)).toBe((1 << 15) + 50);
    expect(k.shmget(a, IPC_PRIVATE, PAGE, 0)).toBe((1 << 15) + 51);
  });

  test('shmat at an address: page-aligned or rounded with SHM_RND, refused over a mapping unless SHM_REMAP', () => {
    const k = bootKernel();
    const a = spawnOk(k, 'A');
    const id = k.shmget(a, IPC_PRIVATE, 5000, 0);
    expect(k.shmat(a, id, 0x10000000, 0)).toBe(0x10000000);
    expect(k.shmat(a, id, 0x20000123, SHM_RND)).toBe(0x20000000);
    expect(k.shmat(a, id, 0x20000123, 0)).toBe(EINVAL);
    expect(k.shmat(a, id, 0x10001000, 0)).toBe(EINVAL); // overlaps the first attach
    expect(k.shmat(a, id, 0, SHM_REMAP)).toBe(EINVAL);
    const anon = mmapAnon(k, a, 4 * PAGE);
    expect(k.shmat(a, id, anon + PAGE, SHM_REMAP)).toBe(anon + PAGE);
    expect(drawMaps(k, a).filter((l) => l.includes('SYSV'))).toEqual([
      '10000000-10002000 rw-s /SYSV00000000 (deleted)',
      '20000000-20002000 rw-s /SYSV00000000 (deleted)',
      `${(anon + PAGE).toString(16)}-${(anon + 3 * PAGE).toString(16)} rw-s /SYSV00000000 (deleted)`,
    ]);
    expect(k.shmat(a, id + 1, 0, 0)).toBe(EINVAL);
    expect(k.check()).toEqual([]);
  });

  test('shmdt removes every piece of a split attach, and only an attach starting there', () => {
    const k = bootKernel();
    const a = spawnOk(k, 'A');
    const id = k.shmget(a, IPC_PRIVATE, 4 * PAGE, 0);
    const at = attachOk(k, a, id);
    expect(k.mprotect(a, at + PAGE, PAGE, PROT_READ)).toBe(0);
    expect(shmLines(k, a).map((l) => l.perms)).toEqual(['rw-s', 'r--s', 'rw-s']);
    expect(k.shmdt(a, at + PAGE + 1)).toBe(EINVAL); // not page-aligned
    expect(k.shmdt(a, at + PAGE)).toBe(EINVAL); // its piece there has file offset 1, not 0
    expect(k.shmdt(a, at)).toBe(0);
    expect(shmLines(k, a)).toEqual([]);
    expect(k.shmdt(a, at)).toBe(EINVAL);
    expect(k.check()).toEqual([]);
  });
});
