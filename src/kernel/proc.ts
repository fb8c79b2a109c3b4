/**
 * What /proc reports, as data: the maps lines of an address space, /proc/PID/status fields and
 * /proc/meminfo. The text formatting is report/procfs.ts's job.
 */
import { exactNumber, hex0x } from '../base/units.js';
import { FRAME_ANON, FRAME_FILE, FRAME_PAGETABLE, FRAME_SHMEM, PG_DIRTY } from './frames.js';
import type { Kernel } from './kernel.js';
import type { Mm } from './mm.js';
import type { Process } from './process.js';
import { permString, type Vma } from './vma.js';

/**
 * The pathname column of /proc/PID/maps for a VMA (Linux `get_vma_name`): a special mapping's name,
 * the backing file, `[heap]` for the VMA overlapping start_brk..brk, `[stack]` for the one holding
 * start_stack, else empty.
 */
export function vmaName(mm: Mm, vma: Vma): string {
  if (vma.special !== null) return vma.special;
  if (vma.object !== null) return vma.object.path;
  if (vma.start < mm.brk && vma.end > mm.startBrk) return '[heap]';
  if (vma.start <= mm.startStack && vma.end >= mm.startStack) return '[stack]';
  if (vma.anonName !== null) return `[anon:${vma.anonName}]`;
  return '';
}

/** A name for a VMA in sentences: its maps name, or its range. */
export function vmaLabel(mm: Mm, vma: Vma): string {
  const name = vmaName(mm, vma);
  return name !== '' ? name : `the mapping ${hex0x(vma.start)}-${hex0x(vma.end)}`;
}

export interface MapsEntry {
  readonly start: number;
  readonly end: number;
  readonly perms: string;
  /** File offset in bytes (0 for anonymous memory). */
  readonly offset: number;
  readonly device: string;
  readonly inode: number;
  readonly name: string;
  /** The VMA, or null for the x86-64 `[vsyscall]` page, which is no VMA of the process. */
  readonly vma: Vma | null;
}

/**
 * The x86-64 legacy vsyscall page: shown in every 64-bit process's maps, outside TASK_SIZE. Its
 * bounds are above 2^53 but page-aligned, so a double holds them exactly (checked).
 */
export const VSYSCALL_START = exactNumber(0xffffffffff600000n);
export const VSYSCALL_END = exactNumber(0xffffffffff601000n);

/** The maps lines of `mm`; `vsyscallPage` is the arch's `[vsyscall]` address (for 64-bit processes). */
export function mapsEntries(mm: Mm, vsyscallPage: number | null = VSYSCALL_START): MapsEntry[] {
  const lines: MapsEntry[] = mm.vmas.map((vma) => {
    const file = vma.special === null ? vma.object : null;
    return {
      start: vma.start,
      end: vma.end,
      perms: permString(vma.flags),
      offset: file === null ? 0 : vma.pgoff * mm.pageSize,
      device: file?.device ?? '00:00',
      inode: file?.inode ?? 0,
      name: vmaName(mm, vma),
      vma,
    };
  });
  if (mm.vsyscall && vsyscallPage !== null) {
    lines.push({
      start: VSYSCALL_START,
      end: VSYSCALL_END,
      perms: '--xp',
      offset: 0,
      device: '00:00',
      inode: 0,
      name: '[vsyscall]',
      vma: null,
    });
  }
  return lines;
}

/** The memory lines of /proc/PID/status, in bytes, in Linux's order. */
export interface StatusFields {
  VmPeak: number;
  VmSize: number;
  VmLck: number;
  VmPin: number;
  VmHWM: number;
  VmRSS: number;
  RssAnon: number;
  RssFile: number;
  RssShmem: number;
  VmData: number;
  VmStk: number;
  VmExe: number;
  VmLib: number;
  VmPTE: number;
  VmSwap: number;
}

export const STATUS_FIELDS: readonly (keyof StatusFields)[] = [
  'VmPeak',
  'VmSize',
  'VmLck',
  'VmPin',
  'VmHWM',
  'VmRSS',
  'RssAnon',
  'RssFile',
  'RssShmem',
  'VmData',
  'VmStk',
  'VmExe',
  'VmLib',
  'VmPTE',
  'VmSwap',
];

