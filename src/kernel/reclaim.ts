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
import { createPolicy } from './reclaim/registry.js';

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

/** Where victims come from: any process's pages, or only the faulting process's own. */
export type ReclaimScope = 'global' | 'local';
/**
 * How local replacement shares the frames: equally; in proportion to each process's footprint
 * (pages it has touched); or by page-fault frequency, growing a process's share while its fault
 * rate is above `pffHigh` and shrinking it while below `pffLow`.
 */
export type FrameAllocation = 'equal' | 'proportional' | 'pff';

export interface ReclaimConfig {
  /** A built-in policy's name, or a registered plug-in's key (see `reclaim/registry.ts`). */
  readonly policy: string;
  readonly policyOptions?: PolicyOptions;
  /** Most frames user pages may hold; 0 = all of RAM. */
  readonly userFrameLimit?: number;
  /** Reclaim ahead until this many frames are free (0: only when an allocation finds none). */
  readonly lowWatermark?: number;
  readonly scope?: ReclaimScope;
  readonly allocation?: FrameAllocation;
  /** PFF: accesses per measuring window, and the fault-rate band (faults per access). */
  readonly pffWindow?: number;
  readonly pffLow?: number;
  readonly pffHigh?: number;
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

/**
 * One replacement domain: a policy over slots, the frames in them, and (local scope) the process it
 * belongs to and the frames it is allowed.
 */
class PolicySet {
  readonly policy: ReplacementPolicy;
  readonly pfnOf: Int32Array;
  readonly freeSlots: Int32Array;
  freeTop: number;
  /** Frames this set may hold (local scope); the whole capacity otherwise. */
  allocation: number;
  /** The process (local scope), or -1 (global). */
  readonly pid: number;
  /** Pages it brought in since it started (its footprint, for proportional allocation). */
  inserted = 0;
  /** PFF: accesses and faults in the current window. */
  windowAccesses = 0;
  windowFaults = 0;

  constructor(policy: ReplacementPolicy, pid: number) {
    const n = policy.capacity;
    this.policy = policy;
    this.pid = pid;
    this.allocation = n;
    this.pfnOf = new Int32Array(n).fill(-1);
    this.freeSlots = new Int32Array(n);
    for (let i = 0; i < n; i++) this.freeSlots[i] = n - 1 - i;
    this.freeTop = n;
  }

  get resident(): number {
    return this.policy.capacity - this.freeTop;
  }
}

export class Reclaim {
  readonly capacity: number;
  readonly lowWatermark: number;
  readonly scope: ReclaimScope;
  readonly allocation: FrameAllocation;
  /** pfn → slot in its set, or -1 for a frame no policy holds. */
  readonly slotOf: Int32Array;
  /** pfn → index of its set in {@link sets}. */
  private readonly setOf: Int16Array;
  /** The page identity held in each frame (see {@link anonPageId}). */
  private readonly pageIdOf: Float64Array;
  /** Frames that must not be evicted right now (a copy in progress), by count. */
  private readonly pinned: Uint8Array;
  /** Replacement domains: one (global), or one per process (local); index by `setOf`. */
  readonly sets: (PolicySet | null)[] = [];
  private readonly setByPid = new Map<number, number>();
  private held = 0;
  /** The policy's clock: one tick per access the kernel serves. */
  now = 0;
  /** The next use of the page being accessed, for oracles; the replay loop sets it per access. */
  nextUse = NEVER;
  readonly stats: ReclaimStats = { evictions: 0, writebacks: 0, dropped: 0, swapIns: 0, oomKills: 0 };
  /** Pages handed to a policy so far (an access that inserted one is not also a touch). */
  inserts = 0;
  private readonly k: Kernel;
  private readonly config: ReclaimConfig;

  constructor(k: Kernel, config: ReclaimConfig) {
    this.k = k;
    this.config = config;
    const frames = k.frames.frameCount;
    this.capacity =
      config.userFrameLimit && config.userFrameLimit > 0 ? Math.min(config.userFrameLimit, frames) : frames;
    this.lowWatermark = config.lowWatermark ?? 0;
    this.scope = config.scope ?? 'global';
    this.allocation = config.allocation ?? 'equal';
    this.slotOf = new Int32Array(frames).fill(-1);
    this.setOf = new Int16Array(frames).fill(-1);
    this.pageIdOf = new Float64Array(frames).fill(NO_PAGE);
    this.pinned = new Uint8Array(frames);
    if (this.scope === 'global') this.sets.push(new PolicySet(this.newPolicy(), -1));
  }

  private newPolicy(): ReplacementPolicy {
    return createPolicy(this.config.policy, this.capacity, this.config.policyOptions ?? {});
  }

  /** The policy (global scope), or the first process's (local): for its name and kind. */
  get policy(): ReplacementPolicy {
    return (this.sets.find((s) => s !== null) ?? new PolicySet(this.newPolicy(), -1)).policy;
  }

