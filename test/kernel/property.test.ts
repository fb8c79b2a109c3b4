/**
 * Random programs against the kernel (STYLE.md: "random mmap/munmap/mprotect/brk/exit sequences
 * followed by the validators"). Two or three processes, and more as they come and go, run random
 * accesses near the interesting places of their address space and random memory syscalls, on every
 * architecture the kernel runs. After every step the invariant checker must find nothing, and:
 *
 *  - isolation: a successful access lands on a frame that this process's page table maps at that
 *    address and that belongs to the VMA there (its anonymous memory, or its object's cache page);
 *  - contents: every byte reads back as the program last wrote it, or as the file or zero-fill gave
 *    it, through splits, merges, mprotect, other processes' faults and TLB reuse;
 *  - rights: an access succeeds only where the VMA allows it, and a SIGSEGV names the right cause;
 *  - a failed syscall changes nothing;
 *  - sharing: forked children see their parent's bytes as of the fork and never each other's later
 *    private writes; threads and shared mappings see every write at once; madvise(DONTNEED) and
 *    mremap keep exactly the bytes Linux keeps;
 *  - once every process has ended, all of RAM is free again.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { alignDown, alignUp } from '../../src/base/units.js';
import type { ArchName } from '../../src/hw/arch.js';
import { ACCESS_EXEC, ACCESS_READ, ACCESS_WRITE, type AccessKind } from '../../src/hw/mmu.js';
import {
  EAGAIN,
  EEXIST,
  EFAULT,
  EINVAL,
  ENOMEM,
  EPERM,
  MADV_DONTNEED,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_FIXED_NOREPLACE,
  MAP_GROWSDOWN,
  MAP_NORESERVE,
  MAP_POPULATE,
  MAP_PRIVATE,
  MAP_SHARED,
  MREMAP_MAYMOVE,
  SEGV_ACCERR,
  SEGV_MAPERR,
  SIGBUS,
  SIGKILL,
  SIGSEGV,
} from '../../src/kernel/errno.js';
import { FRAME_ANON, FRAME_FILE, FRAME_SHMEM } from '../../src/kernel/frames.js';
import type { Kernel } from '../../src/kernel/kernel.js';
import { AnonVma } from '../../src/kernel/mapping.js';
import type { Process } from '../../src/kernel/process.js';
import type { SyntheticImage } from '../../src/kernel/spawn.js';
import { VM_EXEC, VM_GROWSDOWN, VM_READ, VM_WRITE, type Vma } from '../../src/kernel/vma.js';
import { bootKernel, drawMaps } from '../helpers.js';

// ---------------------------------------------------------------- the random program

/** Where programs usually touch. */
const COMMON_PLACES = [
  'code',
  'data',
  'bss',
  'heap',
  'brk',
  'stackTop',
  'belowStack',
  'mmapped',
  'anyVma',
] as const;
/** Where they touch by mistake, or on purpose to test the edges. */
const RARE_PLACES = ['guardGap', 'null', 'aboveTask', 'anywhere'] as const;

/** Somewhere in a process's address space, resolved when the step runs. */
interface Place {
  readonly where: (typeof COMMON_PLACES)[number] | (typeof RARE_PLACES)[number];
  /** Pages away from the place: up from the bottom of a region, down from the top of the stack and heap. */
  readonly pages: number;
  /** Byte within the page (reduced modulo the page size). */
  readonly byte: number;
  /** For `anywhere`: a fraction of the user address range. */
  readonly fraction: number;
}

type Step =
  | { op: 'access'; p: number; at: Place; kind: AccessKind }
  | {
      op: 'mmap';
      p: number;
      at: Place;
      pages: number;
      prot: number;
      shared: boolean;
      placement: 'any' | 'hint' | 'fixed' | 'noreplace';
      populate: boolean;
      noreserve: boolean;
      growsdown: boolean;
    }
  | { op: 'munmap'; p: number; at: Place; pages: number }
  | { op: 'mprotect'; p: number; at: Place; pages: number; prot: number }
  | { op: 'brk'; p: number; pages: number; bytes: number; viaSbrk: boolean }
  | { op: 'exit'; p: number; kill: boolean }
  | { op: 'fork'; p: number }
  | { op: 'thread'; p: number }
  | { op: 'exitThread'; p: number }
  | { op: 'dontneed'; p: number; at: Place; pages: number }
  | { op: 'mremap'; p: number; at: Place; pages: number; maymove: boolean }
  | { op: 'spawn'; image: ImagePages };

