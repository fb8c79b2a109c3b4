/**
 * Taking one page out of memory (Linux `mm/vmscan.c`'s shrink_folio_list and `try_to_unmap`): the
 * replacement policy chose it; this file unmaps it from every mapper through the reverse map and sends
 * it where it must go.
 *
 * - anonymous: to a swap slot — written when dirty (or never written to a slot before), kept as is when
 *   the slot already holds it (the swap cache); every mapper's entry becomes a swap entry. A page never
 *   written is dropped outright (it was zeros); a MADV_FREE'd page not written since is discarded.
 * - file: written back to the file when dirty, then dropped; mappers refault from the cache or file.
 * - shmem: to a swap slot the object remembers; mappers refault through the object.
 * A page in a VM_LOCKED mapping, or one that needs a slot when swap is full or absent, stays.
 */
import { invariant } from '../base/errors.js';
import type { KernelEvents } from './events.js';
import { FRAME_ANON, FRAME_FILE, FRAME_SHMEM, type FrameTable, PG_DIRTY, PG_LAZYFREE } from './frames.js';
import { AnonVma, type MappingTable } from './mapping.js';
import { MemObject } from './memobject.js';
import type { Mm } from './mm.js';
import type { PageCache } from './pagecache.js';
import type { Evictor } from './reclaim.js';
import type { MapperVisit, Rmap } from './rmap.js';
import type { Vm } from './vm.js';
import { VM_LOCKED } from './vma.js';

export class Vmscan implements Evictor {
  private readonly vm: Vm;
  private readonly frames: FrameTable;
  private readonly rmap: Rmap;
  private readonly cache: PageCache;
  private readonly mappings: MappingTable;
  private readonly ev: KernelEvents;
  /** The mappers of the page being evicted, gathered in one rmap walk (reused: nothing per eviction). */
  private readonly found = new Mappers();

  constructor(vm: Vm, rmap: Rmap, cache: PageCache, mappings: MappingTable, events: KernelEvents) {
    this.vm = vm;
    this.frames = vm.frames;
    this.rmap = rmap;
    this.cache = cache;
    this.mappings = mappings;
    this.ev = events;
  }

  otherUser(pfn: number, gone: number): number {
    let heir = -1;
    this.rmap.forEachMapper(pfn, (v) => {
      if (heir < 0 && v.mm.pid !== gone) heir = v.mm.pid;
    });
    return heir;
  }

  evict(pfn: number): boolean {
    if (this.frames.kind[pfn] === FRAME_ANON) return this.evictAnon(pfn);
    // Only a VM_LOCKED mapping that maps it keeps it: no page-table walk when no candidate is locked.
    let anyLocked = false;
    for (const vma of this.rmap.candidates(pfn)) if (vma.flags & VM_LOCKED) anyLocked = true;
    if (anyLocked) {
      this.found.locked = false;
      this.rmap.forEachMapper(pfn, noteLocked, this.found);
      if (this.found.locked) return false;
    }
    switch (this.frames.kind[pfn]) {
      case FRAME_FILE:
      case FRAME_SHMEM:
        return this.evictCached(pfn);
      default:
        return false;
    }
  }

  /**
   * An anonymous page, after one rmap walk that finds its mappers, whether one is VM_LOCKED and
   * whether one's entry is dirty; the unmap then rewrites the entries found.
   */
  private evictAnon(pfn: number): boolean {
    const vm = this.vm;
    const f = this.frames;
    const swap = vm.swap;
    const mem = vm.machine.mem;
    const found = this.found;
    invariant(found.count < 0, 'vmscan: an eviction inside an eviction');
    found.reset(vm.machine.arch.pte.dirty);
    this.rmap.forEachMapper(pfn, gather, found);
    if (found.locked) return this.done(false);
    const entryDirty = found.dirtyBit === 0 ? f.mapcount[pfn]! > 0 : found.dirty;
    const dirty = (f.flags[pfn]! & PG_DIRTY) !== 0 || entryDirty;
    let slot = f.swapSlot[pfn]!;
    const lazy = (f.flags[pfn]! & PG_LAZYFREE) !== 0 && !dirty;
    if ((slot < 0 && !dirty) || lazy) {
      // Zeros never written (or contents the program gave up): nothing to keep; the next access
      // zero-fills it again.
      this.unmapAll(pfn, 0, 0, slot, false);
      if (f.swapSlot[pfn]! >= 0) vm.deleteFromSwapCache(pfn);
      return true;
    }
    if (slot < 0) {
      if (swap === null) return this.done(false);
      slot = swap.alloc();
      if (slot < 0) return this.done(false);
      swap.mapping[slot] = f.mapping[pfn]!;
      swap.index[slot] = f.index[pfn]!;
      const av = this.mappings.get(f.mapping[pfn]!);
      if (av instanceof AnonVma) av.users++;
      // The new slot's first count becomes the swap cache's.
      f.swapSlot[pfn] = slot;
      swap.cachedPfn[slot] = pfn;
      f.refcount[pfn]!++;
    }
    const written = dirty || f.mapcount[pfn] === 0;
    if (dirty) {
      swap!.write(slot, mem.frame(pfn));
      vm.reclaim.stats.writebacks++;
      f.flags[pfn]! &= ~PG_DIRTY;
    }
    const fmt = vm.machine.arch.pte;
    this.unmapAll(pfn, fmt.encodeLo(slot, fmt.swSwap), fmt.encodeHi(slot, false), slot, written);
    vm.deleteFromSwapCache(pfn);
    return true;
  }

