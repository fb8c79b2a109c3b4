/**
 * The memory an allocator runs on: little-endian loads and stores at virtual addresses, the brk heap,
 * anonymous mmap, and the program's death. Two implementations:
 *
 *  - {@link DirectMemory}: one ArrayBuffer and no MMU, the fast mode. It lays out a process-like
 *    address space, but with no MMU nothing inside the buffer is protected: only an access outside
 *    the buffer faults (SIGSEGV). {@link HeapMemory.mapped} says what a kernel would have mapped.
 *
 *        0            staticBase        heapStart          brk            mmapLow             sizeBytes
 *        | null guard | libc's data     | [heap] grows ->  |   (unmapped)   | <- mmap area grows |
 *
 *  - `KernelMemory` (kernel-memory.ts): a process of vmscope's Kernel; every access is a user access
 *    through the MMU, and brk/mmap/munmap are the process's syscalls.
 *
 * Addresses are numbers, exact up to 2^53 (x86-64 user space is 47 bits): never `>>>` or `|` them.
 * 64-bit words are two 32-bit halves; a value read back is exact below 2^53. Loads of 8 bytes are at
 * 8-aligned addresses, of 4 at 4-aligned ones (the address is rounded down otherwise).
 */
import { invariant } from '../base/errors.js';
import { alignUp } from '../base/units.js';
import { ENOMEM, SIGABRT, SIGSEGV } from '../kernel/errno.js';
import { FAULT_STOP, type HeapSignal } from './stop.js';

/** Counters every memory keeps (the allocator's system calls and the traffic it made). */
export class MemoryCounters {
  /** brk system calls that moved the break (sbrk(0) is free in glibc and is not counted). */
  brkCalls = 0;
  mmapCalls = 0;
  munmapCalls = 0;
  /** Bytes currently mapped by the allocator's mmap calls (the static area is not counted). */
  mmapBytes = 0;
  peakMmapBytes = 0;
  /** Loads and stores of metadata and payload (kernel mode counts every one; direct mode does not). */
  reads = 0;
  writes = 0;
}

export interface HeapMemory {
  readonly pageSize: number;
  /** Where the allocator's global state goes (glibc keeps `main_arena` in libc's .data). */
  readonly staticBase: number;
  readonly staticBytes: number;
  /** The initial break: where the brk heap starts. */
  readonly heapStart: number;
  readonly counters: MemoryCounters;
  /** How the program ended, or null while it runs. */
  readonly signal: HeapSignal | null;

  read16(va: number): number;
  write16(va: number, value: number): void;
  read32(va: number): number;
  write32(va: number, value: number): void;
  /** An 8-byte little-endian word; exact below 2^53. */
  read64(va: number): number;
  /** Stores `value` (a non-negative integer below 2^53) as 8 bytes. */
  write64(va: number, value: number): void;
  readBytes(va: number, len: number): Uint8Array;
  writeBytes(va: number, data: Uint8Array): void;
  fill(va: number, len: number, byte: number): void;
  /** memmove within the program's memory. */
  copy(dstVa: number, srcVa: number, len: number): void;

  /** The current break (sbrk(0)). */
  brk(): number;
  /** sbrk(3): @returns the old break, or -ENOMEM (the heap is unchanged). */
  sbrk(delta: number): number;
  /** Anonymous private read-write mmap of `len` bytes. @returns the address, or -errno. */
  mmap(len: number): number;
  /** @returns 0, or -errno. */
  munmap(va: number, len: number): number;
  /** True when `va` is in memory the program has mapped (what the MMU would say about a load). */
  mapped(va: number): boolean;
  /** abort(3): the program dies of SIGABRT with `reason` (glibc's message). */
  abort(reason: string): void;
  /** Called at the start of every allocator call (kernel mode empties its per-call translation cache). */
  enter(): void;
}

export interface DirectMemoryOptions {
  /** Size of the whole simulated address space (default 256 MiB; zero pages cost nothing until used). */
  readonly sizeBytes?: number;
  readonly pageSize?: number;
  /** Bytes for the allocator's static state (default 64 KiB). */
  readonly staticBytes?: number;
}