interface ImagePages {
  code: number;
  data: number;
  bss: number;
  /** Extra bytes so that data and bss ends are not page-aligned (reduced modulo the page size). */
  dataTail: number;
  bssTail: number;
}

/** Mostly places where something is mapped; sometimes the edges and the holes. */
const place: fc.Arbitrary<Place> = fc.record({
  where: fc.oneof(
    { weight: 10, arbitrary: fc.constantFrom(...COMMON_PLACES) },
    { weight: 1, arbitrary: fc.constantFrom(...RARE_PLACES) },
  ),
  pages: fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: 0, max: 2 }) },
    { weight: 1, arbitrary: fc.integer({ min: -3, max: 8 }) },
  ),
  byte: fc.nat(4095),
  fraction: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
});
const proc = fc.nat(5);
const pagesArb = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 1, max: 8 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, 512, 513) },
);
const image: fc.Arbitrary<ImagePages> = fc.record({
  code: fc.integer({ min: 1, max: 3 }),
  data: fc.integer({ min: 0, max: 2 }),
  bss: fc.integer({ min: 0, max: 3 }),
  dataTail: fc.nat(4095),
  bssTail: fc.nat(4095),
});

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.record({
      op: fc.constant('access' as const),
      p: proc,
      at: place,
      kind: fc.constantFrom<AccessKind>(ACCESS_READ, ACCESS_READ, ACCESS_WRITE, ACCESS_WRITE, ACCESS_EXEC),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('mmap' as const),
      p: proc,
      at: place,
      pages: pagesArb,
      prot: fc.nat(7),
      shared: fc.boolean(),
      placement: fc.constantFrom(
        'any' as const,
        'any' as const,
        'hint' as const,
        'fixed' as const,
        'noreplace' as const,
      ),
      populate: fc.boolean(),
      noreserve: fc.boolean(),
      growsdown: fc.constantFrom(false, false, false, false, false, true),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('munmap' as const), p: proc, at: place, pages: pagesArb }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('mprotect' as const),
      p: proc,
      at: place,
      pages: pagesArb,
      prot: fc.nat(7),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('brk' as const),
      p: proc,
      pages: fc.integer({ min: -3, max: 6 }),
      bytes: fc.nat(4095),
      viaSbrk: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('exit' as const), p: proc, kill: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('fork' as const), p: proc }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('thread' as const), p: proc }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('exitThread' as const), p: proc }) },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('dontneed' as const), p: proc, at: place, pages: pagesArb }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('mremap' as const),
      p: proc,
      at: place,
      pages: fc.integer({ min: 1, max: 6 }),
      maymove: fc.boolean(),
    }),
  },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('spawn' as const), image }) },
);

// ---------------------------------------------------------------- the world the steps run in

/**
 * What the test knows about one task: its image, its mmaps, and the bytes it wrote to private memory
 * (threads of one process share both with it; a fork's child starts with copies).
 */
interface Tracked {
  readonly proc: Process;
  readonly image: SyntheticImage;
  readonly mmaps: number[];
  /** va → the byte last written there (private memory). */
  readonly written: Map<number, number>;
}

class World {
  readonly kernel: Kernel;
  readonly ps: number;
  readonly tracked: Tracked[] = [];
  /** Bytes written to shared memory: object → offset → byte (every mapper sees them). */
  readonly shared = new Map<object, Map<number, number>>();
  private spawns = 0;

