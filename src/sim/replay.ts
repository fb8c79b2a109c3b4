/**
 * Full-system replay of page streams: every access goes through the MMU (TLB, walk in simulated
 * RAM), faults through the kernel's fault handler, and memory pressure through reclaim and swap.
 * Each trace is one process whose single rwx VMA spans user space, so every page of the stream is
 * a valid page: faults are demand-zero fills, or swap-ins of pages reclaim wrote out.
 *
 * With one process and `frames` user frames, the fault count equals a pure cache simulation of the
 * same stream with `frames` slots and the same policy (`cachesim.ts`): the policy sees the same
 * inserts, touches and times. Page tables live in frames of their own, beyond that limit.
 */
import { InputError } from '../base/errors.js';
import { hex0x } from '../base/units.js';
import { Machine } from '../hw/machine.js';
import { ACCESS_READ, ACCESS_WRITE, type AccessKind } from '../hw/mmu.js';
import { Kernel } from '../kernel/kernel.js';
import type { Process } from '../kernel/process.js';
import type { PolicyOptions } from '../kernel/reclaim/policy.js';
import type { FrameAllocation, ReclaimScope } from '../kernel/reclaim.js';
import { VM_EXEC, VM_MAY_ALL, VM_NORESERVE, VM_READ, VM_WRITE, Vma } from '../kernel/vma.js';
import { IdPlacement } from './page-ids.js';

// The write flags are the access kinds as they are (a type error if the kinds change).
const KINDS_ARE_BITS: readonly [0, 1] = [ACCESS_READ, ACCESS_WRITE];
void KINDS_ARE_BITS;

export interface SystemReplayOptions {
  /** Frames user pages may hold (the policy's slots). */
  readonly frames: number;
  /** A built-in policy's name, or a registered plug-in's key. */
  readonly policy: string;
  readonly policyOptions?: PolicyOptions;
  readonly tlbEntries: number;
  readonly tlbWays: number;
  /** Swap device size in bytes (default 4 GiB: room for every page a trace dirties). */
  readonly swapBytes?: number;
  /** The processes' names, one per trace. */
  readonly names: readonly string[];
  /**
   * How page ids become addresses: `addresses` — ids are address / page size (lackey); `ids` — opaque
   * ids, every one a page of the process, id 0 included, any up to 2^53 (plain page lists), placed
   * in 512-page blocks as page-ids.ts says.
   */
  readonly addressing: 'addresses' | 'ids';
  /** Replacement scope and, for local replacement, how frames are shared (default global). */
  readonly scope?: ReclaimScope;
  readonly allocation?: FrameAllocation;
  /** Accesses between samples of RSS (the chart); it doubles as the series grows. */
  readonly sampleEvery?: number;
}

export interface ProcessReplayStats {
  readonly name: string;
  readonly pid: number;
  readonly accesses: number;
  readonly faults: number;
  readonly minorFaults: number;
  readonly majorFaults: number;
  readonly state: string;
  /** Why it died, when it did (a page beyond user space, the OOM killer). */
  readonly signal: string | null;
  readonly peakRssPages: number;
  readonly swapPages: number;
  readonly pageTablePages: number;
}

export interface SystemReplayStats {
  readonly mode: 'full-system';
  readonly policy: string;
  readonly frames: number;
  readonly accesses: number;
  readonly hits: number;
  readonly faults: number;
  readonly minorFaults: number;
  readonly majorFaults: number;
  readonly hitRatio: number;
  readonly tlb: {
    readonly hits: number;
    readonly misses: number;
    readonly hitRatio: number;
    readonly walks: number;
    readonly pteReads: number;
  };
  readonly evictions: number;
  readonly writebacks: number;
  readonly swapIns: number;
  readonly droppedFilePages: number;
  readonly oomKills: number;
  readonly processes: readonly ProcessReplayStats[];
}

/** RSS of every process at one moment, in pages. */
export interface RssSample {
  readonly t: number;
  readonly rss: readonly number[];
  readonly faults: number;
}

/** At most this many mappings for a replay process made from a whole trace (see replayRegions). */
export const REPLAY_MAX_VMAS = 64;
/** Untouched pages between two touched ones that are mapped all the same (holes inside one area). */
const REPLAY_MIN_GAP = 16;

