/**
 * Copies of kernel state taken at a `show` statement, so that reports can be formatted later without
 * the kernel (which has moved on by then).
 */

import type { Probe } from '../hw/mmu.js';
import type { TlbEntryView } from '../hw/tlb.js';
import { walkTables } from '../kernel/inspect.js';
import type { Kernel } from '../kernel/kernel.js';
import type { MapsEntry, MeminfoFields, StatusFields } from '../kernel/proc.js';
import type { Process, ProcessState } from '../kernel/process.js';
import type { SmapsFields } from '../kernel/smaps.js';

/** A /proc/PID/maps line without its VMA (snapshots outlive the kernel). */
export type MapsLine = Omit<MapsEntry, 'vma'>;

/** One VMA's /proc/PID/smaps record. */
export interface SmapsLine {
  readonly maps: MapsLine;
  readonly size: number;
  readonly fields: SmapsFields;
  readonly flags: readonly string[];
  readonly thpEligible: boolean;
  /** KernelPageSize (a hugetlbfs mapping's huge page size); the machine's page size when absent. */
  readonly kernelPageSize?: number;
}

/** One present entry of a page-table tree, with the virtual range it covers. */
export interface TableEntryView {
  readonly level: number;
  readonly index: number;
  readonly vaStart: number;
  readonly vaEnd: number;
  readonly lo: number;
  readonly hi: number;
  readonly leaf: boolean;
  /** The next table or the mapped frame. */
  readonly pfn: number;
}

export interface TlbStats {
  readonly hits: number;
  readonly misses: number;
  readonly walks: number;
  readonly pteReads: number;
}

export type Snapshot =
  | {
      readonly what: 'maps';
      readonly proc: string;
      readonly state: ProcessState;
      readonly lines: readonly MapsLine[];
    }
  | {
      readonly what: 'status';
      readonly proc: string;
      readonly pid: number;
      readonly state: ProcessState;
      readonly fields: StatusFields;
      readonly minflt: number;
      readonly majflt: number;
      readonly pageSize: number;
    }
  | { readonly what: 'meminfo'; readonly fields: MeminfoFields; readonly pageSize: number }
  | {
      readonly what: 'smaps';
      readonly proc: string;
      readonly state: ProcessState;
      /** Each VMA's record (only the one holding the address asked for, when one was). */
      readonly entries: readonly SmapsLine[];
    }
  | {
      readonly what: 'smaps_rollup';
      readonly proc: string;
      readonly state: ProcessState;
      /** The span the rollup header shows: the first VMA's start to the last one's end. */
      readonly start: number;
      readonly end: number;
      readonly fields: SmapsFields | null;
    }
  | {
      readonly what: 'pagetable';
      readonly proc: string;
      readonly state: ProcessState;
      readonly rootPfn: number;
      /** A walk for one address, or null for the whole tree. */
      readonly probe: Probe | null;
      readonly tree: readonly TableEntryView[];
    }
  | {
      readonly what: 'tlb';
      readonly proc: string | null;
      readonly asid: number | null;
      readonly entries: readonly TlbEntryView[];
      readonly stats: TlbStats;
      readonly entryCount: number;
      readonly ways: number;
    }
  | {
      readonly what: 'swap';
      readonly slots: number;
      readonly used: number;
      readonly pageSize: number;
      /** Who holds the used slots (at most 64 listed). */
      readonly entries: readonly SwapHolder[];
      readonly byProcess: readonly { readonly name: string; readonly swapBytes: number }[];
      readonly evictions: number;
      readonly writebacks: number;
      readonly swapIns: number;
      readonly policy: string;
    }
  | {
      readonly what: 'frames';
      readonly kinds: Uint8Array;
      readonly owners: Int32Array;
      readonly names: ReadonlyMap<number, string>;
    };

/** Who holds a used swap slot: a process's page (pid, va) or a page of a shared object (no pid). */
export interface SwapHolder {
  readonly slot: number;
  readonly owner: string;
  readonly pid: number | null;
  readonly va: number | null;
}

export function tlbStats(k: Kernel): TlbStats {
  const m = k.machine.mmu;
  return { hits: m.tlbHits, misses: m.tlbMisses, walks: m.walks, pteReads: m.pteReads };
}

export function snapshotMaps(k: Kernel, proc: Process): Snapshot {
  const lines = k.maps(proc).map(({ vma: _vma, ...rest }) => rest);
  return { what: 'maps', proc: proc.name, state: proc.state, lines };
}

export function snapshotStatus(k: Kernel, proc: Process): Snapshot {
  const { minflt, majflt, ...fields } = k.status(proc);
  return {
    what: 'status',
    proc: proc.name,
    pid: proc.pid,
    state: proc.state,
    fields,
    minflt,
    majflt,
    pageSize: k.pageSize,
  };
}

