/**
 * strace's other output variants and calls found by recording system binaries and small programs
 * here (strace 6.1): `-X raw`/`-X verbose` print flags and limits as numbers, `-n` prefixes the
 * system call's number, `-yy` adds a device's numbers to its path. Each log is replayed on a made-up
 * static program (no corpus needed), with every kernel invariant checked after each call.
 */
import { describe, expect, test } from 'vitest';
import { formatMapsLine } from '../../src/report/procfs.js';
import { replayMadeUp } from './made-up-program.js';

function replay(lines: string[]) {
  const { summary, kernel } = replayMadeUp('v.strace', `${lines.join('\n')}\n`);
  expect(kernel.check()).toEqual([]);
  return summary;
}

const names = (maps: readonly { name: string }[]) => maps.map((m) => m.name);

describe('strace -X raw and -X verbose', () => {
  test("clone's flags as a number: CLONE_THREAD makes a thread of the same process, not a fork", () => {
    const s = replay([
      '100 execve("/prog", ["/prog"], ["A=1"]) = 0',
      '100 mmap(NULL, 4096, 0x3, 0x22, -1, 0) = 0x7ffff7ff6000',
      // clone3's flags as -X verbose prints them; clone's with the exit signal in the low byte (-X raw).
      '100 clone3({flags=0x3d0f00 /* CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID */, child_tid=0x7ffff7ff6990, parent_tid=0x7ffff7ff6990, exit_signal=0, stack=0x7ffff7ff6000, stack_size=0x1000, tls=0x7ffff7ff66c0} => {parent_tid=[101]}, 88) = 101',
      '101 exit(0) = ?',
      '101 +++ exited with 0 +++',
      '100 clone(child_stack=NULL, flags=0x1200011, child_tidptr=0x7ffff7ff6a10) = 102',
      '102 exit_group(0) = ?',
      '102 +++ exited with 0 +++',
      '100 exit_group(0) = ?',
      '100 +++ exited with 0 +++',
    ]);
    expect(s.divergences).toEqual([]);
    expect(s.processes.map((p) => [p.pid, p.tids])).toEqual([
      [100, [100, 101]],
      [102, [102]],
    ]);
  });

  test('open flags as a number (0x242: O_RDWR|O_CREAT|O_TRUNC) create the file a mapping then names; 0x241 is write-only', () => {
    const s = replay([
      '100 execve("/prog", ["/prog"], ["A=1"]) = 0',
      '100 openat(AT_FDCWD</tmp>, "/tmp/new.bin", 0x242, 0644) = 3</tmp/new.bin>',
      '100 ftruncate(3</tmp/new.bin>, 8192) = 0',
      '100 mmap(NULL, 8192, 0x1, 0x1, 3</tmp/new.bin>, 0) = 0x7ffff7ff5000',
      // A write-only fd cannot be mapped (do_mmap needs FMODE_READ).
      '100 openat(AT_FDCWD</tmp>, "/tmp/wo.bin", 0x241, 0644) = 4</tmp/wo.bin>',
      '100 mmap(NULL, 4096, 0x1, 0x2, 4</tmp/wo.bin>, 0) = -1 EACCES (Permission denied)',
      '100 exit_group(0) = ?',
      '100 +++ exited with 0 +++',
    ]);
    expect(s.divergences).toEqual([]);
    expect(s.agree).toBe(s.syscalls);
    expect(names(s.processes[0]!.maps ?? [])).toContain('/tmp/new.bin');
  });

  test('RLIM64_INFINITY printed as 18446744073709551615 is unlimited, as Linux reported', () => {
    const s = replay([
      '100 execve("/prog", ["/prog"], ["A=1"]) = 0',
      '100 prlimit64(0, 0x9 /* RLIMIT_AS */, NULL, {rlim_cur=18446744073709551615 /* RLIM64_INFINITY */, rlim_max=18446744073709551615 /* RLIM64_INFINITY */}) = 0',
      '100 prlimit64(0, 0x2, NULL, {rlim_cur=18446744073709551615, rlim_max=18446744073709551615}) = 0',
      '100 exit_group(0) = ?',
      '100 +++ exited with 0 +++',
    ]);
    expect(s.divergences).toEqual([]);
    expect(s.agree).toBe(s.syscalls);
  });
});

