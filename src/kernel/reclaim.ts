/**
 * Memory pressure: which user pages live in frames, and which page the replacement policy gives up
 * when room is needed. How a page leaves (to swap, written back, dropped) is vmscan's business: this
 * file talks to it through one narrow call, {@link Evictor}.
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
import { FRAME_ANON, FRAME_FILE, FRAME_SHMEM, type FrameTable } from './frames.js';
import { NEVER, NO_PAGE, type PolicyOptions, type ReplacementPolicy } from './reclaim/policy.js';
import { createPolicy } from './reclaim/registry.js';

/**
 * What reclaim needs from the rest of the kernel: take one page out of memory (unmap it from every
 * mapper, write it where it must go, free the frame), and say whose page a frame is now.
 */
export interface Evictor {
  /** Evicts the user page in `pfn`, which no policy holds any more. @returns false when it cannot leave. */
  evict(pfn: number): boolean;
  /** A process that maps `pfn` now, other than `gone` (by thread-group id), or -1. */
  otherUser(pfn: number, gone: number): number;
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
  private readonly frames: FrameTable;
  private readonly config: ReclaimConfig;
  /** Set by the kernel at boot (vmscan). */
  evictor: Evictor | null = null;

  constructor(frames: FrameTable, config: ReclaimConfig) {
    this.frames = frames;
    this.config = config;
    const frameCount = frames.frameCount;
    this.capacity =
      config.userFrameLimit && config.userFrameLimit > 0
        ? Math.min(config.userFrameLimit, frameCount)
        : frameCount;
    this.lowWatermark = config.lowWatermark ?? 0;
    this.scope = config.scope ?? 'global';
    this.allocation = config.allocation ?? 'equal';
    this.slotOf = new Int32Array(frameCount).fill(-1);
    this.setOf = new Int16Array(frameCount).fill(-1);
    this.pageIdOf = new Float64Array(frameCount).fill(NO_PAGE);
    this.pinned = new Uint8Array(frameCount);
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

  /**
   * A process has ended: its set goes, the others share its frames. Pages still charged to it (page
   * cache or memory shared with another process) move to a process that maps them, or leave.
   */
  processGone(pid: number): void {
    const i = this.setByPid.get(pid);
    if (i === undefined) return;
    const set = this.sets[i]!;
    for (let slot = 0; slot < set.pfnOf.length; slot++) {
      const pfn = set.pfnOf[slot]!;
      if (pfn < 0) continue;
      const page = this.pageIdOf[pfn]!;
      set.policy.remove(slot);
      this.releaseSlot(set, pfn, slot);
      const heir = this.evictor!.otherUser(pfn, pid);
      if (heir >= 0) {
        this.track(pfn, false, page, heir);
        this.inserts--; // a move, not an arrival
      } else if (this.evictor!.evict(pfn)) {
        this.stats.evictions++;
      } else {
        // It cannot leave (no swap): it stays, charged to the whole machine's first other process.
        const other = [...this.setByPid.keys()].find((p) => p !== pid);
        invariant(other !== undefined, `reclaim: pid ${pid} ended holding frame ${pfn}, which cannot leave`);
        this.track(pfn, false, page, other);
        this.inserts--;
      }
    }
    invariant(set.resident === 0, `reclaim: pid ${pid} ended with pages still held`);
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

  /**
   * Accesses the MMU served from the TLB, in order: frame `pfns[i]` for `i` in [from, to), written
   * where `writes[i]` is 1, next use `next[i]` (`NEVER` without `next`). Exactly `touch` then one tick
   * of the clock for each; under global replacement the policy is held in a local for the whole run.
   */
  touchRun(pfns: Int32Array, writes: Uint8Array, next: Float64Array | null, from: number, to: number): void {
    if (from >= to) return;
    if (this.scope !== 'global' || this.allocation === 'pff') {
      for (let i = from; i < to; i++) {
        if (next !== null) this.nextUse = next[i]!;
        this.touch(pfns[i]!, writes[i]!);
        this.now++;
      }
      return;
    }
    const policy = this.sets[0]!.policy;
    const slotOf = this.slotOf;
    let now = this.now;
    if (next === null) {
      const nextUse = this.nextUse;
      for (let i = from; i < to; i++) {
        const slot = slotOf[pfns[i]!]!;
        if (slot >= 0) policy.touch(slot, now, writes[i]!, nextUse);
        now++;
      }
    } else {
      for (let i = from; i < to; i++) {
        const slot = slotOf[pfns[i]!]!;
        if (slot >= 0) policy.touch(slot, now, writes[i]!, next[i]!);
        now++;
      }
      this.nextUse = next[to - 1]!;
    }
    this.now = now;
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
    while (this.frames.freeFrames < this.lowWatermark && this.held > 0) if (!this.evictOne(incoming)) break;
    return true;
  }

  /**
   * Gives up one page from the set most over its allocation (the only set, globally): the policy's
   * victim, or, when that page cannot leave (anonymous with swap full), the next one.
   * @returns false when no page can leave.
   */
  evictOne(incoming: number = NO_PAGE): boolean {
    if (this.sets.length === 1) {
      // Global replacement: the one set (no list to build per eviction).
      const set = this.sets[0]!;
      return set !== null && set.resident > 0 && this.evictFrom(set, incoming);
    }
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
      if (pfn < 0) invariant(false, `reclaim: the policy chose empty slot ${slot}`);
      const page = this.pageIdOf[pfn]!;
      const si = this.setOf[pfn]!;
      this.releaseSlot(set, pfn, slot);
      if (this.pinned[pfn] === 0 && this.evictor!.evict(pfn)) {
        this.stats.evictions++;
        return true;
      }
      // It stays: back in as if new, and try another.
      this.reinsert(set, si, pfn, page);
    }
    return false;
  }

  /**
   * Evicts `pfn` now, whatever the policy thinks (MADV_PAGEOUT). @returns false when it cannot leave
   * (it stays where it was in the policy's order, as if newly arrived).
   */
  pageOut(pfn: number): boolean {
    const slot = this.slotOf[pfn]!;
    if (slot < 0 || this.pinned[pfn]! > 0) return false;
    const si = this.setOf[pfn]!;
    const set = this.sets[si]!;
    const page = this.pageIdOf[pfn]!;
    set.policy.remove(slot);
    this.releaseSlot(set, pfn, slot);
    if (this.evictor!.evict(pfn)) {
      this.stats.evictions++;
      return true;
    }
    this.reinsert(set, si, pfn, page);
    return false;
  }

  /** A page that could not leave goes back into its set, as if it had just arrived. */
  private reinsert(set: PolicySet, si: number, pfn: number, page: number): void {
    const again = set.freeSlots[--set.freeTop]!;
    this.slotOf[pfn] = again;
    this.setOf[pfn] = si;
    set.pfnOf[again] = pfn;
    this.pageIdOf[pfn] = page;
    this.held++;
    set.policy.insert(again, page, this.now, 0, this.nextUse);
  }

  /** Problems in the policies or in the frame ↔ slot maps. */
  validate(): string[] {
    const problems: string[] = [];
    for (const s of this.sets)
      if (s) problems.push(...s.policy.validate().map((p) => `policy ${s.policy.name}: ${p}`));
    const f = this.frames;
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
