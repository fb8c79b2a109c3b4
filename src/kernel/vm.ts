/**
 * Page-table entries and the pages behind them: installing and zapping leaf entries, the rights an
 * entry gets, RSS by kind, and the life of a page — allocated (reclaiming to make room), referenced by
 * mappings and caches, freed by its last reference (Linux `mm/memory.c`'s set_pte/zap_pte_range and
 * `mm/swap.c`'s put_page, in one place).
 *
 * The rules this file keeps (check.ts verifies them):
 * - a present entry holds one reference and one mapcount on its frame, and one page of its mm's RSS;
 * - a swap entry holds one count on its slot and one page of its mm's VmSwap;
 * - an anonymous page in the swap cache with no mapper is kept only while some swap entry still names
 *   its slot (the mapper that faults next finds it there); otherwise both go at once.
 */
import { invariant } from '../base/errors.js';
import type { Machine } from '../hw/machine.js';
import type { PteRights } from '../hw/pte.js';
import type { Asids } from './asid.js';
import type { KernelEvents } from './events.js';
import {
  FRAME_ANON,
  FRAME_FILE,
  FRAME_KERNEL,
  FRAME_SHMEM,
  type FrameKind,
  type FrameTable,
  PG_DIRTY,
} from './frames.js';
import { AnonVma, type MappingTable } from './mapping.js';
import type { Mm } from './mm.js';
import type { PageTables } from './pagetable.js';
import type { Reclaim } from './reclaim.js';
import type { SwapDevice } from './swap.js';
import { canMergeAnonVma, VM_ACCESS_FLAGS, VM_SHARED, VM_WRITE, type Vma } from './vma.js';

/** The rights of a user leaf, made once each (read-only; a fault asks for them every time). */
const USER_RIGHTS: readonly PteRights[] = Array.from({ length: 8 }, (_, i) => ({
  read: (i & 1) !== 0,
  write: (i & 2) !== 0,
  user: true,
  exec: (i & 4) !== 0,
}));

export class Vm {
  readonly machine: Machine;
  readonly frames: FrameTable;
  readonly pageTables: PageTables;
  readonly asids: Asids;
  readonly swap: SwapDevice | null;
  readonly mappings: MappingTable;
  readonly reclaim: Reclaim;
  readonly pageSize: number;
  /**
   * The shared zero page (Linux `ZERO_PAGE`): a read of untouched private anonymous memory maps this
   * one read-only frame, which no RSS counts and no reclaim sees; the first write copies it. -1 when
   * the kernel runs without one (trace replays: every touched page gets its own frame).
   */
  zeroPfn = -1;
  private readonly ev: KernelEvents;

  constructor(parts: {
    machine: Machine;
    frames: FrameTable;
    pageTables: PageTables;
    asids: Asids;
    swap: SwapDevice | null;
    mappings: MappingTable;
    reclaim: Reclaim;
    events: KernelEvents;
  }) {
    this.machine = parts.machine;
    this.frames = parts.frames;
    this.pageTables = parts.pageTables;
    this.asids = parts.asids;
    this.swap = parts.swap;
    this.mappings = parts.mappings;
    this.reclaim = parts.reclaim;
    this.ev = parts.events;
    this.pageSize = parts.machine.arch.pageSize;
  }

  // ---------------------------------------------------------------- frames

  /**
   * One zeroed frame, without reclaim (`zero` false: left as it is, for a caller that overwrites all
   * of it at once, as a swap-in does: Linux allocates those without __GFP_ZERO).
   * @returns its pfn, or -1 when memory is exhausted.
   */
  allocFrame(kind: FrameKind, owner: number, zero = true): number {
    const pfn = this.frames.alloc(0, kind, owner);
    if (pfn < 0) return -1;
    if (zero) this.machine.mem.zeroFrame(pfn);
    if (this.ev.sink) this.ev.sink.push({ type: 'frame-alloc', pfn, kind, pid: owner });
    return pfn;
  }

  /**
   * One zeroed frame for a user page named `key` (see mapping.ts `pageKey`), reclaiming to make room,
   * handed to the replacement policy and charged to `charge`. @returns its pfn, or -1 when nothing
   * could be reclaimed (the caller runs the OOM killer). `zero`: as {@link allocFrame}'s.
   */
  allocUserPage(
    kind: FrameKind,
    owner: number,
    write: boolean,
    key: number,
    charge: number,
    zero = true,
  ): number {
    if (!this.reclaim.makeRoom(key, charge)) return -1;
    let pfn = this.allocFrame(kind, owner, zero);
    while (pfn < 0) {
      if (!this.reclaim.evictOne(key)) return -1;
      pfn = this.allocFrame(kind, owner, zero);
    }
    this.reclaim.track(pfn, write, key, charge);
    return pfn;
  }

  /** Names a fresh anonymous page: it belongs to `av` at page offset `index`. */
  setAnonIdentity(pfn: number, av: AnonVma, index: number): void {
    this.frames.mapping[pfn] = av.id;
    this.frames.index[pfn] = index;
    av.users++;
  }

