/**
 * Our own small programs recorded on Linux (test/fixtures/strace): file sizes and SIGBUS, error
 * results, processes and threads. Each replay must agree with every call and signal Linux logged and
 * end with the maps Linux had at exit_group.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { expect } from 'vitest';
import { sysrootFiles } from '../../src/cli/strace.js';
import type { StraceSummary } from '../../src/sim/strace-model.js';
import { NOT_MEMORY, StraceReplay } from '../../src/sim/strace-replay.js';
import { StraceParser } from '../../src/workload/strace/parser.js';
import { corpusPath, describeCorpus, testCorpus } from '../corpus.js';
import { normalizeMaps, ourMaps } from './strace-cases.js';

const fixture = (name: string, file: string) =>
  new URL(`../fixtures/strace/${name}/${file}`, import.meta.url);

function replayFixture(name: string): { summary: StraceSummary; replay: StraceReplay } {
  const bytes = new Uint8Array(gunzipSync(readFileSync(fixture(name, 'prog.gz'))));
  const sysroot = sysrootFiles(corpusPath('elf', 'sysroot'), null);
  const main = `/tmp/vmscope-fx/${name}`;
  const replay = new StraceReplay(name, {
    files: { ...sysroot, program: (path) => (path === main ? { path, bytes } : sysroot.program(path)) },
    ramBytes: 64 << 20,
  });
  const parser = new StraceParser(name, (e) => {
    replay.feed(e);
  });
  parser.push(new Uint8Array(readFileSync(fixture(name, 'strace.txt'))));
  parser.end();
  return { summary: replay.finish(), replay };
}

describeCorpus('strace replay of programs recorded for these tests', () => {
  testCorpus.each(['files', 'errors', 'procs', 'sharing'])(
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
