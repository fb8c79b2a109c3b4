/**
 * The page-fault handler (LINUX.md L5, L7, L10, L12): demand paging, copy-on-write, the signals a bad
 * access earns, stack growth and its limits, PROT_NONE, shared anonymous memory and the OOM killer.
 */
import { describe, expect, test } from 'vitest';
import { ACCESS_EXEC, ACCESS_READ, ACCESS_WRITE } from '../../src/hw/mmu.js';
import {
  ENOMEM,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_NORESERVE,
  MAP_SHARED,
  PROT_EXEC,
  PROT_NONE,
  PROT_READ,
  SEGV_ACCERR,
  SEGV_MAPERR,
  SIGKILL,
  SIGSEGV,
} from '../../src/kernel/errno.js';
import { EventLog } from '../../src/kernel/events.js';
import type { Kernel } from '../../src/kernel/kernel.js';
import type { Process } from '../../src/kernel/process.js';
import {
  ANON_PRIVATE,
  bootKernel,
  drawMaps,
  expectAllFreedAfterExit,
  KB,
  MB,
  mmapAnon,
  PROT_RW,
  spawnOk,
} from '../helpers.js';

const PAGE = 4096;
const CODE = 0x400000;
const DATA = 0x402000;
const BSS = 0x403000;
const STACK_TOP = 0x7ffffffff000;
const STACK_START = STACK_TOP - 132 * KB; // 0x7ffffffde000

/** A kernel with an event log, and the textbook process A. */
function processA(options: Parameters<typeof bootKernel>[1] = {}) {
  const kernel = bootKernel({}, options);
  const a = spawnOk(kernel, 'A');
  const log = new EventLog();
  kernel.sink = log;
  return { kernel, a, log };
}

/** The page faults logged since the last call, as [result, how]. */
function faults(log: EventLog): [string, string | null][] {
  return log
    .drain()
    .flatMap((e) => (e.type === 'fault' ? [[e.result, e.how] as [string, string | null]] : []));
}

/** A process's RSS split, in KiB. */
function rssKiB(kernel: Kernel, proc: Process) {
  const s = kernel.status(proc);
  return { anon: s.RssAnon / KB, file: s.RssFile / KB, shmem: s.RssShmem / KB };
}

/** After a process is killed, nothing of it remains. */
function expectReclaimed(kernel: Kernel, proc: Process): void {
  expect(proc.alive).toBe(false);
  expect(proc.mm).toBeNull();
  expect(kernel.maps(proc)).toEqual([]);
  expect(kernel.check()).toEqual([]);
  if (kernel.live().length === 0) {
    kernel.dropCaches(); // the program's file pages stay cached until then, as on Linux
    expect(kernel.meminfo().MemFree).toBe(kernel.bootFreeFrames * kernel.pageSize);
  }
}

