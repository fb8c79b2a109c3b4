/**
 * The scenario statements for sharing: file, fork, thread, mmap file=, mremap, madvise, msync, mlock,
 * truncate, sync, drop_caches, show smaps / smaps_rollup and the expectations on them.
 */
import { describe, expect, test } from 'vitest';
import { InputError, InputErrors } from '../../src/base/errors.js';
import { formatSnapshot } from '../../src/report/show.js';
import { runScenario } from '../../src/sim/scenario-runner.js';
import { parseScenario } from '../../src/workload/scenario/parse.js';

function run(text: string) {
  return runScenario(parseScenario('t.vms', text), { check: true });
}

function failures(text: string): string[] {
  const r = run(text);
  return r.steps
    .filter((s) => s.verdict && !s.verdict.ok)
    .map((s) => `${s.statement.text}: ${s.verdict!.actual}`);
}

function parseError(text: string): string {
  try {
    parseScenario('t.vms', text);
  } catch (e) {
    if (e instanceof InputErrors) return e.errors.map((x) => x.format()).join('\n');
    if (e instanceof InputError) return e.format();
    throw e;
  }
  return 'no error';
}

describe('fork and threads in scenarios', () => {
  test("a forked child inherits the parent's labels; a thread shares them with its process", () => {
    expect(
      failures(`spawn A
A: mmap m 16K rw- private
A: write m 16K
A: fork B
B: write m 4K fill=7
A: thread T
T: mmap t 8K rw- private
A: write t 1
expect A Threads == 2
expect B Threads == 1
expect B smaps m Private_Dirty == 4 kB
expect B smaps m Shared_Dirty == 12 kB
expect A Pss < 20 kB
T: exit
expect A state == running
expect A Threads == 1
expect T state == exited
A: thread U
A: exit
expect U state == exited
`),
    ).toEqual([]);
  });

  test('fork and thread names must be new; an unknown advice is named with a suggestion', () => {
    expect(parseError('spawn A\nA: fork A\n')).toMatch(/t\.vms:2:9: error: process 'A' already exists/);
    expect(parseError('spawn A\nA: mmap m 4K rw-\nA: madvise m 4K dontned\n')).toMatch(
      /unknown advice 'dontned'.*did you mean 'dontneed'/,
    );
    expect(parseError('spawn A\nA: mmap m 4K rw- shared file=nope\n')).toMatch(/no file 'nope'/);
  });
});

describe('files in scenarios', () => {
  test('a truncated file gives SIGBUS past its new end; Cached, Dirty, sync and drop_caches', () => {
    expect(
      failures(`file data 16K fill=65
expect meminfo Cached == 16 kB
expect meminfo Dirty == 16 kB
sync
expect meminfo Dirty == 0 kB
spawn A
A: mmap f 16K rw- shared file=data
A: write f+4K 1
expect meminfo Dirty == 4 kB
A: msync f 16K sync
expect meminfo Dirty == 0 kB
truncate data 4K
A: read f 1
A: read f+4K 1
expect A signal == SIGBUS
drop_caches
expect meminfo Cached == 0 kB
expect meminfo MemFree == boot
`),
    ).toEqual([]);
  });

  test("show smaps prints Linux's record for the VMA holding an address", () => {
    const r = run(`spawn A
A: mmap m 8K rw- private
A: write m 4K
show A smaps m
show A smaps_rollup
`);
    const arch = r.kernel.machine.arch;
    const smaps = formatSnapshot(arch, r.steps[3]!.snapshot!);
    expect(smaps.split('\n').slice(1, 4)).toEqual([
      'Size:                  8 kB',
      'KernelPageSize:        4 kB',
      'MMUPageSize:           4 kB',
    ]);
    expect(smaps).toContain('\nRss:                   4 kB\n');
    expect(smaps).toContain('\nVmFlags: rd wr mr mw me ac \n');
    const rollup = formatSnapshot(arch, r.steps[4]!.snapshot!);
    expect(rollup.split('\n')[0]).toMatch(/^00400000-7ffffffff000 ---p 00000000 00:00 0 +\[rollup\]$/);
    expect(rollup).toContain('\nPss_Anon:              8 kB\n');
  });
});

describe('mremap, madvise and mlock in scenarios', () => {
  test('a failed mremap leaves the label on the old mapping; a moved one names the new place', () => {
    const r = run(`spawn A
A: mmap m 8K rw- private
A: mmap b 4K r-- private noreplace=m+8K
A: mremap m 16K
expect A ret == -ENOMEM
A: write m 8K
A: mremap m 16K maymove
A: write m+8K 8K
expect A smaps m Size == 16 kB
A: mlock m 16K
expect A VmLck == 16 kB
A: munlock m 16K
A: madvise m 16K dontneed
expect A smaps m Rss == 0 kB
`);
    expect(r.failed).toBe(0);
    const labels = r.steps.filter((s) => s.outcome.kind === 'syscall' && s.outcome.name === 'mremap');
    expect(labels.map((s) => (s.outcome.kind === 'syscall' ? s.outcome.result : 0))[0]).toBeLessThan(0);
  });

  test('overcommit=2 refuses what CommitLimit cannot hold', () => {
    expect(
      failures(`machine x86_64 ram=4MiB overcommit=2
spawn A
A: mmap big 3MiB rw- private
expect A ret == -ENOMEM
A: mmap ro 3MiB r-- private
expect A ret != -ENOMEM
expect meminfo CommitLimit == 2 MiB
`),
    ).toEqual([]);
  });
});

describe('local replacement with shared pages', () => {
  test('regression "reclaim: pid 1 ended with pages still held": a page-cache page two processes map under scope=local', () => {
    expect(
      failures(`machine x86_64 scope=local frames=32
file lib 16K fill=7
sync
spawn A
spawn B
A: mmap l 16K r-- private file=lib
B: mmap l 16K r-- private file=lib
A: read l 16K
B: read l 16K
A: exit
expect B smaps l Rss == 16 kB
B: read l+8K 1
kill B
spawn C
C: mmap l 16K r-- private file=lib
C: read l 1
expect C RssFile >= 4 kB
`),
    ).toEqual([]);
  });
});

describe('thread stacks as glibc makes them', () => {
  test('MAP_STACK, all but a guard page made rw-: VmFlags nh, no merge with the anonymous memory beside it, counted in VmData', () => {
    const r = run(`spawn A
A: mmap below 64K rw- private
A: write below 4K
A: thread T
T: mmap st 8M --- private stack fixed=below+64K
T: mprotect st+4K 8188K rw-
T: write st+8M-16 16
expect A Threads == 2
expect T smaps st Size == 4 kB
expect A VmData > 8000 kB
show T smaps st+4K
`);
    expect(r.failed).toBe(0);
    const smaps = formatSnapshot(r.kernel.machine.arch, r.steps.at(-1)!.snapshot!);
    expect(smaps).toContain('VmFlags: rd wr mr mw me ac nh \n');
    // The rw- stack does not merge with the rw- memory below the guard page.
    expect(
      r.kernel.maps(r.kernel.process(1)!).filter((m) => m.perms === 'rw-p' && m.name === '').length,
    ).toBeGreaterThanOrEqual(2);
  });
});