describe('strace -n and -yy', () => {
  test("-n's system call numbers and -yy's device numbers: /dev/zero mapped private and shared, named as Linux names them", () => {
    const s = replay([
      '100 [  59] execve("/prog", ["/prog"], ["A=1"]) = 0',
      '100 [ 257] openat(AT_FDCWD</tmp<block 254:0>>, "/dev/zero", O_RDWR) = 4</dev/zero<char 1:5>>',
      '100 [   9] mmap(NULL, 16384, PROT_READ|PROT_WRITE, MAP_SHARED, 4</dev/zero<char 1:5>>, 0) = 0x7ffff7ff3000',
      '100 [   9] mmap(NULL, 16384, PROT_READ|PROT_WRITE, MAP_PRIVATE, 4</dev/zero<char 1:5>>, 0) = 0x7ffff7fef000',
      '100 [ 231] exit_group(0) = ?',
      '100 +++ exited with 0 +++',
    ]);
    expect(s.divergences).toEqual([]);
    expect(s.agree).toBe(s.syscalls);
    const lines = (s.processes[0]!.maps ?? []).map((m) => formatMapsLine(m));
    expect(lines.find((l) => l.startsWith('7ffff7fef000-7ffff7ff3000 rw-p'))).toMatch(/ \/dev\/zero$/);
    expect(lines.find((l) => l.startsWith('7ffff7ff3000-7ffff7ff7000 rw-s'))).toMatch(
      / \/dev\/zero \(deleted\)$/,
    );
  });
});

describe('System V shared memory in a log', () => {
  test('-e trace=memory leaves shmget out: the shmat of a segment the log never made says so', () => {
    // Cut from a log of the shm fixture's program recorded here with -e trace=%memory (and an execve).
    const s = replay([
      '100 execve("/prog", ["/prog"], ["A=1"]) = 0',
      '100 shmat(32772, NULL, 0) = 0x7ffff7fbd000',
      '100 exit_group(0) = ?',
      '100 +++ exited with 0 +++',
    ]);
    expect(s.divergences).toHaveLength(1);
    const d = s.divergences[0]!;
    expect([d.line, d.linux, d.vmscope]).toEqual([2, '0x7ffff7fbd000', 'EINVAL']);
    expect(d.note).toMatch(
      /^segment 32772 was never created in the log: no shmget returned it \(strace -e trace=memory leaves shmget out/,
    );
  });

  test('a segment the log made but removed is refused with no such note', () => {
    const s = replay([
      '100 execve("/prog", ["/prog"], ["A=1"]) = 0',
      '100 shmget(IPC_PRIVATE, 8192, IPC_CREAT|0600) = 0',
      '100 shmctl(0, IPC_64|IPC_RMID, NULL) = 0',
      // Made up: Linux would refuse it too. vmscope's EINVAL is a divergence of its own, unexplained.
      '100 shmat(0, NULL, 0) = 0x7ffff7ff5000',
      '100 exit_group(0) = ?',
    ]);
    expect(s.divergences.map((d) => [d.line, d.vmscope, d.note])).toEqual([[4, 'EINVAL', undefined]]);
  });

  test('a segment made before the log is made as Linux found it; IPC_STAT is checked; IPC_64 is read', () => {
    const s = replay([
      '100 execve("/prog", ["/prog"], ["A=1"]) = 0',
      // Found by its key: made before the log starts (a divergence, then Linux's segment is made).
      '100 shmget(0x10, 8192, 0600) = 7',
      '100 shmat(7, NULL, 0) = 0x7ffff7ff5000',
      '100 shmat(7, NULL, SHM_RDONLY) = 0x7ffff7ff3000',
      // Linux counted 3 attaches (another process had one): the count diverges, the size agrees.
      '100 shmctl(7, IPC_64|IPC_STAT, {shm_perm={uid=0, gid=0, mode=0600, key=16, cuid=0, cgid=0}, shm_segsz=8192, shm_cpid=99, shm_lpid=100, shm_nattch=3, shm_atime=0, shm_dtime=0, shm_ctime=0}) = 0',
      '100 shmctl(0, IPC_INFO, {shmmax=18446744073692774399, shmmin=1, shmmni=4096, shmseg=4096, shmall=18446744073692774399}) = 7',
      '100 shmctl(7, IPC_64|IPC_RMID, NULL) = 0',
      '100 shmdt(0x7ffff7ff3000) = 0',
      '100 exit_group(0) = ?',
      '100 +++ exited with 0 +++',
    ]);
    expect(s.divergences.map((d) => [d.line, d.linux, d.vmscope])).toEqual([
      [2, '7', 'ENOENT'],
      [5, '3', '2'],
    ]);
    // (It shows no mmap or brk either: the warning about a filtered log is the other one.)
    expect(s.warnings).toContain(
      'line 2: shmget: segment 7 existed before the log starts; made with the size asked',
    );
    expect(s.skipped.find((k) => k.name === 'shmctl')?.why).toBe('reports the system-wide tables only');
    const shm = (s.processes[0]!.maps ?? []).filter((m) => m.name.startsWith('/SYSV'));
    expect(shm.map((m) => [m.start, m.perms, m.inode, m.name])).toEqual([
      [0x7ffff7ff5000, 'rw-s', 7, '/SYSV00000010 (deleted)'],
    ]);
  });
});
