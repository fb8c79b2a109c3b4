/**
 * The memory manager: boots on a {@link Machine}, owns the frame allocator and the page tables, runs
 * processes' memory accesses through the MMU and resolves their faults, and reclaims everything when a
 * process ends. Syscalls live beside it (mmap.ts, brk.ts) and take the kernel as their first argument.
 */
import { invariant } from '../base/errors.js';
import type { Machine } from '../hw/machine.js';
import { ACCESS_WRITE, type AccessKind } from '../hw/mmu.js';
import type { PteRights } from '../hw/pte.js';
import { sysBrk, sysSbrk } from './brk.js';
import { checkKernel } from './check.js';
import { SIGKILL } from './errno.js';
import type { EventSink } from './events.js';
import { handleMmFault } from './fault.js';
import {
  FRAME_ANON,
  FRAME_FILE,
  FRAME_KERNEL,
  FRAME_SHMEM,
  FrameAllocator,
  type FrameKind,
  NO_OWNER,
} from './frames.js';
import { type UserLayout, userLayout } from './layout.js';
import { fileObject, MemObject } from './memobject.js';
import { Mm, type Rlimits } from './mm.js';
import { type MmapRequest, sysMmap, sysMprotect, sysMunmap } from './mmap.js';
import { PageTables } from './pagetable.js';
import {
  faultCounts,
  type MapsEntry,
  type MeminfoFields,
  mapsEntries,
  meminfoFields,
  type StatusFields,
  statusFields,
} from './proc.js';
import { Process, type SignalInfo } from './process.js';
import { objectPageId, Reclaim, type ReclaimConfig } from './reclaim.js';
import { type SyntheticImage, spawnSynthetic } from './spawn.js';
import { SwapDevice } from './swap.js';
import type { Vma } from './vma.js';

export interface KernelOptions {
  /** Default resource limits for new processes (bytes; Infinity = unlimited). */
  readonly rlimits?: Partial<Rlimits>;
  /** vm.max_map_count. */
  readonly maxMapCount?: number;
  /** Size of the swap device in bytes (0: no swap). */
  readonly swapBytes?: number;
  /** How pages are chosen for eviction, and the cap on frames user pages may hold. */
  readonly reclaim?: ReclaimConfig;
}

/** Address-space identifier bits per architecture (x86-64 PCID 12, RISC-V 16, i386 none). */
const ASID_BITS: Record<string, number> = { x86_64: 12, 'riscv-sv39': 16, i386: 0, teach16: 4, ostep15: 0 };

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The result of a user access: the physical address, or -1 when the process got a signal. */
export type AccessOutcome = number;

export class Kernel {
  readonly machine: Machine;
  readonly layout: UserLayout;
  readonly frames: FrameAllocator;
  readonly pageTables: PageTables;
  readonly pageSize: number;
  readonly processes = new Map<number, Process>();
  readonly defaultRlimits: Rlimits;
  readonly maxMapCount: number;
  /** MemFree (in frames) right after boot. */
  readonly bootFreeFrames: number;
  /** Objects with pages in the page cache, by id. */
  readonly objects = new Map<number, MemObject>();
  /** Files and kernel objects that some VMA maps, by path: a second mapping shares the page cache. */
  private readonly mapped = new Map<string, MemObject>();
  /** Attached event sink, or null (then no event object is ever built). */
  sink: EventSink | null = null;
  /** The swap device, or null. */
  readonly swap: SwapDevice | null;
  /** Memory pressure: the replacement policy over user pages and its statistics. */
  readonly reclaim: Reclaim;

  private nextPid = 1;
  private nextAnonVma = 1;
  private readonly asidBits: number;
  private asidGeneration = 1;
  private nextAsid = 1;
  private readonly asidGen = new Map<Mm, number>();
  private current: Mm | null = null;

