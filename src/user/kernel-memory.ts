/**
 * Kernel mode: an allocator's memory is a process of vmscope's {@link Kernel}. Every load and store is
 * a user access translated by the MMU (a TLB hit is the common case, a miss walks the page tables in
 * simulated RAM, a fault goes to the kernel's fault handler), and brk/mmap/munmap are the process's
 * system calls. A fault that kills the process (SIGSEGV, the OOM killer) stops the allocator; a misuse
 * aborts the process with SIGABRT and glibc's message as the reason.
 *
 * Translation: the first access to a page in each allocator call goes through the MMU (the TLB, a
 * walk on a miss, the accessed and dirty bits) or, when the MMU runs another address space or the
 * translation fails, through `kernel.access`, which switches to the process and handles the fault.
 * The result is kept in a small per-call cache (16 pages for loads, 16 for stores) that {@link enter}
 * empties at the start of every allocator call and after every entry into the kernel — a fault
 * handled by `kernel.access`, the allocator's own brk/mmap/munmap — since the kernel may change any
 * translation there: a fault that finds no free frame evicts some other page, perhaps one this call
 * has cached, and its frame goes to the faulting page (a store through the stale entry would land in
 * another page's frame, and the evicted page would come back from swap without it). Between two
 * kernel entries the MMU is the only thing that runs, and it changes no mapping. So a page's first load
 * and first store of a call are seen by the TLB and the A/D bits, later ones are counted here only
 * (`counters.reads` / `counters.writes` count every load and store; a bulk transfer — readBytes,
 * writeBytes, fill, copy — counts as one).
 */
import { alignUp } from '../base/units.js';
import { ACCESS_READ, ACCESS_WRITE, type AccessKind, type Mmu } from '../hw/mmu.js';
import {
  EINVAL,
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  PROT_READ,
  PROT_WRITE,
  SIGABRT,
  SIGKILL,
} from '../kernel/errno.js';
import type { Kernel } from '../kernel/kernel.js';
import type { Mm } from '../kernel/mm.js';
import type { Process } from '../kernel/process.js';
import { type HeapMemory, MemoryCounters } from './memory.js';
import { FAULT_STOP, type HeapSignal } from './stop.js';

export interface KernelMemoryOptions {
  /**
   * Address of the allocator's static state inside the process (say, its .bss); when absent an
   * anonymous mapping is made for it.
   */
  readonly staticVa?: number;
  /** Bytes of static state (default 16 KiB). */
  readonly staticBytes?: number;
}

const RW = PROT_READ | PROT_WRITE;
/** Entries of each per-call translation cache (a power of two). */
const CACHE = 16;
/** 2^36: above every vpn (x86-64 user vpns are below 2^35). */
const EPOCH = 2 ** 36;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;

export class KernelMemory implements HeapMemory {
  readonly kernel: Kernel;
  readonly proc: Process;
  readonly pageSize: number;
  readonly staticBase: number;
  readonly staticBytes: number;
  readonly heapStart: number;
  private readonly counts = new MemoryCounters();
  /** Loads and stores so far (kept here, not in `counts`, to save a load per access). */
  private reads = 0;
  private writes = 0;
  private sig: HeapSignal | null = null;
  private readonly mm: Mm;
  private readonly mmu: Mmu;
  private readonly u16: Uint16Array;
  private readonly u32: Uint32Array;
  private readonly bytes: Uint8Array;
  private readonly invPageSize: number;
  /**
   * The per-call translation cache, direct-mapped by vpn: per slot four doubles, the load tag and
   * `pa - va` for the page, then the store tag and its `pa - va` (one array, so a hit reads one
   * object). A tag is the vpn plus this call's epoch (times 2^36, above any vpn), so that starting a
   * call empties it in O(1).
   */
  private epoch = 0;
  private readonly cache = new Float64Array(CACHE * 4).fill(-1);

  private constructor(kernel: Kernel, proc: Process, staticBase: number, staticBytes: number) {
    this.kernel = kernel;
    this.proc = proc;
    this.mm = proc.mm!;
    this.mmu = kernel.machine.mmu;
    this.pageSize = kernel.pageSize;
    this.staticBase = staticBase;
    this.staticBytes = staticBytes;
    this.heapStart = this.mm.brk;
    const mem = kernel.machine.mem;
    this.u16 = mem.u16;
    this.u32 = mem.u32;
    this.bytes = mem.bytes;
    this.invPageSize = 1 / this.pageSize;
  }

