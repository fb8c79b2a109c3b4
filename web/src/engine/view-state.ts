/**
 * Plain-data views of a kernel, for the page: what each process maps and how much of it is resident
 * (with its smaps), who holds each frame and every address space that maps it, the TLB, swap, and one
 * page-table walk. Inspection only: nothing here
 * changes the kernel (no accessed bits, no TLB fills), so a view can be taken at any time.
 */
import { FAULT_NAMES } from '../../../src/hw/mmu.js';
import { formatTlbPerm } from '../../../src/hw/tlb.js';
import { SEGV_CODE_NAMES, SIGNAL_NAMES } from '../../../src/kernel/errno.js';
import { walkTables } from '../../../src/kernel/inspect.js';
import type { Kernel } from '../../../src/kernel/kernel.js';
import type { Mm } from '../../../src/kernel/mm.js';
import type { Process } from '../../../src/kernel/process.js';
import type { MapperVisit } from '../../../src/kernel/rmap.js';
import { emptySmaps, gatherVma, type SmapsFields } from '../../../src/kernel/smaps.js';
import { snapshotSwap } from '../../../src/sim/snapshot.js';
import {
  type AddressSelection,
  type FramesView,
  type ProcView,
  type PteInfo,
  RESIDENCY_BUCKETS,
  type SmapsView,
  type StateView,
  type SwapView,
  TABLE_ENTRY_LIMIT,
  type TlbView,
  type VmaView,
  type WalkLevel,
  type WalkView,
  ZERO_MAPPER_LIMIT,
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

/** The smaps counters the page shows, from the kernel's own (Linux's smaps_account). */
function smapsView(f: SmapsFields): SmapsView {
  return {
    rss: f.Rss,
    pss: f.Pss,
    sharedClean: f.Shared_Clean,
    sharedDirty: f.Shared_Dirty,
    privateClean: f.Private_Clean,
    privateDirty: f.Private_Dirty,
    anonymous: f.Anonymous,
    swap: f.Swap,
    swapPss: f.SwapPss,
  };
}

/** Who maps each frame: filled while the address spaces are walked (see {@link stateView}). */
interface MapperTable {
  readonly mapPid: Int32Array;
  readonly mapVpn: Float64Array;
  /** The zero page's mappers seen so far (the first ZERO_MAPPER_LIMIT), and how many in all. */
  readonly zeroPids: number[];
  readonly zeroVpns: number[];
  zeroMappers: number;
}

/**
 * What one address space maps, with each VMA's residency and smaps: one walk of every leaf for the
 * residency buckets (noting each frame's first mapper, and every mapper of the zero page), and the
 * kernel's own smaps count per VMA.
 */
function mmView(k: Kernel, p: Process, mm: Mm, frames: MapperTable): { vmas: VmaView[]; rollup: SmapsView } {
  const ps = k.pageSize;
  const fmt = k.machine.arch.pte;
  const zero = k.vm.zeroPfn;
  const vmas: VmaView[] = [];
  const total = emptySmaps();
  for (const e of k.maps(p)) {
    const pages = (e.end - e.start) / ps;
    const bucketPages = Math.max(1, Math.ceil(pages / RESIDENCY_BUCKETS));
    const buckets = Math.ceil(pages / bucketPages);
    const resident = new Uint8Array(buckets);
    const dirty = new Uint8Array(buckets);
    const swapped = new Uint8Array(buckets);
    const zeroed = new Uint8Array(buckets);
    const sharedB = new Uint8Array(buckets);
    let rssPages = 0;
    let sharedPages = 0;
    let dirtyPages = 0;
    let swappedPages = 0;
    let zeroPages = 0;
    let smaps: SmapsView | null = null;
    if (e.vma !== null) {
      const startVpn = e.start / ps;
      const counts = new Float64Array(buckets);
      const dirtyCounts = new Float64Array(buckets);
      const swapCounts = new Float64Array(buckets);
      const zeroCounts = new Float64Array(buckets);
      const sharedCounts = new Float64Array(buckets);
      const mapcount = k.frames.mapcount;
      k.pageTables.forEachLeaf(mm, startVpn, e.end / ps, (vpn, _ea, lo, hi) => {
        const st = leafState(k, lo);
        const b = Math.floor((vpn - startVpn) / bucketPages);
        if ((st & LEAF_SWAPPED) !== 0) {
          swapCounts[b]!++;
          swappedPages++;
        }
        if ((st & LEAF_RESIDENT) === 0) return;
        const pfn = fmt.pfnOf(lo, hi);
        if (pfn === zero) {
          // Mapped, but no one's memory: the zero page is in no RSS (smaps counts it nowhere).
          zeroCounts[b]!++;
          zeroPages++;
          if (frames.zeroMappers++ < ZERO_MAPPER_LIMIT) {
            frames.zeroPids.push(mm.pid);
            frames.zeroVpns.push(vpn);
          }
        } else {
          counts[b]!++;
          rssPages++;
          if (mapcount[pfn]! >= 2) {
            sharedCounts[b]!++;
            sharedPages++;
          }
          if ((st & LEAF_DIRTY) !== 0) {
            dirtyCounts[b]!++;
            dirtyPages++;
          }
        }
        if (pfn < frames.mapPid.length && frames.mapPid[pfn] === -1) {
          frames.mapPid[pfn] = mm.pid;
          frames.mapVpn[pfn] = vpn;
        }
      });
      for (let b = 0; b < buckets; b++) {
        const inBucket = Math.min(bucketPages, pages - b * bucketPages);
        resident[b] = Math.round((255 * counts[b]!) / inBucket);
        dirty[b] = Math.round((255 * dirtyCounts[b]!) / inBucket);
        swapped[b] = Math.round((255 * swapCounts[b]!) / inBucket);
        zeroed[b] = Math.round((255 * zeroCounts[b]!) / inBucket);
        sharedB[b] = Math.round((255 * sharedCounts[b]!) / inBucket);
      }
      const fields = emptySmaps();
      gatherVma(k, mm, e.vma, fields);
      for (const key of Object.keys(fields) as (keyof SmapsFields)[]) total[key] += fields[key];
      smaps = smapsView(fields);
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
      zeroPages,
      sharedPages,
      bucketPages,
      resident,
      dirty,
      swapped,
      zero: zeroed,
      shared: sharedB,
      smaps,
    });
  }
  return { vmas, rollup: smapsView(total) };
}

