/**
 * What all allocators share: the public calls with their argument rules (glibc's), the translation of
 * a {@link HeapStop} into the program's death, and the settings.
 *
 * A subclass implements the `*Impl` methods; they may stop the program with `fail(kind)` (a misuse,
 * glibc's `malloc_printerr`) and may be stopped by the memory (a fatal fault). The public methods catch
 * both: a misuse becomes {@link misuse} plus SIGABRT, and afterwards every call returns 0.
 *
 * The allocator's state in memory (bins, list heads) is set up by `initImpl` at the first call, as
 * glibc's `ptmalloc_init` runs at the first malloc, not when the allocator object is made: writing it
 * may fault like any other store (no frame to be had: the OOM killer), and only a call can turn that
 * into the program's death.
 */
import { invariant } from '../../base/errors.js';
import type { HeapMemory } from '../memory.js';
import { type HeapCall, type HeapSignal, HeapStop, MISUSE_MESSAGES, type Misuse } from '../stop.js';
import {
  type Allocator,
  type CommonOptions,
  DEFAULT_MMAP_THRESHOLD,
  DEFAULT_TOP_PAD,
  DEFAULT_TRIM_THRESHOLD,
  type FreeBlock,
  type HeapStats,
} from './api.js';
import { MALLOC_ALIGN, MAX_REQUEST, MINSIZE } from './chunk.js';

const NO_STATS: HeapStats = {
  heapBytes: 0,
  mmapBytes: 0,
  usedBlocks: 0,
  usedBytes: 0,
  freeBlocks: 0,
  freeBytes: 0,
  largestFree: 0,
  topBytes: 0,
  overheadBytes: 0,
};

export abstract class AllocatorBase implements Allocator {
  readonly name: string;
  readonly mem: HeapMemory;
  misuse: Misuse | null = null;
  protected readonly pageSize: number;
  protected mmapThreshold: number;
  protected readonly topPad: number;
  protected trimThreshold: number;

  constructor(name: string, mem: HeapMemory, options: CommonOptions) {
    this.name = name;
    this.mem = mem;
    this.pageSize = mem.pageSize;
    this.mmapThreshold = options.mmapThreshold ?? DEFAULT_MMAP_THRESHOLD;
    this.topPad = options.topPad ?? DEFAULT_TOP_PAD;
    this.trimThreshold = options.trimThreshold ?? DEFAULT_TRIM_THRESHOLD;
  }

  get signal(): HeapSignal | null {
    return this.mem.signal;
  }

  protected abstract mallocImpl(bytes: number): number;
  protected abstract freeImpl(ptr: number): void;
  protected abstract callocImpl(bytes: number): number;
  protected abstract reallocImpl(ptr: number, bytes: number): number;
  /** `alignment` is a power of two above 16. */
  protected abstract memalignImpl(alignment: number, bytes: number): number;
  protected abstract usableImpl(ptr: number): number;
  protected abstract checkImpl(problems: string[]): void;
  protected abstract statsImpl(): HeapStats;
  protected abstract freeListImpl(): FreeBlock[];
  /** Sets up the allocator's state in memory (malloc_init_state); runs once, at the first call. */
  protected initImpl(): void {}

  private ready = false;

  /** Runs `fn` as a call of the program's (its state set up first, a stop turned into its death). */
  protected inCall(call: HeapCall, fn: () => void): void {
    if (this.mem.signal !== null) return;
    try {
      this.begin();
      fn();
    } catch (e) {
      this.stopped(e, call, 0);
    }
  }

  /** Starts a call: the memory's per-call state, then the allocator's state on the very first call. */
  private begin(): void {
    this.mem.enter();
    if (!this.ready) {
      this.ready = true;
      this.initImpl();
    }
  }

  malloc(bytes: number): number {
    if (this.mem.signal !== null) return 0;
    if (!(bytes >= 0 && bytes <= MAX_REQUEST)) return 0; // ENOMEM
    try {
      this.begin();
      return this.mallocImpl(bytes);
    } catch (e) {
      return this.stopped(e, 'malloc', 0);
    }
  }

