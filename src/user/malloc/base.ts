/**
 * What all allocators share: the public calls with their argument rules (glibc's), the translation of
 * a {@link HeapStop} into the program's death, and the settings.
 *
 * A subclass implements the `*Impl` methods; they may stop the program with `fail(kind)` (a misuse,
 * glibc's `malloc_printerr`) and may be stopped by the memory (a fatal fault). The public methods catch
 * both: a misuse becomes {@link misuse} plus SIGABRT, and afterwards every call returns 0.
 */
import { InvariantError } from '../../base/errors.js';
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

  malloc(bytes: number): number {
    if (this.mem.signal !== null) return 0;
    if (!(bytes >= 0 && bytes <= MAX_REQUEST)) return 0; // ENOMEM
    this.mem.enter();
    try {
      return this.mallocImpl(bytes);
    } catch (e) {
      return this.stopped(e, 'malloc', 0);
    }
  }

  free(ptr: number): void {
    if (ptr === 0 || this.mem.signal !== null) return;
    this.mem.enter();
    try {
      this.freeImpl(ptr);
    } catch (e) {
      this.stopped(e, 'free', ptr);
    }
  }

  calloc(nmemb: number, size: number): number {
    if (this.mem.signal !== null) return 0;
    const bytes = nmemb * size;
    if (!(nmemb >= 0 && size >= 0 && bytes <= MAX_REQUEST)) return 0; // overflow: ENOMEM
    this.mem.enter();
    try {
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
    this.mem.enter();
    try {
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
    this.mem.enter();
    try {
      return this.memalignImpl(a, bytes);
    } catch (e) {
      return this.stopped(e, 'memalign', 0);
    }
  }

  usableSize(ptr: number): number {
    if (ptr === 0 || this.mem.signal !== null) return 0;
    this.mem.enter();
    try {
      return this.usableImpl(ptr);
    } catch (e) {
      return this.stopped(e, 'free', ptr);
    }
  }

  check(): string[] {
    const problems: string[] = [];
    if (this.mem.signal !== null) return problems;
    this.mem.enter();
    try {
      this.checkImpl(problems);
    } catch (e) {
      if (e instanceof InvariantError) throw e;
      problems.push(`the heap walk stopped: ${e instanceof Error ? e.message : String(e)}`);
    }
    return problems;
  }

  stats(): HeapStats {
    this.mem.enter();
    return this.statsImpl();
  }

  freeList(): FreeBlock[] {
    this.mem.enter();
    return this.freeListImpl();
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