  /**
   * Replaces the entry of every mapper of `pfn` the walk found by (lo, hi) (a swap entry for `slot`,
   * or none), dropping the mappings' references; the eviction is then over.
   */
  private unmapAll(pfn: number, lo: number, hi: number, slot: number, written: boolean): void {
    const vm = this.vm;
    const found = this.found;
    const toSwap = slot >= 0 && lo !== 0;
    const n = found.count;
    for (let i = 0; i < n; i++) {
      const mm = found.mm[i]!;
      found.mm[i] = null; // the list holds no address space past the eviction
      const vpn = found.vpn[i]!;
      vm.machine.mmu.writeEntry(found.entryPa[i]!, lo, hi);
      this.frames.mapcount[pfn]!--;
      vm.addRss(mm, pfn, -1);
      if (toSwap) {
        vm.swap!.get(slot);
        mm.swapEnts++;
      }
      vm.asids.flushRange(mm, vpn, vpn + 1);
      if (this.ev.sink)
        this.ev.sink.push({
          type: 'swap-out',
          pid: mm.pid,
          va: vpn * vm.pageSize,
          pfn,
          slot: toSwap ? slot : -1,
          written,
        });
      vm.putPage(pfn);
    }
    found.count = -1;
  }

  /** Ends an eviction that unmapped nothing. @returns `result`. */
  private done(result: boolean): boolean {
    this.found.release();
    return result;
  }

  private evictCached(pfn: number): boolean {
    const vm = this.vm;
    const f = this.frames;
    const obj = this.mappings.get(f.mapping[pfn]!);
    if (!(obj instanceof MemObject)) return false;
    const index = f.index[pfn]!;
    const shmem = f.kind[pfn] === FRAME_SHMEM;
    let slot = -1;
    if (shmem) {
      if (vm.swap === null) return false;
      slot = vm.swap.alloc();
      if (slot < 0) return false;
    }
    const mmu = vm.machine.mmu;
    const fmt = vm.machine.arch.pte;
    this.rmap.forEachMapper(pfn, (v) => {
      if ((v.lo & fmt.dirty) !== 0) f.flags[pfn]! |= PG_DIRTY;
      mmu.writeEntry(v.entryPa, 0, 0);
      f.mapcount[pfn]!--;
      vm.addRss(v.mm, pfn, -1);
      vm.asids.flushRange(v.mm, v.vpn, v.vpn + 1);
      vm.putPage(pfn);
    });
    if (shmem) {
      vm.swap!.write(slot, vm.machine.mem.frame(pfn));
      vm.reclaim.stats.writebacks++;
      obj.swapped.set(index, slot);
      f.flags[pfn]! &= ~PG_DIRTY;
    } else if (f.flags[pfn]! & PG_DIRTY) {
      vm.reclaim.stats.writebacks++;
    } else {
      vm.reclaim.stats.dropped++;
    }
    if (this.ev.sink) this.ev.sink.push({ type: 'page-out', pfn, object: obj.path, index, toSwap: shmem });
    this.cache.remove(obj, index);
    return true;
  }
}

/** Mappers of one page as one rmap walk found them (struct of arrays, reused). */
class Mappers {
  /** Entries found; -1 while no eviction is using the list. */
  count = -1;
  readonly mm: (Mm | null)[] = [];
  readonly vpn: number[] = [];
  readonly entryPa: number[] = [];
  locked = false;
  dirty = false;
  /** The arch's PTE dirty bit (0: none). */
  dirtyBit = 0;

  /** Ends the list's use without an unmap. */
  release(): void {
    for (let i = 0; i < this.count; i++) this.mm[i] = null;
    this.count = -1;
  }

  reset(dirtyBit: number): void {
    this.count = 0;
    this.locked = false;
    this.dirty = false;
    this.dirtyBit = dirtyBit;
  }
}

function gather(v: MapperVisit, found: Mappers): void {
  const n = found.count++;
  found.mm[n] = v.mm;
  found.vpn[n] = v.vpn;
  found.entryPa[n] = v.entryPa;
  if (v.vma.flags & VM_LOCKED) found.locked = true;
  if ((v.lo & found.dirtyBit) !== 0) found.dirty = true;
}

function noteLocked(v: MapperVisit, found: Mappers): void {
  if (v.vma.flags & VM_LOCKED) found.locked = true;
}
