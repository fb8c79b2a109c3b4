/**
 * Small builders shared by the hw and kernel tests: a fresh machine or kernel per test, a process
 * from the textbook image, hand-built page tables, and /proc/PID/maps drawn as text.
 */
import { Buffer } from 'node:buffer';
import { expect } from 'vitest';
import { type ArchName, archPreset } from '../src/hw/arch.js';
import { Machine, type MachineConfig } from '../src/hw/machine.js';
import type { PteRights } from '../src/hw/pte.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../src/kernel/errno.js';
import { Kernel, type KernelOptions } from '../src/kernel/kernel.js';
import type { Process } from '../src/kernel/process.js';
import type { SyntheticImage } from '../src/kernel/spawn.js';

export const KB = 1024;
export const MB = 1024 * KB;

/** The image the layout tests use: two pages of code, one of data, two of bss. */
export const TEXTBOOK_IMAGE: SyntheticImage = { codeBytes: 8192, dataBytes: 4096, bssBytes: 8192 };

export const PROT_RW = PROT_READ | PROT_WRITE;
export const ANON_PRIVATE = MAP_PRIVATE | MAP_ANONYMOUS;

/** A kernel booted on a fresh machine (x86-64, 16 MiB, 64-entry 4-way TLB unless told otherwise). */
export function bootKernel(machine: Partial<MachineConfig> = {}, options: KernelOptions = {}): Kernel {
  return new Kernel(new Machine(machine), options);
}

/** Spawns a process and fails the test if the kernel refused. */
export function spawnOk(kernel: Kernel, name: string, image: SyntheticImage = TEXTBOOK_IMAGE): Process {
  const proc = kernel.spawn(name, image);
  if (typeof proc === 'number') throw new Error(`spawn ${name} failed with ${proc}`);
  return proc;
}

/** mmap of anonymous private memory, failing the test on an error. */
export function mmapAnon(kernel: Kernel, proc: Process, len: number, prot = PROT_RW, flags = 0): number {
  const addr = kernel.mmap(proc, { addr: 0, len, prot, flags: ANON_PRIVATE | flags });
  expect(addr, `mmap of ${len} bytes`).toBeGreaterThan(0);
  return addr;
}

/** /proc/PID/maps as `start-end perms name` lines, hex as Linux prints it. */
export function drawMaps(kernel: Kernel, proc: Process): string[] {
  const digits = kernel.machine.arch.addrHexDigits;
  return kernel.maps(proc).map((m) => {
    const range = `${m.start.toString(16).padStart(digits, '0')}-${m.end.toString(16).padStart(digits, '0')}`;
    return `${range} ${m.perms} ${m.name}`.trimEnd();
  });
}

/**
 * The leak check every kernel test ends with: invariants hold and, once all exit and the page cache
 * is dropped (the files' pages stay cached, as on Linux), RAM is whole.
 */
export function expectAllFreedAfterExit(kernel: Kernel): void {
  for (const proc of kernel.live()) if (proc.alive) kernel.exit(proc, 0);
  expect(kernel.check()).toEqual([]);
  kernel.dropCaches();
  expect(kernel.check()).toEqual([]);
  expect(kernel.frames.validate()).toEqual([]);
  expect(kernel.meminfo().MemFree).toBe(kernel.bootFreeFrames * kernel.pageSize);
}

/**
 * Page tables built by hand in a machine's RAM, for the MMU tests: frames are handed out from the
 * bottom of RAM, the first one being the root. Address spaces made with {@link another} share the
 * frame supply.
 */
export class TableBuilder {
  readonly machine: Machine;
  readonly root: number;
  private readonly supply: { next: number };

  constructor(machine: Machine, supply = { next: 0 }) {
    this.machine = machine;
    this.supply = supply;
    this.root = this.takeFrame();
  }

  /** A second address space in the same RAM, with its own root. */
  another(): TableBuilder {
    return new TableBuilder(this.machine, this.supply);
  }

  /** A fresh zeroed frame (for a table, or as a data page). */
  takeFrame(): number {
    const pfn = this.supply.next++;
    this.machine.mem.zeroFrame(pfn);
    return pfn;
  }

  /** Physical address of the leaf entry for `va`, building missing tables. */
  leafEntryPa(va: number): number {
    const { arch, mmu } = this.machine;
    const fmt = arch.pte;
    const vpn = Math.floor(va / arch.pageSize);
    let table = this.root;
    for (let level = 0; level < arch.levels - 1; level++) {
      const ea = table * arch.pageSize + mmu.indexAt(vpn, level) * fmt.entryBytes;
      const lo = mmu.readLo(ea);
      if ((lo & fmt.present) !== 0) {
        table = fmt.pfnOf(lo, mmu.readHi(ea));
        continue;
      }
      const child = this.takeFrame();
      mmu.writeEntry(ea, fmt.encodeLo(child, fmt.tableFlags), fmt.encodeHi(child, false));
      table = child;
    }
    return table * arch.pageSize + mmu.indexAt(vpn, arch.levels - 1) * fmt.entryBytes;
  }

  /** Maps the page of `va` to `pfn` with `rights`, with A and D clear (as a kernel might before use). */
  map(va: number, pfn: number, rights: PteRights): number {
    const fmt = this.machine.arch.pte;
    const ea = this.leafEntryPa(va);
    const flags = fmt.leafFlags(rights) & ~fmt.accessed;
    this.machine.mmu.writeEntry(ea, fmt.encodeLo(pfn, flags), fmt.encodeHi(pfn, !rights.exec));
    return ea;
  }

  /** Clears the leaf entry of `va` (the caller invalidates the TLB, as a kernel must). */
  unmap(va: number): void {
    this.machine.mmu.writeEntry(this.leafEntryPa(va), 0, 0);
  }
}

/** True when two byte arrays hold the same bytes (fast, for whole RAM images). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

/** A machine with a small RAM for the hw tests. */
export function smallMachine(arch: ArchName, frames = 64, tlb = { entries: 16, ways: 4 }): Machine {
  const pageSize = archPreset(arch).pageSize;
  return new Machine({ arch, ramBytes: frames * pageSize, tlbEntries: tlb.entries, tlbWays: tlb.ways });
}
