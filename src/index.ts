/**
 * vmscope as a library: the simulated machine, the kernel's memory manager, and the scenario runner.
 *
 *   import { Machine, Kernel } from 'vmscope';
 *   const kernel = new Kernel(new Machine({ arch: 'x86_64', ramBytes: 16 << 20 }));
 *   const proc = kernel.spawn('A', { codeBytes: 8192, dataBytes: 4096, bssBytes: 8192 });
 */
export { InputError, InvariantError } from './base/errors.js';
export { ARCH_NAMES, type Arch, type ArchName, archPreset } from './hw/arch.js';
export { Machine, type MachineConfig } from './hw/machine.js';
export { ACCESS_EXEC, ACCESS_READ, ACCESS_WRITE, type AccessKind } from './hw/mmu.js';
export * from './kernel/errno.js';
export { EventLog, type EventSink, type KernelEvent } from './kernel/events.js';
export { Kernel, type KernelOptions } from './kernel/kernel.js';
export type { MmapRequest } from './kernel/mmap.js';
export type { MapsEntry, MeminfoFields, StatusFields } from './kernel/proc.js';
export type { Process, SignalInfo } from './kernel/process.js';
export type { LoadedPlugin, Policy, PolicyPlugin, ReferenceCache } from './kernel/reclaim/plugin.js';
export {
  NEVER,
  NO_PAGE,
  type PolicyKind,
  type PolicyOptions,
  type ReplacementPolicy,
} from './kernel/reclaim/policy.js';
export { createPolicy, policyNames } from './kernel/reclaim/registry.js';
export type { SyntheticImage } from './kernel/spawn.js';