  constructor(machine: Machine, options: KernelOptions = {}) {
    invariant(
      machine.arch.pte.enforcesRights,
      `kernel: ${machine.arch.name} page tables carry no permission bits; it is a translation-only machine`,
    );
    this.machine = machine;
    this.layout = userLayout(machine.arch.name);
    this.pageSize = machine.arch.pageSize;
    this.frames = new FrameAllocator(machine.mem.frameCount);
    this.pageTables = new PageTables(machine.arch, machine.mmu, this.frames);
    this.pageTables.listener = (pid, pfn, level, what) => {
      if (this.sink) this.sink.push({ type: what === 'alloc' ? 'pt-alloc' : 'pt-free', pid, pfn, level });
    };
    this.defaultRlimits = {
      stack: this.layout.rlimitStack,
      data: Number.POSITIVE_INFINITY,
      as: Number.POSITIVE_INFINITY,
      ...options.rlimits,
    };
    this.maxMapCount = options.maxMapCount ?? 65530;
    this.asidBits = ASID_BITS[machine.arch.name] ?? 0;
    const swapSlots = Math.floor((options.swapBytes ?? 0) / this.pageSize);
    this.swap = swapSlots > 0 ? new SwapDevice(swapSlots, this.pageSize) : null;
    this.reclaim = new Reclaim(this, options.reclaim ?? { policy: 'clock' });
    this.pageTables.onNoMemory = () => this.reclaim.evictOne();
    this.bootFreeFrames = this.frames.freeFrames;
  }

  // ---------------------------------------------------------------- the library API

  /** Creates a process from a synthetic image. @returns it, or -ENOMEM. */
  spawn(name: string, image: SyntheticImage): Process | number {
    return spawnSynthetic(this, name, image);
  }

  /** mmap(2) for `proc`. @returns the address or -errno. */
  mmap(proc: Process, req: MmapRequest): number {
    return this.syscall(proc, 'mmap', [req.addr, req.len, req.prot, req.flags], () =>
      sysMmap(this, proc, req),
    );
  }

  /** munmap(2). @returns 0 or -errno. */
  munmap(proc: Process, addr: number, len: number): number {
    return this.syscall(proc, 'munmap', [addr, len], () => sysMunmap(this, proc, addr, len));
  }

  /** mprotect(2). @returns 0 or -errno. */
  mprotect(proc: Process, addr: number, len: number, prot: number): number {
    return this.syscall(proc, 'mprotect', [addr, len, prot], () => sysMprotect(this, proc, addr, len, prot));
  }

  /** brk(2), raw: the new break, or the old one on failure. */
  brk(proc: Process, addr: number): number {
    return this.syscall(proc, 'brk', [addr], () => sysBrk(this, proc, addr));
  }

  /** sbrk(3) over brk: the old break, or -ENOMEM. */
  sbrk(proc: Process, delta: number): number {
    return this.syscall(proc, 'sbrk', [delta], () => sysSbrk(this, proc, delta));
  }

  /** /proc/PID/status memory fields (bytes). */
  status(proc: Process): StatusFields & { minflt: number; majflt: number } {
    return { ...statusFields(proc, this.pageSize), ...faultCounts(proc) };
  }

  /** /proc/PID/maps as data (empty for a process that has ended). */
  maps(proc: Process): MapsEntry[] {
    return proc.mm ? mapsEntries(proc.mm) : [];
  }

  /** /proc/meminfo fields (bytes). */
  meminfo(): MeminfoFields {
    return meminfoFields(this);
  }

  /** Every invariant, checked from scratch. @returns the problems (empty when all hold). */
  check(): string[] {
    return checkKernel(this);
  }

  private syscall(proc: Process, name: string, args: readonly number[], body: () => number): number {
    invariant(proc.alive, `${name} by pid ${proc.pid}, which is not running`);
    const result = body();
    proc.lastResult = result;
    if (this.sink) this.sink.push({ type: 'syscall', pid: proc.pid, name, args, result });
    return result;
  }

  // ---------------------------------------------------------------- processes

  /** A new, empty address space for `pid` with the default layout. @returns null when out of memory. */
  newMm(pid: number): Mm | null {
    const mm = new Mm(this.pageSize, { ...this.defaultRlimits }, this.layout);
    mm.rootPfn = this.pageTables.newRoot(pid);
    if (mm.rootPfn < 0) return null;
    mm.taskSize = this.layout.taskSize;
    return mm;
  }

  /** Registers a process around an address space. */
  addProcess(name: string, mm: Mm, pid: number): Process {
    const proc = new Process(pid, name, mm);
    this.processes.set(pid, proc);
    if (this.sink) this.sink.push({ type: 'spawn', pid, name });
    return proc;
  }

  allocPid(): number {
    return this.nextPid++;
  }

  process(pid: number): Process | undefined {
    return this.processes.get(pid);
  }

  /** Live processes, in pid order. */
  live(): Process[] {
    return [...this.processes.values()].filter((p) => p.alive);
  }

