/**
 * Builders for the allocator tests: an allocator on a fresh direct memory or in a fresh process of a
 * fresh kernel, and corpus traces loaded into columns.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { alignUp } from '../../src/base/units.js';
import { Machine } from '../../src/hw/machine.js';
import { Kernel } from '../../src/kernel/kernel.js';
import type { Process } from '../../src/kernel/process.js';
import { KernelMemory } from '../../src/user/kernel-memory.js';
import type { Allocator, AllocatorName } from '../../src/user/malloc/api.js';
import { type AllocatorOptions, createAllocator } from '../../src/user/malloc/registry.js';
import { DirectMemory } from '../../src/user/memory.js';
import { OpColumns } from '../../src/user/replay.js';
import { RepParser } from '../../src/workload/alloc/rep.js';
import { ShimLogParser } from '../../src/workload/alloc/shimlog.js';
import { corpusPath } from '../corpus.js';

export type Mode = 'direct' | 'kernel';

export interface TestHeap {
  readonly a: Allocator;
  readonly kernel: Kernel | null;
  readonly proc: Process | null;
}

/** An allocator on a 64 MiB direct memory, or in a new process on a 64 MiB machine. */
export function makeHeap(
  name: AllocatorName,
  mode: Mode = 'direct',
  options: AllocatorOptions = {},
): TestHeap {
  if (mode === 'direct')
    return {
      a: createAllocator(name, new DirectMemory({ sizeBytes: 64 << 20 }), options),
      kernel: null,
      proc: null,
    };
  const kernel = new Kernel(new Machine({ arch: 'x86_64', ramBytes: 64 << 20 }));
  const proc = kernel.spawn('heap', { codeBytes: 8192, dataBytes: 4096, bssBytes: 16384 });
  if (typeof proc === 'number') throw new Error(`spawn failed: ${proc}`);
  const mem = KernelMemory.attach(kernel, proc, {
    staticVa: alignUp(proc.mm!.endData, 16),
    staticBytes: 16384 - 16,
  });
  if (typeof mem === 'number') throw new Error(`attach failed: ${mem}`);
  return { a: createAllocator(name, mem, options), kernel, proc };
}

/** A corpus allocation trace (`.rep`, `.rep.gz`, `.log.gz`) parsed into columns. */
export function corpusTrace(...parts: string[]): OpColumns {
  const path = corpusPath('alloc', ...parts);
  const raw = readFileSync(path);
  const bytes = path.endsWith('.gz') ? gunzipSync(raw) : raw;
  const ops = new OpColumns();
  const parser = path.replace(/\.gz$/, '').endsWith('.log')
    ? new ShimLogParser(path, ops)
    : new RepParser(path, ops);
  parser.push(bytes);
  parser.end();
  return ops;
}

/** The corpus's traces in .rep form: [folder, file]. */
export const REP_TRACES: readonly (readonly [string, string])[] = [
  ['aligned', 'aligned.rep'],
  ['sort', 'sort.rep'],
  ['ls-l', 'ls.rep'],
  ['gcc-compile', 'gcc-12.rep'],
  ['gcc-compile', 'as.rep'],
  ['python-dict', 'python3.11.rep'],
  ['mallocs', 'mallocs.rep'],
  ['gcc-compile', 'cc1.rep.gz'],
  ['python-dict-sysmalloc', 'python3.11.rep.gz'],
];

/** xorshift32: a small deterministic generator for the tests. */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}