  /**
   * Memory for an allocator in `proc`, whose heap starts at its current break. @returns it, or -errno
   * when the static area could not be mapped (the process is left as it was).
   */
  static attach(kernel: Kernel, proc: Process, options: KernelMemoryOptions = {}): KernelMemory | number {
    if (!proc.alive) return -EINVAL;
    const staticBytes = alignUp(options.staticBytes ?? 0x4000, 16);
    let staticVa = options.staticVa ?? -1;
    if (staticVa < 0) {
      staticVa = kernel.mmap(proc, {
        addr: 0,
        len: alignUp(staticBytes, kernel.pageSize),
        prot: RW,
        flags: ANON,
      });
      if (staticVa < 0) return staticVa;
    }
    return new KernelMemory(kernel, proc, staticVa, staticBytes);
  }

  get counters(): MemoryCounters {
    this.counts.reads = this.reads;
    this.counts.writes = this.writes;
    return this.counts;
  }

  get signal(): HeapSignal | null {
    if (this.sig === null && !this.proc.alive) {
      const s = this.proc.signal;
      this.sig = s
        ? { signal: s.signal, reason: s.reason, va: s.va }
        : { signal: SIGKILL, reason: `exited with status ${this.proc.exitCode}`, va: 0 };
    }
    return this.sig;
  }

  /** Starts an allocator call: the per-call translation cache is emptied. */
  enter(): void {
    this.epoch += EPOCH;
    if (this.epoch >= 2 ** 52) {
      this.epoch = 0;
      this.cache.fill(-1);
    }
  }

  // pr and pw are the hits only, kept small so that the JIT inlines them into every load and store
  // of the allocator; a first access to a page this call goes out of line.

  /** Physical address for a load at `va`. */
  private pr(va: number): number {
    const vpn = Math.floor(va * this.invPageSize);
    const at = (vpn & (CACHE - 1)) * 4;
    const c = this.cache;
    if (c[at] === vpn + this.epoch) return va + c[at + 1]!;
    return this.firstLoad(va);
  }

  /** Physical address for a store at `va`. */
  private pw(va: number): number {
    const vpn = Math.floor(va * this.invPageSize);
    const at = (vpn & (CACHE - 1)) * 4;
    const c = this.cache;
    if (c[at + 2] === vpn + this.epoch) return va + c[at + 3]!;
    return this.firstStore(va);
  }

  /** A load from a page not yet loaded from in this call: through the MMU, then cached. */
  private firstLoad(va: number): number {
    const pa = this.tr(va, ACCESS_READ);
    const vpn = Math.floor(va * this.invPageSize);
    const at = (vpn & (CACHE - 1)) * 4;
    this.cache[at] = vpn + this.epoch;
    this.cache[at + 1] = pa - va;
    return pa;
  }

  /** A store to a page not yet stored to in this call: through the MMU, then cached for both. */
  private firstStore(va: number): number {
    const pa = this.tr(va, ACCESS_WRITE);
    const vpn = Math.floor(va * this.invPageSize);
    const at = (vpn & (CACHE - 1)) * 4;
    const c = this.cache;
    c[at + 2] = vpn + this.epoch;
    c[at + 3] = pa - va;
    c[at] = vpn + this.epoch; // a writable page is readable (x86, RISC-V)
    c[at + 1] = pa - va;
    return pa;
  }

  /** Translates through the MMU (or the kernel, on a fault); stops the allocator when the process died. */
  private tr(va: number, kind: AccessKind): number {
    const mmu = this.mmu;
    if (mmu.rootPfn === this.mm.rootPfn && mmu.asid === this.mm.asid && this.proc.alive) {
      const pa = mmu.translate(va, kind);
      if (pa >= 0) return pa;
    }
    return this.slow(va, kind);
  }