  /** Makes `mm` the running address space (a context switch): picks its ASID, loads the MMU. */
  switchTo(mm: Mm): void {
    const tlb = this.machine.tlb;
    if (this.asidBits === 0) {
      if (this.current !== mm) tlb.flushAll();
      mm.asid = 0;
    } else if (this.asidGen.get(mm) !== this.asidGeneration) {
      if (this.nextAsid >= 2 ** this.asidBits) {
        // Rollover: every address space gets a fresh ASID on its next switch.
        tlb.flushAll();
        this.asidGeneration++;
        this.nextAsid = 1;
      }
      mm.asid = this.nextAsid++;
      this.asidGen.set(mm, this.asidGeneration);
    }
    this.current = mm;
    this.machine.mmu.setContext(mm.rootPfn, mm.asid);
  }

  /** Ends a process normally (exit_group): its memory is reclaimed. */
  exit(proc: Process, code: number): void {
    invariant(proc.alive, `exit of pid ${proc.pid}, which is not running`);
    proc.exitCode = code;
    this.teardown(proc, 'exited');
    if (this.sink) this.sink.push({ type: 'exit', pid: proc.pid, code, killed: false });
  }

  /** Kills a process with a signal: it is recorded, then its memory is reclaimed. */
  kill(proc: Process, info: SignalInfo): void {
    invariant(proc.alive, `kill of pid ${proc.pid}, which is not running`);
    proc.signal = info;
    if (this.sink) {
      this.sink.push({
        type: 'signal',
        pid: proc.pid,
        signal: info.signal,
        code: info.code,
        va: info.va,
        reason: info.reason,
      });
    }
    this.teardown(proc, 'killed');
    if (this.sink) this.sink.push({ type: 'exit', pid: proc.pid, code: 128 + info.signal, killed: true });
  }

  /** exit_mmap: unmaps every VMA, frees the page tables, drops the TLB entries. */
  private teardown(proc: Process, state: 'exited' | 'killed'): void {
    const mm = proc.mm!;
    const freeBefore = this.frames.freeFrames;
    const swapBefore = this.swap?.freeSlots ?? 0;
    for (const vma of [...mm.vmas]) {
      this.zapRange(proc, mm, vma.start, vma.end);
      mm.remove(vma);
      this.releaseVmaObject(vma);
    }
    this.pageTables.freeAll(mm, proc.pid);
    if (this.asidBits === 0) {
      if (this.current === mm) this.machine.tlb.flushAll();
    } else if (this.asidGen.get(mm) === this.asidGeneration) {
      this.machine.tlb.invalidateAsid(mm.asid);
    }
    this.asidGen.delete(mm);
    if (this.current === mm) this.current = null;
    this.reclaim.processGone(proc.pid);
    proc.final = {
      minflt: mm.minflt,
      majflt: mm.majflt,
      hiwaterRss: mm.hiwaterRss,
      hiwaterVm: mm.hiwaterVm,
      reclaimedFrames: this.frames.freeFrames - freeBefore,
      reclaimedSwap: (this.swap?.freeSlots ?? 0) - swapBefore,
    };
    proc.state = state;
    proc.mm = null;
  }

  /**
   * The OOM killer: the live process with the highest badness gets SIGKILL — Linux `oom_badness`:
   * RSS + swap entries + page tables, plus oom_score_adj thousandths of all memory; -1000 is never
   * chosen. @returns the victim, or null when no process can be.
   */
  oomKill(): Process | null {
    let victim: Process | null = null;
    let worst = 0;
    const totalPages = this.frames.frameCount + (this.swap?.slotCount ?? 0);
    for (const p of this.live()) {
      const mm = p.mm!;
      if (p.oomScoreAdj <= -1000) continue;
      const badness = mm.rss + mm.swapEnts + mm.ptPages + Math.trunc((p.oomScoreAdj * totalPages) / 1000);
      if (badness > worst) {
        worst = badness;
        victim = p;
      }
    }
    if (victim) {
      this.reclaim.stats.oomKills++;
      if (this.sink) this.sink.push({ type: 'oom-kill', pid: victim.pid, badness: worst });
      this.kill(victim, {
        signal: SIGKILL,
        code: 0,
        va: 0,
        reason: `out of memory: killed ${victim.name} (badness ${worst} pages)`,
      });
    }
    return victim;
  }

  // ---------------------------------------------------------------- user memory access

