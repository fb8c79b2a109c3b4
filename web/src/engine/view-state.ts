/**
 * Plain-data views of a kernel, for the page: what each process maps and how much of it is resident,
 * who holds each frame, the TLB, swap, and one page-table walk. Inspection only: nothing here
 * changes the kernel (no accessed bits, no TLB fills), so a view can be taken at any time.
 */
import { FAULT_NAMES } from '../../../src/hw/mmu.js';
import { formatTlbPerm } from '../../../src/hw/tlb.js';
import { SEGV_CODE_NAMES, SIGNAL_NAMES } from '../../../src/kernel/errno.js';
import { walkTables } from '../../../src/kernel/inspect.js';
import type { Kernel } from '../../../src/kernel/kernel.js';
import type { Mm } from '../../../src/kernel/mm.js';
import type { Process } from '../../../src/kernel/process.js';
import { snapshotSwap } from '../../../src/sim/snapshot.js';
import {
  type AddressSelection,
  type FramesView,
  type ProcView,
  type PteInfo,
  RESIDENCY_BUCKETS,
  type StateView,
  type SwapView,
  TABLE_ENTRY_LIMIT,
  type TlbView,
  type VmaView,
  type WalkLevel,
  type WalkView,
} from './protocol.js';

/** A leaf entry's state, for residency. */
const LEAF_RESIDENT = 1;
const LEAF_DIRTY = 2;
const LEAF_SWAPPED = 4;

function leafState(k: Kernel, lo: number): number {
  const fmt = k.machine.arch.pte;
  if ((lo & fmt.present) !== 0) return LEAF_RESIDENT | ((lo & fmt.dirty) !== 0 ? LEAF_DIRTY : 0);
  if (fmt.swProtNone !== 0 && (lo & fmt.swProtNone) !== 0) return LEAF_RESIDENT;
  if (fmt.swSwap !== 0 && (lo & fmt.swSwap) !== 0) return LEAF_SWAPPED;
  return 0;
}

function vmaKind(name: string, objectKind: string | null, special: boolean): string {
  if (special || name === '[vsyscall]') return 'special';
  if (name === '[stack]') return 'stack';
  if (name === '[heap]') return 'heap';
  if (objectKind === 'shmem') return 'shmem';
  if (objectKind === 'file') return 'file';
  if (objectKind === 'kernel') return 'special';
  return 'anon';
}

function signalText(p: Process): string | null {
  const s = p.signal;
  if (s === null) return null;
  const name = SIGNAL_NAMES[s.signal] ?? `signal ${s.signal}`;
  const code = s.code ? ` (${SEGV_CODE_NAMES[s.code] ?? s.code})` : '';
  return `${name}${code}: ${s.reason}`;
}

/**
 * Walks every leaf of `mm` once, filling the frames' reverse map and each VMA's residency buckets.
 */