  private slow(va: number, kind: AccessKind): number {
    if (this.proc.alive) {
      const pa = this.kernel.access(this.proc, va, kind);
      // The fault may have evicted pages this call had cached (their frames now hold other pages).
      this.enter();
      if (pa >= 0) return pa;
    }
    this.died();
  }

  /** Records how the process ended and stops the allocator. */
  private died(): never {
    void this.signal;
    throw FAULT_STOP;
  }

  mapped(va: number): boolean {
    return this.proc.alive && this.mm.vmaAt(va) !== null;
  }

  read16(va: number): number {
    this.reads++;
    return this.u16[this.pr(va) >>> 1]!;
  }

  write16(va: number, value: number): void {
    this.writes++;
    this.u16[this.pw(va) >>> 1] = value;
  }

  read32(va: number): number {
    this.reads++;
    return this.u32[this.pr(va) >>> 2]!;
  }

  write32(va: number, value: number): void {
    this.writes++;
    this.u32[this.pw(va) >>> 2] = value;
  }

  read64(va: number): number {
    this.reads++;
    const i = (this.pr(va) >>> 2) & ~1;
    return this.u32[i]! + this.u32[i + 1]! * 4294967296;
  }

  write64(va: number, value: number): void {
    this.writes++;
    const i = (this.pw(va) >>> 2) & ~1;
    this.u32[i] = value;
    this.u32[i + 1] = value > 4294967295 ? value / 4294967296 : 0;
  }

  /** Runs `fn` over the pieces of [va, va+len) that lie in one page each. */
  private pages(
    va: number,
    len: number,
    kind: AccessKind,
    fn: (pa: number, off: number, n: number) => void,
  ): void {
    let done = 0;
    while (done < len) {
      const at = va + done;
      const n = Math.min(len - done, this.pageSize - (at % this.pageSize));
      fn(kind === ACCESS_READ ? this.pr(at) : this.pw(at), done, n);
      done += n;
    }
  }

  readBytes(va: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    this.reads++;
    this.pages(va, len, ACCESS_READ, (pa, off, n) => out.set(this.bytes.subarray(pa, pa + n), off));
    return out;
  }

  writeBytes(va: number, data: Uint8Array): void {
    this.writes++;
    this.pages(va, data.length, ACCESS_WRITE, (pa, off, n) =>
      this.bytes.set(data.subarray(off, off + n), pa),
    );
  }

  fill(va: number, len: number, byte: number): void {
    this.writes++;
    this.pages(va, len, ACCESS_WRITE, (pa, _off, n) => this.bytes.fill(byte, pa, pa + n));
  }

  copy(dstVa: number, srcVa: number, len: number): void {
    if (len <= 0) return;
    // Through a bounce buffer: source and destination pages need not be adjacent frames.
    this.writeBytes(dstVa, this.readBytes(srcVa, len));
  }

  brk(): number {
    return this.mm.brk;
  }

  sbrk(delta: number): number {
    if (delta === 0) return this.mm.brk;
    this.counts.brkCalls++;
    const r = this.kernel.sbrk(this.proc, delta);
    this.afterSyscall();
    return r;
  }

  mmap(len: number): number {
    this.counts.mmapCalls++;
    const r = this.kernel.mmap(this.proc, { addr: 0, len, prot: RW, flags: ANON });
    this.afterSyscall();
    if (r >= 0) {
      const c = this.counts;
      c.mmapBytes += alignUp(len, this.pageSize);
      if (c.mmapBytes > c.peakMmapBytes) c.peakMmapBytes = c.mmapBytes;
    }
    return r;
  }

  munmap(va: number, len: number): number {
    this.counts.munmapCalls++;
    const r = this.kernel.munmap(this.proc, va, len);
    this.afterSyscall();
    if (r === 0) this.counts.mmapBytes -= alignUp(len, this.pageSize);
    return r;
  }

  /** After the allocator's own syscall: its mappings may have changed. */
  private afterSyscall(): void {
    this.enter();
    if (!this.proc.alive) this.died();
  }

  abort(reason: string): void {
    if (this.proc.alive) this.kernel.kill(this.proc, { signal: SIGABRT, code: 0, va: 0, reason });
    this.sig = { signal: SIGABRT, reason, va: 0 };
  }
}