  /**
   * One access by `proc` to `va`, as the CPU would make it: translate, and on a fault let the fault
   * handler resolve it and retry. A fault that cannot be resolved kills the process.
   * @returns the physical address, or -1 when the process was killed.
   */
  access(proc: Process, va: number, access: AccessKind): AccessOutcome {
    const mm = proc.mm;
    invariant(mm !== null, `access by pid ${proc.pid}, which is not running`);
    this.switchTo(mm);
    const mmu = this.machine.mmu;
    // Each retry follows a resolved fault; the OOM killer may need one per other process.
    const reclaim = this.reclaim;
    const inserts = reclaim.inserts;
    for (let attempt = 0; attempt < this.processes.size + 4; attempt++) {
      const pa = mmu.translate(va, access);
      if (pa >= 0) {
        // The policy sees the access, unless it just brought the page in (that was its first access).
        if (reclaim.inserts === inserts)
          reclaim.touch(Math.floor(pa / this.pageSize), access === ACCESS_WRITE ? 1 : 0);
        reclaim.now++;
        return pa;
      }
      const verdict = handleMmFault(this, proc, va, access, mmu.fault.kind);
      if (!verdict.ok) {
        if (proc.alive) this.kill(proc, verdict.signal);
        return -1;
      }
      if (!proc.alive) return -1; // the OOM killer chose the faulting process
      this.switchTo(mm);
    }
    invariant(false, `access: fault at 0x${va.toString(16)} still unresolved after retries`);
  }

  /** Reads `len` bytes at `va` as the process. @returns the bytes, or null when it was killed. */
  readUser(proc: Process, va: number, len: number, access: AccessKind = 0): Uint8Array | null {
    const out = new Uint8Array(len);
    const mem = this.machine.mem.bytes;
    let done = 0;
    while (done < len) {
      const pa = this.access(proc, va + done, access);
      if (pa < 0) return null;
      const chunk = Math.min(len - done, this.pageSize - (pa % this.pageSize));
      out.set(mem.subarray(pa, pa + chunk), done);
      done += chunk;
    }
    return out;
  }

  /**
   * Reads `len` bytes of a process's memory without side effects (no fault, no accessed bit, no TLB
   * fill): for inspection by tools. @returns null when some page is not resident.
   */
  peekUser(proc: Process, va: number, len: number): Uint8Array | null {
    const mm = proc.mm;
    if (mm === null) return null;
    const out = new Uint8Array(len);
    const mem = this.machine.mem.bytes;
    let done = 0;
    while (done < len) {
      const pa = this.machine.mmu.probe(mm.rootPfn, va + done).pa;
      if (pa < 0) return null;
      const chunk = Math.min(len - done, this.pageSize - (pa % this.pageSize));
      out.set(mem.subarray(pa, pa + chunk), done);
      done += chunk;
    }
    return out;
  }

  /** Writes `data` at `va` as the process. @returns false when it was killed on the way. */
  writeUser(proc: Process, va: number, data: Uint8Array): boolean {
    const mem = this.machine.mem.bytes;
    let done = 0;
    while (done < data.length) {
      const pa = this.access(proc, va + done, ACCESS_WRITE);
      if (pa < 0) return false;
      const chunk = Math.min(data.length - done, this.pageSize - (pa % this.pageSize));
      mem.set(data.subarray(done, done + chunk), pa);
      done += chunk;
    }
    return true;
  }

  // ---------------------------------------------------------------- pages and mappings (slow path)

  /** Allocates one zeroed frame (no reclaim). @returns its pfn, or -1 when memory is exhausted. */
  allocPage(kind: FrameKind, owner: number): number {
    const pfn = this.frames.alloc(0, kind, owner);
    if (pfn < 0) return -1;
    this.machine.mem.zeroFrame(pfn);
    if (this.sink) this.sink.push({ type: 'frame-alloc', pfn, kind, pid: owner });
    return pfn;
  }

  /**
   * Allocates one zeroed frame for a user page (anonymous, file cache, shmem), reclaiming to make
   * room, and hands it to the replacement policy. @returns its pfn, or -1 when nothing could be
   * reclaimed (the caller runs the OOM killer).
   */
  allocUserPage(
    kind: FrameKind,
    owner: number,
    write: boolean,
    page: number,
    charge: number = owner,
  ): number {
    if (!this.reclaim.makeRoom(page, charge)) return -1;
    let pfn = this.allocPage(kind, owner);
    while (pfn < 0) {
      if (!this.reclaim.evictOne(page)) return -1;
      pfn = this.allocPage(kind, owner);
    }
    this.reclaim.track(pfn, write, page, charge);
    return pfn;
  }

