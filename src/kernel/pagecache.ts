/**
 * The page cache (Linux `mm/filemap.c` and `mm/shmem.c`, the parts vmscope needs): each object's pages
 * in memory, read in on a miss (a major fault for a file, a zero page for new shmem, the slot for
 * swapped shmem), written back when dirty, and dropped when reclaim, truncation, deletion or
 * `drop_caches` lets them go. A cached frame holds one reference for the cache.
 */
import type { KernelEvents } from './events.js';
import {
  FRAME_FILE,
  FRAME_KERNEL,
  FRAME_SHMEM,
  type FrameTable,
  NO_OWNER,
  PG_DIRTY,
  PG_REFERENCED,
} from './frames.js';
import { type MappingTable, pageKey } from './mapping.js';
import type { MemObject } from './memobject.js';
import type { Rmap } from './rmap.js';
import type { Vm } from './vm.js';

export class PageCache {
  private readonly vm: Vm;
  private readonly frames: FrameTable;
  private readonly mappings: MappingTable;
  private readonly rmap: Rmap;
  private readonly ev: KernelEvents;

  constructor(vm: Vm, mappings: MappingTable, rmap: Rmap, events: KernelEvents) {
    this.vm = vm;
    this.frames = vm.frames;
    this.mappings = mappings;
    this.rmap = rmap;
    this.ev = events;
  }

  /** Registers an object so its pages can name it. */
  register(obj: MemObject): MemObject {
    if (obj.id < 0) this.mappings.add(obj);
    return obj;
  }

  /**
   * The frame caching page `index` of `obj`, read in when absent.
   * @returns the pfn (the cache's reference, not the caller's) and whether I/O was needed; pfn -1 when
   * memory is exhausted.
   */
  getPage(obj: MemObject, index: number, write: boolean, charge: number): { pfn: number; major: boolean } {
    const cached = obj.pages.get(index);
    if (cached !== undefined) return { pfn: cached, major: false };
    this.register(obj);
    const kind = obj.kind === 'shmem' ? FRAME_SHMEM : obj.kind === 'kernel' ? FRAME_KERNEL : FRAME_FILE;
    const slot = obj.swapped.get(index);
    // Not zeroed first where a swap slot or the file overwrites all of it (Linux allocates page-cache
    // folios without __GFP_ZERO: the read fills them).
    const zero = slot === undefined && obj.kind !== 'file';
    const pfn =
      kind === FRAME_KERNEL
        ? this.vm.allocFrame(kind, NO_OWNER)
        : this.vm.allocUserPage(kind, NO_OWNER, write, pageKey(obj.id, index), charge, zero);
    if (pfn < 0) return { pfn: -1, major: false };
    this.frames.mapping[pfn] = obj.id;
    this.frames.index[pfn] = index;
    this.frames.flags[pfn] = PG_REFERENCED;
    obj.pages.set(index, pfn);
    const frame = this.vm.machine.mem.frame(pfn);
    if (slot !== undefined) {
      // A shmem page coming back from swap: a major fault.
      const swap = this.vm.swap!;
      swap.read(slot, frame);
      obj.swapped.delete(index);
      swap.put(slot);
      this.vm.reclaim.stats.swapIns++;
      return { pfn, major: true };
    }
    if (obj.kind === 'file') {
      obj.readPage(index, frame);
      return { pfn, major: true };
    }
    const init = obj.initialBytes;
    if (init !== null) {
      const start = index * frame.length;
      const end = Math.min(start + frame.length, init.byteLength);
      if (end > start) frame.set(init.subarray(start, end));
    }
    return { pfn, major: false };
  }

  /**
   * write(2)/pwrite(2) of `bytes` at `offset` through the page cache: each page is read in (or found),
   * changed and left dirty, the file grows to cover the write. Mappings see the bytes at once.
   * @returns the bytes written, or -1 when memory ran out before any was.
   */
  write(obj: MemObject, offset: number, bytes: Uint8Array, charge: number): number {
    const ps = this.vm.pageSize;
    const mem = this.vm.machine.mem;
    let done = 0;
    while (done < bytes.length) {
      const at = offset + done;
      const index = Math.floor(at / ps);
      const inPage = at - index * ps;
      const n = Math.min(ps - inPage, bytes.length - done);
      if (at + n > obj.sizeBytes) obj.sizeBytes = at + n;
      const { pfn } = this.getPage(obj, index, true, charge);
      if (pfn < 0) return done > 0 ? done : -1;
      mem.frame(pfn).set(bytes.subarray(done, done + n), inPage);
      this.frames.flags[pfn]! |= PG_DIRTY | PG_REFERENCED;
      done += n;
    }
    return done;
  }

  /** A shrinking truncate clears the cached bytes past the new end in its last page. */
  zeroFrom(obj: MemObject, sizeBytes: number): void {
    const ps = this.vm.pageSize;
    const index = Math.floor(sizeBytes / ps);
    const pfn = obj.pages.get(index);
    if (pfn !== undefined && sizeBytes % ps !== 0) this.vm.machine.mem.frame(pfn).fill(0, sizeBytes % ps);
  }