function procView(k: Kernel, p: Process, frames: { mapPid: Int32Array; mapVpn: Float64Array }): ProcView {
  const mm = p.mm;
  const ps = k.pageSize;
  const fmt = k.machine.arch.pte;
  const vmas: VmaView[] = [];
  if (mm !== null) {
    for (const e of k.maps(p)) {
      const pages = (e.end - e.start) / ps;
      const bucketPages = Math.max(1, Math.ceil(pages / RESIDENCY_BUCKETS));
      const buckets = Math.ceil(pages / bucketPages);
      const resident = new Uint8Array(buckets);
      const dirty = new Uint8Array(buckets);
      const swapped = new Uint8Array(buckets);
      let rssPages = 0;
      let dirtyPages = 0;
      let swappedPages = 0;
      if (e.vma !== null) {
        const startVpn = e.start / ps;
        const counts = new Float64Array(buckets);
        const dirtyCounts = new Float64Array(buckets);
        const swapCounts = new Float64Array(buckets);
        k.pageTables.forEachLeaf(mm, startVpn, e.end / ps, (vpn, _ea, lo, hi) => {
          const st = leafState(k, lo);
          const b = Math.floor((vpn - startVpn) / bucketPages);
          if ((st & LEAF_SWAPPED) !== 0) {
            swapCounts[b]!++;
            swappedPages++;
          }
          if ((st & LEAF_RESIDENT) === 0) return;
          counts[b]!++;
          rssPages++;
          if ((st & LEAF_DIRTY) !== 0) {
            dirtyCounts[b]!++;
            dirtyPages++;
          }
          const pfn = fmt.pfnOf(lo, hi);
          if (pfn < frames.mapPid.length && frames.mapPid[pfn] === -1) {
            frames.mapPid[pfn] = p.pid;
            frames.mapVpn[pfn] = vpn;
          }
        });
        for (let b = 0; b < buckets; b++) {
          const inBucket = Math.min(bucketPages, pages - b * bucketPages);
          resident[b] = Math.round((255 * counts[b]!) / inBucket);
          dirty[b] = Math.round((255 * dirtyCounts[b]!) / inBucket);
          swapped[b] = Math.round((255 * swapCounts[b]!) / inBucket);
        }
      }
      const objectKind = e.vma?.object?.kind ?? null;
      vmas.push({
        start: e.start,
        end: e.end,
        perms: e.perms,
        name: e.name,
        kind: vmaKind(e.name, objectKind, e.vma?.special != null),
        offset: e.offset,
        pages,
        rssPages,
        dirtyPages,
        swappedPages,
        bucketPages,
        resident,
        dirty,
        swapped,
      });
    }
  }
  return {
    pid: p.pid,
    name: p.name,
    state: p.state,
    signal: signalText(p),
    exitCode: p.exitCode,
    rootPfn: mm?.rootPfn ?? -1,
    asid: mm !== null && k.asidIsLive(mm) ? mm.asid : null,
    status: k.status(p),
    vmas,
    brk: mm?.brk ?? 0,
    startBrk: mm?.startBrk ?? 0,
  };
}

/** Marks each page-table frame of `mm` with its level. */
function markTables(k: Kernel, mm: Mm, ptLevel: Int8Array): void {
  walkTables(k, mm, {
    table(pfn, level) {
      if (pfn < ptLevel.length) ptLevel[pfn] = level;
    },
  });
}

function tlbView(k: Kernel): TlbView {
  const tlb = k.machine.tlb;
  const mmu = k.machine.mmu;
  const asidOwner: Record<number, number> = {};
  for (const p of k.live()) if (p.mm !== null && k.asidIsLive(p.mm)) asidOwner[p.mm.asid] = p.pid;
  return {
    entryCount: tlb.entryCount,
    ways: tlb.ways,
    sets: tlb.sets,
    entries: tlb.entries().map((e) => ({
      index: e.index,
      set: e.set,
      way: e.way,
      vpn: e.vpn,
      asid: e.asid,
      pfn: e.pfn,
      perm: formatTlbPerm(e.perm),
    })),
    hits: mmu.tlbHits,
    misses: mmu.tlbMisses,
    walks: mmu.walks,
    pteReads: mmu.pteReads,
    asidOwner,
  };
}

/** The kernel's swap device as far as the page needs it (read structurally: swap is recent). */
interface SwapLike {
  readonly slotCount: number;
  readonly freeSlots: number;
  readonly count: Uint16Array;
  readonly writes: number;
  readonly reads: number;
}

function swapView(k: Kernel): SwapView | null {
  const swap = (k as unknown as { swap?: SwapLike | null }).swap;
  if (swap === undefined || swap === null) return null;
  const snap = snapshotSwap(k);
  return {
    slotCount: swap.slotCount,
    freeSlots: swap.freeSlots,
    count: swap.count.slice(),
    writes: swap.writes,
    reads: swap.reads,
    holders: snap.what === 'swap' ? snap.entries : [],
  };
}