  free(ptr: number): void {
    if (ptr === 0 || this.mem.signal !== null) return;
    try {
      this.begin();
      this.freeImpl(ptr);
    } catch (e) {
      this.stopped(e, 'free', ptr);
    }
  }

  calloc(nmemb: number, size: number): number {
    if (this.mem.signal !== null) return 0;
    const bytes = nmemb * size;
    if (!(nmemb >= 0 && size >= 0 && bytes <= MAX_REQUEST)) return 0; // overflow: ENOMEM
    try {
      this.begin();
      return this.callocImpl(bytes);
    } catch (e) {
      return this.stopped(e, 'calloc', 0);
    }
  }

  realloc(ptr: number, bytes: number): number {
    if (ptr === 0) return this.malloc(bytes);
    if (this.mem.signal !== null) return 0;
    if (bytes === 0) {
      this.free(ptr); // REALLOC_ZERO_BYTES_FREES
      return 0;
    }
    if (!(bytes > 0 && bytes <= MAX_REQUEST)) return 0;
    try {
      this.begin();
      return this.reallocImpl(ptr, bytes);
    } catch (e) {
      return this.stopped(e, 'realloc', ptr);
    }
  }

  memalign(alignment: number, bytes: number): number {
    // glibc _mid_memalign: small alignments are malloc's own; others at least MINSIZE, a power of two.
    if (alignment <= MALLOC_ALIGN) return this.malloc(bytes);
    if (this.mem.signal !== null) return 0;
    let a = Math.max(alignment, MINSIZE);
    if (!(a <= 2 ** 30)) return 0; // EINVAL
    if ((a & (a - 1)) !== 0) {
      let p = MALLOC_ALIGN * 2;
      while (p < a) p *= 2;
      a = p;
    }
    if (!(bytes >= 0 && bytes + a <= MAX_REQUEST)) return 0;
    try {
      this.begin();
      return this.memalignImpl(a, bytes);
    } catch (e) {
      return this.stopped(e, 'memalign', 0);
    }
  }

  usableSize(ptr: number): number {
    if (ptr === 0 || this.mem.signal !== null) return 0;
    try {
      this.begin();
      return this.usableImpl(ptr);
    } catch (e) {
      return this.stopped(e, 'free', ptr);
    }
  }

  check(): string[] {
    const problems: string[] = [];
    if (this.mem.signal !== null) return problems;
    try {
      this.begin();
      this.checkImpl(problems);
    } catch (e) {
      if (!(e instanceof HeapStop)) throw e;
      // A header the walk cannot follow, or a fault of its own loads (a wild pointer in a header, no
      // frame for a page coming back): the problem is reported, the program is not aborted for it.
      const died = this.mem.signal as HeapSignal | null; // set by the fault that stopped the walk
      const why = e.kind !== null ? MISUSE_MESSAGES[e.kind] : (died?.reason ?? 'the program died');
      problems.push(`the heap walk stopped: ${why}`);
    }
    return problems;
  }

  /** What the heap holds; all zero once the program has died (nothing of it can be read). */
  stats(): HeapStats {
    if (this.mem.signal === null) {
      try {
        this.begin();
        return this.statsImpl();
      } catch (e) {
        this.faulted(e);
      }
    }
    return NO_STATS;
  }

  /** The free blocks; none once the program has died. */
  freeList(): FreeBlock[] {
    if (this.mem.signal === null) {
      try {
        this.begin();
        return this.freeListImpl();
      } catch (e) {
        this.faulted(e);
      }
    }
    return [];
  }

  /** An inspection (check, stats, freeList) was stopped: only a fault may do that (it is recorded). */
  private faulted(e: unknown): void {
    if (!(e instanceof HeapStop)) throw e;
    invariant(e.kind === null, `${this.name}: a heap inspection reported a misuse (${e.kind})`);
  }

  /** A stop becomes the program's death; anything else is a vmscope bug and goes on up. */
  private stopped(e: unknown, call: HeapCall, ptr: number): 0 {
    if (!(e instanceof HeapStop)) throw e;
    if (e.kind !== null) {
      const message = MISUSE_MESSAGES[e.kind];
      this.misuse = { kind: e.kind, message, call, ptr };
      this.mem.abort(message);
    }
    return 0;
  }
}