/**
 * The mappings a replay process needs for the pages it will touch (`vpns`, virtual page numbers in
 * any order): page ranges `[startVpn, endVpn)` covering every one of them, split at the
 * `maxVmas - 1` widest gaps of more than 16 untouched pages, so that VmSize says how much address space the
 * trace spans (its code, heap, libraries and stack apart) rather than all of user space.
 */
export function replayRegions(vpns: ArrayLike<number>, maxVmas = REPLAY_MAX_VMAS): [number, number][] {
  if (vpns.length === 0) return [];
  const sorted = Float64Array.from(vpns).sort();
  const unique: number[] = [sorted[0]!];
  for (let i = 1; i < sorted.length; i++) if (sorted[i] !== sorted[i - 1]) unique.push(sorted[i]!);
  // Gaps between neighbours (index i: between unique[i-1] and unique[i]), widest first.
  const gaps: number[] = [];
  for (let i = 1; i < unique.length; i++) if (unique[i]! - unique[i - 1]! > REPLAY_MIN_GAP) gaps.push(i);
  gaps.sort((a, b) => unique[b]! - unique[b - 1]! - (unique[a]! - unique[a - 1]!) || a - b);
  const cuts = gaps.slice(0, Math.max(0, maxVmas - 1)).sort((a, b) => a - b);
  const regions: [number, number][] = [];
  let from = 0;
  for (const cut of [...cuts, unique.length]) {
    regions.push([unique[from]!, unique[cut - 1]! + 1]);
    from = cut;
  }
  return regions;
}

/**
 * A process for replaying a trace in `k`: rwx anonymous memory where the trace goes — by default one
 * VMA from mmap_min_addr to TASK_SIZE, so that every page a stream can name is valid; given
 * `regions` (page ranges from {@link replayRegions}), a VMA for each. Its reads of untouched pages
 * take frames (no shared zero page), as in the cache simulation a replay is compared with.
 * @returns null when there is no memory for its tables.
 */
export function addReplayProcess(
  k: Kernel,
  name: string,
  regions: readonly (readonly [number, number])[] | null = null,
): Process | null {
  const pid = k.allocPid();
  const mm = k.newMm(pid);
  if (mm === null) return null;
  const start = mm.layout.dacMmapMinAddr;
  const end = mm.layout.taskSize;
  mm.mmapBase = start;
  mm.forbidsZeroPage = true;
  const flags = VM_READ | VM_WRITE | VM_EXEC | VM_MAY_ALL | VM_NORESERVE;
  const ps = k.pageSize;
  for (const [from, to] of regions ?? [[start / ps, end / ps]]) {
    const lo = Math.max(from * ps, start);
    const hi = Math.min(to * ps, end);
    if (lo < hi) mm.insert(new Vma(lo, hi, flags, lo / ps, null));
  }
  return k.addProcess(name, mm, pid);
}

export class SystemReplay {
  readonly kernel: Kernel;
  readonly procs: Process[] = [];
  readonly accessesBy: number[];
  readonly samples: RssSample[] = [];
  accesses = 0;
  private sampleEvery: number;
  private nextSample: number;
  /** For opaque ids: each process's placement of them; null when ids are addresses / page size. */
  private readonly placements: (IdPlacement | null)[];
  private readonly maxPage: number;
  // Scratch for one batch: page numbers of placed ids, access kinds and frames of TLB hits.
  private vpns = new Float64Array(0);
  private kinds = new Uint8Array(0);
  private pfns = new Int32Array(0);

