/**
 * The pure cache simulation of a page stream: N slots, one replacement policy, no MMU, TLB or page
 * tables (`vmscope replay --policy-only`). For a single process, its fault count is what the full
 * system gives with `--frames N` and the same policy.
 *
 * Every access is a hit (the page is resident: the policy's `touch`) or a fault (a free slot, or
 * the policy's victim, takes the page: `insert`). A fault on a page never seen before is *cold*
 * (a minor fault in the full system); the others re-fetch an evicted page (major). A written page is
 * dirty until it leaves; evicting it is a write-back.
 *
 * Streams come in batches (`run(pages, writes, count)`), so a trace is never held whole. The page →
 * slot table is an open-addressing hash in typed arrays (`kernel/reclaim/idmap.ts`), sized for N.
 *
 * Oracles (OPT) need each access's next use: pass it with each batch (`run`'s `next`; the CLI
 * computes it from a copy of the stream on disk, or reads it from an oracleGeneral trace), or run
 * the stream once through a {@link NextUseBuilder} and give its result to {@link CacheSim.setFuture}
 * (2 bytes per access in memory, {@link NextUses}: for traces that fit, a test, a textbook string).
 */
import { InputError, invariant } from '../base/errors.js';
import { EMPTY_KEY, emptyBucket, hashPageId, PageIdMap, tableBitsFor } from '../kernel/reclaim/idmap.js';
import { FAR, NEVER, type PolicyOptions, type ReplacementPolicy } from '../kernel/reclaim/policy.js';
import { createPolicy } from '../kernel/reclaim/registry.js';

/** What a replay counted. `hits + faults === accesses`; `coldFaults ≤ faults`. */
export interface CacheStats {
  readonly frames: number;
  readonly policy: string;
  readonly accesses: number;
  readonly hits: number;
  readonly faults: number;
  /** Faults on pages never seen before (minor in the full system). */
  readonly coldFaults: number;
  /** Pages replaced to make room. */
  readonly evictions: number;
  /** Evicted pages that were dirty. */
  readonly writebacks: number;
  /** Distinct pages seen (0 when cold faults are not tracked). */
  readonly distinctPages: number;
}

export interface CacheSimOptions {
  /** Count cold faults and distinct pages (a table of every page seen; default true). */
  readonly trackCold?: boolean;
}

export class CacheSim {
  readonly policy: ReplacementPolicy;
  readonly frames: number;
  /** Slot → resident page id, or -1. */
  readonly pageOf: Float64Array;
  /** Time of the next access (the index of the next access in the stream). */
  now = 0;
  hits = 0;
  faults = 0;
  coldFaults = 0;
  evictions = 0;
  writebacks = 0;
  /** The page the latest fault evicted, or -1 (after `access()`: what that access evicted). */
  lastVictim = -1;
  // The page → slot table, laid out as a PageIdMap (idmap.ts) but held here: PageIdMap's general
  // `set` and `delete` in `fault` cost a fault-heavy replay (MRU) about 10%.
  private readonly keys: Float64Array;
  private readonly slotAt: Int32Array;
  private readonly shift: number;
  private readonly mask: number;
  private readonly dirty: Uint8Array;
  private readonly freeSlots: Int32Array;
  private freeTop = 0;
  private readonly seen: PageIdMap | null;
  private future: NextUses | null = null;
  // The memo of the last two distinct pages (see runPlain); -1 = empty.
  private memoPage0 = -1;
  private memoSlot0 = -1;
  private memoPage1 = -1;
  private memoSlot1 = -1;
  private readonly onePage = new Float64Array(1);
  private readonly oneWrite = new Uint8Array(1);
  private scratchNext = new Float64Array(0);

  constructor(policy: ReplacementPolicy, options: CacheSimOptions = {}) {
    this.policy = policy;
    this.frames = policy.capacity;
    const bits = tableBitsFor(this.frames);
    this.shift = 32 - bits;
    this.mask = (1 << bits) - 1;
    this.keys = new Float64Array(1 << bits);
    this.slotAt = new Int32Array(1 << bits);
    this.pageOf = new Float64Array(this.frames);
    this.dirty = new Uint8Array(this.frames);
    this.freeSlots = new Int32Array(this.frames);
    this.seen = options.trackCold === false ? null : new PageIdMap(1024);
    // The policy is taken as it is (a randomized one may come with its generator advanced).
    this.clear();
  }