describe('demand paging', () => {
  test('the first write to anonymous memory is a minor fault that maps a zeroed frame (RssAnon)', () => {
    const { kernel, a, log } = processA();
    const addr = mmapAnon(kernel, a, 2 * PAGE);
    log.drain();
    expect(rssKiB(kernel, a)).toEqual({ anon: 4, file: 0, shmem: 0 }); // the initial stack page
    expect(kernel.writeUser(a, addr + 8, new Uint8Array([42]))).toBe(true);
    expect(faults(log)).toEqual([['minor', 'zero-fill']]);
    expect(kernel.status(a)).toMatchObject({ minflt: 1, majflt: 0 });
    expect(rssKiB(kernel, a)).toEqual({ anon: 8, file: 0, shmem: 0 });
    // The page is now present: more accesses to it fault no more.
    expect(kernel.readUser(a, addr, 16)).toEqual(
      new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 42, 0, 0, 0, 0, 0, 0, 0]),
    );
    expect(faults(log)).toEqual([]);
    expect(kernel.status(a).minflt).toBe(1);
    expect(kernel.check()).toEqual([]);
  });

  test('a zero-filled page really is zero, even where a freed page held data', () => {
    const { kernel, a } = processA();
    const addr = mmapAnon(kernel, a, PAGE);
    kernel.writeUser(a, addr, new Uint8Array(PAGE).fill(0xff));
    kernel.munmap(a, addr, PAGE);
    const again = mmapAnon(kernel, a, PAGE);
    kernel.writeUser(a, again, new Uint8Array([1]));
    expect(
      kernel
        .readUser(a, again, PAGE)
        ?.slice(1)
        .every((b) => b === 0),
    ).toBe(true);
    expect(kernel.check()).toEqual([]);
  });

  test('the first read of code is a major fault on a file page (RssFile); the next is a hit', () => {
    const { kernel, a, log } = processA();
    expect(kernel.readUser(a, CODE, 4, ACCESS_EXEC)).toEqual(new Uint8Array([0x90, 0x90, 0x90, 0x90]));
    expect(faults(log)).toEqual([['major', 'file-read']]);
    expect(kernel.status(a)).toMatchObject({ minflt: 0, majflt: 1 });
    expect(rssKiB(kernel, a)).toEqual({ anon: 4, file: 4, shmem: 0 });
    expect(kernel.access(a, CODE + 100, ACCESS_READ)).toBeGreaterThanOrEqual(0);
    expect(faults(log)).toEqual([]);
    expect(kernel.meminfo().Cached).toBe(PAGE);
    expect(kernel.check()).toEqual([]);
  });

  test('code and data are two VMAs over one file: unmapping the code keeps the cache the data uses', () => {
    const { kernel, a, log } = processA();
    kernel.access(a, CODE, ACCESS_EXEC); // file page 0
    kernel.access(a, DATA, ACCESS_READ); // file page 2 (the data follows two pages of code)
    expect(faults(log)).toEqual([
      ['major', 'file-read'],
      ['major', 'file-read'],
    ]);
    expect(kernel.meminfo()).toMatchObject({ Cached: 2 * PAGE, Mapped: 2 * PAGE });
    kernel.munmap(a, CODE, 2 * PAGE);
    expect(kernel.meminfo()).toMatchObject({ Cached: 2 * PAGE, Mapped: PAGE });
    // The page cache outlives the last mapping, as on Linux: Cached stays, Mapped falls.
    kernel.munmap(a, DATA, PAGE);
    expect(kernel.meminfo()).toMatchObject({ Cached: 2 * PAGE, Mapped: 0 });
    expect(kernel.check()).toEqual([]);
    // drop_caches frees what no one maps.
    expect(kernel.dropCaches()).toBe(2);
    expect(kernel.meminfo()).toMatchObject({ Cached: 0, Mapped: 0 });
  });
});

describe('copy-on-write of private file data', () => {
  test('a write to data copies the file page into an anonymous page; the file keeps its bytes', () => {
    const { kernel, a, log } = processA();
    // The data segment is a ramp: byte i holds i & 0xff.
    expect(kernel.readUser(a, DATA + 0x10, 2)).toEqual(new Uint8Array([0x10, 0x11]));
    expect(faults(log)).toEqual([['major', 'file-read']]);
    expect(rssKiB(kernel, a)).toEqual({ anon: 4, file: 4, shmem: 0 });

    expect(kernel.writeUser(a, DATA + 0x10, new Uint8Array([0xee]))).toBe(true);
    expect(faults(log)).toEqual([['minor', 'cow-copy']]);
    expect(rssKiB(kernel, a)).toEqual({ anon: 8, file: 0, shmem: 0 });
    expect(kernel.readUser(a, DATA + 0x10, 2)).toEqual(new Uint8Array([0xee, 0x11]));
    // The page cache still holds the file's own page, now mapped by no one.
    expect(kernel.meminfo()).toMatchObject({ Cached: PAGE, Mapped: 0 });
    expect(kernel.check()).toEqual([]);
  });

  test('a first access that is a write copies at once: one major fault, no file page mapped', () => {
    const { kernel, a, log } = processA();
    kernel.writeUser(a, DATA, new Uint8Array([1]));
    expect(faults(log)).toEqual([['major', 'cow-copy']]);
    expect(rssKiB(kernel, a)).toEqual({ anon: 8, file: 0, shmem: 0 });
    expect(kernel.check()).toEqual([]);
  });

  test('bss is anonymous memory: a read maps the shared zero page, never the file; a write gets a page', () => {
    const { kernel, a, log } = processA();
    const before = kernel.status(a).RssAnon;
    expect(kernel.readUser(a, BSS + PAGE, 4)).toEqual(new Uint8Array(4));
    expect(faults(log)).toEqual([['minor', 'zero-page']]);
    expect(kernel.status(a).RssAnon).toBe(before); // the zero page counts in no RSS
    expect(kernel.writeUser(a, BSS + PAGE, new Uint8Array([7]))).toBe(true);
    expect(faults(log)).toEqual([['minor', 'zero-fill']]);
    expect(kernel.status(a).RssAnon).toBe(before + PAGE);
    expect(kernel.readUser(a, BSS + PAGE, 2)).toEqual(new Uint8Array([7, 0]));
    expect(kernel.check()).toEqual([]);
  });
});