  /** User pages held. */
  get tracked(): number {
    return this.held;
  }

  /** The frames each process may hold under local replacement (pid → frames). */
  allocations(): Map<number, number> {
    const out = new Map<number, number>();
    for (const s of this.sets) if (s !== null && s.pid >= 0) out.set(s.pid, s.allocation);
    return out;
  }

  /** The set a page charged to `pid` goes to. */
  private setIndexFor(pid: number): number {
    if (this.scope === 'global') return 0;
    const known = this.setByPid.get(pid);
    if (known !== undefined) return known;
    let i = this.sets.indexOf(null);
    if (i < 0) i = this.sets.length;
    this.sets[i] = new PolicySet(this.newPolicy(), pid);
    this.setByPid.set(pid, i);
    this.rebalance();
    return i;
  }

  /** A process has ended: its set goes (its pages are already gone), the others share its frames. */
  processGone(pid: number): void {
    const i = this.setByPid.get(pid);
    if (i === undefined) return;
    invariant(this.sets[i]!.resident === 0, `reclaim: pid ${pid} ended with pages still held`);
    this.sets[i] = null;
    this.setByPid.delete(pid);
    this.rebalance();
  }

  /** Recomputes the allocations of local replacement (equal or proportional shares of the capacity). */
  private rebalance(): void {
    const live = this.sets.filter((s): s is PolicySet => s !== null);
    if (this.scope === 'global' || live.length === 0) return;
    if (this.allocation === 'proportional') {
      const total = live.reduce((sum, s) => sum + Math.max(1, s.inserted), 0);
      for (const s of live)
        s.allocation = Math.max(1, Math.floor((this.capacity * Math.max(1, s.inserted)) / total));
    } else if (this.allocation === 'equal' || live.every((s) => s.allocation === this.capacity)) {
      const share = Math.floor(this.capacity / live.length);
      live.forEach((s, j) => {
        s.allocation = Math.max(1, share + (j < this.capacity % live.length ? 1 : 0));
      });
    } else {
      // PFF keeps the shares it grew; a newcomer gets what is unallocated, at least one frame.
      const used = live.reduce((sum, s) => sum + (s.allocation === this.capacity ? 0 : s.allocation), 0);
      for (const s of live)
        if (s.allocation === this.capacity) s.allocation = Math.max(1, this.capacity - used);
    }
  }

  /**
   * The user page `page` (its identity), charged to process `pid`, just arrived in `pfn` on its first
   * access (a write or not). The caller made room.
   */
  track(pfn: number, write: boolean, page: number, pid = -1): void {
    const si = this.setIndexFor(pid);
    const set = this.sets[si]!;
    invariant(set.freeTop > 0, 'reclaim: no free slot (room was not made)');
    const slot = set.freeSlots[--set.freeTop]!;
    this.slotOf[pfn] = slot;
    this.setOf[pfn] = si;
    set.pfnOf[slot] = pfn;
    this.pageIdOf[pfn] = page;
    this.held++;
    this.inserts++;
    set.inserted++;
    set.policy.insert(slot, page, this.now, write ? 1 : 0, this.nextUse);
    if (this.scope === 'local') {
      set.windowFaults++;
      this.countAccess(set);
      // Footprints change as pages arrive: refresh proportional shares now and then.
      if (this.allocation === 'proportional' && (set.inserted & 63) === 0) this.rebalance();
    }
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
    const set = this.sets[this.setOf[pfn]!]!;
    set.policy.remove(slot);
    this.releaseSlot(set, pfn, slot);
  }

  /** An access the kernel served to `pfn`. Hot: two loads and a call. */
  touch(pfn: number, write: number): void {
    const slot = this.slotOf[pfn]!;
    if (slot < 0) return;
    const set = this.sets[this.setOf[pfn]!]!;
    set.policy.touch(slot, this.now, write, this.nextUse);
    if (this.allocation === 'pff') this.countAccess(set);
  }

  /** PFF bookkeeping: one more access in the set's window; at its end, adjust the share. */
  private countAccess(set: PolicySet): void {
    if (this.allocation === 'pff' && ++set.windowAccesses >= (this.config.pffWindow ?? 1000))
      this.pffAdjust(set);
  }

  /** PFF: at the end of a window, grow a share that faults too often, shrink one that rarely does. */
  private pffAdjust(set: PolicySet): void {
    const rate = set.windowFaults / set.windowAccesses;
    set.windowAccesses = 0;
    set.windowFaults = 0;
    const live = this.sets.filter((s): s is PolicySet => s !== null);
    const allocated = live.reduce((sum, s) => sum + s.allocation, 0);
    if (rate > (this.config.pffHigh ?? 0.02)) {
      if (allocated < this.capacity) set.allocation++;
      else {
        // Take a frame from the process that needs it least (the largest share that is not this one).
        const donor = live
          .filter((s) => s !== set && s.allocation > 1)
          .sort((a, b) => b.allocation - a.allocation)[0];
        if (donor) {
          donor.allocation--;
          set.allocation++;
        }
      }
    } else if (rate < (this.config.pffLow ?? 0.005) && set.allocation > 1) {
      // Frames a process does not need go back at once (Linux-like reclaim would age them out).
      set.allocation--;
      while (set.resident > set.allocation) if (!this.evictFrom(set, NO_PAGE)) break;
    }
  }

