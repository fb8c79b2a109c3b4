/**
 * Real programs' whole lives against the Linux kernel's own record: for every corpus strace case the
 * log is replayed from its execve; every replayed call must give Linux's result, the maps at exit
 * must be the ones gdb recorded at exit_group (where the stack grew by touch, which no system call
 * shows, all but [stack]), and at each point where a program printed its /proc/self/maps, the
 * replay stopped at that openat must give the same maps.
 */
import { expect } from 'vitest';
import { NOT_MEMORY } from '../../src/sim/strace-replay.js';
import { describeCorpus, testCorpus } from '../corpus.js';
import { ELF_CASES, markedPoints, ourMaps, recordedMaps, replayCase, SHARING_CASES } from './strace-cases.js';

describeCorpus('strace replay of the corpus ELF cases', () => {
  testCorpus.each(ELF_CASES)('%s: every call agrees and the maps at exit are the recorded ones', (name) => {
    const { replay, summary } = replayCase(name);
    expect(summary.divergences).toEqual([]);
    // The loader's and the program's mmap, mprotect, munmap, brk and rlimit calls were all compared.
    expect(summary.syscalls).toBeGreaterThanOrEqual(8);
    expect(summary.agree).toBe(summary.syscalls);
    expect(summary.skipped.filter((s) => s.why !== NOT_MEMORY)).toEqual([]);
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
  testCorpus.each(SHARING_CASES)(
    '%s: every call agrees; nothing but calls unrelated to memory is skipped',
    (name) => {
      const { replay, summary } = replayCase(name);
      expect(summary.divergences).toEqual([]);
      expect(summary.syscalls).toBeGreaterThanOrEqual(15);
      expect(summary.agree).toBe(summary.syscalls);
      expect(summary.skipped.filter((s) => s.why !== NOT_MEMORY)).toEqual([]);
      // Each process of the log ended as it did on Linux.
      for (const p of summary.processes) expect([p.pid, p.state, p.exitCode]).toEqual([p.pid, 'exited', 0]);
      expect(replay.kernel.live()).toEqual([]);
      expect(replay.kernel.check()).toEqual([]);
      replay.kernel.dropCaches();
      expect(replay.kernel.meminfo().MemFree).toBe(replay.kernel.bootFreeFrames * replay.kernel.pageSize);
    },
  );

  testCorpus.each(SHARING_CASES)(
    '%s: at each point the program printed its maps, --at that line gives them',
    (name) => {
      const points = markedPoints(name);
      expect(points.length).toBeGreaterThanOrEqual(3);
      for (const point of points) {
        const { summary } = replayCase(name, { stop: { line: point.line } });
        const proc = summary.processes.find((p) => p.pid === point.pid);
        expect(ourMaps(proc?.maps ?? null), `${name} at ${point.name} (line ${point.line})`).toEqual(
          point.maps,
        );
      }
    },
  );

  testCorpus.each(SHARING_CASES.filter((n) => n.startsWith('fork-cow') || n.startsWith('shared-anon')))(
    "%s: the child is the kernel's copy-on-write fork, a process of its own",
    (name) => {
      const points = markedPoints(name);
      const child = points.find((p) => p.pid !== points[0]!.pid)!;
      const { replay, summary } = replayCase(name, { stop: { line: child.line } });
      const [parent, forked] = summary.processes;
      expect(forked?.pid).toBe(child.pid);
      expect(forked?.vmPid).not.toBe(parent?.vmPid);
      const proc = replay.kernel.process(forked!.vmPid)!;
      expect(proc.ppid).toBe(parent!.vmPid);
      expect(replay.kernel.check()).toEqual([]);
    },
  );

  testCorpus.each(SHARING_CASES.filter((n) => n.startsWith('threads')))(
    '%s: the threads are kernel threads of one process, parked and then gone',
    (name) => {
      const parked = markedPoints(name).find((p) => p.name === 'threads-parked')!;
      const { replay, summary } = replayCase(name, { stop: { line: parked.line } });
      const [main] = summary.processes;
      expect(main?.tids.length).toBe(4);
      expect(replay.kernel.status(replay.kernel.process(main!.vmPid)!).threads).toBe(4);
      const joined = markedPoints(name).find((p) => p.name === 'joined')!;
      const after = replayCase(name, { stop: { line: joined.line } });
      expect(after.replay.kernel.status(after.replay.kernel.process(main!.vmPid)!).threads).toBe(1);
    },
  );
});