  /**
   * Gives the next-use time of every access the simulation will run (from a {@link NextUseBuilder}
   * over the same stream). Required before `run` when the policy `needsFuture`.
   */
  setFuture(nextUse: NextUses): void {
    this.future = nextUse;
  }

  get accesses(): number {
    return this.now;
  }

  /**
   * Replays `count` accesses: `pages[i]` (page ids, non-negative safe integers), written when
   * `writes?.[i]` is non-zero. A policy that needs the future reads `next[i]`, the time of the
   * page's next access (`NEVER` when none), or else the future given to {@link setFuture}. Batches
   * may be any size; the arrays are only read.
   */
  run(pages: Float64Array, writes: Uint8Array | null, count: number, next: Float64Array | null = null): void {
    if (this.policy.needsFuture) this.runWithNext(pages, writes, next ?? this.nextFromFuture(count), count);
    else this.runPlain(pages, writes, count);
  }

  /** The next uses of the coming `count` accesses, from the future given to {@link setFuture}. */
  private nextFromFuture(count: number): Float64Array {
    const future = this.future;
    invariant(
      future !== null && future.length >= this.now + count,
      `cachesim: policy ${this.policy.name} needs next uses for every access (setFuture, or run's next)`,
    );
    if (this.scratchNext.length < count) this.scratchNext = new Float64Array(count);
    const next = this.scratchNext;
    const dist = future.distance;
    const t = this.now;
    for (let i = 0; i < count; i++) {
      const d = dist[t + i]!;
      next[i] = d === 0 ? NEVER : d !== FAR ? t + i + d : future.at(t + i);
    }
    return next;
  }

  /** One access (for stepping and tests). @returns true on a hit; `lastVictim` tells what it evicted. */
  access(page: number, write = 0): boolean {
    this.lastVictim = -1;
    const hitsBefore = this.hits;
    this.onePage[0] = page;
    this.oneWrite[0] = write;
    this.run(this.onePage, this.oneWrite, 1);
    return this.hits > hitsBefore;
  }

  // Both loops keep a memo of the last two distinct pages and their slots in locals: most accesses
  // of real programs go to one of them (an instruction page and a data page, alternating), and
  // then the hash table is not consulted. A fault refreshes the memo and clears an evicted page.
  // The two differ only in each access's next use. They stay two copies on purpose: one loop that
  // tests on every access whether there is a future ran OPT's replay 3-4% slower (bench/policies.ts).

  private runPlain(pages: Float64Array, writes: Uint8Array | null, count: number): void {
    const policy = this.policy;
    const dirty = this.dirty;
    let page0 = this.memoPage0;
    let slot0 = this.memoSlot0;
    let page1 = this.memoPage1;
    let slot1 = this.memoSlot1;
    let now = this.now;
    let hits = 0;
    for (let i = 0; i < count; i++) {
      const page = pages[i]!;
      const w = writes === null ? 0 : writes[i]!;
      let slot: number;
      if (page === page0) {
        slot = slot0;
      } else {
        if (page === page1) slot = slot1;
        else slot = this.lookup(page);
        if (slot < 0) {
          slot = this.fault(page, w, now, NEVER);
          const victim = this.lastVictim;
          if (victim === page1) page1 = -1;
          else if (victim === page0) page0 = -1;
          page1 = page0;
          slot1 = slot0;
          page0 = page;
          slot0 = slot;
          now++;
          continue;
        }
        page1 = page0;
        slot1 = slot0;
        page0 = page;
        slot0 = slot;
      }
      hits++;
      if (w !== 0) dirty[slot] = 1;
      policy.touch(slot, now, w, NEVER);
      now++;
    }
    this.memoPage0 = page0;
    this.memoSlot0 = slot0;
    this.memoPage1 = page1;
    this.memoSlot1 = slot1;
    this.hits += hits;
    this.now = now;
  }