  /** Drops a reference to a frame; the last one frees it (and its swap-cache slot), announced. */
  putPage(pfn: number): void {
    const f = this.frames;
    const kind = f.kind[pfn]! as FrameKind;
    const owner = f.owner[pfn]!;
    if (f.refcount[pfn] === 1) {
      this.reclaim.untrack(pfn);
      const slot = f.swapSlot[pfn]!;
      if (slot >= 0) {
        this.swap!.put(slot);
        f.swapSlot[pfn] = -1;
      }
    }
    if (f.put(pfn) && this.sink) this.sink.push({ type: 'frame-free', pfn, kind, pid: owner });
  }

  /** A fresh anon_vma identity for a VMA getting its first anonymous page. */
  newAnonVma(): number {
    return this.nextAnonVma++;
  }

  /**
   * The frame caching page `index` of `obj`, reading it in when absent.
   * @returns the pfn (the cache's reference, not the caller's) and whether I/O was needed; pfn -1 when
   * memory is exhausted.
   */
  objectPage(
    obj: MemObject,
    index: number,
    write = false,
    charge = NO_OWNER,
  ): { pfn: number; major: boolean } {
    const cached = obj.pages.get(index);
    if (cached !== undefined) return { pfn: cached, major: false };
    const kind = obj.kind === 'shmem' ? FRAME_SHMEM : obj.kind === 'kernel' ? FRAME_KERNEL : FRAME_FILE;
    const pfn =
      kind === FRAME_KERNEL
        ? this.allocPage(kind, NO_OWNER)
        : this.allocUserPage(kind, NO_OWNER, write, objectPageId(obj.id, index), charge);
    if (pfn < 0) return { pfn: -1, major: false };
    const slot = obj.swapped.get(index);
    if (slot !== undefined) {
      // A shmem page coming back from swap: a major fault.
      this.swap!.read(slot, this.machine.mem.frame(pfn));
      this.swap!.put(slot);
      obj.swapped.delete(index);
      this.reclaim.stats.swapIns++;
      this.frames.objectId[pfn] = obj.id;
      this.frames.objectIndex[pfn] = index;
      obj.pages.set(index, pfn);
      return { pfn, major: true };
    }
    if (obj.data) {
      const start = index * this.pageSize;
      const end = Math.min(start + this.pageSize, obj.data.byteLength);
      if (end > start) this.machine.mem.bytes.set(obj.data.subarray(start, end), pfn * this.pageSize);
    }
    this.frames.objectId[pfn] = obj.id;
    this.frames.objectIndex[pfn] = index;
    obj.pages.set(index, pfn);
    this.objects.set(obj.id, obj);
    return { pfn, major: obj.kind === 'file' };
  }

  /** A VMA starts to use `obj`. */
  holdObject(obj: MemObject): void {
    obj.mapCount++;
    this.objects.set(obj.id, obj);
    if (obj.kind !== 'shmem') this.mapped.set(obj.path, obj);
  }

  /** The object for the file at `path`: the one already mapped (sharing its page cache), or a new one. */
  fileObject(path: string, bytes: Uint8Array): MemObject {
    const open = this.mapped.get(path);
    if (open !== undefined && open.kind === 'file' && open.data !== null && sameBytes(open.data, bytes))
      return open;
    return fileObject(path, bytes);
  }

  /** Pages the kernel shows every process (`[vdso]`, `[vvar]`): one object per name while mapped. */
  kernelObject(name: string, sizeBytes: number): MemObject {
    const open = this.mapped.get(name);
    if (open !== undefined && open.kind === 'kernel') return open;
    return new MemObject('kernel', name, new Uint8Array(sizeBytes), sizeBytes, '00:00');
  }

  /** A VMA stops using its object; the last one out frees the object's cached pages. */
  releaseVmaObject(vma: Vma): void {
    const obj = vma.object;
    if (!obj) return;
    obj.mapCount--;
    invariant(obj.mapCount >= 0, `object ${obj.path}: negative map count`);
    if (obj.mapCount > 0) return;
    for (const pfn of obj.pages.values()) {
      invariant(this.frames.mapcount[pfn] === 0, `object ${obj.path}: cached page ${pfn} still mapped`);
      this.putPage(pfn);
    }
    obj.pages.clear();
    for (const slot of obj.swapped.values()) this.swap!.put(slot);
    obj.swapped.clear();
    this.objects.delete(obj.id);
    if (this.mapped.get(obj.path) === obj) this.mapped.delete(obj.path);
  }