  constructor(arch: ArchName, frames: number, swapPages: number) {
    const pageSize = arch === 'teach16' ? 64 : 4096;
    this.kernel = bootKernel(
      { arch, ramBytes: frames * pageSize, tlbEntries: 16, tlbWays: 4 },
      // With swap, reclaim sends pages out and back under every kind of sharing.
      swapPages > 0 ? { swapBytes: swapPages * pageSize, reclaim: { policy: 'clock' } } : {},
    );
    this.ps = pageSize;
  }

  spawn(img: ImagePages): void {
    if (this.spawns >= 40) return;
    const ps = this.ps;
    const image: SyntheticImage = {
      codeBytes: img.code * ps,
      dataBytes: img.data * ps + (img.data > 0 ? img.dataTail % ps : 0),
      bssBytes: img.bss * ps + (img.bss > 0 ? img.bssTail % ps : 0),
    };
    // MemAvailable: free frames plus the page cache (which a failed spawn may leave filled, as Linux).
    const free = this.kernel.meminfo().MemAvailable;
    const live = this.kernel.live().length;
    const evictions = this.kernel.reclaim.stats.evictions;
    const proc = this.kernel.spawn(`p${this.spawns++}`, image);
    if (typeof proc === 'number') {
      expect(proc).toBe(-ENOMEM);
      // A failed spawn gives back what it took. On the way reclaim may have evicted other pages
      // (a never-written zero page is simply dropped, even without swap), and the OOM killer may
      // have ended someone: free memory can only have grown, and without a kill by no more than
      // the pages reclaim gave up.
      const after = this.kernel.meminfo().MemAvailable;
      expect(after).toBeGreaterThanOrEqual(free);
      if (this.kernel.live().length === live) {
        const evicted = this.kernel.reclaim.stats.evictions - evictions;
        expect(after - free).toBeLessThanOrEqual(evicted * this.ps);
      }
      return;
    }
    this.tracked.push({ proc, image, mmaps: [], written: new Map() });
  }

  live(): Tracked[] {
    return this.tracked.filter((t) => t.proc.alive);
  }

  pick(p: number): Tracked | undefined {
    const live = this.live();
    return live.length === 0 ? undefined : live[p % live.length];
  }

  /** A virtual address for `at` in `t`'s address space as it is now. */
  resolve(t: Tracked, at: Place): number {
    const { ps, kernel } = this;
    const mm = t.proc.mm!;
    const stack = mm.vmas.findLast((v) => (v.flags & VM_GROWSDOWN) !== 0);
    const stackStart = stack?.start ?? kernel.layout.stackTop;
    const byte = at.byte % ps;
    let base: number;
    switch (at.where) {
      case 'code':
        base = mm.startCode;
        break;
      case 'data':
        base = mm.startData;
        break;
      case 'bss':
        base = alignDown(mm.endData, ps);
        break;
      case 'heap':
        base = mm.startBrk;
        break;
      case 'brk':
        return Math.max(0, alignUp(mm.brk, ps) - (at.pages + 1) * ps + byte);
      case 'stackTop':
        return kernel.layout.stackTop - (at.pages + 1) * ps + byte;
      case 'belowStack':
        return Math.max(0, stackStart - (at.pages + 1) * ps + byte);
      case 'guardGap':
        base = stackStart - kernel.layout.stackGuardGap;
        break;
      case 'mmapped': {
        // One of the mappings this process made that is still there, from its start.
        const alive = t.mmaps.filter((va) => mm.vmaAt(va) !== null);
        return alive.length > 0 ? alive[Math.abs(at.pages) % alive.length]! + byte : mm.mmapBase + byte;
      }
      case 'anyVma':
        base = mm.vmas.length > 0 ? mm.vmas[Math.abs(at.pages * 7) % mm.vmas.length]!.start : 0;
        break;
      case 'null':
        base = 0;
        break;
      case 'aboveTask':
        base = mm.taskSize;
        break;
      case 'anywhere':
        base = alignDown(Math.floor(at.fraction * kernel.machine.arch.userVaLimit), ps);
        break;
    }
    return Math.max(0, base + at.pages * ps + byte);
  }