  private runWithNext(
    pages: Float64Array,
    writes: Uint8Array | null,
    next: Float64Array,
    count: number,
  ): void {
    const policy = this.policy;
    const dirty = this.dirty;
    let page0 = this.memoPage0;
    let slot0 = this.memoSlot0;
    let page1 = this.memoPage1;
    let slot1 = this.memoSlot1;
    let now = this.now;
    let hits = 0;
    for (let i = 0; i < count; i++) {
      const page = pages[i]!;
      const w = writes === null ? 0 : writes[i]!;
      const nextUse = next[i]!;
      let slot: number;
      if (page === page0) {
        slot = slot0;
      } else {
        if (page === page1) slot = slot1;
        else slot = this.lookup(page);
        if (slot < 0) {
          slot = this.fault(page, w, now, nextUse);
          const victim = this.lastVictim;
          if (victim === page1) page1 = -1;
          else if (victim === page0) page0 = -1;
          page1 = page0;
          slot1 = slot0;
          page0 = page;
          slot0 = slot;
          now++;
          continue;
        }
        page1 = page0;
        slot1 = slot0;
        page0 = page;
        slot0 = slot;
      }
      hits++;
      if (w !== 0) dirty[slot] = 1;
      policy.touch(slot, now, w, nextUse);
      now++;
    }
    this.memoPage0 = page0;
    this.memoSlot0 = slot0;
    this.memoPage1 = page1;
    this.memoSlot1 = slot1;
    this.hits += hits;
    this.now = now;
  }

  /** The slot holding `page`, or -1. */
  private lookup(page: number): number {
    const keys = this.keys;
    const mask = this.mask;
    let h = hashPageId(page) >>> this.shift;
    for (;;) {
      const k = keys[h]!;
      if (k === page) return this.slotAt[h]!;
      if (k === EMPTY_KEY) return -1;
      h = (h + 1) & mask;
    }
  }

  /** A miss on `page`: take a free slot or the policy's victim. @returns the page's slot. */
  private fault(page: number, w: number, now: number, nextUse: number): number {
    this.faults++;
    if (this.seen !== null && this.seen.getOrAdd(page, 0) < 0) this.coldFaults++;
    let slot: number;
    if (this.freeTop > 0) {
      slot = this.freeSlots[--this.freeTop]!;
      this.lastVictim = -1;
    } else {
      slot = this.policy.victim(now, page);
      const old = this.pageOf[slot]!;
      invariant(old >= 0, 'cachesim: the policy chose a free slot');
      this.evictions++;
      if (this.dirty[slot] !== 0) this.writebacks++;
      this.lastVictim = old;
      this.tableDelete(old);
    }
    let h = hashPageId(page) >>> this.shift;
    while (this.keys[h] !== EMPTY_KEY) h = (h + 1) & this.mask;
    this.keys[h] = page;
    this.slotAt[h] = slot;
    this.pageOf[slot] = page;
    this.dirty[slot] = w === 0 ? 0 : 1;
    this.policy.insert(slot, page, now, w, nextUse);
    return slot;
  }

  /** Removes resident `page` from the table. */
  private tableDelete(page: number): void {
    const keys = this.keys;
    const mask = this.mask;
    let i = hashPageId(page) >>> this.shift;
    while (keys[i] !== page) i = (i + 1) & mask;
    emptyBucket(keys, this.slotAt, this.shift, i);
  }

  /** The slot holding `page`, or -1. Slow path. */
  slotOf(page: number): number {
    return this.lookup(page);
  }

  /** Resident page ids in the policy's display order (`ReplacementPolicy.order`). */
  residentPages(): number[] {
    return this.policy.order().map((slot) => this.pageOf[slot]!);
  }

  /** True when the page is resident and has been written since it came in. */
  isDirty(page: number): boolean {
    const slot = this.slotOf(page);
    return slot >= 0 && this.dirty[slot] === 1;
  }