const NULL_GUARD = 0x10000;

/**
 * The fast mode: the simulated address space is one ArrayBuffer and an address is an offset into it.
 * brk and mmap hand out zeroed pages as the kernel does: pages given back by a shrinking break are
 * cleared, and a mapping is cleared where the mmap area was used before.
 */
export class DirectMemory implements HeapMemory {
  readonly pageSize: number;
  readonly staticBase: number;
  readonly staticBytes: number;
  readonly heapStart: number;
  readonly sizeBytes: number;
  readonly counters = new MemoryCounters();
  signal: HeapSignal | null = null;
  readonly bytes: Uint8Array;
  private readonly u16: Uint16Array;
  private readonly u32: Uint32Array;
  /** u32.length */
  private readonly words: number;
  private brkVa: number;
  /** The lowest mapped address of the mmap area (sizeBytes when nothing is mapped). */
  private mmapLow: number;
  /** Below this, the mmap area was never mapped (so it is still zero). */
  private dirtyLow: number;
  /** Mappings of the mmap area, sorted by start: [start, end) pairs. */
  private readonly maps: number[] = [];

  constructor(options: DirectMemoryOptions = {}) {
    this.pageSize = options.pageSize ?? 4096;
    this.sizeBytes = options.sizeBytes ?? 256 * 1024 * 1024;
    this.staticBytes = alignUp(options.staticBytes ?? 0x10000, this.pageSize);
    invariant(this.sizeBytes % this.pageSize === 0 && this.sizeBytes <= 2 ** 32, 'direct memory: bad size');
    invariant(this.sizeBytes > 4 * NULL_GUARD + this.staticBytes, 'direct memory: too small');
    this.staticBase = NULL_GUARD;
    this.heapStart = this.staticBase + this.staticBytes;
    this.brkVa = this.heapStart;
    this.mmapLow = this.sizeBytes;
    this.dirtyLow = this.sizeBytes;
    const buffer = new ArrayBuffer(this.sizeBytes);
    this.bytes = new Uint8Array(buffer);
    this.u16 = new Uint16Array(buffer);
    this.u32 = new Uint32Array(buffer);
    this.words = this.u32.length;
  }

  /** Faults (SIGSEGV) unless [va, va+len) lies inside the simulated address space. */
  private check(va: number, len: number): void {
    if (!(va >= 0 && va + len <= this.sizeBytes)) this.fault(va);
  }

  private fault(va: number): never {
    this.signal = {
      signal: SIGSEGV,
      reason: `segmentation fault at 0x${Number.isFinite(va) ? Math.max(0, Math.floor(va)).toString(16) : va}`,
      va,
    };
    throw FAULT_STOP;
  }

  mapped(va: number): boolean {
    return (va >= this.staticBase && va < this.brkVa) || (va >= this.mmapLow && va < this.sizeBytes);
  }

  // Loads use the typed array's own bounds check: outside the buffer they read `undefined`. (An
  // address at or above 2^32 wraps in `>>>`; only corrupted pointers are that large in direct mode.)

  read16(va: number): number {
    const v = this.u16[va >>> 1];
    if (v === undefined) this.fault(va);
    return v;
  }

  write16(va: number, value: number): void {
    const i = va >>> 1;
    if (i >= this.u16.length) this.fault(va);
    this.u16[i] = value;
  }

  read32(va: number): number {
    const v = this.u32[va >>> 2];
    if (v === undefined) this.fault(va);
    return v;
  }

  write32(va: number, value: number): void {
    const i = va >>> 2;
    if (i >= this.words) this.fault(va);
    this.u32[i] = value;
  }

  read64(va: number): number {
    const i = (va >>> 2) & ~1;
    const lo = this.u32[i];
    if (lo === undefined) this.fault(va);
    return lo + this.u32[i + 1]! * 4294967296;
  }

  write64(va: number, value: number): void {
    const i = (va >>> 2) & ~1;
    if (i >= this.words) this.fault(va);
    this.u32[i] = value;
    this.u32[i + 1] = value > 4294967295 ? value / 4294967296 : 0;
  }

