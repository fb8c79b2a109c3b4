/**
 * `vmscope malloc [--allocator A]... [--json] [--check] [--plot FILE.svg] TRACE...`: replays allocation
 * traces through the user-space allocators and reports utilization, fragmentation, system calls, the
 * process's memory and speed per (allocator, trace).
 *
 * Traces: CMU malloc-lab `.rep` files and the corpus's allocation-shim logs (`.log`, which keep glibc's
 * addresses: the table then says how many the allocator matched), plain or gzip (`.gz`), read in
 * chunks. A trace is parsed (and so checked) whole before anything runs: a bad one is an input error
 * (exit 2) and nothing is printed for it.
 *
 * By default each replay runs in a process of vmscope's kernel (every heap access through the MMU,
 * brk/mmap as system calls, VmRSS/VmData from the process); `--mode direct` runs the allocators on a
 * bare ArrayBuffer instead, much faster, with no process to measure.
 */
import { basename } from 'node:path';
import { closest } from 'fastest-levenshtein';
import { InputError } from '../base/errors.js';
import { alignUp } from '../base/units.js';
import { Machine } from '../hw/machine.js';
import { Kernel } from '../kernel/kernel.js';
import { jsonText } from '../report/json.js';
import { mallocChartSvg, mallocJson, mallocTable, outcome } from '../report/malloc-report.js';
import { KernelMemory } from '../user/kernel-memory.js';
import { ALLOCATOR_NAMES, type AllocatorName, isAllocatorName } from '../user/malloc/api.js';
import { createAllocator } from '../user/malloc/registry.js';
import { DirectMemory, type HeapMemory } from '../user/memory.js';
import { OpColumns, type ReplayResult, replay } from '../user/replay.js';
import { RepParser } from '../workload/alloc/rep.js';
import { ShimLogParser } from '../workload/alloc/shimlog.js';
import { EXIT_FAILED, EXIT_INPUT, EXIT_OK, type Io } from './io.js';
import { checkRam } from './options.js';
import { checkOutputPath, writeOutput } from './output.js';
import { openTrace } from './trace-source.js';

export interface MallocFlags {
  /** Allocator names; all of them when empty or absent. */
  readonly allocator?: readonly string[] | undefined;
  readonly json?: boolean | undefined;
  readonly check?: boolean | undefined;
  /** Where to write the SVG chart. */
  readonly plot?: string | undefined;
  /** `kernel` (default) or `direct`. */
  readonly mode?: string | undefined;
  /** RAM of the simulated machine in kernel mode, in bytes (default 512 MiB). */
  readonly ramBytes?: number | undefined;
  /** Replay a double free (or a realloc after free) into the allocator instead of refusing the trace. */
  readonly allowMisuse?: boolean | undefined;
  /** Every column in the table (otherwise the ones that fit 100 columns). */
  readonly wide?: boolean | undefined;
}

const DEFAULT_RAM = 512 * 1024 * 1024;
const STATIC_BYTES = 16 * 1024;

/** Checks the flags before any trace is read. @throws InputError */
function checkFlags(flags: MallocFlags): { names: AllocatorName[]; mode: 'kernel' | 'direct'; ram: number } {
  const names: AllocatorName[] = [];
  for (const n of flags.allocator ?? []) {
    if (!isAllocatorName(n)) {
      throw new InputError(
        'flag',
        `unknown allocator '${n}' (one of ${ALLOCATOR_NAMES.join(', ')})`,
        { file: '--allocator' },
        `did you mean '${closest(n, [...ALLOCATOR_NAMES])}'?`,
      );
    }
    if (!names.includes(n)) names.push(n);
  }
  const mode = flags.mode ?? 'kernel';
  if (mode !== 'kernel' && mode !== 'direct')
    throw new InputError('flag', `--mode is 'kernel' or 'direct', not '${mode}'`, { file: '--mode' });
  const ram = flags.ramBytes ?? DEFAULT_RAM;
  checkRam(ram);
  if (flags.plot !== undefined) {
    if (!flags.plot.endsWith('.svg'))
      throw new InputError(
        'flag',
        `--plot writes an SVG file: give a name ending in .svg, not '${flags.plot}'`,
        { file: '--plot' },
      );
    checkOutputPath('--plot', flags.plot);
  }
  return { names: names.length > 0 ? names : [...ALLOCATOR_NAMES], mode, ram };
}

/**
 * Reads and parses a trace (by its name: `.log[.gz]` is a shim log, anything else `.rep`).
 * `allowMisuse` lets a `.rep`'s double free through to the allocator. @throws InputError
 */
export async function loadAllocTrace(
  path: string,
  options: { readonly allowMisuse?: boolean } = {},
): Promise<OpColumns> {
  const ops = new OpColumns();
  const plain = path.replace(/\.(gz|zst)$/, '');
  const parser = plain.endsWith('.log')
    ? new ShimLogParser(path, ops)
    : new RepParser(path, ops, { allowMisuse: options.allowMisuse ?? false });
  for await (const chunk of openTrace(path, { bytes: 0 })) parser.push(chunk);
  parser.end();
  return ops;
}

/**
 * A fresh memory for one replay: a bare buffer, or a new process (named after the trace) on a new
 * machine, its allocator state in the process's .bss.
 */
function freshMemory(mode: 'kernel' | 'direct', ram: number, name: string): HeapMemory {
  if (mode === 'direct') return new DirectMemory();
  const kernel = new Kernel(new Machine({ arch: 'x86_64', ramBytes: ram }));
  const proc = kernel.spawn(name.slice(0, 15), {
    codeBytes: 64 * 1024,
    dataBytes: 4096,
    bssBytes: STATIC_BYTES,
  });
  if (typeof proc === 'number')
    throw new InputError('flag', `--ram ${ram} is too small to start a process`, { file: '--ram' });
  const mem = KernelMemory.attach(kernel, proc, {
    staticVa: alignUp(proc.mm!.endData, 16),
    staticBytes: STATIC_BYTES - 16,
  });
  if (typeof mem === 'number')
    throw new InputError('flag', `--ram ${ram} is too small for the allocator`, { file: '--ram' });
  return mem;
}

/** Runs the command. @returns the exit status; input errors propagate as InputError. */
export async function runMallocCommand(
  traces: readonly string[],
  flags: MallocFlags,
  io: Io,
): Promise<number> {
  const { names, mode, ram } = checkFlags(flags);
  if (traces.length === 0)
    throw new InputError('usage', 'give at least one trace file', { file: 'vmscope malloc' });
  const results: ReplayResult[] = [];
  for (const path of traces) {
    const ops = await loadAllocTrace(path, { allowMisuse: flags.allowMisuse ?? false });
    const traceName = basename(path);
    for (const name of names) {
      const allocator = createAllocator(name, freshMemory(mode, ram, traceName));
      results.push(replay(allocator, traceName, ops, { check: flags.check ?? false }));
      if (io.isTTY && !flags.json) io.err(`\r${name} ${traceName}: done${' '.repeat(20)}`);
    }
  }
  if (io.isTTY && !flags.json) io.err('\r\x1b[K');
  if (flags.json) io.out(jsonText(mallocJson(results)));
  else io.out(mallocTable(results, { wide: flags.wide ?? false }));
  if (flags.plot !== undefined && !writeOutput('--plot', flags.plot, await mallocChartSvg(results), io))
    return EXIT_INPUT;
  return results.some((r) => outcome(r) !== 'ok') ? EXIT_FAILED : EXIT_OK;
}
