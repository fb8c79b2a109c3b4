/**
 * Memory pressure: which user pages live in frames, which page the replacement policy gives up when
 * room is needed, and how it leaves — an anonymous or shmem page to a swap slot (written only when
 * dirty or never written before), a clean file page simply dropped. A later access brings it back:
 * a major fault that reads the slot (or the file).
 *
 * Every user page (anonymous, file cache, shmem) occupies one policy slot; page tables and kernel
 * pages are not evictable. The policy sees every access the kernel serves (`touch`): for policies a
 * real kernel can run this is what the accessed bit gives, provided clearing it also drops the TLB
 * entry so the next access sets it again; oracles (exact LRU, OPT) need it as is.
 *
 * `userFrameLimit` caps the frames user pages may hold (page tables are counted apart), so that a
 * single process replaying a page stream faults exactly as a pure cache simulation with that many
 * slots and the same policy.
 */
import { invariant } from '../base/errors.js';
import { FRAME_ANON, FRAME_FILE, FRAME_SHMEM } from './frames.js';
import type { Kernel } from './kernel.js';
import type { MemObject } from './memobject.js';
import { NEVER, NO_PAGE, type PolicyOptions, type ReplacementPolicy } from './reclaim/policy.js';
import { createPolicy, type PolicyName } from './reclaim/registry.js';

/**
 * The identity a policy knows a page by (policies with ghosts remember pages that left, so it must
 * be the page, not its frame): an anonymous page is (pid, virtual page), a file or shmem page is
 * (object, index), in two ranges below 2^53.
 */
export function anonPageId(pid: number, vpn: number): number {
  return pid * 2 ** 36 + vpn;
}

export function objectPageId(objectId: number, index: number): number {
  return 2 ** 52 + objectId * 2 ** 32 + index;
}

export interface ReclaimConfig {
  readonly policy: PolicyName;
  readonly policyOptions?: PolicyOptions;
  /** Most frames user pages may hold; 0 = all of RAM. */
  readonly userFrameLimit?: number;
  /** Reclaim ahead until this many frames are free (0: only when an allocation finds none). */
  readonly lowWatermark?: number;
}

export interface ReclaimStats {
  /** Pages given up to make room. */
  evictions: number;
  /** Pages written to swap because they were dirty (or had no copy there). */
  writebacks: number;
  /** Clean file pages dropped (their file still has them). */
  dropped: number;
  /** Pages read back from swap. */
  swapIns: number;
  /** Processes the OOM killer ended. */
  oomKills: number;
}

export class Reclaim {
  readonly policy: ReplacementPolicy;
  readonly capacity: number;
  readonly lowWatermark: number;
  /** pfn → policy slot, or -1 for a frame the policy does not hold. */
  readonly slotOf: Int32Array;
  /** slot → pfn. */
  readonly pfnOf: Int32Array;
  /** The page identity held in each frame (see {@link anonPageId}). */
  private readonly pageIdOf: Float64Array;
  private readonly freeSlots: Int32Array;
  private freeTop: number;
  /** Frames that must not be evicted right now (a copy in progress), by count. */
  private readonly pinned: Uint8Array;
  /** The policy's clock: one tick per access the kernel serves. */
  now = 0;
  /** The next use of the page being accessed, for oracles; the replay loop sets it per access. */
  nextUse = NEVER;
  readonly stats: ReclaimStats = { evictions: 0, writebacks: 0, dropped: 0, swapIns: 0, oomKills: 0 };
  /** Pages handed to the policy so far (an access that inserted one is not also a touch). */
  inserts = 0;
  private readonly k: Kernel;

  constructor(k: Kernel, config: ReclaimConfig) {
    this.k = k;
    const frames = k.frames.frameCount;
    this.capacity =
      config.userFrameLimit && config.userFrameLimit > 0 ? Math.min(config.userFrameLimit, frames) : frames;
    this.lowWatermark = config.lowWatermark ?? 0;
    this.policy = createPolicy(config.policy, this.capacity, config.policyOptions ?? {});
    this.slotOf = new Int32Array(frames).fill(-1);
    this.pageIdOf = new Float64Array(frames).fill(NO_PAGE);
    this.pinned = new Uint8Array(frames);
    this.pfnOf = new Int32Array(this.capacity).fill(-1);
    this.freeSlots = new Int32Array(this.capacity);
    for (let i = 0; i < this.capacity; i++) this.freeSlots[i] = this.capacity - 1 - i;
    this.freeTop = this.capacity;
  }

  /** User pages held. */
  get tracked(): number {
    return this.capacity - this.freeTop;
  }