  stats(): CacheStats {
    return {
      frames: this.frames,
      policy: this.policy.name,
      accesses: this.now,
      hits: this.hits,
      faults: this.faults,
      coldFaults: this.coldFaults,
      evictions: this.evictions,
      writebacks: this.writebacks,
      distinctPages: this.seen === null ? 0 : this.seen.size,
    };
  }

  /** Empties the cache and the counters, and resets the policy; keeps the future. */
  reset(): void {
    this.policy.reset();
    this.clear();
  }

  private clear(): void {
    invariant(this.policy.resident === 0, 'cachesim: the policy must start empty');
    this.keys.fill(EMPTY_KEY);
    this.pageOf.fill(-1);
    this.dirty.fill(0);
    this.freeTop = 0;
    for (let s = this.frames - 1; s >= 0; s--) this.freeSlots[this.freeTop++] = s;
    this.seen?.clear();
    this.memoPage0 = -1;
    this.memoPage1 = -1;
    this.now = 0;
    this.hits = 0;
    this.faults = 0;
    this.coldFaults = 0;
    this.evictions = 0;
    this.writebacks = 0;
    this.lastVictim = -1;
  }

  /**
   * Cross-checks the table, the slots and the policy (for tests and `--check`).
   * @returns every inconsistency found; empty when sound.
   */
  validate(): string[] {
    const errors = this.policy.validate();
    let resident = 0;
    for (let s = 0; s < this.frames; s++) {
      const page = this.pageOf[s]!;
      if (page < 0) {
        if (this.policy.isResident(s)) errors.push(`cachesim: slot ${s} is free but the policy holds it`);
        continue;
      }
      resident++;
      if (this.slotOf(page) !== s) errors.push(`cachesim: page ${page} in slot ${s} is not in the table`);
      if (!this.policy.isResident(s)) errors.push(`cachesim: slot ${s} holds page ${page} the policy lost`);
    }
    if (resident !== this.policy.resident) {
      errors.push(`cachesim: ${resident} slots hold pages, the policy counts ${this.policy.resident}`);
    }
    if (resident + this.freeTop !== this.frames) errors.push('cachesim: slots leaked');
    let entries = 0;
    for (let i = 0; i < this.keys.length; i++) if (this.keys[i] !== EMPTY_KEY) entries++;
    if (entries !== resident)
      errors.push(`cachesim: ${entries} table entries for ${resident} resident pages`);
    if (this.hits + this.faults !== this.now) errors.push('cachesim: hits + faults != accesses');
    return errors;
  }
}

/**
 * The next use of every access of a stream, 2 bytes per access: `distance[t]` is how many accesses
 * later the page of access t is accessed again — 0 when never, `FAR` when 65535 or more, in which
 * case a hash table keyed by t has it (rare in real traces: under 0.1% of the corpus's accesses).
 * Half the memory of plain 32-bit times; first touches of fresh memory are a large part of the
 * first pass's cost.
 */
export class NextUses {
  readonly length: number;
  readonly distance: Uint16Array;
  private readonly far: PageIdMap;

  constructor(length: number, distance: Uint16Array, far: PageIdMap) {
    this.length = length;
    this.distance = distance;
    this.far = far;
  }

  /** The far distances as [access index, distance] pairs (to send them to a worker). */
  farPairs(): [number, number][] {
    return this.far.entries();
  }

  /** The time of the next access to the page of access `t`, or `NEVER`. */
  at(t: number): number {
    const d = this.distance[t]!;
    if (d === 0) return NEVER;
    if (d !== FAR) return t + d;
    return t + this.far.get(t);
  }
}

/**
 * The first pass for oracles: the next use of every access of a stream (see {@link NextUses}).
 * Memory: 2 bytes per access, a table of the distinct pages, and one for far distances; streams of
 * at most 2^31 − 1 accesses. Give `expectedAccesses` when it is known or can be bounded (a file's
 * size): reserving more than is used is free (pages never touched are never faulted in), while
 * growing copies what is there.
 */