  readBytes(va: number, len: number): Uint8Array {
    this.check(va, len);
    return this.bytes.slice(va, va + len);
  }

  writeBytes(va: number, data: Uint8Array): void {
    this.check(va, data.length);
    this.bytes.set(data, va);
  }

  fill(va: number, len: number, byte: number): void {
    if (len <= 0) return;
    this.check(va, len);
    this.bytes.fill(byte, va, va + len);
  }

  copy(dstVa: number, srcVa: number, len: number): void {
    if (len <= 0) return;
    this.check(srcVa, len);
    this.check(dstVa, len);
    this.bytes.copyWithin(dstVa, srcVa, srcVa + len);
  }

  brk(): number {
    return this.brkVa;
  }

  sbrk(delta: number): number {
    const old = this.brkVa;
    if (delta === 0) return old;
    const want = old + delta;
    // Linux keeps a page between the heap and the next mapping.
    if (want < this.heapStart || alignUp(want, this.pageSize) + this.pageSize > this.mmapLow) return -ENOMEM;
    this.counters.brkCalls++;
    if (delta < 0) {
      // Pages given back come back zeroed; the tail of a page that stays is left as it is (as Linux does).
      const keep = alignUp(want, this.pageSize);
      if (keep < old) this.bytes.fill(0, keep, alignUp(old, this.pageSize));
    }
    this.brkVa = want;
    return old;
  }

  mmap(len: number): number {
    if (!(len > 0) || !Number.isSafeInteger(len)) return -22; // EINVAL
    const size = alignUp(len, this.pageSize);
    // Top-down, as Linux places mappings: the highest gap that fits, above the heap and a guard page.
    const floor = alignUp(this.brkVa, this.pageSize) + this.pageSize;
    let hi = this.sizeBytes;
    let start = -1;
    for (let i = this.maps.length - 2; ; i -= 2) {
      const lo = i >= 0 ? this.maps[i + 1]! : floor;
      if (hi - size >= lo) {
        start = hi - size;
        break;
      }
      if (i < 0) return -ENOMEM;
      hi = this.maps[i]!;
    }
    // Pages never mapped before are still zero; others are cleared now (munmap leaves them as they are).
    if (start + size > this.dirtyLow) this.bytes.fill(0, Math.max(start, this.dirtyLow), start + size);
    if (start < this.dirtyLow) this.dirtyLow = start;
    let at = 0;
    while (at < this.maps.length && this.maps[at]! < start) at += 2;
    this.maps.splice(at, 0, start, start + size);
    // Adjacent anonymous mappings merge into one, as their VMAs would.
    for (let i = 0; i + 2 < this.maps.length; ) {
      if (this.maps[i + 1] === this.maps[i + 2]) this.maps.splice(i + 1, 2);
      else i += 2;
    }
    this.mmapLow = this.maps[0]!;
    const c = this.counters;
    c.mmapCalls++;
    c.mmapBytes += size;
    if (c.mmapBytes > c.peakMmapBytes) c.peakMmapBytes = c.mmapBytes;
    return start;
  }

  munmap(va: number, len: number): number {
    if (va % this.pageSize !== 0 || !(len > 0)) return -22; // EINVAL
    const end = va + alignUp(len, this.pageSize);
    let unmapped = 0;
    const next: number[] = [];
    for (let i = 0; i < this.maps.length; i += 2) {
      const s = this.maps[i]!;
      const e = this.maps[i + 1]!;
      const cs = Math.max(s, va);
      const ce = Math.min(e, end);
      if (cs >= ce) {
        next.push(s, e);
        continue;
      }
      unmapped += ce - cs;
      if (s < cs) next.push(s, cs);
      if (ce < e) next.push(ce, e);
    }
    this.maps.length = 0;
    this.maps.push(...next);
    this.mmapLow = this.maps.length > 0 ? this.maps[0]! : this.sizeBytes;
    this.counters.munmapCalls++;
    this.counters.mmapBytes -= unmapped;
    return 0;
  }

  abort(reason: string): void {
    this.signal = { signal: SIGABRT, reason, va: 0 };
  }

  enter(): void {}
}