  private releaseSlot(set: PolicySet, pfn: number, slot: number): void {
    this.slotOf[pfn] = -1;
    this.setOf[pfn] = -1;
    this.pageIdOf[pfn] = NO_PAGE;
    set.pfnOf[slot] = -1;
    set.freeSlots[set.freeTop++] = slot;
    this.held--;
  }

  /**
   * Makes room for one more user page, `incoming`, charged to `pid`: under local replacement the
   * victim comes from that process's own pages while it is at its allocation.
   * @returns false when nothing can be given up.
   */
  makeRoom(incoming: number, pid = -1): boolean {
    if (this.scope === 'local') {
      const set = this.sets[this.setIndexFor(pid)]!;
      while (set.resident >= set.allocation && set.resident > 0) if (!this.evictFrom(set, incoming)) break;
      if (set.resident >= set.policy.capacity) return false;
    }
    while (this.held >= this.capacity) if (!this.evictOne(incoming)) return false;
    while (this.k.frames.freeFrames < this.lowWatermark && this.held > 0) if (!this.evictOne(incoming)) break;
    return true;
  }

  /**
   * Gives up one page from the set most over its allocation (the only set, globally): the policy's
   * victim, or, when that page cannot leave (anonymous with swap full), the next one.
   * @returns false when no page can leave.
   */
  evictOne(incoming: number = NO_PAGE): boolean {
    const candidates = this.sets
      .filter((s): s is PolicySet => s !== null && s.resident > 0)
      .sort((a, b) => b.resident - b.allocation - (a.resident - a.allocation) || b.resident - a.resident);
    for (const set of candidates) if (this.evictFrom(set, incoming)) return true;
    return false;
  }

  private evictFrom(set: PolicySet, incoming: number): boolean {
    for (let tries = set.resident; tries > 0; tries--) {
      const slot = set.policy.victim(this.now, incoming);
      const pfn = set.pfnOf[slot]!;
      invariant(pfn >= 0, `reclaim: the policy chose empty slot ${slot}`);
      const page = this.pageIdOf[pfn]!;
      const si = this.setOf[pfn]!;
      this.releaseSlot(set, pfn, slot);
      if (this.pinned[pfn] === 0 && evictPage(this.k, pfn)) {
        this.stats.evictions++;
        return true;
      }
      // It stays: back in as if new, and try another.
      const again = set.freeSlots[--set.freeTop]!;
      this.slotOf[pfn] = again;
      this.setOf[pfn] = si;
      set.pfnOf[again] = pfn;
      this.pageIdOf[pfn] = page;
      this.held++;
      set.policy.insert(again, page, this.now, 0, this.nextUse);
    }
    return false;
  }

  /** Problems in the policies or in the frame ↔ slot maps. */
  validate(): string[] {
    const problems: string[] = [];
    for (const s of this.sets)
      if (s) problems.push(...s.policy.validate().map((p) => `policy ${s.policy.name}: ${p}`));
    const f = this.k.frames;
    let held = 0;
    for (let pfn = 0; pfn < f.frameCount; pfn++) {
      const kind = f.kind[pfn];
      const user = kind === FRAME_ANON || kind === FRAME_FILE || kind === FRAME_SHMEM;
      const slot = this.slotOf[pfn]!;
      if (user !== slot >= 0) {
        problems.push(
          `frame ${pfn} (${user ? 'a user page' : 'not a user page'}) ${slot >= 0 ? 'holds' : 'lacks'} a policy slot`,
        );
      }
      if (slot < 0) continue;
      held++;
      const set = this.sets[this.setOf[pfn]!];
      if (!set) {
        problems.push(`frame ${pfn} belongs to a set that is gone`);
        continue;
      }
      if (set.pfnOf[slot] !== pfn) problems.push(`slot ${slot} does not point back at frame ${pfn}`);
      if (!set.policy.isResident(slot))
        problems.push(`slot ${slot} of frame ${pfn} is not resident in its policy`);
    }
    if (held !== this.held) problems.push(`${held} frames hold slots, ${this.held} are counted`);
    const inPolicies = this.sets.reduce((sum, s) => sum + (s ? s.policy.resident : 0), 0);
    if (inPolicies !== this.held)
      problems.push(`the policies hold ${inPolicies} pages, the kernel ${this.held}`);
    if (this.held > this.capacity)
      problems.push(`${this.held} user pages held, over the cap of ${this.capacity}`);
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
