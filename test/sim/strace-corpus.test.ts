/**
 * Real programs' whole lives against the Linux kernel's own record: for every corpus strace case the
 * log is replayed from its execve; every replayed call must give Linux's result, the maps at exit
 * must be the ones gdb recorded at exit_group (where the stack grew by touch, which no system call
 * shows, all but [stack]), and at each point where a program printed its /proc/self/maps, the
 * replay stopped at that openat must give the same maps.
 */
import { expect } from 'vitest';
import { describeCorpus, testCorpus } from '../corpus.js';
import { ELF_CASES, markedPoints, ourMaps, recordedMaps, replayCase, SHARING_CASES } from './strace-cases.js';

/** What the kernel cannot do yet (issue 9); their cases are checked once it can. */
const NEEDS: Readonly<Record<string, string>> = {
  'fork-cow': 'fork with copy-on-write',
  'shared-anon': 'fork with copy-on-write',
};

function needs(name: string): string | undefined {
  return NEEDS[name.replace(/-a-(pie|nopie)$/, '')];
}

describeCorpus('strace replay of the corpus ELF cases', () => {
  testCorpus.each(ELF_CASES)('%s: every call agrees and the maps at exit are the recorded ones', (name) => {
    const { replay, summary } = replayCase(name);
    expect(summary.divergences).toEqual([]);
    // The loader's and the program's mmap, mprotect, munmap, brk and rlimit calls were all compared.
    expect(summary.syscalls).toBeGreaterThanOrEqual(8);
    expect(summary.agree).toBe(summary.syscalls);
    expect(summary.skipped.filter((s) => s.why !== 'not a memory call')).toEqual([]);
    const [main] = summary.processes;
    expect(main?.state).toBe('exited');
    const recorded = recordedMaps(name);
    const ours = ourMaps(main?.maps ?? null);
    if (name.startsWith('bigstack-')) {
      const noStack = (l: string[]) => l.filter((x) => !x.endsWith('[stack]'));
      expect(noStack(ours)).toEqual(noStack(recorded));
    } else {
      expect(ours).toEqual(recorded);
    }
    expect(replay.kernel.check()).toEqual([]);
    // The files' pages stay in the page cache after exit, as on Linux, until caches are dropped.
    replay.kernel.dropCaches();
    expect(replay.kernel.meminfo().MemFree).toBe(replay.kernel.bootFreeFrames * replay.kernel.pageSize);
  });
});

describeCorpus('strace replay of the corpus sharing cases', () => {
  testCorpus.each(SHARING_CASES)('%s: every replayed call agrees', (name) => {
    const { replay, summary } = replayCase(name);
    expect(summary.divergences).toEqual([]);
    expect(summary.agree).toBe(summary.syscalls);
    expect(replay.kernel.check()).toEqual([]);
  });

  testCorpus.each(SHARING_CASES.filter((n) => needs(n) === undefined))(
    '%s: at each point the program printed its maps, --at that line gives them',
    (name) => {
      for (const point of markedPoints(name)) {
        const { summary } = replayCase(name, { stop: { line: point.line } });
        const proc = summary.processes.find((p) => p.pid === point.pid);
        expect(ourMaps(proc?.maps ?? null), `${name} at ${point.name} (line ${point.line})`).toEqual(
          point.maps,
        );
      }
    },
  );

  testCorpus.each(SHARING_CASES.filter((n) => needs(n) !== undefined).map((n) => [n, needs(n)!]))(
    '%s needs the kernel to model %s: what it cannot replay is skipped by name, never agreed',
    (name) => {
      const { summary } = replayCase(name);
      const reasons = summary.skipped.filter((s) => s.why !== 'not a memory call');
      expect(reasons.some((s) => s.name === 'clone' && s.why.includes('fork'))).toBe(true);
    },
  );
});
