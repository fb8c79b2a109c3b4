/**
 * A made-up static x86-64 program (code and a data segment with bss), for strace replays that need
 * no corpus: every path the log execs, and its interpreter, is this program.
 */
import { type StraceFiles, StraceReplay } from '../../src/sim/strace-replay.js';
import { StraceParser } from '../../src/workload/strace/parser.js';
import { makeElf, PF_R, PF_W, PF_X } from '../exec/make-elf.js';

export const MADE_UP_PROGRAM = makeElf({
  bits: 64,
  type: 'exec',
  entry: 0x401000,
  segments: [
    { vaddr: 0x400000, flags: PF_R | PF_X, bytes: new Uint8Array(300).fill(0xc3) },
    { vaddr: 0x402010, flags: PF_R | PF_W, bytes: new Uint8Array(40).fill(1), memsz: 0x3000 },
  ],
});

export const MADE_UP_FILES: StraceFiles = {
  program: (path) => ({ path, bytes: MADE_UP_PROGRAM }),
  interpreter: (path) => ({ path, bytes: MADE_UP_PROGRAM }),
  size: () => null,
  resolve: (path) => path,
};

/** Replays a log's text on the made-up program in an 8 MiB machine, checking invariants after each call. */
export function replayMadeUp(file: string, log: string) {
  const r = new StraceReplay(file, { files: MADE_UP_FILES, ramBytes: 8 << 20, check: true });
  const p = new StraceParser(file, (e) => r.feed(e));
  p.push(new TextEncoder().encode(log));
  p.end();
  const summary = r.finish();
  return { summary, kernel: r.kernel };
}