describe('bad accesses get SIGSEGV', () => {
  test('a write to read-only code: SEGV_ACCERR, the process is killed and all its frames come back', () => {
    const { kernel, a } = processA();
    kernel.readUser(a, CODE, 1); // make the page present: the MMU, not the VMA walk, refuses first
    expect(kernel.access(a, CODE + 4, ACCESS_WRITE)).toBe(-1);
    expect(a.state).toBe('killed');
    expect(a.signal).toMatchObject({ signal: SIGSEGV, code: SEGV_ACCERR, va: CODE + 4 });
    expect(a.signal?.reason).toMatch(/not writable/);
    expectReclaimed(kernel, a);
  });

  test('an access where no VMA is: SEGV_MAPERR', () => {
    const { kernel, a } = processA();
    expect(kernel.access(a, 0x10000000, ACCESS_READ)).toBe(-1);
    expect(a.signal).toMatchObject({ signal: SIGSEGV, code: SEGV_MAPERR, va: 0x10000000 });
    expectReclaimed(kernel, a);
  });

  test('an access to the NULL page: SEGV_MAPERR', () => {
    const { kernel, a } = processA();
    expect(kernel.access(a, 0, ACCESS_READ)).toBe(-1);
    expect(a.signal).toMatchObject({ signal: SIGSEGV, code: SEGV_MAPERR });
    expectReclaimed(kernel, a);
  });

  test('an address above user space (the kernel half): SEGV_MAPERR', () => {
    const { kernel, a } = processA();
    expect(kernel.access(a, 2 ** 47 + 0x1000, ACCESS_READ)).toBe(-1);
    expect(a.signal).toMatchObject({ signal: SIGSEGV, code: SEGV_MAPERR });
    expectReclaimed(kernel, a);
  });

  test.each([
    ['not yet present', false],
    ['already present (NX refuses it)', true],
  ])('a fetch from non-exec data, %s: SEGV_ACCERR', (_how, touchFirst) => {
    const { kernel, a } = processA();
    if (touchFirst) kernel.readUser(a, DATA, 1);
    expect(kernel.access(a, DATA, ACCESS_EXEC)).toBe(-1);
    expect(a.signal).toMatchObject({ signal: SIGSEGV, code: SEGV_ACCERR });
    expect(a.signal?.reason).toMatch(/not executable/);
    expectReclaimed(kernel, a);
  });

  test('a signal ends only the process that caused it', () => {
    const { kernel, a } = processA();
    const b = spawnOk(kernel, 'B');
    kernel.writeUser(b, BSS, new Uint8Array([5]));
    kernel.access(a, 0x10000000, ACCESS_WRITE);
    expect(a.alive).toBe(false);
    expect(b.alive).toBe(true);
    expect(kernel.readUser(b, BSS, 1)).toEqual(new Uint8Array([5]));
    expectAllFreedAfterExit(kernel);
  });
});

