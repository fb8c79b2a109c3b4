/**
 * Allocators in a process under memory pressure: a handful of frames for user pages and a swap
 * device, so that nearly every allocator call evicts pages and faults them back. Nothing may be lost:
 * every byte reads back as the program last wrote it, through malloc, free and realloc, and the
 * kernel's invariants and the heap's layout hold after every call.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { Machine } from '../../src/hw/machine.js';
import { Kernel } from '../../src/kernel/kernel.js';
import type { Process } from '../../src/kernel/process.js';
import { runScenario } from '../../src/sim/scenario-runner.js';
import { KernelMemory } from '../../src/user/kernel-memory.js';
import { ALLOCATOR_NAMES, type Allocator, type AllocatorName } from '../../src/user/malloc/api.js';
import { createAllocator } from '../../src/user/malloc/registry.js';
import { parseScenario } from '../../src/workload/scenario/parse.js';
import { expectAllFreedAfterExit } from '../helpers.js';

/** Runs a scenario with every invariant checked after every statement. */
function run(text: string) {
  return runScenario(parseScenario('pressure.vms', text), { check: true });
}

/** The process the scenario spawned first, and the address a label of it holds now. */
function labelled(r: ReturnType<typeof run>, label: string): { proc: Process; va: number } {
  const proc = r.kernel.processes.get(1)!;
  const last = [...r.steps].reverse().find((s) => s.outcome.kind === 'syscall' && s.outcome.label === label);
  expect(last, `no step set ${label}`).toBeDefined();
  return { proc, va: (last!.outcome as { result: number }).result };
}

describe('bytes lost through swap during realloc (regressions)', () => {
  test('buddy on 8 frames: realloc of a block whose pages went to swap keeps its bytes', () => {
    const r = run(`machine x86_64 frames=8 swap=4M malloc=buddy
spawn A
A: malloc p 60K
A: write p 60K fill=90
A: malloc g 16
A: realloc p 100K
A: read p 16
`);
    const read = r.steps.at(-1)!.outcome;
    expect(read.kind === 'access' && read.bytes).toEqual(new Array(16).fill(0x5a));
    expect(r.kernel.reclaim.stats.swapIns).toBeGreaterThan(0);
    const { proc, va } = labelled(r, 'p');
    expect(proc.state).toBe('running');
    const all = r.kernel.readUser(proc, va, 60 * 1024)!; // faults the swapped pages back in
    expect(all.every((b) => b === 0x5a)).toBe(true);
    expectAllFreedAfterExit(r.kernel);
  });

  test('binned on 32 frames: realloc reads its chunk pointers back right after a swap-in (no SIGSEGV)', () => {
    const r = run(`machine x86_64 frames=32 swap=4M malloc=binned
spawn A
A: malloc p 60K
A: write p 60K fill=90
A: malloc g 16
A: realloc p 100K
A: read p 16
`);
    const read = r.steps.at(-1)!.outcome;
    expect(read.kind === 'access' && read.bytes).toEqual(new Array(16).fill(0x5a));
    const { proc, va } = labelled(r, 'p');
    expect(proc.state).toBe('running');
    expect(r.kernel.readUser(proc, va, 60 * 1024)!.every((b) => b === 0x5a)).toBe(true);
    expectAllFreedAfterExit(r.kernel);
  });

  test('binned on 2 frames: free after a large malloc finds its chunk header intact (no SIGABRT)', () => {
    const r = run(`machine x86_64 frames=2 swap=1M
spawn A
A: malloc p 100
A: malloc q 160K
A: free p
A: malloc r 100
expect A state == running
`);
    expect(r.failed).toBe(0);
    expect(r.kernel.processes.get(1)!.signal).toBeNull();
    expectAllFreedAfterExit(r.kernel);
  });
});

// ---------------------------------------------------------------- the property

type Op =
  | { op: 'malloc'; size: number }
  | { op: 'free'; pick: number }
  | { op: 'realloc'; pick: number; size: number }
  | { op: 'write'; pick: number; at: number; len: number; byte: number }
  | { op: 'read'; pick: number; at: number; len: number };

/** Sizes that cross pages and the mmap threshold, and small ones that share pages. */
const size = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 256 }) },
  { weight: 3, arbitrary: fc.integer({ min: 257, max: 20_000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 20_001, max: 160_000 }) },
);
const fraction = fc.integer({ min: 0, max: 1_000_000 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant('malloc' as const), size }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('free' as const), pick: fraction }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('realloc' as const), pick: fraction, size }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('write' as const),
      pick: fraction,
      at: fraction,
      len: fraction,
      byte: fc.integer({ min: 1, max: 255 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('read' as const), pick: fraction, at: fraction, len: fraction }),
  },
);

