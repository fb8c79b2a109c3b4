/**
 * Our own small programs recorded on Linux (test/fixtures/strace): file sizes and SIGBUS, error
 * results, processes and threads. Each replay must agree with every call and signal Linux logged and
 * end with the maps Linux had at exit_group.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { expect } from 'vitest';
import { sysrootFiles } from '../../src/cli/strace.js';
import { formatMapsLine } from '../../src/report/procfs.js';
import type { StraceSummary } from '../../src/sim/strace-model.js';
import { NOT_MEMORY, StraceReplay } from '../../src/sim/strace-replay.js';
import { StraceParser } from '../../src/workload/strace/parser.js';
import { corpusPath, describeCorpus, testCorpus } from '../corpus.js';
import { normalizeMaps, ourMaps } from './strace-cases.js';

/** What the program read from /proc/PID/maps, as the log shows it: the read's line, pid and text. */
function mapsReads(log: string): { line: number; pid: number; maps: string }[] {
  const out: { line: number; pid: number; maps: string }[] = [];
  log.split('\n').forEach((l, i) => {
    const m = /^(\d+)\s+read\(\d+<\/proc\/\d+\/maps>, "((?:[^"\\]|\\.)*)"/.exec(l);
    if (m === null) return;
    const maps = m[2]!.replace(/\\(n|t|"|\\)/g, (_, c: string) => ({ n: '\n', t: '\t' })[c] ?? c);
    out.push({ line: i + 1, pid: Number(m[1]), maps });
  });
  return out;
}

const fixture = (name: string, file: string) =>
  new URL(`../fixtures/strace/${name}/${file}`, import.meta.url);

function replayFixture(
  name: string,
  stopLine: number | null = null,
): { summary: StraceSummary; replay: StraceReplay } {
  const bytes = new Uint8Array(gunzipSync(readFileSync(fixture(name, 'prog.gz'))));
  const sysroot = sysrootFiles(corpusPath('elf', 'sysroot'), null);
  const main = `/tmp/vmscope-fx/${name}`;
  const replay = new StraceReplay(name, {
    files: { ...sysroot, program: (path) => (path === main ? { path, bytes } : sysroot.program(path)) },
    ramBytes: 64 << 20,
    stop: stopLine === null ? null : { line: stopLine },
    check: stopLine === null,
  });
  const parser = new StraceParser(name, (e) => {
    replay.feed(e);
  });
  parser.push(new Uint8Array(readFileSync(fixture(name, 'strace.txt'))));
  parser.end();
  return { summary: replay.finish(), replay };
}