  /** Where a write at `va` lands in the model: the shared object's bytes, or the task's own. */
  record(t: Tracked, va: number, value: number): void {
    const vma = t.proc.mm!.vmaAt(va)!;
    if (vma.isShared() && vma.object !== null) {
      const offset = vma.pgoff * this.ps + (va - vma.start);
      let bytes = this.shared.get(vma.object);
      if (!bytes) {
        bytes = new Map();
        this.shared.set(vma.object, bytes);
      }
      bytes.set(offset, value);
    } else t.written.set(va, value);
  }

  /** The byte the program must read at `va`, or undefined when the test cannot know it. */
  expectedByte(t: Tracked, va: number): number | undefined {
    const vma0 = t.proc.mm!.vmaAt(va);
    if (vma0?.isShared() && vma0.object !== null)
      return this.shared.get(vma0.object)?.get(vma0.pgoff * this.ps + (va - vma0.start)) ?? 0;
    const written = t.written.get(va);
    if (written !== undefined) return written;
    const vma = t.proc.mm!.vmaAt(va);
    if (vma === null || (vma.flags & VM_GROWSDOWN) !== 0) return undefined; // the stack holds argv
    if (vma.object === null || vma.object.kind === 'shmem') return 0;
    // The image file: code (nops), padded to a page, then the data ramp.
    const offset = vma.pgoff * this.ps + (va - vma.start);
    const codeSpan = alignUp(t.image.codeBytes, this.ps);
    if (offset < t.image.codeBytes) return 0x90;
    if (offset >= codeSpan && offset < codeSpan + t.image.dataBytes) return (offset - codeSpan) & 0xff;
    return 0;
  }

  /** Forgets what a range held (it was unmapped or replaced). */
  forget(t: Tracked, start: number, end: number): void {
    for (const va of [...t.written.keys()]) if (va >= start && va < end) t.written.delete(va);
  }

  /** Forgets bytes no VMA covers any more. */
  forgetUnmapped(t: Tracked): void {
    if (!t.proc.alive) return;
    for (const va of [...t.written.keys()]) if (t.proc.mm!.vmaAt(va) === null) t.written.delete(va);
  }
}

// ---------------------------------------------------------------- running a step

/** VMA rights that allow an access of this kind (reads need any right on x86, R or W on RISC-V). */
function vmaAllows(arch: ArchName, vma: Vma, kind: AccessKind): boolean {
  if (kind === ACCESS_WRITE) return (vma.flags & VM_WRITE) !== 0;
  if (kind === ACCESS_EXEC) return (vma.flags & VM_EXEC) !== 0;
  const readMask = arch === 'riscv-sv39' ? VM_READ | VM_WRITE : VM_READ | VM_WRITE | VM_EXEC;
  return (vma.flags & readMask) !== 0;
}

