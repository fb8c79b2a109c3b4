/**
 * Warnings about how a log was recorded, each said once while the replay still runs: without -f
 * (the tasks that clones made have no line), filtered with -e trace= (no execve; no mmap or brk; file
 * mappings without the opens behind them), and -e raw=all (its arguments are raw numbers: nothing is
 * replayed rather than everything diverging). The logs are cut from ones recorded here (strace 6.1).
 */
import { describe, expect, test } from 'vitest';
import { formatMaps } from '../../src/report/procfs.js';
import { StraceReplay } from '../../src/sim/strace-replay.js';
import { StraceParser } from '../../src/workload/strace/parser.js';
import { MADE_UP_FILES, replayMadeUp } from './made-up-program.js';

const replay = (lines: string[]) => replayMadeUp('w.strace', `${lines.join('\n')}\n`).summary;

const FORK =
  'clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7ffff7dd0a10) = 201';
const THREAD =
  'clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, child_tid=0x7ffff7dcf990, parent_tid=0x7ffff7dcf990, exit_signal=0, stack=0x7ffff75cf000, stack_size=0x7fff80, tls=0x7ffff7dcf6c0} => {parent_tid=[202]}, 88) = 202';
const EXEC = 'execve("/prog", ["/prog"], ["A=1"]) = 0';
const ANON = 'mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7ffff7ff5000';