describeCorpus('strace replay of programs recorded for these tests', () => {
  testCorpus.each(['files', 'errors', 'procs', 'sharing', 'shm', 'hugetlb'])(
    "%s: every call agrees and the maps at exit are Linux's",
    (name) => {
      const { summary, replay } = replayFixture(name);
      expect(summary.divergences).toEqual([]);
      expect(summary.agree).toBe(summary.syscalls);
      expect(ourMaps(summary.processes[0]!.maps)).toEqual(
        normalizeMaps(readFileSync(fixture(name, 'maps-exit.txt'), 'utf8')),
      );
      expect(replay.kernel.check()).toEqual([]);
    },
  );

  testCorpus(
    'files: the faults Linux logged (SIGBUS past the end as the file changes size, SIGSEGV) all come out',
    () => {
      const { summary } = replayFixture('files');
      // page 3 of 3, page 1 after the cut, page 6 of a private mapping, the memfd's page 3: SIGBUS;
      // address 16 and a PROT_NONE page: SIGSEGV.
      expect(summary.signals).toEqual({ checked: 6, agree: 6 });
    },
  );

  testCorpus("errors: every error result is Linux's errno", () => {
    const { summary } = replayFixture('errors');
    expect(summary.syscalls).toBeGreaterThan(40);
    expect(summary.skipped.filter((s) => s.why !== NOT_MEMORY)).toEqual([]);
  });

  testCorpus(
    "sharing: madvise, msync, mincore, mlock*, mremap and their errors are Linux's; a fork honours DONTFORK",
    () => {
      const { summary, replay } = replayFixture('sharing');
      expect(summary.divergences).toEqual([]);
      // The one call the log cannot settle: glibc's mremap with MREMAP_DONTUNMAP alone passes a
      // garbage new_address (EINVAL on Linux), which strace does not print.
      expect(summary.skipped.filter((s) => s.why !== NOT_MEMORY)).toEqual([
        {
          name: 'mremap',
          why: 'MREMAP_DONTUNMAP without MREMAP_FIXED: its new address is not in the log',
          count: 1,
        },
      ]);
      // The child (exit 7) unmapped the DONTFORK page it never had and failed to madvise it (ENOMEM),
      // as Linux's did; the main thread left with pthread_exit and the process lived on in its thread.
      expect(summary.processes.map((p) => [p.state, p.exitCode, p.tids.length])).toEqual([
        ['exited', 0, 2],
        ['exited', 7, 1],
      ]);
      expect(summary.syscalls).toBeGreaterThan(70);
      expect(replay.kernel.live()).toEqual([]);
    },
  );

  testCorpus(
    "shm: System V segments' calls, IPC_STAT's size and attach count, and the maps the program read at each point",
    () => {
      const { summary, replay } = replayFixture('shm');
      const calls = (name: string) => summary.skipped.filter((s) => s.name === name);
      for (const name of ['shmget', 'shmat', 'shmdt', 'shmctl']) expect(calls(name)).toEqual([]);
      // 7 shmget, 9 shmat, 7 shmdt, 4 shmctl, and IPC_STAT's shm_segsz and shm_nattch.
      expect(summary.syscalls).toBeGreaterThanOrEqual(27 + 2);
      // The segment removed while attached went with its last detach; the other one at exit.
      expect(replay.kernel.shm.segments()).toEqual([]);
      expect(replay.kernel.meminfo().Shmem).toBe(0);
      const text = readFileSync(fixture('shm', 'strace.txt'), 'utf8');
      const reads = mapsReads(text);
      expect(reads.map((r) => r.pid)).toEqual([9017, 9018, 9017, 9017]);
      for (const read of reads) {
        const at = replayFixture('shm', read.line).summary;
        expect(at.divergences).toEqual([]);
        const proc = at.processes.find((p) => p.pid === read.pid)!;
        expect(ourMaps(proc.maps), `maps at line ${read.line}`).toEqual(normalizeMaps(read.maps));
        // The inode column of a segment's line is its id, as Linux printed it.
        const inodes = (lines: string[]) =>
          lines.filter((l) => l.includes('/SYSV')).map((l) => l.split(/\s+/)[4]);
        expect(inodes((proc.maps ?? []).map((l) => formatMapsLine(l)))).toEqual(
          inodes(read.maps.split('\n')),
        );
      }
    },
  );

  testCorpus(
    'hugetlb: huge pages from an empty pool — refusals, alignment, SIGBUS on touch — and the maps the program read',
    () => {
      const { summary } = replayFixture('hugetlb');
      // Every memory call compared (none skipped), and the three children's SIGBUS.
      expect(summary.skipped.filter((s) => s.why !== NOT_MEMORY)).toEqual([]);
      expect(summary.syscalls).toBeGreaterThanOrEqual(60);
      expect(summary.processes.map((p) => p.signal ?? p.exitCode)).toEqual([0, 'SIGBUS', 'SIGBUS', 'SIGBUS']);
      const text = readFileSync(fixture('hugetlb', 'strace.txt'), 'utf8');
      const reads = mapsReads(text).filter((r) => r.maps !== '');
      expect(reads).toHaveLength(2);
      for (const read of reads) {
        const at = replayFixture('hugetlb', read.line).summary;
        const proc = at.processes.find((p) => p.pid === read.pid)!;
        expect(ourMaps(proc.maps), `maps at line ${read.line}`).toEqual(normalizeMaps(read.maps));
      }
      // The 1 GiB mapping, aligned to 1 GiB; the 4096-byte request rounded up to a 2 MiB page.
      const names = (summary.processes[0]!.maps ?? []).filter((m) => m.name === '/anon_hugepage (deleted)');
      expect(names.map((m) => [m.start.toString(16), (m.end - m.start) / 2 ** 20])).toContainEqual([
        '7fff80000000',
        1024,
      ]);
      expect(names.map((m) => [m.start.toString(16), (m.end - m.start) / 2 ** 20])).toContainEqual([
        '7ffff7200000',
        2,
      ]);
    },
  );

  testCorpus('procs: a spawned child, two forks and three threads, each process ending as in the log', () => {
    const { summary, replay } = replayFixture('procs');
    const states = summary.processes.map((p) => [p.state, p.exitCode ?? p.signal, p.tids.length]);
    expect(states).toEqual([
      ['exited', 0, 4],
      ['exited', 0, 1],
      ['exited', 3, 1],
      ['killed', 'SIGSEGV', 1],
    ]);
    // Every call of every process was replayed — the forks' children on their copy-on-write copies
    // (the first one's mmap, the second one's SIGSEGV at address 8 checked against its mappings) —
    // but the spawned /usr/bin/true's, which the sysroot does not hold.
    const spawned = (why: string) => why.includes('/usr/bin/true') || why.includes('not in the sysroot');
    expect(summary.skipped.filter((s) => s.why !== NOT_MEMORY && !spawned(s.why))).toEqual([]);
    expect(summary.divergences).toEqual([]);
    expect(summary.signals).toEqual({ checked: 1, agree: 1 });
    // The threads were the kernel's: each exit(2) ended one, the address space went with exit_group.
    expect(replay.kernel.live()).toEqual([]);
    expect(replay.kernel.check()).toEqual([]);
  });
});
