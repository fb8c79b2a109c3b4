/**
 * The simulated machine: an architecture, physical memory, a TLB and the MMU that ties them together.
 */
import { invariant } from '../base/errors.js';
import { type Arch, type ArchName, archPreset, MAX_VPN_BITS } from './arch.js';
import { Mmu } from './mmu.js';
import { PhysicalMemory } from './physmem.js';
import { ASID_SPAN, Tlb } from './tlb.js';

export interface MachineConfig {
  readonly arch: ArchName;
  /** Physical memory in bytes: whole pages, at most 4 GiB and at most what the PTE format can address. */
  readonly ramBytes: number;
  readonly tlbEntries: number;
  readonly tlbWays: number;
}

export const DEFAULT_MACHINE: MachineConfig = {
  arch: 'x86_64',
  ramBytes: 16 * 1024 * 1024,
  tlbEntries: 64,
  tlbWays: 4,
};

/** Why a machine configuration cannot be built, or null when it can. For input validation. */
export function machineConfigProblem(config: MachineConfig): string | null {
  const arch = archPreset(config.arch);
  if (!Number.isSafeInteger(config.ramBytes) || config.ramBytes <= 0) return 'ram must be a positive size';
  if (config.ramBytes % arch.pageSize !== 0)
    return `ram must be a multiple of the ${arch.pageSize}-byte page`;
  if (config.ramBytes > 2 ** 32) return 'ram is limited to 4 GiB';
  const frames = config.ramBytes / arch.pageSize;
  if (frames - 1 > arch.pte.maxPfn) {
    return `ram of ${frames} frames is more than ${arch.name} PTEs can address (${arch.pte.maxPfn + 1} frames)`;
  }
  if (!Number.isSafeInteger(config.tlbEntries) || config.tlbEntries <= 0)
    return 'tlb entries must be positive';
  if (!Number.isSafeInteger(config.tlbWays) || config.tlbWays <= 0) return 'tlb ways must be positive';
  if (config.tlbEntries % config.tlbWays !== 0) return 'tlb ways must divide the entries';
  const sets = config.tlbEntries / config.tlbWays;
  if ((sets & (sets - 1)) !== 0) return 'tlb entries / ways must be a power of two';
  return null;
}

export class Machine {
  readonly config: MachineConfig;
  readonly arch: Arch;
  readonly mem: PhysicalMemory;
  readonly tlb: Tlb;
  readonly mmu: Mmu;

  constructor(config: Partial<MachineConfig> = {}) {
    const full: MachineConfig = { ...DEFAULT_MACHINE, ...config };
    const problem = machineConfigProblem(full);
    invariant(problem === null, `machine: ${problem}`);
    this.config = full;
    this.arch = archPreset(full.arch);
    // Page numbers and ASIDs share one exact double in TLB tags and page identities.
    invariant(
      this.arch.vpnBits <= MAX_VPN_BITS,
      `machine: ${this.arch.name} has ${this.arch.vpnBits}-bit vpns`,
    );
    invariant(
      2 ** this.arch.asidBits <= ASID_SPAN,
      `machine: ${this.arch.name} ASIDs do not fit the TLB tag`,
    );
    this.mem = new PhysicalMemory(full.ramBytes, this.arch.pageSize);
    this.tlb = new Tlb(full.tlbEntries, full.tlbWays, this.arch.pageSize);
    this.mmu = new Mmu(this.arch, this.mem, this.tlb);
  }
}