describe('warnings about how a log was recorded', () => {
  test('without -f: the fork and the thread that the clones made have no line, said once', () => {
    const s = replay([
      EXEC,
      ANON,
      FORK,
      THREAD,
      'wait4(201, NULL, 0, NULL) = 201',
      'exit_group(0) = ?',
      '+++ exited with 0 +++',
    ]);
    expect(s.warnings).toEqual([
      '2 tasks that clones made (pid 201, 202) have no line in the log: it was recorded without -f (or with -ff, which writes each process to a LOG.PID file of its own), so their calls are missing (record with strace -f)',
    ]);
    expect(s.divergences).toEqual([]);
  });

  test('-ff: a LOG.PID file has no pids in its lines; its process takes the pid of the file name', () => {
    const log = [EXEC, ANON, FORK, 'exit_group(0) = ?', '+++ exited with 0 +++'].join('\n');
    const s = replayMadeUp('out.4321', `${log}\n`).summary;
    expect(s.processes.map((p) => [p.pid, p.state])).toEqual([
      [4321, 'exited'],
      [201, 'running'],
    ]);
    expect(s.warnings[0]).toMatch(/\(or with -ff, which writes each process to a LOG\.PID file of its own\)/);
    expect(replayMadeUp('out.log', `${log}\n`).summary.processes[0]!.pid).toBe(0);
  });

  test('with -f the same life warns of nothing', () => {
    const s = replay([
      `100 ${EXEC}`,
      `100 ${ANON}`,
      `100 ${FORK}`,
      '201 exit_group(0) = ?',
      '201 +++ exited with 0 +++',
      `100 ${THREAD}`,
      '202 exit(0) = ?',
      '202 +++ exited with 0 +++',
      '100 exit_group(0) = ?',
      '100 +++ exited with 0 +++',
    ]);
    expect(s.warnings).toEqual([]);
  });

  test('-e trace=file: an execve and opens but no mmap or brk', () => {
    const s = replay([
      `100 ${EXEC}`,
      '100 openat(AT_FDCWD</tmp>, "/etc/ld.so.cache", O_RDONLY|O_CLOEXEC) = 3</etc/ld.so.cache>',
      '100 exit_group(0) = ?',
    ]);
    expect(s.warnings).toEqual([
      'the log was filtered (strace -e trace=…): it shows no mmap or brk (0 other memory calls), so the maps at exit cannot be checked',
    ]);
  });

  test('-e trace=%memory: no execve, so nothing could be replayed', () => {
    const s = replay([`100 ${ANON}`, '100 munmap(0x7ffff7ff5000, 8192) = 0', '100 exit_group(0) = ?']);
    expect(s.syscalls).toBe(0);
    expect(s.warnings).toEqual([
      "the log was filtered (strace -e trace=…) or attached to a running process (-p): it shows no execve, so no call could be replayed (give --exe PROG to start the program just before the log's first line)",
    ]);
  });

  test('-e trace=%memory with the program given (--exe): started before the first line, every call replayed', () => {
    const lines = [
      '100 brk(NULL) = 0x406000',
      `100 ${ANON}`,
      '100 mprotect(0x7ffff7ff5000, 4096, PROT_READ) = 0',
      '100 brk(0x427000) = 0x427000',
      '100 munmap(0x7ffff7ff5000, 8192) = 0',
      '100 +++ exited with 0 +++',
    ];
    const r = new StraceReplay('w.strace', {
      files: MADE_UP_FILES,
      ramBytes: 8 << 20,
      check: true,
      firstProgram: '/bin/prog',
    });
    const p = new StraceParser('w.strace', (e) => r.feed(e));
    p.push(new TextEncoder().encode(`${lines.join('\n')}\n`));
    p.end();
    const s = r.finish();
    expect(s.divergences).toEqual([]);
    expect(s.syscalls).toBe(5);
    expect(s.agree).toBe(5);
    expect(formatMaps(s.processes[0]!.maps!)).toMatch(
      /^00400000-00401000 r-xp 00000000 \S+ \S+ +\/bin\/prog$/m,
    );
    expect(formatMaps(s.processes[0]!.maps!)).toMatch(/^00406000-00427000 rw-p 00000000 00:00 0 +\[heap\]$/m);
    expect(s.warnings).toEqual([
      "the log was filtered (strace -e trace=…) or attached to a running process (-p): it shows no execve, so /bin/prog (--exe) was started just before its first line, with argv [/bin/prog] and --env's 0 variables: the initial stack may differ from Linux's, and a log attached to a running process diverges from the start",
    ]);
  });

  test('-Z: only failed calls, said so', () => {
    const s = replay([
      '100 mmap(NULL, 2097152, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_HUGETLB, -1, 0) = -1 ENOMEM (Cannot allocate memory)',
      '100 munmap(0x7ffff7200000, 4096) = -1 EINVAL (Invalid argument)',
      '100 +++ exited with 0 +++',
    ]);
    expect(s.warnings).toEqual([
      'the log shows only failed calls (strace -Z, or -e status=failed): what the program mapped is not in it, so its replay cannot be checked; record it without -Z',
    ]);
  });

  test('-e trace=memory,execve: file mappings of fds no call opened, said once instead of at each', () => {
    const lib = (addr: string, off: string) =>
      `100 mmap(${addr}, 8192, PROT_READ, MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE, 3</usr/lib/x86_64-linux-gnu/libc.so.6>, ${off}) = ${addr}`;
    const s = replay([
      `100 ${EXEC}`,
      '100 mmap(NULL, 16384, PROT_READ, MAP_PRIVATE|MAP_DENYWRITE, 3</usr/lib/x86_64-linux-gnu/libc.so.6>, 0) = 0x7ffff7fb0000',
      lib('0x7ffff7fb1000', '0x1000'),
      lib('0x7ffff7fb2000', '0x2000'),
      '100 exit_group(0) = ?',
    ]);
    expect(s.warnings).toEqual([
      'the log was filtered (strace -e trace=…): it shows no open call, so 3 file mappings use fds it never opened and the maps at exit cannot be checked',
    ]);
  });

  test('-e trace=%memory,%process without -y: an fd no call opened has the access Linux answered with', () => {
    // Recorded here from a 32-bit program: glibc's libc mapped through fd 3 (name unknown), then a
    // file the program made, mapped shared and writable (opened O_RDWR, which the log does not show).
    const s = replay([
      `100 ${EXEC}`,
      '100 mmap(NULL, 16384, PROT_READ, MAP_PRIVATE|MAP_DENYWRITE, 3, 0) = 0x7ffff7ff3000',
      '100 mmap(NULL, 10000, PROT_READ|PROT_WRITE, MAP_SHARED, 4, 0) = 0x7ffff7ff0000',
      '100 mprotect(0x7ffff7ff0000, 4096, PROT_READ) = 0',
      '100 mprotect(0x7ffff7ff0000, 4096, PROT_READ|PROT_WRITE) = 0',
      // Another fd, refused: it was open read-only.
      '100 mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_SHARED, 5, 0) = -1 EACCES (Permission denied)',
      '100 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 5, 0) = 0x7ffff7fef000',
      '100 exit_group(0) = ?',
    ]);
    expect(s.divergences).toEqual([]);
    expect(s.agree).toBe(7);
    expect(s.warnings).toEqual([
      'the log was filtered (strace -e trace=…): it shows no open call, so 4 file mappings use fds it never opened and the maps at exit cannot be checked',
    ]);
  });

  test('-e raw=all: every call is skipped as raw, one warning, no divergence', () => {
    const s = replay([
      '100 execve(0x7fffffffd940, 0x7fffffffee08, 0x7fffffffee18) = 0',
      '100 brk(0) = 0x55555555b000',
      '100 mmap(0, 0x2000, 0x3, 0x22, 0xffffffff, 0) = 0x7ffff7fc0000',
      '100 openat(0xffffff9c, 0x7ffff7ff30b1, 0x80000, 0) = 0x3',
      '100 clone(0x1200011, 0, 0, 0x7ffff7dd0a10, 0) = 0x65',
      '101 exit_group(0) = ?',
      '100 exit_group(0) = ?',
    ]);
    expect(s.warnings).toEqual([
      "line 1: the log was recorded with -e raw=all (execve's path is a pointer): its arguments are raw numbers, so it cannot be replayed; record it without -e raw",
    ]);
    expect(s.syscalls).toBe(0);
    expect(s.divergences).toEqual([]);
    expect(s.skipped.map((k) => [k.name, k.why, k.count])).toContainEqual([
      'mmap',
      'the arguments are raw numbers (-e raw=all)',
      1,
    ]);
  });
});