  /**
   * Drops one reference to a frame; the last one frees it: out of the policy, its anonymous identity
   * released, announced.
   */
  putPage(pfn: number): void {
    const f = this.frames;
    if (f.refcount[pfn]! > 1) {
      f.refcount[pfn]!--;
      return;
    }
    const kind = f.kind[pfn]! as FrameKind;
    const owner = f.owner[pfn]!;
    this.reclaim.untrack(pfn);
    if (kind === FRAME_ANON) this.releaseAnonIdentity(f.mapping[pfn]!);
    f.put(pfn);
    if (this.ev.sink) this.ev.sink.push({ type: 'frame-free', pfn, kind, pid: owner });
  }

  /** A frame or slot no longer carries an anon_vma's identity. */
  releaseAnonIdentity(mappingId: number): void {
    const av = this.mappings.get(mappingId);
    if (!(av instanceof AnonVma)) return;
    av.users--;
    this.mappings.releaseIfUnused(av);
  }

  // ---------------------------------------------------------------- the swap cache

  /** Puts anonymous `pfn` in the swap cache as the copy of `slot` (the cache takes a reference). */
  addToSwapCache(pfn: number, slot: number): void {
    const swap = this.swap!;
    if (swap.cachedPfn[slot] !== -1) invariant(false, `swap cache: slot ${slot} already cached`);
    this.frames.swapSlot[pfn] = slot;
    swap.cachedPfn[slot] = pfn;
    this.frames.refcount[pfn]!++;
    swap.get(slot);
  }

  /** Takes `pfn` out of the swap cache: the slot loses the cache's count, the frame its reference. */
  deleteFromSwapCache(pfn: number): void {
    const swap = this.swap!;
    const slot = this.frames.swapSlot[pfn]!;
    this.frames.swapSlot[pfn] = -1;
    swap.cachedPfn[slot] = -1;
    swap.put(slot);
    this.putPage(pfn);
  }

  /**
   * A swap-cache page or slot may have become useless: when no page-table entry names the slot any more
   * and no one maps the page, both go (Linux `free_swap_and_cache`).
   */
  tryFreeSwapCache(slot: number): void {
    const swap = this.swap!;
    const pfn = swap.cachedPfn[slot]!;
    if (pfn < 0 || swap.count[slot] !== 1 || this.frames.mapcount[pfn] !== 0) return;
    this.deleteFromSwapCache(pfn);
  }

  /** One swap entry fewer names `slot` (zap, swap-in, exit). */
  putSwapEntry(slot: number): void {
    if (!this.swap!.put(slot)) this.tryFreeSwapCache(slot);
  }

  /**
   * True when anonymous `pfn` is this mapper's alone: mapped once, referenced by nothing else, and its
   * swap slot (if it has one) named by no other entry — then a write may go to it in place.
   */
  isExclusiveAnon(pfn: number): boolean {
    const f = this.frames;
    if (f.kind[pfn] !== FRAME_ANON || f.mapcount[pfn]! > 1) return false;
    const slot = f.swapSlot[pfn]!;
    if (f.refcount[pfn]! > 1 + (slot >= 0 ? 1 : 0)) return false;
    return slot < 0 || this.swap!.count[slot] === 1;
  }

  // ---------------------------------------------------------------- leaf entries

  /** Rights a leaf entry gets in `vma` for frame `pfn` (write only where no copy-on-write is pending). */
  rightsFor(vma: Vma, pfn: number): PteRights {
    const writable =
      (vma.flags & VM_WRITE) !== 0 && ((vma.flags & VM_SHARED) !== 0 || this.isExclusiveAnon(pfn));
    // VM_READ | VM_WRITE: write implies read; an execute-only VMA gets an execute-only leaf (RISC-V).
    const readable = (vma.flags & 0x3) !== 0;
    return USER_RIGHTS[(readable ? 1 : 0) | (writable ? 2 : 0) | ((vma.flags & 0x4) !== 0 ? 4 : 0)]!;
  }

  /**
   * Writes a leaf entry mapping `pfn` and counts the mapping. The caller has taken the reference the
   * mapping now holds. `entryPa` is the leaf entry's address.
   */
  installPte(mm: Mm, entryPa: number, pfn: number, rights: PteRights, dirty: boolean): void {
    const fmt = this.machine.arch.pte;
    let flags = fmt.leafFlags(rights);
    if (dirty) flags |= fmt.dirty;
    this.machine.mmu.writeEntry(entryPa, fmt.encodeLo(pfn, flags), fmt.encodeHi(pfn, !rights.exec));
    this.frames.mapcount[pfn]!++;
    this.addRss(mm, pfn, 1);
    mm.noteRss();
  }

  /** The entry value of `pfn` with `vma`'s rights (or PROT_NONE's), keeping accessed/dirty from `lo`. */
  entryFor(vma: Vma, pfn: number, lo: number): [number, number] {
    const fmt = this.machine.arch.pte;
    const keep = lo & (fmt.accessed | fmt.dirty);
    if ((vma.flags & VM_ACCESS_FLAGS) === 0)
      return [fmt.encodeLo(pfn, fmt.swProtNone | keep), fmt.encodeHi(pfn, false)];
    const rights = this.rightsFor(vma, pfn);
    return [fmt.encodeLo(pfn, fmt.leafFlags(rights) | keep), fmt.encodeHi(pfn, !rights.exec)];
  }