function procView(
  k: Kernel,
  p: Process,
  spaces: Map<Mm, { vmas: VmaView[]; rollup: SmapsView }>,
  frames: MapperTable,
): ProcView {
  const mm = p.mm;
  let space: { vmas: VmaView[]; rollup: SmapsView | null } = { vmas: [], rollup: null };
  if (mm !== null) {
    // Threads share their process's address space: it is walked once.
    let s = spaces.get(mm);
    if (s === undefined) {
      s = mmView(k, p, mm, frames);
      spaces.set(mm, s);
    }
    space = s;
  }
  return {
    pid: p.pid,
    mmPid: mm?.pid ?? p.tgid,
    tgid: p.tgid,
    name: p.name,
    state: p.state,
    signal: signalText(p),
    exitCode: p.exitCode,
    rootPfn: mm?.rootPfn ?? -1,
    asid: mm !== null && k.asidIsLive(mm) ? mm.asid : null,
    status: k.status(p),
    vmas: space.vmas,
    rollup: space.rollup,
    brk: mm?.brk ?? 0,
    startBrk: mm?.startBrk ?? 0,
  };
}

/** Puts the mappers from `from` on in pid, then address, order (the reverse map's is its own). */
function sortMappers(pids: number[], vpns: number[], from: number): void {
  let sorted = true;
  for (let i = from + 1; i < pids.length && sorted; i++)
    sorted = pids[i - 1]! < pids[i]! || (pids[i - 1] === pids[i] && vpns[i - 1]! <= vpns[i]!);
  if (sorted) return;
  const order = pids.slice(from).map((pid, i) => ({ pid, vpn: vpns[from + i]! }));
  order.sort((a, b) => a.pid - b.pid || a.vpn - b.vpn);
  order.forEach((m, i) => {
    pids[from + i] = m.pid;
    vpns[from + i] = m.vpn;
  });
}

/**
 * Every mapper of each frame mapped more than once, from the kernel's reverse map (the zero page,
 * which the reverse map does not know, from the walk), in the compact form of {@link FramesView}.
 */
function sharedMappers(
  k: Kernel,
  t: MapperTable,
): Pick<FramesView, 'sharedPfns' | 'sharedStart' | 'mapperPids' | 'mapperVpns'> {
  const f = k.frames;
  const n = f.frameCount;
  const zero = k.vm.zeroPfn;
  const pfns: number[] = [];
  const start: number[] = [0];
  const pids: number[] = [];
  const vpns: number[] = [];
  const add = (v: MapperVisit): void => {
    pids.push(v.mm.pid);
    vpns.push(v.vpn);
  };
  for (let pfn = 0; pfn < n; pfn++) {
    const from = pids.length;
    if (pfn === zero) {
      if (t.zeroMappers === 0) continue;
      for (let i = 0; i < t.zeroPids.length; i++) {
        pids.push(t.zeroPids[i]!);
        vpns.push(t.zeroVpns[i]!);
      }
    } else {
      if (f.mapcount[pfn]! < 2) continue;
      k.rmap.forEachMapper(pfn, add);
      sortMappers(pids, vpns, from);
    }
    pfns.push(pfn);
    start.push(pids.length);
  }
  return {
    sharedPfns: Int32Array.from(pfns),
    sharedStart: Int32Array.from(start),
    mapperPids: Int32Array.from(pids),
    mapperVpns: Float64Array.from(vpns),
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
  const table: MapperTable = {
    mapPid: new Int32Array(n).fill(-1),
    mapVpn: new Float64Array(n).fill(-1),
    zeroPids: [],
    zeroVpns: [],
    zeroMappers: 0,
  };
  const ptLevel = new Int8Array(n).fill(-1);
  const procs = [...k.processes.values()].sort((a, b) => a.pid - b.pid);
  const spaces = new Map<Mm, { vmas: VmaView[]; rollup: SmapsView }>();
  const views = procs.map((p) => procView(k, p, spaces, table));
  for (const mm of spaces.keys()) markTables(k, mm, ptLevel);
  const frames: FramesView = {
    kinds: f.kind.slice(),
    owners: f.owner.slice(),
    refcount: f.refcount.slice(),
    mapcount: f.mapcount.slice(),
    mapPid: table.mapPid,
    mapVpn: table.mapVpn,
    ...sharedMappers(k, table),
    zeroPfn: k.vm.zeroPfn,
    zeroMappers: table.zeroMappers,
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
