/**
 * The memory manager's facade: boots the kernel's parts on a {@link Machine} and offers the library
 * API — processes and threads, their system calls, their memory accesses, and what /proc reports.
 * Each part owns its state in a file named for what it is:
 *
 *   frames.ts / buddy.ts   the frame table and the buddy allocator
 *   pagetable.ts           page-table trees in simulated RAM
 *   vm.ts                  leaf entries, page references, RSS          asid.ts    ASIDs and TLB shootdown
 *   mapping.ts / rmap.ts   anon_vmas, and the reverse map               swap.ts    the swap device and cache
 *   pagecache.ts / fs.ts   the page cache and the files                 commit.ts  overcommit accounting
 *   reclaim.ts             the replacement policy over user pages       vmscan.ts  evicting one page
 *   fault.ts, mmap.ts, brk.ts, mremap.ts, madvise.ts, fork.ts, exit.ts, oom.ts   the kernel's paths
 */
import { invariant } from '../base/errors.js';
import type { Machine } from '../hw/machine.js';
import { ACCESS_WRITE, type AccessKind } from '../hw/mmu.js';
import { Asids } from './asid.js';
import { sysBrk, sysSbrk } from './brk.js';
import { checkKernel } from './check.js';
import { CommitAccounting, type OvercommitSettings } from './commit.js';
import { ENOMEM } from './errno.js';
import type { EventSink, KernelEvents } from './events.js';
import { exitGroup, exitTask } from './exit.js';
import { handleMmFault } from './fault.js';
import { forkProcess, newThread } from './fork.js';
import { FRAME_KERNEL, FrameTable, NO_OWNER } from './frames.js';
import { SimFs } from './fs.js';
import { type UserLayout, userLayout } from './layout.js';
import {
  sysMadvise,
  sysMincore,
  sysMlock,
  sysMlockall,
  sysMsync,
  sysMunlock,
  sysMunlockall,
} from './madvise.js';
import { MappingTable } from './mapping.js';
import { MemObject } from './memobject.js';
import { Mm, type Rlimits } from './mm.js';
import { type MmapRequest, sysMmap, sysMprotect, sysMunmap } from './mmap.js';
import { sysMremap } from './mremap.js';
import { oomKill } from './oom.js';
import { PageCache } from './pagecache.js';
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
import { Reclaim, type ReclaimConfig } from './reclaim.js';
import { Rmap } from './rmap.js';
import { SysvShm } from './shm.js';
import { type SmapsEntry, type SmapsFields, smapsEntries, smapsRollup } from './smaps.js';
import { type SyntheticImage, spawnSynthetic } from './spawn.js';
import { SwapDevice } from './swap.js';
import { Vm } from './vm.js';
import type { Vma } from './vma.js';
import { Vmscan } from './vmscan.js';

export interface KernelOptions {
  /** Default resource limits for new processes (bytes; Infinity = unlimited). */
  readonly rlimits?: Partial<Rlimits>;
  /** vm.max_map_count. */
  readonly maxMapCount?: number;
  /** Size of the swap device in bytes (0: no swap). */
  readonly swapBytes?: number;
  /** How pages are chosen for eviction, and the cap on frames user pages may hold. */
  readonly reclaim?: ReclaimConfig;
  /** vm.overcommit_memory and its ratio/kbytes. */
  readonly overcommit?: OvercommitSettings;
  /** Pages a read fault on a file maps around it from the page cache (Linux: 16; 1 = off). */
  readonly faultAroundPages?: number;
  /**
   * Map the shared zero page on reads of untouched anonymous memory (Linux; default true). Off, such a
   * read allocates a zeroed frame, as a trace replay that compares with a cache simulation wants.
   */
  readonly zeroPage?: boolean;
}

/** The result of a user access: the physical address, or -1 when the process got a signal. */
export type AccessOutcome = number;