/** A live block and what the program knows of its bytes (malloc's and realloc's new bytes are unknown). */
interface Block {
  ptr: number;
  shadow: Uint8Array;
  known: Uint8Array;
}

/** A process with `name`'s malloc on a machine whose user pages may hold only `frames` frames. */
function pressuredHeap(name: AllocatorName, frames: number): { k: Kernel; proc: Process; a: Allocator } {
  const k = new Kernel(new Machine({ arch: 'x86_64', ramBytes: 8 << 20 }), {
    swapBytes: 8 << 20,
    reclaim: { policy: 'clock', userFrameLimit: frames },
  });
  const proc = k.spawn('A', { codeBytes: 4096, dataBytes: 4096, bssBytes: 4096 });
  if (typeof proc === 'number') throw new Error(`spawn failed: ${proc}`);
  const mem = KernelMemory.attach(k, proc, { staticBytes: 0x4000 });
  if (typeof mem === 'number') throw new Error(`attach failed: ${mem}`);
  return { k, proc, a: createAllocator(name, mem) };
}

/**
 * Runs `ops`; after each, the kernel's invariants and the heap walk must be clean, and every live
 * block's bytes (read back as the program would, faulting pages in from swap) equal its shadow.
 */
function runProgram(name: AllocatorName, frames: number, ops: readonly Op[]): void {
  const { k, proc, a } = pressuredHeap(name, frames);
  const live: Block[] = [];
  const where = (pick: number) => live[pick % live.length]!;
  const verify = (b: Block, at: number, len: number, step: string) => {
    const got = k.readUser(proc, b.ptr + at, len);
    expect(got, `${step}: the process died reading its block`).not.toBeNull();
    for (let i = 0; i < len; i++)
      if (b.known[at + i] && got![i] !== b.shadow[at + i])
        expect.fail(
          `${step}: byte ${at + i} of the block at 0x${b.ptr.toString(16)} reads ${got![i]}, last written ${b.shadow[at + i]}`,
        );
  };
  for (const [i, o] of ops.entries()) {
    const step = `step ${i} (${JSON.stringify(o)})`;
    if (o.op === 'malloc') {
      const ptr = a.malloc(o.size);
      if (ptr !== 0) live.push({ ptr, shadow: new Uint8Array(o.size), known: new Uint8Array(o.size) });
    } else if (live.length === 0) {
      continue;
    } else if (o.op === 'free') {
      const b = where(o.pick);
      a.free(b.ptr);
      live.splice(live.indexOf(b), 1);
    } else if (o.op === 'realloc') {
      const b = where(o.pick);
      const ptr = a.realloc(b.ptr, o.size);
      if (ptr !== 0) {
        const kept = Math.min(o.size, b.shadow.length);
        const shadow = new Uint8Array(o.size);
        const known = new Uint8Array(o.size);
        shadow.set(b.shadow.subarray(0, kept));
        known.set(b.known.subarray(0, kept));
        Object.assign(b, { ptr, shadow, known });
        verify(b, 0, kept, step);
      }
    } else {
      const b = where(o.pick);
      const at = Math.floor((o.at / 1_000_001) * b.shadow.length);
      const len = Math.max(1, Math.floor((o.len / 1_000_001) * (b.shadow.length - at)));
      if (o.op === 'write') {
        const data = new Uint8Array(len).fill(o.byte);
        expect(k.writeUser(proc, b.ptr + at, data), `${step}: the process died writing`).toBe(true);
        b.shadow.set(data, at);
        b.known.fill(1, at, at + len);
      } else {
        verify(b, at, len, step);
      }
    }
    if (!proc.alive) {
      // With swap to spare, the only acceptable end is none; say how it ended.
      expect.fail(`${step}: the process ended: ${proc.signal?.reason ?? 'exited'} (${proc.signal?.signal})`);
    }
    expect(k.check(), step).toEqual([]);
    expect(a.check(), step).toEqual([]);
  }
  // A last full comparison: every byte of every live block.
  for (const b of live) verify(b, 0, b.shadow.length, 'at the end');
  expectAllFreedAfterExit(k);
}

describe.each(ALLOCATOR_NAMES)('%s under swap pressure', (name) => {
  test('every byte read back is the byte last written, on 2 to 24 frames', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 24 }),
        fc.array(opArb, { minLength: 4, maxLength: 24 }),
        (frames, ops) => runProgram(name, frames, ops),
      ),
      { numRuns: 12, seed: 0x5eed + name.length },
    );
  });
});
