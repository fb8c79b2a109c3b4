/**
 * How a simulated program stops inside an allocator: glibc's `malloc_printerr` (a misuse found, then
 * abort) or a fatal fault on a metadata access (SIGSEGV). Both unwind the allocator with a
 * {@link HeapStop}; the allocator's public methods catch it and turn it into the program's death, so
 * no exception ever reaches vmscope's caller for something the program did.
 */

/** What glibc checks and how it words the failure (glibc 2.36 `malloc_printerr` messages). */
export const MISUSE_MESSAGES = {
  'tcache-double-free': 'free(): double free detected in tcache 2',
  'tcache-unaligned': 'free(): unaligned chunk detected in tcache 2',
  'tcache-too-many': 'free(): too many chunks detected in tcache',
  'tcache-unaligned-malloc': 'malloc(): unaligned tcache chunk detected',
  'invalid-pointer': 'free(): invalid pointer',
  'invalid-size': 'free(): invalid size',
  'invalid-next-size-fast': 'free(): invalid next size (fast)',
  'invalid-next-size': 'free(): invalid next size (normal)',
  'double-free-fasttop': 'double free or corruption (fasttop)',
  'double-free-top': 'double free or corruption (top)',
  'double-free-out': 'double free or corruption (out)',
  'double-free-prev': 'double free or corruption (!prev)',
  'free-corrupted-unsorted': 'free(): corrupted unsorted chunks',
  'corrupted-top-size': 'malloc(): corrupted top size',
  'fast-corruption': 'malloc(): memory corruption (fast)',
  'fast-unaligned': 'malloc(): unaligned fastbin chunk detected 2',
  'fast-unaligned-3': 'malloc(): unaligned fastbin chunk detected 3',
  'smallbin-corrupted': 'malloc(): smallbin double linked list corrupted',
  'unsorted-invalid-size': 'malloc(): invalid size (unsorted)',
  'unsorted-invalid-next-size': 'malloc(): invalid next size (unsorted)',
  'unsorted-prev-size': 'malloc(): mismatching next->prev_size (unsorted)',
  'unsorted-corrupted': 'malloc(): unsorted double linked list corrupted',
  'unsorted-prev-inuse': 'malloc(): invalid next->prev_inuse (unsorted)',
  'unsorted-corrupted-3': 'malloc(): corrupted unsorted chunks 3',
  'malloc-corrupted-unsorted': 'malloc(): corrupted unsorted chunks',
  'malloc-corrupted-unsorted-2': 'malloc(): corrupted unsorted chunks 2',
  'largebin-nextsize': 'malloc(): largebin double linked list corrupted (nextsize)',
  'largebin-bk': 'malloc(): largebin double linked list corrupted (bk)',
  'size-vs-prev-size': 'corrupted size vs. prev_size',
  'size-vs-prev-size-consolidating': 'corrupted size vs. prev_size while consolidating',
  'size-vs-prev-size-fastbins': 'corrupted size vs. prev_size in fastbins',
  'double-linked-list': 'corrupted double-linked list',
  'double-linked-list-not-small': 'corrupted double-linked list (not small)',
  'consolidate-invalid-size': 'malloc_consolidate(): invalid chunk size',
  'consolidate-unaligned': 'malloc_consolidate(): unaligned fastbin chunk detected',
  'munmap-invalid-pointer': 'munmap_chunk(): invalid pointer',
  'mremap-invalid-pointer': 'mremap_chunk(): invalid pointer',
  'realloc-invalid-pointer': 'realloc(): invalid pointer',
  'realloc-invalid-old-size': 'realloc(): invalid old size',
  'realloc-invalid-next-size': 'realloc(): invalid next size',
  'break-adjusted': 'break adjusted to free malloc space',
} as const;

export type MisuseKind = keyof typeof MISUSE_MESSAGES;

/** The allocator call the program was making. */
export type HeapCall = 'malloc' | 'free' | 'calloc' | 'realloc' | 'memalign';

/** A misuse the allocator detected: what glibc would print before it aborts. */
export interface Misuse {
  readonly kind: MisuseKind;
  /** glibc's words, e.g. `free(): double free detected in tcache 2`. */
  readonly message: string;
  readonly call: HeapCall;
  /** The pointer the call was given (0 when none). */
  readonly ptr: number;
}

/** How the program ended: SIGABRT after a misuse, SIGSEGV (or SIGKILL) from a fault. */
export interface HeapSignal {
  readonly signal: number;
  readonly reason: string;
  /** The faulting address for SIGSEGV, else 0. */
  readonly va: number;
}

/**
 * Unwinds an allocator. Not an Error: nothing needs its stack, and it never leaves the allocator's
 * public methods.
 */
export class HeapStop {
  readonly kind: MisuseKind | null;

  constructor(kind: MisuseKind | null) {
    this.kind = kind;
  }
}

/** The one stop thrown for a fatal fault (the memory has already recorded the signal). */
export const FAULT_STOP = new HeapStop(null);