function runAccess(w: World, arch: ArchName, t: Tracked, va: number, kind: AccessKind): void {
  const { kernel, ps } = w;
  const mm = t.proc.mm!;
  const vmaBefore = mm.vmaAt(va);
  // Below a stack the fault handler grows it first, and only then checks the rights.
  const next = mm.findVma(va);
  const stackBelow = vmaBefore === null && next !== null && (next.flags & VM_GROWSDOWN) !== 0 ? next : null;
  const value = (va * 7 + 3) & 0xff;
  let ok: boolean;
  let got: number | undefined;
  if (kind === ACCESS_WRITE) ok = kernel.writeUser(t.proc, va, new Uint8Array([value]));
  else {
    const bytes = kernel.readUser(t.proc, va, 1, kind);
    ok = bytes !== null;
    got = bytes?.[0];
  }
  if (!ok) {
    expect(t.proc.alive).toBe(false);
    const signal = t.proc.signal!;
    if (signal.signal === SIGKILL) {
      expect(signal.reason).toMatch(/out of memory/);
      return;
    }
    if (signal.signal === SIGBUS) {
      // Past the end of a file (or of shmem's object, as on Linux): a mapping grown (mremap) beyond it.
      const o = vmaBefore?.object;
      expect(['file', 'shmem'], signal.reason).toContain(o?.kind);
      expect(vmaBefore!.linearIndex(va, ps), signal.reason).toBeGreaterThanOrEqual(o!.sizePages);
      return;
    }
    expect(signal.signal, signal.reason).toBe(SIGSEGV);
    if (signal.code === SEGV_ACCERR) {
      const vma = vmaBefore ?? stackBelow;
      expect(vma, signal.reason).not.toBeNull();
      expect(vmaAllows(arch, vma!, kind), signal.reason).toBe(false);
    } else {
      expect(signal.code, signal.reason).toBe(SEGV_MAPERR);
      expect(vmaBefore, signal.reason).toBeNull();
    }
    return;
  }
  // Rights: the VMA now at va allows this access (i386 has no NX: its fetches only need a read).
  const vma = mm.vmaAt(va);
  expect(vma, `access at 0x${va.toString(16)} succeeded outside every VMA`).not.toBeNull();
  expect(vmaAllows(arch, vma!, arch === 'i386' && kind === ACCESS_EXEC ? ACCESS_READ : kind)).toBe(true);
  // Isolation: the frame is mapped here by this page table, and belongs to this VMA.
  const probe = kernel.machine.mmu.probe(mm.rootPfn, va);
  expect(probe.pa).toBeGreaterThanOrEqual(0);
  const pfn = Math.floor(probe.pa / ps);
  const f = kernel.frames;
  if (pfn === kernel.vm.zeroPfn) {
    // The shared zero page: only read, only where private anonymous memory was never written.
    expect(kind, 'a write reached the zero page').not.toBe(ACCESS_WRITE);
    expect(vma!.object === null && !vma!.isShared()).toBe(true);
  } else if (f.kind[pfn] === FRAME_ANON) {
    const av = kernel.mappings.get(f.mapping[pfn]!);
    expect(
      av instanceof AnonVma && av.vmas.has(vma!),
      'an anonymous page the reverse map does not reach',
    ).toBe(true);
    expect(vma!.isShared()).toBe(false);
    expect(f.index[pfn]).toBe(vma!.linearIndex(va, ps));
  } else {
    expect([FRAME_FILE, FRAME_SHMEM]).toContain(f.kind[pfn]);
    expect(f.mapping[pfn], 'a cached page of another object').toBe(vma!.object?.id);
    expect(f.index[pfn]).toBe(vma!.pgoff + Math.floor((va - vma!.start) / ps));
  }
  // Contents.
  if (kind === ACCESS_WRITE) w.record(t, va, value);
  else {
    const want = w.expectedByte(t, va);
    if (want !== undefined) expect(got, `byte at 0x${va.toString(16)}`).toBe(want);
  }
}