  /** Zaps every mapping of `obj`'s pages from `fromIndex` on, in every address space (COW copies too). */
  unmapFrom(obj: MemObject, fromIndex: number): void {
    const ps = this.vm.pageSize;
    for (const vma of [...obj.vmas]) {
      const pages = (vma.end - vma.start) / ps;
      const first = Math.max(fromIndex, vma.pgoff);
      if (first >= vma.pgoff + pages || vma.mm === null) continue;
      this.vm.zapRange(vma.mm, vma.start + (first - vma.pgoff) * ps, vma.end);
    }
  }

  /** Writes a dirty cached page of a file back to the file, and marks it clean. */
  writeback(obj: MemObject, pfn: number): void {
    const index = this.frames.index[pfn]!;
    if (obj.kind === 'file') obj.writePage(index, this.vm.machine.mem.frame(pfn));
    this.frames.flags[pfn]! &= ~PG_DIRTY;
    if (this.ev.sink) this.ev.sink.push({ type: 'writeback', pfn, object: obj.path, index });
  }

  /** Drops unmapped page `index` from the cache (written back first if dirty). */
  remove(obj: MemObject, index: number): void {
    const pfn = obj.pages.get(index);
    if (pfn === undefined) return;
    if (this.frames.flags[pfn]! & PG_DIRTY) this.writeback(obj, pfn);
    obj.pages.delete(index);
    this.vm.putPage(pfn);
  }

  /**
   * An object's last mapping went: shmem and kernel objects die with it, and so does a deleted file;
   * a file still in the filesystem and a System V segment not yet removed keep their cached pages.
   */
  released(obj: MemObject): void {
    if (obj.vmas.size > 0) return;
    if ((obj.kind === 'file' && obj.linked) || obj.ipcHeld) return;
    this.destroy(obj);
  }

  /** Frees every cached page and swap slot of an unmapped object and forgets it. */
  destroy(obj: MemObject): void {
    for (const index of [...obj.pages.keys()]) {
      const pfn = obj.pages.get(index)!;
      if (obj.kind !== 'file') this.frames.flags[pfn]! &= ~PG_DIRTY;
      this.remove(obj, index);
    }
    for (const slot of obj.swapped.values()) this.vm.swap!.put(slot);
    obj.swapped.clear();
    if (obj.id >= 0 && this.mappings.get(obj.id) === obj) this.mappings.remove(obj);
  }

  /**
   * `sync; echo 3 > /proc/sys/vm/drop_caches`: every file page no one maps is written back if dirty and
   * dropped. @returns how many pages went.
   */
  dropCaches(): number {
    let dropped = 0;
    for (const m of [...this.mappings.all()]) {
      if (!('pages' in m) || m.kind !== 'file') continue;
      for (const [index, pfn] of [...m.pages]) {
        if (this.frames.mapcount[pfn]! > 0) continue;
        this.remove(m, index);
        dropped++;
      }
    }
    return dropped;
  }

  /**
   * sync(2): every dirty file page is cleaned in its mappers (write access and dirty bits go, as
   * `page_mkclean` does) and written back. @returns how many pages were written.
   */
  syncAll(): number {
    let written = 0;
    for (const m of [...this.mappings.all()]) {
      if (!('pages' in m) || m.kind !== 'file') continue;
      for (const pfn of m.pages.values()) if (this.syncPage(m, pfn)) written++;
    }
    return written;
  }

  /**
   * Writes one cached page back if it is dirty, after `page_mkclean`: every shared mapper's entry
   * loses its dirty bit and write access, so the next write faults and dirties it again.
   * @returns true when it was written.
   */
  syncPage(obj: MemObject, pfn: number): boolean {
    const fmt = this.vm.machine.arch.pte;
    const mmu = this.vm.machine.mmu;
    let dirty = (this.frames.flags[pfn]! & PG_DIRTY) !== 0;
    this.rmap.forEachMapper(pfn, (v) => {
      // A PROT_NONE entry's marker may sit where W sits (teach16): only a present one loses W.
      const clear = (v.lo & fmt.present) !== 0 ? fmt.dirty | fmt.write : fmt.dirty;
      if ((v.lo & clear) === 0) return;
      if (v.lo & fmt.dirty) dirty = true;
      mmu.writeLo(v.entryPa, (v.lo & ~clear) >>> 0);
      this.vm.asids.flushRange(v.mm, v.vpn, v.vpn + 1);
    });
    if (dirty) this.writeback(obj, pfn);
    return dirty;
  }

  /** True when some mapper's entry or the page itself says the page differs from the file. */
  isDirty(pfn: number): boolean {
    return (this.frames.flags[pfn]! & PG_DIRTY) !== 0 || this.rmap.anyDirty(pfn);
  }
}