  /** Adjusts the RSS counter that matches the frame's kind. */
  addRss(mm: Mm, pfn: number, delta: number): void {
    switch (this.frames.kind[pfn]) {
      case FRAME_ANON:
        mm.rssAnon += delta;
        break;
      case FRAME_SHMEM:
        mm.rssShmem += delta;
        break;
      case FRAME_FILE:
      case FRAME_KERNEL:
        mm.rssFile += delta;
        break;
      default:
        invariant(false, `rss: frame ${pfn} of kind ${this.frames.kind[pfn]} is not mappable`);
    }
  }

  /**
   * Clears one leaf entry of `mm` (present, PROT_NONE or swap; `entryPa` -1 when the caller already
   * cleared it) and drops what it held; a dirty entry marks its page dirty first. The caller flushes
   * the TLB.
   */
  zapEntry(mm: Mm, entryPa: number, lo: number, hi: number): void {
    const fmt = this.machine.arch.pte;
    if (entryPa >= 0) this.machine.mmu.writeEntry(entryPa, 0, 0);
    if ((lo & fmt.present) !== 0 || (lo & fmt.swProtNone) !== 0) {
      const pfn = fmt.pfnOf(lo, hi);
      if (pfn === this.zeroPfn) return;
      if ((lo & fmt.dirty) !== 0 || fmt.dirty === 0) this.markDirtyFromPte(pfn);
      const slot = this.frames.kind[pfn] === FRAME_ANON ? this.frames.swapSlot[pfn]! : -1;
      this.frames.mapcount[pfn]!--;
      this.addRss(mm, pfn, -1);
      this.putPage(pfn);
      if (slot >= 0) this.tryFreeSwapCache(slot);
    } else if ((lo & fmt.swSwap) !== 0) {
      mm.swapEnts--;
      this.putSwapEntry(fmt.pfnOf(lo, hi));
    } else {
      invariant(false, `zap: unknown non-present entry ${fmt.formatRaw(lo, hi)}`);
    }
  }

  /**
   * A dirty entry's write reaches the page: a file page must be written back, an anonymous page's swap
   * copy is stale. (An arch without a dirty bit counts every mapping as dirty.)
   */
  markDirtyFromPte(pfn: number): void {
    const kind = this.frames.kind[pfn];
    if (kind === FRAME_FILE || kind === FRAME_SHMEM || kind === FRAME_ANON)
      this.frames.flags[pfn]! |= PG_DIRTY;
  }

  /**
   * Clears every leaf entry of [start, end) in `mm`: drops the mappings (freeing pages no one else
   * holds) and invalidates the TLB for the range. Page tables stay.
   */
  zapRange(mm: Mm, start: number, end: number): void {
    const startVpn = start / this.pageSize;
    const endVpn = end / this.pageSize;
    this.pageTables.forEachLeaf(mm, startVpn, endVpn, (_vpn, entryPa, lo, hi) =>
      this.zapEntry(mm, entryPa, lo, hi),
    );
    this.asids.flushRange(mm, startVpn, endVpn);
  }

  /** Rewrites the entries of `vma`'s pages in [start, end) for its (new) flags, then flushes the TLB. */
  changeProtection(mm: Mm, vma: Vma, start = vma.start, end = vma.end): void {
    const fmt = this.machine.arch.pte;
    const mmu = this.machine.mmu;
    const ps = this.pageSize;
    this.pageTables.forEachLeaf(mm, start / ps, end / ps, (_vpn, entryPa, lo, hi) => {
      if ((lo & fmt.present) === 0 && (lo & fmt.swProtNone) === 0) return;
      const [nlo, nhi] = this.entryFor(vma, fmt.pfnOf(lo, hi), lo);
      mmu.writeEntry(entryPa, nlo, nhi);
    });
    this.asids.flushRange(mm, start / ps, end / ps);
  }

  // ---------------------------------------------------------------- anon_vma

  /**
   * Linux `anon_vma_prepare`: the anon_vma a VMA's first private page joins — a neighbour's when the two
   * could merge but for it (`find_mergeable_anon_vma`), else a new one.
   */
  anonVmaPrepare(vma: Vma): AnonVma {
    if (vma.anonVma !== null) return vma.anonVma;
    const mm = vma.mm!;
    const i = mm.vmas.indexOf(vma);
    let av: AnonVma | null = null;
    // The next VMA first, then the previous one, as Linux looks.
    for (const n of [mm.vmas[i + 1], mm.vmas[i - 1]]) {
      if (n?.anonVma && n.anonChain.length === 1 && canMergeAnonVma(vma, n, this.pageSize)) {
        av = n.anonVma;
        break;
      }
    }
    if (av === null) {
      av = new AnonVma();
      this.mappings.add(av);
    }
    vma.anonVma = av;
    vma.anonChain.push(av);
    av.vmas.add(vma);
    return av;
  }
}
