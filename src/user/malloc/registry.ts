/** The allocators by command-line name, and the one constructor the CLI, tests and benchmarks use. */
import type { HeapMemory } from '../memory.js';
import type { Allocator, AllocatorName, CommonOptions } from './api.js';
import { BinnedHeap, type BinnedOptions } from './binned.js';
import { BuddyHeap } from './buddy.js';
import { FreeListHeap, type FreeListOptions } from './freelist.js';
import { SegregatedHeap } from './segregated.js';
import { TlsfHeap } from './tlsf.js';

/** Settings for any allocator; each takes the ones that concern it. */
export type AllocatorOptions = CommonOptions &
  Omit<FreeListOptions, 'fit' | keyof CommonOptions> &
  Omit<BinnedOptions, keyof CommonOptions>;

/** A fresh allocator `name` over `mem` (which it owns from now on). */
export function createAllocator(
  name: AllocatorName,
  mem: HeapMemory,
  options: AllocatorOptions = {},
): Allocator {
  switch (name) {
    case 'first-fit':
      return new FreeListHeap(mem, { ...options, fit: 'first' });
    case 'next-fit':
      return new FreeListHeap(mem, { ...options, fit: 'next' });
    case 'best-fit':
      return new FreeListHeap(mem, { ...options, fit: 'best' });
    case 'worst-fit':
      return new FreeListHeap(mem, { ...options, fit: 'worst' });
    case 'segregated':
      return new SegregatedHeap(mem, options);
    case 'buddy':
      return new BuddyHeap(mem, options);
    case 'tlsf':
      return new TlsfHeap(mem, options);
    case 'binned':
      return new BinnedHeap(mem, options);
  }
}