  constructor(opts: SystemReplayOptions) {
    const pageSize = 4096;
    // Room for the user frames plus page tables (a leaf table maps 512 pages).
    const ramFrames = Math.min(2 ** 20, opts.frames + 4096 + Math.ceil(opts.frames / 64));
    const machine = new Machine({
      arch: 'x86_64',
      ramBytes: ramFrames * pageSize,
      tlbEntries: opts.tlbEntries,
      tlbWays: opts.tlbWays,
    });
    this.kernel = new Kernel(machine, {
      // Every page a trace touches takes a frame, as in the cache simulation it is compared with.
      zeroPage: false,
      swapBytes: opts.swapBytes ?? 4 * 2 ** 30,
      reclaim: {
        policy: opts.policy,
        policyOptions: opts.policyOptions ?? {},
        userFrameLimit: opts.frames,
        scope: opts.scope ?? 'global',
        allocation: opts.allocation ?? 'equal',
      },
    });
    const k = this.kernel;
    const end = k.layout.taskSize;
    this.maxPage = end / pageSize - 1;
    this.placements = opts.names.map(() =>
      opts.addressing === 'ids' ? IdPlacement.forSpace(k.layout, machine.arch) : null,
    );
    for (const name of opts.names) {
      const proc = addReplayProcess(k, name);
      if (proc === null)
        throw new InputError('replay', 'the machine has no memory for another process', { file: name });
      this.procs.push(proc);
    }
    this.accessesBy = opts.names.map(() => 0);
    this.sampleEvery = opts.sampleEvery ?? 10_000;
    this.nextSample = this.sampleEvery;
  }

  /** True while process `p` can still take accesses. */
  alive(p: number): boolean {
    return this.procs[p]!.alive;
  }

  /**
   * Runs `count` accesses of process `p`: `pages[i]`, written where `writes[i]` is non-zero. With
   * `next` (oracles), `next[i]` is the global time of that page's next access (`NEVER` when none).
   * @returns the accesses run (fewer when the process died on the way).
   * @throws InputError for an address beyond user space, or more distinct blocks of ids than the
   *   space holds (`file` names the trace), before any of the batch runs.
   */
  run(
    p: number,
    pages: Float64Array,
    writes: Uint8Array,
    count: number,
    next: Float64Array | null = null,
  ): number {
    const k = this.kernel;
    const proc = this.procs[p]!;
    if (!proc.alive) return 0;
    k.switchTo(proc.mm!);
    const mmu = k.machine.mmu;
    const reclaim = k.reclaim;
    const ps = k.pageSize;
    if (this.pfns.length < count) this.grow(count);
    const pfns = this.pfns;
    const vpns = this.pageNumbers(p, pages, count);
    const kinds = this.accessKinds(writes, count);
    // Runs of TLB hits go through the MMU and then the policy in two tight loops (the order of
    // events is unchanged: a hit changes nothing a later translation or the policy reads); every
    // other access goes one at a time through translate and, on a fault, the kernel. Runs stop at
    // the next RSS sample.
    let i = 0;
    while (i < count) {
      const end = Math.min(count, i + (this.nextSample - this.accesses));
      const hitsEnd = mmu.translateRun(vpns, kinds, pfns, i, end);
      if (hitsEnd > i) {
        reclaim.touchRun(pfns, kinds, next, i, hitsEnd);
        this.accesses += hitsEnd - i;
        i = hitsEnd;
        if (this.accesses === this.nextSample) this.sample();
        if (i === end) continue;
      }
      const access = kinds[i]! as AccessKind;
      if (next !== null) reclaim.nextUse = next[i]!;
      // The kernel's access: one translation (a TLB miss walks once), and on a fault the handler and
      // the retry's walk, as a CPU does; the policy sees a hit as in touchRun.
      if (k.access(proc, vpns[i]! * ps, access) < 0) break; // killed: out of memory, or a page it may not touch
      k.switchTo(proc.mm!);
      i++;
      if (++this.accesses === this.nextSample) this.sample();
    }
    this.accessesBy[p]! += i;
    return i;
  }

  /**
   * Page numbers of the batch, for the MMU; every page checked first.
   * @returns the page numbers: `pages` itself where ids are addresses / page size.
   */
  private pageNumbers(p: number, pages: Float64Array, count: number): Float64Array {
    const proc = this.procs[p]!;
    const placement = this.placements[p]!;
    const maxPage = this.maxPage;
    if (placement === null) {
      for (let i = 0; i < count; i++) {
        const page = pages[i]!;
        if (page > maxPage) throw this.beyondUserSpace(proc, page, this.accessesBy[p]! + i + 1);
      }
      return pages;
    }
    const vpns = this.vpns;
    for (let i = 0; i < count; i++) {
      const vpn = placement.vpn(pages[i]!);
      if (vpn < 0) throw this.spaceFull(proc, placement, this.accessesBy[p]! + i + 1);
      vpns[i] = vpn;
    }
    return vpns;
  }