export class Kernel {
  readonly machine: Machine;
  readonly layout: UserLayout;
  readonly pageSize: number;
  readonly frames: FrameTable;
  readonly mappings: MappingTable;
  readonly pageTables: PageTables;
  readonly asids: Asids;
  /** The swap device, or null. */
  readonly swap: SwapDevice | null;
  /** Memory pressure: the replacement policy over user pages and its statistics. */
  readonly reclaim: Reclaim;
  readonly vm: Vm;
  readonly rmap: Rmap;
  readonly pageCache: PageCache;
  readonly fs: SimFs;
  readonly commit: CommitAccounting;
  /** System V shared memory segments (shm.ts). */
  readonly shm: SysvShm;
  /** Every task (processes and threads) by pid, live or ended. */
  readonly processes = new Map<number, Process>();
  readonly defaultRlimits: Rlimits;
  readonly maxMapCount: number;
  readonly faultAroundPages: number;
  /** MemFree (in frames) right after boot. */
  readonly bootFreeFrames: number;
  private readonly events: KernelEvents = { sink: null };
  /** Pages the kernel shows every process (`[vdso]`, `[vvar]`), by name, while mapped. */
  private readonly kernelObjects = new Map<string, MemObject>();
  private nextPid = 1;
  /** Tasks still running (exit.ts counts them down). */
  liveTasks = 0;

  constructor(machine: Machine, options: KernelOptions = {}) {
    invariant(
      machine.arch.pte.enforcesRights,
      `kernel: ${machine.arch.name} page tables carry no permission bits; it is a translation-only machine`,
    );
    this.machine = machine;
    this.layout = userLayout(machine.arch.name);
    this.pageSize = machine.arch.pageSize;
    this.frames = new FrameTable(machine.mem.frameCount);
    this.mappings = new MappingTable();
    this.pageTables = new PageTables(machine.arch, machine.mmu, this.frames);
    this.pageTables.listener = (pid, pfn, level, what) => {
      if (this.events.sink)
        this.events.sink.push({ type: what === 'alloc' ? 'pt-alloc' : 'pt-free', pid, pfn, level });
    };
    this.defaultRlimits = {
      stack: this.layout.rlimitStack,
      data: Number.POSITIVE_INFINITY,
      as: Number.POSITIVE_INFINITY,
      memlock: 8 * 1024 * 1024,
      ...options.rlimits,
    };
    this.maxMapCount = options.maxMapCount ?? 65530;
    this.faultAroundPages = options.faultAroundPages ?? 16;
    this.asids = new Asids(machine.arch.asidBits, machine.mmu);
    this.asids.sink = null;
    const swapSlots = Math.floor((options.swapBytes ?? 0) / this.pageSize);
    this.swap = swapSlots > 0 ? new SwapDevice(swapSlots, this.pageSize) : null;
    this.reclaim = new Reclaim(this.frames, options.reclaim ?? { policy: 'clock' });
    this.vm = new Vm({
      machine,
      frames: this.frames,
      pageTables: this.pageTables,
      asids: this.asids,
      swap: this.swap,
      mappings: this.mappings,
      reclaim: this.reclaim,
      events: this.events,
    });
    if (this.swap) this.swap.onFree = (mappingId) => this.vm.releaseAnonIdentity(mappingId);
    this.rmap = new Rmap(this.frames, this.mappings, this.pageTables, machine.mmu);
    this.pageCache = new PageCache(this.vm, this.mappings, this.rmap, this.events);
    this.fs = new SimFs(this.pageCache, this.pageSize);
    this.reclaim.evictor = new Vmscan(this.vm, this.rmap, this.pageCache, this.mappings, this.events);
    this.pageTables.onNoMemory = () => this.reclaim.evictOne();
    this.commit = new CommitAccounting(this.frames.frameCount, swapSlots, this.pageSize, options.overcommit);
    this.shm = new SysvShm(this);
    if (options.zeroPage !== false) this.vm.zeroPfn = this.vm.allocFrame(FRAME_KERNEL, NO_OWNER);
    this.bootFreeFrames = this.frames.freeFrames;
  }

  /** Attached event sink, or null (then no event object is ever built). */
  get sink(): EventSink | null {
    return this.events.sink;
  }

  set sink(sink: EventSink | null) {
    this.events.sink = sink;
    this.asids.sink = sink;
  }

  // ---------------------------------------------------------------- the library API

  /** Creates a process from a synthetic image. @returns it, or -ENOMEM. */
  spawn(name: string, image: SyntheticImage): Process | number {
    return spawnSynthetic(this, name, image);
  }