describe('stack growth', () => {
  test('an access just below [stack] grows it by a page: a minor fault, counted in VmStk', () => {
    const { kernel, a, log } = processA();
    expect(kernel.status(a).VmStk).toBe(132 * KB);
    expect(kernel.access(a, STACK_START - 8, ACCESS_WRITE)).toBeGreaterThanOrEqual(0);
    expect(drawMaps(kernel, a).at(-1)).toBe('7ffffffdd000-7ffffffff000 rw-p [stack]');
    expect(kernel.status(a).VmStk).toBe(136 * KB);
    expect(log.events.filter((e) => e.type === 'stack-grow')).toHaveLength(1);
    expect(faults(log)).toEqual([['minor', 'zero-fill']]);
    expect(kernel.check()).toEqual([]);
  });

  test('the stack may grow to exactly RLIMIT_STACK (8 MiB) in one jump, and the pages between stay absent', () => {
    const { kernel, a } = processA();
    expect(kernel.access(a, STACK_TOP - 8 * MB, ACCESS_WRITE)).toBeGreaterThanOrEqual(0);
    expect(kernel.status(a)).toMatchObject({ VmStk: 8 * MB, RssAnon: 2 * PAGE });
    expect(kernel.check()).toEqual([]);
  });

  test('one page beyond RLIMIT_STACK is refused: SEGV_MAPERR, and the stack was not grown', () => {
    const { kernel, a } = processA();
    expect(kernel.access(a, STACK_TOP - 8 * MB - 1, ACCESS_READ)).toBe(-1);
    expect(a.signal).toMatchObject({ signal: SIGSEGV, code: SEGV_MAPERR });
    expect(a.signal?.reason).toMatch(/RLIMIT_STACK/);
    expectReclaimed(kernel, a);
  });

  test('a smaller RLIMIT_STACK (Kernel options) is enforced the same way', () => {
    const { kernel, a } = processA({ rlimits: { stack: 256 * KB } });
    expect(kernel.access(a, STACK_TOP - 256 * KB, ACCESS_READ)).toBeGreaterThanOrEqual(0);
    expect(kernel.access(a, STACK_TOP - 256 * KB - PAGE, ACCESS_READ)).toBe(-1);
    expect(a.signal?.code).toBe(SEGV_MAPERR);
    expectReclaimed(kernel, a);
  });

  describe('the 256-page guard gap', () => {
    //   below ─ [mapping] ──── ≥ 1 MiB gap ──── [stack grows down to here] ─ [stack] ─ STACK_TOP
    const below = STACK_START - 2 * MB; // a one-page mapping, 2 MiB under the stack
    const gapFloor = below + PAGE + 256 * PAGE; // the lowest page the stack may grow to

    function withMappingBelow(prot: number) {
      const env = processA();
      const at = env.kernel.mmap(env.a, { addr: below, len: PAGE, prot, flags: ANON_PRIVATE | MAP_FIXED });
      expect(at).toBe(below);
      return env;
    }

    test('growth leaving exactly the gap is allowed', () => {
      const { kernel, a } = withMappingBelow(PROT_RW);
      expect(kernel.access(a, gapFloor, ACCESS_WRITE)).toBeGreaterThanOrEqual(0);
      expect(kernel.check()).toEqual([]);
    });

    test('growth into the gap is refused: SEGV_MAPERR', () => {
      const { kernel, a } = withMappingBelow(PROT_RW);
      expect(kernel.access(a, gapFloor - 1, ACCESS_WRITE)).toBe(-1);
      expect(a.signal).toMatchObject({ signal: SIGSEGV, code: SEGV_MAPERR });
      expect(a.signal?.reason).toMatch(/guard gap/);
      expectReclaimed(kernel, a);
    });

    test('a PROT_NONE mapping below does not count: the stack may grow up to it', () => {
      const { kernel, a } = withMappingBelow(PROT_NONE);
      expect(kernel.access(a, below + PAGE, ACCESS_WRITE)).toBeGreaterThanOrEqual(0);
      expect(drawMaps(kernel, a).slice(-2)).toEqual([
        '7fffffdde000-7fffffddf000 ---p',
        '7fffffddf000-7ffffffff000 rw-p [stack]',
      ]);
      expect(kernel.check()).toEqual([]);
    });
  });
});

describe('PROT_NONE', () => {
  test('keeps the pages resident (RSS unchanged) but any access segfaults with SEGV_ACCERR', () => {
    const { kernel, a } = processA();
    const addr = mmapAnon(kernel, a, 2 * PAGE);
    kernel.writeUser(a, addr, new Uint8Array(2 * PAGE).fill(9));
    const before = kernel.status(a);
    expect(kernel.mprotect(a, addr, 2 * PAGE, PROT_NONE)).toBe(0);
    expect(drawMaps(kernel, a)).toContain('7ffff7ffd000-7ffff7fff000 ---p');
    const after = kernel.status(a);
    expect([after.VmRSS, after.RssAnon, after.VmSize]).toEqual([before.VmRSS, before.RssAnon, before.VmSize]);
    expect(kernel.check()).toEqual([]);
    expect(kernel.access(a, addr + PAGE, ACCESS_READ)).toBe(-1);
    expect(a.signal).toMatchObject({ signal: SIGSEGV, code: SEGV_ACCERR });
    expectReclaimed(kernel, a);
  });

  test('and mprotect back gives the same bytes, with no fault to get them', () => {
    const { kernel, a, log } = processA();
    const addr = mmapAnon(kernel, a, PAGE);
    kernel.writeUser(a, addr, new Uint8Array([1, 2, 3]));
    kernel.mprotect(a, addr, PAGE, PROT_NONE);
    kernel.mprotect(a, addr, PAGE, PROT_RW);
    log.drain();
    expect(kernel.readUser(a, addr, 3)).toEqual(new Uint8Array([1, 2, 3]));
    expect(kernel.writeUser(a, addr, new Uint8Array([4]))).toBe(true);
    expect(faults(log)).toEqual([]);
    expect(kernel.check()).toEqual([]);
  });

  test('mprotect to read-only makes a present page fault on a write', () => {
    const { kernel, a } = processA();
    const addr = mmapAnon(kernel, a, PAGE);
    kernel.writeUser(a, addr, new Uint8Array([1]));
    kernel.mprotect(a, addr, PAGE, PROT_READ);
    expect(kernel.readUser(a, addr, 1)).toEqual(new Uint8Array([1]));
    expect(kernel.access(a, addr, ACCESS_WRITE)).toBe(-1);
    expect(a.signal).toMatchObject({ signal: SIGSEGV, code: SEGV_ACCERR });
    expectReclaimed(kernel, a);
  });
});

