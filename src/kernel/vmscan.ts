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
import type { KernelEvents } from './events.js';
import { FRAME_ANON, FRAME_FILE, FRAME_SHMEM, type FrameTable, PG_DIRTY, PG_LAZYFREE } from './frames.js';
import { AnonVma, type MappingTable } from './mapping.js';
import { MemObject } from './memobject.js';
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
  // The rmap visitors of evict and unmapAll are made once, with their arguments in fields (set and
  // restored around each walk): a closure per call allocated on every eviction.
  private locked = false;
  private readonly noteLocked = (v: MapperVisit): void => {
    if (v.vma.flags & VM_LOCKED) this.locked = true;
  };
  private uPfn = -1;
  private uLo = 0;
  private uHi = 0;
  private uSlot = -1;
  private uWritten = false;
  private readonly unmapOne = (v: MapperVisit): void => {
    const vm = this.vm;
    const pfn = this.uPfn;
    const slot = this.uSlot;
    const toSwap = slot >= 0 && this.uLo !== 0;
    vm.machine.mmu.writeEntry(v.entryPa, this.uLo, this.uHi);
    this.frames.mapcount[pfn]!--;
    vm.addRss(v.mm, pfn, -1);
    if (toSwap) {
      vm.swap!.get(slot);
      v.mm.swapEnts++;
    }
    vm.asids.flushRange(v.mm, v.vpn, v.vpn + 1);
    if (this.ev.sink)
      this.ev.sink.push({
        type: 'swap-out',
        pid: v.mm.pid,
        va: v.vpn * vm.pageSize,
        pfn,
        slot: toSwap ? slot : -1,
        written: this.uWritten,
      });
    vm.putPage(pfn);
  };

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
    // Only a VM_LOCKED mapping that maps it keeps it: no page-table walk when no candidate is locked.
    let anyLocked = false;
    for (const vma of this.rmap.candidates(pfn)) if (vma.flags & VM_LOCKED) anyLocked = true;
    if (anyLocked) {
      this.locked = false;
      this.rmap.forEachMapper(pfn, this.noteLocked);
      if (this.locked) return false;
    }
    switch (this.frames.kind[pfn]) {
      case FRAME_ANON:
        return this.evictAnon(pfn);
      case FRAME_FILE:
      case FRAME_SHMEM:
        return this.evictCached(pfn);
      default:
        return false;
    }
  }

  private evictAnon(pfn: number): boolean {
    const vm = this.vm;
    const f = this.frames;
    const swap = vm.swap;
    const mem = vm.machine.mem;
    const dirty = (f.flags[pfn]! & PG_DIRTY) !== 0 || this.rmap.anyDirty(pfn);
    let slot = f.swapSlot[pfn]!;
    const lazy = (f.flags[pfn]! & PG_LAZYFREE) !== 0 && !dirty;
    if ((slot < 0 && !dirty) || lazy) {
      // Zeros never written (or contents the program gave up): nothing to keep; the next access
      // zero-fills it again.
      this.unmapAll(pfn, 0, 0, slot);
      if (f.swapSlot[pfn]! >= 0) vm.deleteFromSwapCache(pfn);
      return true;
    }
    if (slot < 0) {
      if (swap === null) return false;
      slot = swap.alloc();
      if (slot < 0) return false;
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
   * Replaces every mapper's entry of `pfn` by (lo, hi) (a swap entry for `slot`, or none), dropping
   * the mappings' references.
   */
  private unmapAll(pfn: number, lo: number, hi: number, slot: number, written = false): void {
    const oPfn = this.uPfn;
    const oLo = this.uLo;
    const oHi = this.uHi;
    const oSlot = this.uSlot;
    const oWritten = this.uWritten;
    this.uPfn = pfn;
    this.uLo = lo;
    this.uHi = hi;
    this.uSlot = slot;
    this.uWritten = written;
    this.rmap.forEachMapper(pfn, this.unmapOne);
    this.uPfn = oPfn;
    this.uLo = oLo;
    this.uHi = oHi;
    this.uSlot = oSlot;
    this.uWritten = oWritten;
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
