/**
 * Bugs the strace fuzz target (test/fuzz/strace.ts) found, each replayed from the log that showed it,
 * on a made-up static program (no corpus needed), with every kernel invariant checked after each call.
 */
import { describe, expect, test } from 'vitest';
import { type StraceFiles, StraceReplay } from '../../src/sim/strace-replay.js';
import { StraceParser } from '../../src/workload/strace/parser.js';
import { makeElf, PF_R, PF_W, PF_X } from '../exec/make-elf.js';

const PROGRAM = makeElf({
  bits: 64,
  type: 'exec',
  entry: 0x401000,
  segments: [
    { vaddr: 0x400000, flags: PF_R | PF_X, bytes: new Uint8Array(300).fill(0xc3) },
    { vaddr: 0x402010, flags: PF_R | PF_W, bytes: new Uint8Array(40).fill(1), memsz: 0x3000 },
  ],
});
const FILES: StraceFiles = {
  program: (path) => ({ path, bytes: PROGRAM }),
  interpreter: (path) => ({ path, bytes: PROGRAM }),
  size: () => null,
  resolve: (path) => path,
};

function replay(log: string) {
  const r = new StraceReplay('life.strace', { files: FILES, ramBytes: 8 << 20, check: true });
  const p = new StraceParser('life.strace', (e) => r.feed(e));
  p.push(new TextEncoder().encode(log));
  p.end();
  const summary = r.finish();
  return { summary, kernel: r.kernel };
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