  /**
   * The user page `page` (its identity) just arrived in `pfn`, on its first access (a write or not).
   * The caller made room.
   */
  track(pfn: number, write: boolean, page: number): void {
    invariant(this.freeTop > 0, 'reclaim: no free slot (room was not made)');
    const slot = this.freeSlots[--this.freeTop]!;
    this.slotOf[pfn] = slot;
    this.pfnOf[slot] = pfn;
    this.pageIdOf[pfn] = page;
    this.inserts++;
    this.policy.insert(slot, page, this.now, write ? 1 : 0, this.nextUse);
  }

  /** Keeps `pfn` from being evicted until {@link unpin}. */
  pin(pfn: number): void {
    this.pinned[pfn]!++;
  }

  unpin(pfn: number): void {
    this.pinned[pfn]!--;
  }

  /** `pfn` leaves for a reason other than replacement (unmap, exit). */
  untrack(pfn: number): void {
    const slot = this.slotOf[pfn]!;
    if (slot < 0) return;
    this.policy.remove(slot);
    this.releaseSlot(pfn, slot);
  }

  /** An access the kernel served to `pfn`. Hot: one load and a call. */
  touch(pfn: number, write: number): void {
    const slot = this.slotOf[pfn]!;
    if (slot >= 0) this.policy.touch(slot, this.now, write, this.nextUse);
  }

  private releaseSlot(pfn: number, slot: number): void {
    this.slotOf[pfn] = -1;
    this.pageIdOf[pfn] = NO_PAGE;
    this.pfnOf[slot] = -1;
    this.freeSlots[this.freeTop++] = slot;
  }

  /** Makes room for one more user page, `incoming`. @returns false when nothing can be given up. */
  makeRoom(incoming: number): boolean {
    while (this.tracked >= this.capacity) if (!this.evictOne(incoming)) return false;
    while (this.k.frames.freeFrames < this.lowWatermark && this.tracked > 0)
      if (!this.evictOne(incoming)) break;
    return true;
  }

  /**
   * Gives up one page: the policy's victim, or, when that page cannot leave (anonymous with swap
   * full), the next one. @returns false when no page can leave.
   */
  evictOne(incoming: number = NO_PAGE): boolean {
    for (let tries = this.tracked; tries > 0; tries--) {
      const slot = this.policy.victim(this.now, incoming);
      const pfn = this.pfnOf[slot]!;
      invariant(pfn >= 0, `reclaim: the policy chose empty slot ${slot}`);
      const page = this.pageIdOf[pfn]!;
      this.releaseSlot(pfn, slot);
      if (this.pinned[pfn] === 0 && evictPage(this.k, pfn)) {
        this.stats.evictions++;
        return true;
      }
      this.track(pfn, false, page); // it stays: back in as if new, and try another
    }
    return false;
  }

  /** Problems in the policy or in the frame ↔ slot maps. */
  validate(): string[] {
    const problems = this.policy.validate().map((p) => `policy ${this.policy.name}: ${p}`);
    const f = this.k.frames;
    let held = 0;
    for (let pfn = 0; pfn < f.frameCount; pfn++) {
      const kind = f.kind[pfn];
      const user = kind === FRAME_ANON || kind === FRAME_FILE || kind === FRAME_SHMEM;
      const slot = this.slotOf[pfn]!;
      if (user !== slot >= 0)
        problems.push(
          `frame ${pfn} (${user ? 'a user page' : 'not a user page'}) ${slot >= 0 ? 'holds' : 'lacks'} a policy slot`,
        );
      if (slot >= 0) {
        held++;
        if (this.pfnOf[slot] !== pfn) problems.push(`slot ${slot} does not point back at frame ${pfn}`);
        if (!this.policy.isResident(slot))
          problems.push(`slot ${slot} of frame ${pfn} is not resident in the policy`);
      }
    }
    if (held !== this.tracked) problems.push(`${held} frames hold slots, ${this.tracked} slots are taken`);
    if (this.policy.resident !== this.tracked)
      problems.push(`the policy holds ${this.policy.resident} pages, the kernel ${this.tracked}`);
    return problems;
  }
}