test('RISC-V: an execute-only mapping cannot be read, even once a fetch made its page present', () => {
  const kernel = bootKernel({ arch: 'riscv-sv39', ramBytes: 4 * MB });
  const a = spawnOk(kernel, 'A');
  const code = kernel.layout.codeBase; // 0x10000
  expect(kernel.mprotect(a, code, 2 * PAGE, PROT_EXEC)).toBe(0);
  expect(drawMaps(kernel, a)[0]).toBe('00010000-00012000 --xp /bin/A');
  expect(kernel.access(a, code, ACCESS_EXEC)).toBeGreaterThanOrEqual(0);
  // The leaf has X and no R: the MMU itself refuses the load, and the VMA says why.
  const leaf = kernel.machine.mmu.probe(a.mm!.rootPfn, code).steps.at(-1)!;
  expect(kernel.machine.arch.pte.decode(leaf.lo, leaf.hi).flags).toEqual(['A', 'U', 'X', 'V']);
  expect(kernel.access(a, code, ACCESS_READ)).toBe(-1);
  expect(a.signal).toMatchObject({ signal: SIGSEGV, code: SEGV_ACCERR });
  expectReclaimed(kernel, a);
});

describe('shared anonymous memory', () => {
  test('shows as rw-s /dev/zero (deleted) and its pages count as RssShmem', () => {
    const { kernel, a } = processA();
    const addr = kernel.mmap(a, { addr: 0, len: 2 * PAGE, prot: PROT_RW, flags: MAP_SHARED | MAP_ANONYMOUS });
    expect(drawMaps(kernel, a)).toContain('7ffff7ffd000-7ffff7fff000 rw-s /dev/zero (deleted)');
    expect(kernel.maps(a).find((m) => m.start === addr)?.offset).toBe(0);
    kernel.writeUser(a, addr, new Uint8Array([7]));
    expect(rssKiB(kernel, a)).toEqual({ anon: 4, file: 0, shmem: 4 });
    // A read of a shared page allocates it too: shmem has no shared zero page.
    expect(kernel.readUser(a, addr + PAGE, 1)).toEqual(new Uint8Array([0]));
    expect(rssKiB(kernel, a)).toEqual({ anon: 4, file: 0, shmem: 8 });
    expect(kernel.meminfo()).toMatchObject({ Shmem: 2 * PAGE, Mapped: 2 * PAGE });
    expect(kernel.status(a).VmData).toBe(12 * KB); // shared mappings are not data
    expect(kernel.check()).toEqual([]);
    kernel.munmap(a, addr, 2 * PAGE);
    expect(kernel.meminfo().Shmem).toBe(0);
    expect(kernel.check()).toEqual([]);
  });

  test('pages swapped out come back with their bytes, into frames other pages used meanwhile', () => {
    // 24 user frames for 16 shared and 32 private pages: the shared ones go to swap and come back
    // into frames the private ones left full of 0xff (a swap-in does not zero its frame first).
    const kernel = bootKernel({}, { swapBytes: 4 * MB, reclaim: { policy: 'lru', userFrameLimit: 24 } });
    const a = spawnOk(kernel, 'A');
    const shared = kernel.mmap(a, {
      addr: 0,
      len: 16 * PAGE,
      prot: PROT_RW,
      flags: MAP_SHARED | MAP_ANONYMOUS,
    });
    const pattern = (p: number) => Uint8Array.from({ length: PAGE }, (_, i) => (i * 7 + p) & 0x7f);
    for (let p = 0; p < 16; p++) expect(kernel.writeUser(a, shared + p * PAGE, pattern(p))).toBe(true);
    const priv = mmapAnon(kernel, a, 32 * PAGE);
    for (let p = 0; p < 32; p++)
      expect(kernel.writeUser(a, priv + p * PAGE, new Uint8Array(PAGE).fill(0xff))).toBe(true);
    const swapIns = kernel.reclaim.stats.swapIns;
    for (let p = 0; p < 16; p++) expect(kernel.readUser(a, shared + p * PAGE, PAGE)).toEqual(pattern(p));
    expect(kernel.reclaim.stats.swapIns - swapIns).toBeGreaterThanOrEqual(16);
    expect(kernel.check()).toEqual([]);
    kernel.exit(a, 0);
    expectReclaimed(kernel, a);
  });

  test('two shared mappings are two objects: they never merge', () => {
    const { kernel, a } = processA();
    const flags = MAP_SHARED | MAP_ANONYMOUS;
    kernel.mmap(a, { addr: 0, len: PAGE, prot: PROT_RW, flags });
    kernel.mmap(a, { addr: 0, len: PAGE, prot: PROT_RW, flags });
    expect(drawMaps(kernel, a).filter((l) => l.includes('/dev/zero'))).toHaveLength(2);
    expect(kernel.check()).toEqual([]);
  });
});

