/**
 * Bugs the strace fuzz target (test/fuzz/strace.ts) found, each replayed from the log that showed it,
 * on a made-up static program (no corpus needed), with every kernel invariant checked after each call.
 */
import { describe, expect, test } from 'vitest';
import { replayMadeUp } from './made-up-program.js';

function replay(log: string) {
  return replayMadeUp('life.strace', log);
}

describe('strace replay: bugs found by fuzzing', () => {
  test('an MREMAP_DONTUNMAP shrink that Linux took leaves the moved mapping on its anon_vma chain', () => {
    // vmscope refuses DONTUNMAP with a new length (EINVAL, as Linux does); told that Linux moved it,
    // the replay made the new mapping share the old anon_vma without joining its chain, and the
    // kernel's check failed: "its anon_vma is not on its chain".
    const { summary, kernel } = replay(
      [
        '100 execve("/prog", ["/prog", "x"], ["A=1"]) = 0',
        '100 mmap(NULL, 32768, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_STACK, -1, 0) = 0x7ffff7ff7000',
        '100 mremap(0x7ffff7ff7000, 32768, 12288, MREMAP_MAYMOVE|MREMAP_DONTUNMAP) = 0x7ffff7ff4000',
        '100 exit_group(0) = ?',
        '100 +++ exited with 0 +++',
        '',
      ].join('\n'),
    );
    expect(summary.syscalls).toBeGreaterThan(0);
    expect(kernel.check()).toEqual([]);
  });
});