  /**
   * Writes a leaf entry mapping `pfn` at page `vpn` of `mm` and counts the mapping. The caller has
   * taken the reference the mapping now holds. `entryPa` is the leaf entry's address.
   */
  installPte(mm: Mm, entryPa: number, pfn: number, rights: PteRights, dirty: boolean, va = -1): void {
    const fmt = this.machine.arch.pte;
    let flags = fmt.leafFlags(rights);
    if (dirty) flags |= fmt.dirty;
    this.machine.mmu.writeEntry(entryPa, fmt.encodeLo(pfn, flags), fmt.encodeHi(pfn, !rights.exec));
    this.frames.mapcount[pfn]!++;
    if (this.frames.kind[pfn] === FRAME_ANON) this.frames.rmapVa[pfn] = va;
    this.addRss(mm, pfn, 1);
    mm.noteRss();
  }

  /** Adjusts the RSS counter that matches the frame's kind. */
  addRss(mm: Mm, pfn: number, delta: number): void {
    switch (this.frames.kind[pfn]) {
      case FRAME_ANON:
        mm.rssAnon += delta;
        break;
      case FRAME_SHMEM:
        mm.rssShmem += delta;
        break;
      case FRAME_FILE:
      case FRAME_KERNEL:
        mm.rssFile += delta;
        break;
      default:
        invariant(false, `rss: frame ${pfn} of kind ${this.frames.kind[pfn]} is not mappable`);
    }
  }

  /** Rights a leaf entry gets in `vma` for frame `pfn` (write only where no COW is pending). */
  rightsFor(vma: Vma, pfn: number): PteRights {
    const f = this.frames;
    const exclusiveAnon = f.kind[pfn] === FRAME_ANON && f.mapcount[pfn]! <= 1 && f.refcount[pfn] === 1;
    const writable = (vma.flags & 0x2) !== 0 && (vma.isShared() || exclusiveAnon);
    // VM_READ | VM_WRITE: write implies read; an execute-only VMA gets an execute-only leaf (RISC-V).
    const readable = (vma.flags & 0x3) !== 0;
    return { read: readable, write: writable, user: true, exec: (vma.flags & 0x4) !== 0 };
  }

  /**
   * Clears every leaf entry of [start, end) in `mm`: drops the mappings (freeing anonymous pages no
   * one else holds) and invalidates the TLB for the range. Page tables stay.
   */
  zapRange(proc: Process, mm: Mm, start: number, end: number): void {
    const fmt = this.machine.arch.pte;
    const mmu = this.machine.mmu;
    const startVpn = start / this.pageSize;
    const endVpn = end / this.pageSize;
    this.pageTables.forEachLeaf(mm, startVpn, endVpn, (_vpn, entryPa, lo, hi) => {
      if ((lo & fmt.present) !== 0 || (lo & fmt.swProtNone) !== 0) {
        const pfn = fmt.pfnOf(lo, hi);
        this.frames.mapcount[pfn]!--;
        this.addRss(mm, pfn, -1);
        this.putPage(pfn);
      } else if ((lo & fmt.swSwap) !== 0) {
        this.swap!.put(fmt.pfnOf(lo, hi));
        mm.swapEnts--;
      } else {
        invariant(false, `zap: pid ${proc.pid} has an unknown non-present entry ${fmt.formatRaw(lo, hi)}`);
      }
      mmu.writeEntry(entryPa, 0, 0);
    });
    this.flushTlbRange(mm, startVpn, endVpn);
  }

  /** TLB shootdown for a range of `mm` (only meaningful while its ASID is current). */
  flushTlbRange(mm: Mm, startVpn: number, endVpn: number): void {
    const tlb = this.machine.tlb;
    if (this.asidBits === 0) {
      if (this.current === mm) tlb.invalidateRange(0, startVpn, endVpn);
    } else if (this.asidGen.get(mm) === this.asidGeneration) {
      tlb.invalidateRange(mm.asid, startVpn, endVpn);
    }
    if (this.sink) this.sink.push({ type: 'tlb-flush', asid: mm.asid, startVpn, endVpn });
  }

  /** True when `mm`'s TLB entries are tagged with its current ASID (for the coherence check). */
  asidIsLive(mm: Mm): boolean {
    return this.asidBits === 0 ? this.current === mm : this.asidGen.get(mm) === this.asidGeneration;
  }
}