describe('the OOM killer', () => {
  /** 64 frames of RAM: 256 KiB. */
  const tiny = () => bootKernel({ ramBytes: 64 * PAGE, tlbEntries: 16, tlbWays: 4 });

  test('a process touching more than RAM is killed with SIGKILL, and its memory comes back', () => {
    const kernel = tiny();
    const a = spawnOk(kernel, 'A');
    // MAP_NORESERVE: the overcommit heuristic would refuse 100 pages on a 64-frame machine.
    const addr = kernel.mmap(a, {
      addr: 0,
      len: 100 * PAGE,
      prot: PROT_RW,
      flags: ANON_PRIVATE | MAP_NORESERVE,
    });
    let touched = 0;
    for (let va = addr; va < addr + 100 * PAGE && a.alive; va += PAGE)
      if (kernel.access(a, va, ACCESS_WRITE) >= 0) touched++;
    expect(touched).toBeLessThan(64);
    expect(a.state).toBe('killed');
    expect(a.signal).toMatchObject({ signal: SIGKILL });
    expect(a.signal?.reason).toMatch(/out of memory/);
    expectReclaimed(kernel, a);
  });

  test('the overcommit heuristic refuses a private writable mapping larger than RAM', () => {
    const kernel = tiny();
    const a = spawnOk(kernel, 'A');
    expect(kernel.mmap(a, { addr: 0, len: 100 * PAGE, prot: PROT_RW, flags: ANON_PRIVATE })).toBe(-ENOMEM);
    expect(kernel.check()).toEqual([]);
  });

  test('the victim is the biggest process, not the one that faulted; the faulting access then succeeds', () => {
    const kernel = tiny();
    const big = spawnOk(kernel, 'big');
    const small = spawnOk(kernel, 'small');
    const bigArea = mmapAnon(kernel, big, 40 * PAGE);
    kernel.writeUser(big, bigArea, new Uint8Array(40 * PAGE));
    const smallArea = mmapAnon(kernel, small, 20 * PAGE);
    let ok = 0;
    for (let va = smallArea; va < smallArea + 20 * PAGE; va += PAGE)
      if (kernel.access(small, va, ACCESS_WRITE) >= 0) ok++;
    expect(big.signal).toMatchObject({ signal: SIGKILL });
    expect(small.alive).toBe(true);
    expect(ok).toBe(20);
    expect(kernel.check()).toEqual([]);
    expectAllFreedAfterExit(kernel);
  });
});

test('exit after code, copy-on-write data, stack growth and shared memory gives every frame back', () => {
  const { kernel, a } = processA();
  kernel.readUser(a, CODE, 1);
  kernel.writeUser(a, DATA, new Uint8Array([1]));
  kernel.access(a, STACK_START - PAGE, ACCESS_WRITE);
  const shared = kernel.mmap(a, { addr: 0, len: PAGE, prot: PROT_RW, flags: MAP_SHARED | MAP_ANONYMOUS });
  kernel.writeUser(a, shared, new Uint8Array([1]));
  expectAllFreedAfterExit(kernel);
});