  /** fork(2): a child with a copy-on-write copy of `parent`'s address space. @returns it, or -errno. */
  fork(parent: Process, name?: string): Process | number {
    return this.syscall(
      parent,
      'fork',
      [],
      () => forkProcess(this, parent, name),
      (r) => (typeof r === 'number' ? r : r.pid),
    );
  }

  /** clone(CLONE_VM | CLONE_THREAD): a thread sharing `proc`'s address space. @returns it, or -errno. */
  thread(proc: Process, name?: string): Process | number {
    return this.syscall(
      proc,
      'clone',
      [],
      () => newThread(this, proc, name),
      (r) => (typeof r === 'number' ? r : r.pid),
    );
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

  /** mremap(2). @returns the (new) address or -errno. */
  mremap(proc: Process, oldAddr: number, oldLen: number, newLen: number, flags: number, newAddr = 0): number {
    return this.syscall(proc, 'mremap', [oldAddr, oldLen, newLen, flags, newAddr], () =>
      sysMremap(this, proc, oldAddr, oldLen, newLen, flags, newAddr),
    );
  }

  /** madvise(2). @returns 0 or -errno. */
  madvise(proc: Process, addr: number, len: number, advice: number): number {
    return this.syscall(proc, 'madvise', [addr, len, advice], () =>
      sysMadvise(this, proc, addr, len, advice),
    );
  }

  /** msync(2). @returns 0 or -errno. */
  msync(proc: Process, addr: number, len: number, flags: number): number {
    return this.syscall(proc, 'msync', [addr, len, flags], () => sysMsync(this, proc, addr, len, flags));
  }

  /** mincore(2): one residency flag per page. @returns the flags, or -errno. */
  mincore(proc: Process, addr: number, len: number): Uint8Array | number {
    return this.syscall(
      proc,
      'mincore',
      [addr, len],
      () => sysMincore(this, proc, addr, len),
      (r) => (typeof r === 'number' ? r : 0),
    );
  }

  /** mlock(2) / mlock2(2) (`flags` MLOCK_ONFAULT). @returns 0 or -errno. */
  mlock(proc: Process, addr: number, len: number, flags = 0): number {
    return this.syscall(proc, 'mlock', [addr, len, flags], () => sysMlock(this, proc, addr, len, flags));
  }

  munlock(proc: Process, addr: number, len: number): number {
    return this.syscall(proc, 'munlock', [addr, len], () => sysMunlock(this, proc, addr, len));
  }

  mlockall(proc: Process, flags: number): number {
    return this.syscall(proc, 'mlockall', [flags], () => sysMlockall(this, proc, flags));
  }

  munlockall(proc: Process): number {
    return this.syscall(proc, 'munlockall', [], () => sysMunlockall(this, proc));
  }

  /** brk(2), raw: the new break, or the old one on failure. */
  brk(proc: Process, addr: number): number {
    return this.syscall(proc, 'brk', [addr], () => sysBrk(this, proc, addr));
  }

  /** sbrk(3) over brk: the old break, or -ENOMEM. */
  sbrk(proc: Process, delta: number): number {
    return this.syscall(proc, 'sbrk', [delta], () => sysSbrk(this, proc, delta));
  }

  /** shmget(2): a System V segment's id (made when `key` is IPC_PRIVATE or new with IPC_CREAT), or -errno. */
  shmget(proc: Process, key: number, size: number, flags: number): number {
    return this.syscall(proc, 'shmget', [key, size, flags], () => this.shm.get(proc, key, size, flags));
  }

  /** shmat(2). @returns the attach's address, or -errno. */
  shmat(proc: Process, id: number, addr: number, flags: number): number {
    return this.syscall(proc, 'shmat', [id, addr, flags], () => this.shm.attach(proc, id, addr, flags));
  }

  /** shmdt(2). @returns 0 or -EINVAL. */
  shmdt(proc: Process, addr: number): number {
    return this.syscall(proc, 'shmdt', [addr], () => this.shm.detach(proc, addr));
  }

  /** shmctl(2) of IPC_RMID, IPC_STAT, IPC_SET, SHM_LOCK, SHM_UNLOCK. @returns 0 or -errno. */
  shmctl(proc: Process, id: number, cmd: number): number {
    return this.syscall(proc, 'shmctl', [id, cmd], () => this.shm.control(id, cmd));
  }

  /** /proc/PID/status memory fields (bytes), the fault counts and the thread count. */
  status(proc: Process): StatusFields & { minflt: number; majflt: number; threads: number } {
    const threads = proc.mm ? proc.mm.users : 0;
    return { ...statusFields(proc, this.pageSize), ...faultCounts(proc), threads };
  }

  /** /proc/PID/maps as data (empty for a process that has ended). */
  maps(proc: Process): MapsEntry[] {
    return proc.mm ? mapsEntries(proc.mm, this.machine.arch.vsyscallPage) : [];
  }

  /** /proc/PID/smaps as data, per VMA (empty for a process that has ended). */
  smaps(proc: Process): SmapsEntry[] {
    return proc.mm ? smapsEntries(this, proc.mm) : [];
  }

  /** /proc/PID/smaps_rollup's fields (null for a process that has ended). */
  smapsRollup(proc: Process): SmapsFields | null {
    return proc.mm ? smapsRollup(this, proc.mm) : null;
  }

  /** /proc/meminfo fields (bytes). */
  meminfo(): MeminfoFields {
    return meminfoFields(this);
  }

  /** Every invariant, checked from scratch. @returns the problems (empty when all hold). */
  check(): string[] {
    return checkKernel(this);
  }

  /**
   * `sync; echo 3 > /proc/sys/vm/drop_caches`: file pages no process maps are written back and freed.
   * @returns how many pages were dropped.
   */
  dropCaches(): number {
    return this.pageCache.dropCaches();
  }

  /** sync(2): every dirty file page is written back, mapped or not. @returns how many were. */
  sync(): number {
    return this.pageCache.syncAll();
  }

  private syscall<T>(
    proc: Process,
    name: string,
    args: readonly number[],
    body: () => T,
    result: (r: T) => number = (r) => r as unknown as number,
  ): T {
    if (!proc.alive) invariant(false, `${name} by pid ${proc.pid}, which is not running`);
    const r = body();
    const n = result(r);
    if (proc.alive) proc.lastResult = n;
    if (this.events.sink) this.events.sink.push({ type: 'syscall', pid: proc.pid, name, args, result: n });
    return r;
  }

  // ---------------------------------------------------------------- processes

  /** A new, empty address space owned by `pid` with the default layout. @returns null when out of memory. */
  newMm(pid: number): Mm | null {
    const mm = new Mm(this.pageSize, { ...this.defaultRlimits }, this.layout, this.commit);
    mm.pid = pid;
    mm.rootPfn = this.pageTables.newRoot(pid);
    if (mm.rootPfn < 0) return null;
    mm.taskSize = this.layout.taskSize;
    return mm;
  }

  /** Registers a task around an address space. */
  addProcess(name: string, mm: Mm, pid: number, opts: { tgid?: number; ppid?: number } = {}): Process {
    const proc = new Process(pid, name, mm, opts);
    this.processes.set(pid, proc);
    this.liveTasks++;
    if (this.events.sink) this.events.sink.push({ type: 'spawn', pid, name });
    return proc;
  }

  allocPid(): number {
    return this.nextPid++;
  }

  process(pid: number): Process | undefined {
    return this.processes.get(pid);
  }

  /** Live tasks, in pid order. */
  live(): Process[] {
    return [...this.processes.values()].filter((p) => p.alive);
  }

  /** The live tasks using `mm` (a process and its threads). */
  tasksOf(mm: Mm): Process[] {
    return this.live().filter((p) => p.mm === mm);
  }

  /** Makes `mm` the running address space (a context switch): picks its ASID, loads the MMU. */
  switchTo(mm: Mm): void {
    this.asids.switchTo(mm);
  }

  /** Ends a process normally (exit_group): every thread of it ends; its memory is reclaimed. */
  exit(proc: Process, code: number): void {
    invariant(proc.alive, `exit of pid ${proc.pid}, which is not running`);
    exitGroup(this, proc, { code });
  }

  /** exit(2) of one thread: the address space goes with its last user. */
  exitThread(task: Process, code: number): void {
    invariant(task.alive, `exit of pid ${task.pid}, which is not running`);
    exitTask(this, task, { code });
  }

  /** Kills a process (all its threads) with a signal: it is recorded, then its memory is reclaimed. */
  kill(proc: Process, info: SignalInfo): void {
    invariant(proc.alive, `kill of pid ${proc.pid}, which is not running`);
    exitGroup(this, proc, { signal: info });
  }

  /** The OOM killer (oom.ts). @returns the victim, or null when no process can be chosen. */
  oomKill(): Process | null {
    return oomKill(this);
  }

  // ---------------------------------------------------------------- user memory access

  /**
   * One access by `proc` to `va`, as the CPU would make it: translate, and on a fault let the fault
   * handler resolve it and retry. A fault that cannot be resolved kills the process.
   * @returns the physical address, or -1 when the process was killed.
   */
  access(proc: Process, va: number, access: AccessKind): AccessOutcome {
    const mm = proc.mm;
    if (mm === null) invariant(false, `access by pid ${proc.pid}, which is not running`);
    this.asids.switchTo(mm);
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
      this.asids.switchTo(mm);
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

  // ---------------------------------------------------------------- files

  /**
   * Creates (or replaces) a file that processes may map shared and writable, and writes `bytes` into
   * it as a program's write(2) would: its pages are in the page cache, dirty, until written back.
   * @returns the file, or -ENOMEM when its pages did not fit.
   */
  writeFile(path: string, bytes: Uint8Array): MemObject | number {
    const obj = this.fs.create(path, null, 0, { writable: true });
    if (bytes.length > 0 && this.pageCache.write(obj, 0, bytes, NO_OWNER) !== bytes.length) return -ENOMEM;
    return obj;
  }

  /** pwrite(2) into a file through the page cache. @returns the bytes written, or -ENOMEM. */
  pwrite(obj: MemObject, offset: number, bytes: Uint8Array): number {
    const n = this.pageCache.write(obj, offset, bytes, NO_OWNER);
    return n < 0 ? -ENOMEM : n;
  }

  /** ftruncate(2): pages past the new end are unmapped everywhere; touching them later is SIGBUS. */
  truncate(obj: MemObject, sizeBytes: number): void {
    this.fs.truncate(obj, sizeBytes);
  }

  // ---------------------------------------------------------------- objects (exec, spawn, mmap)

  /** The file at `path` with these bytes, in the simulated filesystem (sharing its page cache). */
  fileObject(path: string, bytes: Uint8Array): MemObject {
    return this.fs.open(path, bytes);
  }

  /** Pages the kernel shows every process (`[vdso]`, `[vvar]`): one object per name while mapped. */
  kernelObject(name: string, sizeBytes: number): MemObject {
    const open = this.kernelObjects.get(name);
    if (open !== undefined && open.id >= 0) return open;
    const obj = new MemObject(
      'kernel',
      name,
      new Uint8Array(sizeBytes),
      sizeBytes,
      '00:00',
      0,
      this.pageSize,
    );
    this.pageCache.register(obj);
    this.kernelObjects.set(name, obj);
    return obj;
  }

  /** Makes sure a VMA's object is known to the page cache (mapping it links it; see Mm.insert). */
  holdObject(obj: MemObject): void {
    this.pageCache.register(obj);
  }

  /** A VMA was removed from its mm: an object with no VMA left may die (shmem, deleted files, vdso). */
  releaseVmaObject(vma: Vma): void {
    const obj = vma.object;
    if (obj !== null) {
      this.pageCache.released(obj);
      if (obj.id < 0 && obj.committedPages > 0) {
        this.commit.add(-obj.committedPages);
        obj.committedPages = 0;
      }
    }
    for (const av of vma.anonChain) this.mappings.releaseIfUnused(av);
  }

  /** Objects with an id (files, shmem, the vdso), by id. */
  get objects(): Map<number, MemObject> {
    const out = new Map<number, MemObject>();
    for (const m of this.mappings.all()) if (m instanceof MemObject) out.set(m.id, m);
    return out;
  }

  /** True when `mm`'s TLB entries are tagged with its current ASID (for the coherence check). */
  asidIsLive(mm: Mm): boolean {
    return this.asids.isLive(mm);
  }

  /** TLB shootdown for a range of `mm`. */
  flushTlbRange(mm: Mm, startVpn: number, endVpn: number): void {
    this.asids.flushRange(mm, startVpn, endVpn);
  }
}