/** Removes every mapping of a file or shmem page. */
function unmapObjectPage(k: Kernel, obj: MemObject, index: number, pfn: number): void {
  const fmt = k.machine.arch.pte;
  const mmu = k.machine.mmu;
  for (const proc of k.processes.values()) {
    const mm = proc.mm;
    if (mm === null) continue;
    for (const vma of mm.vmas) {
      if (vma.object !== obj) continue;
      const pages = (vma.end - vma.start) / k.pageSize;
      if (index < vma.pgoff || index >= vma.pgoff + pages) continue;
      const vpn = vma.start / k.pageSize + (index - vma.pgoff);
      const entryPa = k.pageTables.leafEntry(mm, proc.pid, vpn, { allocate: false });
      if (entryPa < 0) continue;
      const lo = mmu.readLo(entryPa);
      const hi = mmu.readHi(entryPa);
      if ((lo & (fmt.present | fmt.swProtNone)) === 0 || fmt.pfnOf(lo, hi) !== pfn) continue;
      mmu.writeEntry(entryPa, 0, 0);
      k.frames.mapcount[pfn]!--;
      k.frames.refcount[pfn]!--;
      k.addRss(mm, pfn, -1);
      k.flushTlbRange(mm, vpn, vpn + 1);
    }
  }
}

/**
 * Evicts the page in `pfn`, which the policy no longer holds. @returns false (nothing changed) when
 * it cannot leave: an anonymous or shmem page with no swap slot to go to.
 */
function evictPage(k: Kernel, pfn: number): boolean {
  const f = k.frames;
  const fmt = k.machine.arch.pte;
  const mmu = k.machine.mmu;
  const swap = k.swap;
  const kind = f.kind[pfn];
  if (kind === FRAME_ANON) {
    const proc = k.processes.get(f.owner[pfn]!);
    const mm = proc?.mm;
    invariant(
      proc !== undefined && mm !== null && mm !== undefined,
      `reclaim: anonymous frame ${pfn} has no live owner`,
    );
    const vpn = Math.floor(f.rmapVa[pfn]! / k.pageSize);
    const entryPa = k.pageTables.leafEntry(mm, proc.pid, vpn, { allocate: false });
    invariant(entryPa >= 0, `reclaim: anonymous frame ${pfn} is not mapped at its rmap address`);
    const lo = mmu.readLo(entryPa);
    invariant(fmt.pfnOf(lo, mmu.readHi(entryPa)) === pfn, `reclaim: rmap of frame ${pfn} is stale`);
    const dirty = fmt.dirty === 0 || (lo & fmt.dirty) !== 0;
    let slot = f.swapSlot[pfn]!;
    if (slot < 0 && !dirty) {
      // Zero-filled and never written: nothing to keep; the next access zero-fills it again.
      mmu.writeEntry(entryPa, 0, 0);
      f.mapcount[pfn]!--;
      k.addRss(mm, pfn, -1);
      k.flushTlbRange(mm, vpn, vpn + 1);
      if (k.sink)
        k.sink.push({ type: 'swap-out', pid: proc.pid, va: vpn * k.pageSize, pfn, slot: -1, written: false });
      k.putPage(pfn);
      return true;
    }
    if (dirty) {
      if (slot < 0) {
        if (swap === null) return false;
        slot = swap.alloc();
        if (slot < 0) return false;
        f.swapSlot[pfn] = slot;
      }
      swap!.write(slot, k.machine.mem.frame(pfn));
      k.reclaim.stats.writebacks++;
    }
    swap!.get(slot); // the page-table entry's reference
    mmu.writeEntry(entryPa, fmt.encodeLo(slot, fmt.swSwap), fmt.encodeHi(slot, false));
    f.mapcount[pfn]!--;
    k.addRss(mm, pfn, -1);
    mm.swapEnts++;
    k.flushTlbRange(mm, vpn, vpn + 1);
    if (k.sink)
      k.sink.push({ type: 'swap-out', pid: proc.pid, va: vpn * k.pageSize, pfn, slot, written: dirty });
    k.putPage(pfn); // frees it, and its swap-cache reference
    return true;
  }
  const obj = k.objects.get(f.objectId[pfn]!);
  invariant(obj !== undefined, `reclaim: page-cache frame ${pfn} has no object`);
  const index = f.objectIndex[pfn]!;
  if (kind === FRAME_SHMEM) {
    if (swap === null) return false;
    const slot = swap.alloc();
    if (slot < 0) return false;
    swap.write(slot, k.machine.mem.frame(pfn));
    k.reclaim.stats.writebacks++;
    obj.swapped.set(index, slot);
  } else {
    k.reclaim.stats.dropped++;
  }
  unmapObjectPage(k, obj, index, pfn);
  obj.pages.delete(index);
  if (k.sink) k.sink.push({ type: 'page-out', pfn, object: obj.path, index, toSwap: kind === FRAME_SHMEM });
  k.putPage(pfn);
  return true;
}