/** Linux `task_mem` for a process; a process that has ended reports only its peaks. */
export function statusFields(proc: Process, pageSize: number): StatusFields {
  const mm = proc.mm;
  if (mm === null) {
    const f = proc.final;
    const zero = Object.fromEntries(STATUS_FIELDS.map((k) => [k, 0])) as unknown as StatusFields;
    return { ...zero, VmPeak: (f?.hiwaterVm ?? 0) * pageSize, VmHWM: (f?.hiwaterRss ?? 0) * pageSize };
  }
  const startCode = Math.floor(mm.startCode / pageSize) * pageSize;
  const endCode = Math.ceil(mm.endCode / pageSize) * pageSize;
  const text = Math.min(endCode - startCode, mm.execVm * pageSize);
  return {
    VmPeak: Math.max(mm.hiwaterVm, mm.totalVm) * pageSize,
    VmSize: mm.totalVm * pageSize,
    VmLck: mm.lockedVm * pageSize,
    VmPin: 0,
    VmHWM: Math.max(mm.hiwaterRss, mm.rss) * pageSize,
    VmRSS: mm.rss * pageSize,
    RssAnon: mm.rssAnon * pageSize,
    RssFile: mm.rssFile * pageSize,
    RssShmem: mm.rssShmem * pageSize,
    VmData: mm.dataVm * pageSize,
    VmStk: mm.stackVm * pageSize,
    VmExe: text,
    VmLib: mm.execVm * pageSize - text,
    VmPTE: mm.ptPages * pageSize,
    VmSwap: mm.swapEnts * pageSize,
  };
}

/** Fault counts of a process, live or ended. */
export function faultCounts(proc: Process): { minflt: number; majflt: number } {
  if (proc.mm) return { minflt: proc.mm.minflt, majflt: proc.mm.majflt };
  return { minflt: proc.final?.minflt ?? 0, majflt: proc.final?.majflt ?? 0 };
}

/** /proc/meminfo lines vmscope models, in bytes, in Linux's order. */
export interface MeminfoFields {
  MemTotal: number;
  MemFree: number;
  MemAvailable: number;
  Cached: number;
  /** Anonymous pages in memory that also have a copy in swap (the swap cache). */
  SwapCached: number;
  SwapTotal: number;
  SwapFree: number;
  /** Page-cache pages that differ from their file (written, not yet written back). */
  Dirty: number;
  AnonPages: number;
  Mapped: number;
  Shmem: number;
  PageTables: number;
  /** What overcommit mode 2 lets the system commit, and what it has (commit.ts). */
  CommitLimit: number;
  Committed_AS: number;
}

export const MEMINFO_FIELDS: readonly (keyof MeminfoFields)[] = [
  'MemTotal',
  'MemFree',
  'MemAvailable',
  'Cached',
  'SwapCached',
  'SwapTotal',
  'SwapFree',
  'Dirty',
  'AnonPages',
  'Mapped',
  'Shmem',
  'PageTables',
  'CommitLimit',
  'Committed_AS',
];

export function meminfoFields(k: Kernel): MeminfoFields {
  const f = k.frames;
  let anon = 0;
  let cached = 0;
  let mapped = 0;
  let shmem = 0;
  let pageTables = 0;
  let swapCached = 0;
  let dirty = 0;
  for (let pfn = 0; pfn < f.frameCount; pfn++) {
    switch (f.kind[pfn]) {
      case FRAME_ANON:
        if (f.mapcount[pfn]! > 0) anon++;
        if (f.swapSlot[pfn]! >= 0) swapCached++;
        break;
      case FRAME_FILE:
        cached++;
        if (f.mapcount[pfn]! > 0) mapped++;
        if (f.flags[pfn]! & PG_DIRTY) dirty++;
        break;
      case FRAME_SHMEM:
        cached++;
        shmem++;
        if (f.mapcount[pfn]! > 0) mapped++;
        break;
      case FRAME_PAGETABLE:
        pageTables++;
        break;
    }
  }
  const ps = k.pageSize;
  return {
    MemTotal: f.frameCount * ps,
    MemFree: f.freeFrames * ps,
    MemAvailable: (f.freeFrames + cached - shmem) * ps,
    Cached: cached * ps,
    SwapCached: swapCached * ps,
    SwapTotal: (k.swap?.slotCount ?? 0) * ps,
    SwapFree: (k.swap?.freeSlots ?? 0) * ps,
    Dirty: dirty * ps,
    AnonPages: anon * ps,
    Mapped: mapped * ps,
    Shmem: shmem * ps,
    PageTables: pageTables * ps,
    CommitLimit: k.commit.limit * ps,
    Committed_AS: k.commit.committed * ps,
  };
}