function runStep(w: World, arch: ArchName, s: Step): void {
  const { kernel, ps } = w;
  if (s.op === 'spawn') {
    w.spawn(s.image);
    return;
  }
  const t = w.pick(s.p);
  if (!t) return;
  const before = { maps: drawMaps(kernel, t.proc), free: kernel.meminfo().MemFree };
  const unchanged = () => {
    expect(drawMaps(kernel, t.proc)).toEqual(before.maps);
    expect(kernel.meminfo().MemFree).toBe(before.free);
  };
  switch (s.op) {
    case 'access':
      runAccess(w, arch, t, w.resolve(t, s.at), s.kind);
      break;
    case 'mmap': {
      const target = alignDown(w.resolve(t, s.at), ps);
      let flags = MAP_ANONYMOUS | (s.shared ? MAP_SHARED : MAP_PRIVATE);
      if (s.placement === 'fixed') flags |= MAP_FIXED;
      if (s.placement === 'noreplace') flags |= MAP_FIXED_NOREPLACE;
      if (s.populate) flags |= MAP_POPULATE;
      if (s.noreserve) flags |= MAP_NORESERVE;
      if (s.growsdown) flags |= MAP_GROWSDOWN;
      const addr = s.placement === 'any' ? 0 : target;
      const len = s.pages * ps;
      const r = kernel.mmap(t.proc, { addr, len, prot: s.prot, flags });
      if (r < 0) {
        expect([-EINVAL, -ENOMEM, -EEXIST, -EPERM]).toContain(r);
        if (r === -EPERM) {
          expect(['fixed', 'noreplace']).toContain(s.placement);
          expect(target).toBeLessThan(kernel.layout.mmapMinAddr);
        }
        if (s.pages === 0) expect(r).toBe(-EINVAL);
        unchanged();
        break;
      }
      expect(r % ps).toBe(0);
      if (s.placement === 'fixed' || s.placement === 'noreplace') expect(r).toBe(target);
      if (s.placement === 'fixed') w.forget(t, r, r + len);
      if (t.proc.alive) {
        const vma = t.proc.mm!.vmaAt(r);
        expect(vma).not.toBeNull();
        expect(vma!.end).toBeGreaterThanOrEqual(r + len);
        expect(vma!.flags & (VM_READ | VM_WRITE | VM_EXEC)).toBe(s.prot);
        expect(vma!.isShared()).toBe(s.shared);
        t.mmaps.push(r);
      }
      break;
    }
    case 'munmap': {
      const addr = s.at.where === 'anywhere' ? w.resolve(t, s.at) : alignDown(w.resolve(t, s.at), ps);
      const r = kernel.munmap(t.proc, addr, s.pages * ps);
      if (r < 0) {
        expect(r).toBe(-EINVAL);
        unchanged();
      } else {
        expect(r).toBe(0);
        for (let va = addr; va < addr + s.pages * ps; va += ps) expect(t.proc.mm!.vmaAt(va)).toBeNull();
      }
      break;
    }
    case 'mprotect': {
      const addr = alignDown(w.resolve(t, s.at), ps);
      const end = addr + s.pages * ps;
      let hole = false;
      for (let va = addr; va < end; va += ps) if (t.proc.mm!.vmaAt(va) === null) hole = true;
      const r = kernel.mprotect(t.proc, addr, s.pages * ps, s.prot);
      // ENOMEM when the range has a hole, or (overcommit heuristic) when making more memory writable
      // than RAM and swap hold; otherwise every page has the new rights.
      const tooBig = (s.prot & 2) !== 0 && s.pages > kernel.frames.frameCount + (kernel.swap?.slotCount ?? 0);
      if (hole) expect(r).toBe(-ENOMEM);
      else if (r !== 0) expect([r, tooBig]).toEqual([-ENOMEM, true]);
      if (r === 0)
        for (let va = addr; va < end; va += ps)
          expect(t.proc.mm!.vmaAt(va)!.flags & (VM_READ | VM_WRITE | VM_EXEC)).toBe(s.prot);
      break;
    }
    case 'brk': {
      const mm = t.proc.mm!;
      const old = mm.brk;
      const want = old + s.pages * ps + (s.bytes % ps) - ps / 2;
      if (s.viaSbrk) {
        const r = kernel.sbrk(t.proc, want - old);
        if (r === -ENOMEM) unchanged();
        else expect(r).toBe(old);
      } else {
        const r = kernel.brk(t.proc, want);
        if (r === old && want !== old) unchanged();
        else expect(r).toBe(want);
      }
      break;
    }
    case 'exit':
      if (s.kill) kernel.kill(t.proc, { signal: SIGKILL, code: 0, va: 0, reason: 'killed by the test' });
      else kernel.exit(t.proc, 0);
      expect(t.proc.mm).toBeNull();
      // exit_group: every thread of the process ended with it.
      for (const x of w.tracked) if (x.proc.tgid === t.proc.tgid) expect(x.proc.alive).toBe(false);
      break;
    case 'exitThread': {
      const mm = t.proc.mm!;
      const others = kernel.tasksOf(mm).filter((x) => x !== t.proc);
      kernel.exitThread(t.proc, 0);
      for (const o of others) expect(o.mm, 'the address space outlives one thread').toBe(mm);
      break;
    }
    case 'fork': {
      if (w.tracked.length >= 40) break;
      const child = kernel.fork(t.proc);
      if (typeof child === 'number') {
        expect(child).toBe(-ENOMEM);
        expect(drawMaps(kernel, t.proc)).toEqual(before.maps);
        break;
      }
      expect(drawMaps(kernel, child)).toEqual(drawMaps(kernel, t.proc));
      expect(kernel.status(child).RssAnon).toBe(kernel.status(t.proc).RssAnon);
      w.tracked.push({ proc: child, image: t.image, mmaps: [...t.mmaps], written: new Map(t.written) });
      break;
    }
    case 'thread': {
      if (w.tracked.length >= 40) break;
      const th = kernel.thread(t.proc);
      if (typeof th === 'number') break;
      w.tracked.push({ proc: th, image: t.image, mmaps: t.mmaps, written: t.written });
      break;
    }
    case 'dontneed': {
      const addr = alignDown(w.resolve(t, s.at), ps);
      const r = kernel.madvise(t.proc, addr, s.pages * ps, MADV_DONTNEED);
      expect([0, -ENOMEM, -EINVAL]).toContain(r);
      // Private pages are gone (zeros, or the file again); shared memory keeps its bytes.
      if (r !== -EINVAL) w.forget(t, addr, addr + s.pages * ps);
      break;
    }
    case 'mremap': {
      const addr = alignDown(w.resolve(t, s.at), ps);
      const vma = t.proc.mm!.vmaAt(addr);
      const oldLen = vma ? vma.end - addr : ps;
      const newLen = s.pages * ps;
      const r = kernel.mremap(t.proc, addr, oldLen, newLen, s.maymove ? MREMAP_MAYMOVE : 0);
      if (r < 0) {
        expect([-EINVAL, -ENOMEM, -EFAULT, -EAGAIN]).toContain(r);
        if (r !== -ENOMEM || !s.maymove) expect(drawMaps(kernel, t.proc)).toEqual(before.maps);
        break;
      }
      if (!s.maymove) expect(r).toBe(addr);
      // The bytes move with the pages; what lay past the new length is gone.
      const keep = Math.min(oldLen, newLen);
      const moved = new Map<number, number>();
      for (const [va, b] of t.written) if (va >= addr && va < addr + keep) moved.set(va - addr + r, b);
      w.forget(t, addr, addr + oldLen);
      for (const [va, b] of moved) t.written.set(va, b);
      break;
    }
  }
  for (const x of w.tracked) w.forgetUnmapped(x);
}