export class NextUseBuilder {
  /** Accesses seen. */
  count = 0;
  private distance: Uint16Array;
  private readonly far = new PageIdMap(1024);
  private readonly ids = new PageIdMap(1024);
  /** Dense page id → index of its latest access. */
  private last = new Int32Array(1024);
  // The last two distinct pages and their dense ids.
  private page0 = -1;
  private id0 = -1;
  private page1 = -1;
  private id1 = -1;

  constructor(expectedAccesses = 1 << 20) {
    this.distance = new Uint16Array(Math.max(16, expectedAccesses));
  }

  /** Distinct pages seen. */
  get distinctPages(): number {
    return this.ids.size;
  }

  push(pages: Float64Array, count: number): void {
    if (this.count + count > this.distance.length) this.growTo(this.count + count);
    if (this.count + count > MAX_OPT_ACCESSES) {
      throw new InputError(
        'replay',
        `the trace has more than ${MAX_OPT_ACCESSES} accesses: too long for OPT`,
        {
          file: '--policy',
        },
      );
    }
    const distance = this.distance;
    let last = this.last;
    let page0 = this.page0;
    let id0 = this.id0;
    let page1 = this.page1;
    let id1 = this.id1;
    let t = this.count;
    for (let i = 0; i < count; i++, t++) {
      const page = pages[i]!;
      let id: number;
      if (page === page0) {
        id = id0;
      } else {
        if (page === page1) {
          id = id1;
        } else {
          id = this.idOf(page, t);
          last = this.last;
          if (id < 0) {
            // A new page: its first access links to nothing before it.
            page1 = page0;
            id1 = id0;
            page0 = page;
            id0 = -1 - id;
            continue;
          }
        }
        page1 = page0;
        id1 = id0;
        page0 = page;
        id0 = id;
      }
      const prev = last[id]!;
      const d = t - prev;
      if (d < FAR) distance[prev] = d;
      else {
        distance[prev] = FAR;
        this.far.set(prev, d);
      }
      last[id] = t;
    }
    this.page0 = page0;
    this.id0 = id0;
    this.page1 = page1;
    this.id1 = id1;
    this.count = t;
  }

  /** The dense id of `page`, or, for a new page, -1 - its new id (its first access is at `t`). */
  private idOf(page: number, t: number): number {
    const fresh = this.ids.size;
    const id = this.ids.getOrAdd(page, fresh);
    if (id >= 0) return id;
    if (fresh >= this.last.length) {
      const bigger = new Int32Array(this.last.length * 2);
      bigger.set(this.last);
      this.last = bigger;
    }
    this.last[fresh] = t;
    return -1 - fresh;
  }

  /** The next uses of the accesses so far. */
  finish(): NextUses {
    return new NextUses(this.count, this.distance.subarray(0, this.count), this.far);
  }

  /** Grows 4× at a time: untouched memory costs nothing, copies and first touches do. */
  private growTo(n: number): void {
    let size = this.distance.length;
    while (size < n) size *= 4;
    const bigger = new Uint16Array(size);
    bigger.set(this.distance.subarray(0, this.count));
    this.distance = bigger;
  }
}

/** The longest stream OPT can replay (next-use distances are kept as int32). */
export const MAX_OPT_ACCESSES = 0x7fffffff;

/** What {@link replayPages} needs besides the stream. */
export interface ReplaySpec {
  readonly policy: string;
  readonly frames: number;
  readonly options?: PolicyOptions;
  /** Write flags per access (non-zero = write). */
  readonly writes?: ArrayLike<number>;
}

/**
 * Replays a page-reference string held in memory (a textbook exercise, a test), computing next
 * uses first when the policy needs them.
 * @throws InputError for an unknown policy or bad frame count.
 */
export function replayPages(refs: ArrayLike<number>, spec: ReplaySpec): CacheStats {
  const sim = new CacheSim(createPolicy(spec.policy, spec.frames, spec.options));
  const pages = Float64Array.from(refs);
  const writes = spec.writes ? Uint8Array.from(spec.writes) : null;
  if (sim.policy.needsFuture) {
    const b = new NextUseBuilder(pages.length);
    b.push(pages, pages.length);
    sim.setFuture(b.finish());
  }
  sim.run(pages, writes, pages.length);
  return sim.stats();
}
