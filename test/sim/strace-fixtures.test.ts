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
import { StraceReplay } from '../../src/sim/strace-replay.js';
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
  testCorpus.each(['files', 'errors', 'procs'])(
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
    expect(summary.skipped.filter((s) => s.why !== 'not a memory call')).toEqual([]);
  });

  testCorpus('procs: a spawned child, two forks and three threads, each process ending as in the log', () => {
    const { summary } = replayFixture('procs');
    const states = summary.processes.map((p) => [p.state, p.exitCode ?? p.signal, p.tids.length]);
    expect(states).toEqual([
      ['exited', 0, 4],
      ['exited', 0, 1],
      ['exited', 3, 1],
      ['killed', 'SIGSEGV', 1],
    ]);
    // Without a model of fork, the forks' children's calls are skipped, by name, not agreed.
    const forked = summary.skipped.filter((s) => s.why.startsWith('in a forked child'));
    expect(forked.map((s) => `${s.name} ${s.count}`).sort()).toEqual(['SIGSEGV 1', 'clone 2', 'mmap 1']);
  });
});