  /**
   * The access kinds of the batch: `writes` itself when every flag is 0 or 1 (ACCESS_READ and
   * ACCESS_WRITE, as trace readers make them), else ACCESS_WRITE for each non-zero flag.
   */
  private accessKinds(writes: Uint8Array, count: number): Uint8Array {
    let any = 0;
    for (let i = 0; i < count; i++) any |= writes[i]!;
    if (any <= 1) return writes;
    const kinds = this.kinds;
    // Without a branch: reads and writes alternate unpredictably.
    for (let i = 0; i < count; i++) kinds[i] = -writes[i]! >>> 31;
    return kinds;
  }

  private beyondUserSpace(proc: Process, page: number, access: number): InputError {
    const k = this.kernel;
    return new InputError(
      'replay',
      `access ${access}: address ${hex0x(page * k.pageSize)} is beyond user space, which ends at ${hex0x(k.layout.taskSize)}`,
      { file: proc.name },
    );
  }

  private grow(count: number): void {
    this.vpns = new Float64Array(count);
    this.kinds = new Uint8Array(count);
    this.pfns = new Int32Array(count);
  }

  private spaceFull(proc: Process, placement: IdPlacement, access: number): InputError {
    return new InputError(
      'replay',
      `access ${access}: the trace uses more than ${placement.capacity} blocks of ${placement.blockPages} page ids, more than the process's space holds`,
      { file: proc.name },
    );
  }

  private sample(): void {
    let faults = 0;
    const rss = this.procs.map((p) => {
      const mm = p.mm;
      faults += mm ? mm.minflt + mm.majflt : (p.final?.minflt ?? 0) + (p.final?.majflt ?? 0);
      return mm ? mm.rss : 0;
    });
    this.samples.push({ t: this.accesses, rss, faults });
    if (this.samples.length >= 4000) {
      // Keep the series short: every other sample, and sample half as often from now on.
      const kept = this.samples.filter((_, i) => i % 2 === 1);
      this.samples.length = 0;
      this.samples.push(...kept);
      this.sampleEvery *= 2;
    }
    this.nextSample = this.accesses + this.sampleEvery;
  }

  /** The totals so far (call after the last access; processes are left as they are). */
  stats(): SystemReplayStats {
    const k = this.kernel;
    this.sample();
    const mmu = k.machine.mmu;
    let minor = 0;
    let major = 0;
    const processes = this.procs.map((p, i) => {
      const st = k.status(p);
      minor += st.minflt;
      major += st.majflt;
      return {
        name: p.name,
        pid: p.pid,
        accesses: this.accessesBy[i]!,
        faults: st.minflt + st.majflt,
        minorFaults: st.minflt,
        majorFaults: st.majflt,
        state: p.state,
        signal: p.signal?.reason ?? null,
        peakRssPages: st.VmHWM / k.pageSize,
        swapPages: st.VmSwap / k.pageSize,
        pageTablePages: st.VmPTE / k.pageSize,
      };
    });
    const faults = minor + major;
    const tlbTotal = mmu.tlbHits + mmu.tlbMisses;
    const r = k.reclaim.stats;
    return {
      mode: 'full-system',
      policy: k.reclaim.policy.name,
      frames: k.reclaim.capacity,
      accesses: this.accesses,
      hits: this.accesses - faults,
      faults,
      minorFaults: minor,
      majorFaults: major,
      hitRatio: this.accesses === 0 ? 0 : (this.accesses - faults) / this.accesses,
      tlb: {
        hits: mmu.tlbHits,
        misses: mmu.tlbMisses,
        hitRatio: tlbTotal === 0 ? 0 : mmu.tlbHits / tlbTotal,
        walks: mmu.walks,
        pteReads: mmu.pteReads,
      },
      evictions: r.evictions,
      writebacks: r.writebacks,
      swapIns: r.swapIns,
      droppedFilePages: r.dropped,
      oomKills: r.oomKills,
      processes,
    };
  }
}