/** /proc/PID/smaps as data (without the kernel's VMAs, so that it outlives them). */
export function smapsLines(k: Kernel, proc: Process): SmapsLine[] {
  return k
    .smaps(proc)
    .map(({ maps: { vma: _vma, ...maps }, size, fields, flags, thpEligible, kernelPageSize }) => ({
      maps,
      size,
      fields,
      flags,
      thpEligible,
      kernelPageSize,
    }));
}

/** /proc/PID/smaps: every VMA's record, or only the one holding `va`. */
export function snapshotSmaps(k: Kernel, proc: Process, va: number | null): Snapshot {
  const all = smapsLines(k, proc);
  const entries = va === null ? all : all.filter((e) => e.maps.start <= va && e.maps.end > va);
  return { what: 'smaps', proc: proc.name, state: proc.state, entries };
}

/** /proc/PID/smaps_rollup. */
export function snapshotSmapsRollup(k: Kernel, proc: Process): Snapshot {
  const vmas = proc.mm?.vmas ?? [];
  return {
    what: 'smaps_rollup',
    proc: proc.name,
    state: proc.state,
    start: vmas[0]?.start ?? 0,
    end: vmas[vmas.length - 1]?.end ?? 0,
    fields: k.smapsRollup(proc),
  };
}

/** Every present entry of the process's tree, depth first (leaves included). */
export function snapshotPageTable(k: Kernel, proc: Process, va: number | null): Snapshot {
  const mm = proc.mm;
  if (mm === null)
    return { what: 'pagetable', proc: proc.name, state: proc.state, rootPfn: -1, probe: null, tree: [] };
  const mmu = k.machine.mmu;
  if (va !== null) {
    return {
      what: 'pagetable',
      proc: proc.name,
      state: proc.state,
      rootPfn: mm.rootPfn,
      probe: mmu.probe(mm.rootPfn, va),
      tree: [],
    };
  }
  const fmt = k.machine.arch.pte;
  const ps = k.pageSize;
  const tree: TableEntryView[] = [];
  walkTables(k, mm, {
    entry(level, index, vpn, _ea, lo, hi, leaf) {
      const span = k.pageTables.entrySpan[level]!;
      const pfn = fmt.pfnOf(lo, hi);
      tree.push({ level, index, vaStart: vpn * ps, vaEnd: (vpn + span) * ps, lo, hi, leaf, pfn });
    },
  });
  return { what: 'pagetable', proc: proc.name, state: proc.state, rootPfn: mm.rootPfn, probe: null, tree };
}

export function snapshotTlb(k: Kernel, proc: Process | null): Snapshot {
  const tlb = k.machine.tlb;
  const asid = proc?.mm && k.asidIsLive(proc.mm) ? proc.mm.asid : null;
  const all = tlb.entries();
  const entries = proc === null ? all : asid === null ? [] : all.filter((e) => e.asid === asid);
  return {
    what: 'tlb',
    proc: proc?.name ?? null,
    asid,
    entries,
    stats: tlbStats(k),
    entryCount: tlb.entryCount,
    ways: tlb.ways,
  };
}

export function snapshotFrames(k: Kernel): Snapshot {
  const names = new Map<number, string>();
  for (const p of k.processes.values()) names.set(p.pid, p.name);
  return { what: 'frames', kinds: k.frames.kind.slice(), owners: k.frames.owner.slice(), names };
}

/** The swap device and who holds its slots. */
export function snapshotSwap(k: Kernel): Snapshot {
  const swap = k.swap;
  const entries: SwapHolder[] = [];
  const fmt = k.machine.arch.pte;
  for (const p of k.processes.values()) {
    const mm = p.mm;
    if (mm === null) continue;
    for (const vma of mm.vmas) {
      k.pageTables.forEachLeaf(mm, vma.start / k.pageSize, vma.end / k.pageSize, (vpn, _pa, lo, hi) => {
        if ((lo & fmt.present) === 0 && (lo & fmt.swSwap) !== 0 && entries.length < 64) {
          entries.push({ slot: fmt.pfnOf(lo, hi), owner: p.name, pid: p.pid, va: vpn * k.pageSize });
        }
      });
    }
  }
  for (const obj of k.objects.values()) {
    for (const slot of obj.swapped.values())
      if (entries.length < 64) entries.push({ slot, owner: obj.path, pid: null, va: null });
  }
  entries.sort((a, b) => a.slot - b.slot);
  const r = k.reclaim.stats;
  return {
    what: 'swap',
    slots: swap?.slotCount ?? 0,
    used: swap?.usedSlots() ?? 0,
    pageSize: k.pageSize,
    entries,
    byProcess: [...k.processes.values()].map((p) => ({
      name: p.name,
      swapBytes: (p.mm?.swapEnts ?? 0) * k.pageSize,
    })),
    evictions: r.evictions,
    writebacks: r.writebacks,
    swapIns: r.swapIns,
    policy: k.reclaim.policy.name,
  };
}