function pteInfo(k: Kernel, level: number, index: number, lo: number, hi: number, vaStart: number): PteInfo {
  const fmt = k.machine.arch.pte;
  const d = fmt.decode(lo, hi);
  const last = k.machine.arch.levels - 1;
  const leaf =
    d.present && (fmt.leafMarkedByRights ? (lo & (fmt.read | fmt.write | fmt.exec)) !== 0 : level === last);
  return {
    index,
    raw: fmt.formatRaw(lo, hi),
    flags: d.flags,
    present: d.present,
    leaf,
    pfn: d.pfn,
    rights: { read: d.read, write: d.write, user: d.user, exec: d.exec },
    accessed: d.accessed,
    dirty: d.dirty,
    swapSlot: !d.present && fmt.swSwap !== 0 && (lo & fmt.swSwap) !== 0 ? d.pfn : null,
    protNone: !d.present && fmt.swProtNone !== 0 && (lo & fmt.swProtNone) !== 0,
    vaStart,
  };
}

/** The walk of `va` in `proc`'s tables, each level with its table's non-empty entries. */
export function walkView(k: Kernel, proc: Process, va: number): WalkView | null {
  const mm = proc.mm;
  if (mm === null) return null;
  const mmu = k.machine.mmu;
  const fmt = k.machine.arch.pte;
  const ps = k.pageSize;
  const probe = mmu.probe(mm.rootPfn, va);
  const vpn = Math.floor(va / ps);
  const levels: WalkLevel[] = probe.steps.map((s) => {
    const n = k.pageTables.entries[s.level]!;
    const span = k.pageTables.entrySpan[s.level]!;
    const baseVpn = vpn - (vpn % (span * n));
    const table: PteInfo[] = [];
    let nonEmpty = 0;
    for (let i = 0; i < n; i++) {
      const ea = s.tablePfn * ps + i * fmt.entryBytes;
      const lo = mmu.readLo(ea);
      const hi = mmu.readHi(ea);
      if (lo === 0 && hi === 0) continue;
      nonEmpty++;
      if (table.length < TABLE_ENTRY_LIMIT || i === s.index)
        table.push(pteInfo(k, s.level, i, lo, hi, (baseVpn + i * span) * ps));
    }
    return {
      level: s.level,
      levelName: s.levelName,
      tablePfn: s.tablePfn,
      index: s.index,
      entryPa: s.entryPa,
      entry: pteInfo(k, s.level, s.index, s.lo, s.hi, (baseVpn + s.index * span) * ps),
      table,
      tableEntries: n,
      tableNonEmpty: nonEmpty,
    };
  });
  const vma = mm.vmaAt(va);
  const entry = vma === null ? null : k.maps(proc).find((e) => e.vma === vma);
  return {
    pid: proc.pid,
    va,
    rootPfn: mm.rootPfn,
    levels,
    pa: probe.pa,
    fault: FAULT_NAMES[probe.fault] ?? String(probe.fault),
    vma: entry ? { start: entry.start, end: entry.end, perms: entry.perms, name: entry.name } : null,
  };
}

/** Everything the page draws for one position (`walkFollowsStep` is the caller's to set). */
export function stateView(
  k: Kernel,
  position: number,
  select: AddressSelection | null,
): Omit<StateView, 'walkFollowsStep'> {
  const f = k.frames;
  const n = f.frameCount;
  const mapPid = new Int32Array(n).fill(-1);
  const mapVpn = new Float64Array(n).fill(-1);
  const ptLevel = new Int8Array(n).fill(-1);
  const procs = [...k.processes.values()].sort((a, b) => a.pid - b.pid);
  const views = procs.map((p) => procView(k, p, { mapPid, mapVpn }));
  for (const p of procs) if (p.mm !== null) markTables(k, p.mm, ptLevel);
  const frames: FramesView = {
    kinds: f.kind.slice(),
    owners: f.owner.slice(),
    refcount: f.refcount.slice(),
    mapcount: f.mapcount.slice(),
    mapPid,
    mapVpn,
    ptLevel,
    freeFrames: f.freeFrames,
  };
  const selected = select === null ? undefined : k.processes.get(select.pid);
  return {
    position,
    procs: views,
    frames,
    tlb: tlbView(k),
    swap: swapView(k),
    meminfo: k.meminfo(),
    walk: selected === undefined || select === null ? null : walkView(k, selected, select.va),
  };
}