// ---------------------------------------------------------------- the properties

describe.each<[ArchName, number[]]>([
  // RAM in frames: tiny (the OOM killer works hard), small, and roomy.
  ['x86_64', [24, 48, 512]],
  ['riscv-sv39', [24, 48, 512]],
  ['i386', [20, 40, 512]],
  ['teach16', [64, 96, 1024]],
])('%s: random programs', (arch, ramChoices) => {
  test('keep every invariant, isolate processes and give all memory back', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ramChoices),
        fc.constantFrom(0, 0, 16, 64),
        fc.array(image, { minLength: 2, maxLength: 3 }),
        fc.array(step, { minLength: 1, maxLength: 60, size: 'max' }),
        (frames, swapPages, images, steps) => {
          const w = new World(arch, frames, swapPages);
          for (const img of images) w.spawn(img);
          expect(w.kernel.check()).toEqual([]);
          for (const s of steps) {
            runStep(w, arch, s);
            expect(w.kernel.check()).toEqual([]);
          }
          for (const t of w.live()) if (t.proc.alive) w.kernel.exit(t.proc, 0);
          const { kernel } = w;
          expect(kernel.check()).toEqual([]);
          kernel.dropCaches();
          expect(kernel.check()).toEqual([]);
          expect(kernel.frames.validate()).toEqual([]);
          expect(kernel.meminfo().MemFree).toBe(kernel.bootFreeFrames * kernel.pageSize);
          expect(kernel.meminfo().SwapFree).toBe(kernel.meminfo().SwapTotal);
          expect(kernel.meminfo().Committed_AS).toBe(0);
          // Only the files remain (in the filesystem), with nothing cached.
          for (const o of kernel.objects.values())
            expect([o.kind, o.linked, o.pages.size]).toEqual(['file', true, 0]);
        },
      ),
      { numRuns: 150 },
    );
  });
});
