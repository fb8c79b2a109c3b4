/**
 * The MMU: translates a virtual address for the running address space (root table + ASID, like CR3
 * with PCID or satp), through the TLB, walking the page tables in simulated RAM on a miss. The walk
 * sets accessed/dirty bits in RAM and checks present, write, user and execute rights. It knows nothing
 * of VMAs: a failed translation fills {@link Mmu.fault} and returns -1, and the kernel decides.
 *
 * `translate` never throws and never allocates.
 */
import type { Arch } from './arch.js';
import type { PhysicalMemory } from './physmem.js';
import type { PteFormat } from './pte.js';
import { TLB_D, TLB_R, TLB_U, TLB_W, TLB_X, type Tlb } from './tlb.js';

/** Kinds of access. */
export const ACCESS_READ = 0;
export const ACCESS_WRITE = 1;
export const ACCESS_EXEC = 2;
export type AccessKind = typeof ACCESS_READ | typeof ACCESS_WRITE | typeof ACCESS_EXEC;
export const ACCESS_NAMES = ['read', 'write', 'fetch'] as const;

/** Why a translation failed. */
export const FAULT_NONE = 0;
/** An entry on the way (or the leaf) has its present/valid bit clear. */
export const FAULT_NOT_PRESENT = 1;
/** The leaf is present but does not grant the access (write, user or execute). */
export const FAULT_PROTECTION = 2;
/** A malformed entry: reserved bit pattern, a frame beyond RAM, a superpage vmscope does not model. */
export const FAULT_RESERVED = 3;
/** The address is outside the translatable user range (x86-64: not canonical, or the kernel half). */
export const FAULT_BAD_ADDRESS = 4;
export type FaultKind = 0 | 1 | 2 | 3 | 4;
export const FAULT_NAMES = ['none', 'not-present', 'protection', 'reserved', 'bad-address'] as const;

/** The one reused record describing the last failed translation. */
export class FaultRecord {
  va = 0;
  access: AccessKind = ACCESS_READ;
  kind: FaultKind = FAULT_NONE;
  /** Level (0 = root) of the entry that stopped the walk; -1 when no walk happened. */
  level = -1;
}

/** One level of a walk, for display (`show pagetable ADDR`, the visualizer). */
export interface WalkStep {
  readonly level: number;
  readonly levelName: string;
  readonly tablePfn: number;
  readonly index: number;
  /** Physical address of the entry. */
  readonly entryPa: number;
  readonly lo: number;
  readonly hi: number;
  readonly leaf: boolean;
}

/** A side-effect-free walk: the steps taken and the result. */
export interface Probe {
  readonly va: number;
  readonly steps: readonly WalkStep[];
  /** Physical address, or -1 when the walk stopped. */
  readonly pa: number;
  readonly fault: FaultKind;
}

export class Mmu {
  readonly arch: Arch;
  readonly mem: PhysicalMemory;
  readonly tlb: Tlb;
  private readonly fmt: PteFormat;
  private readonly pageSize: number;
  /** 1 / pageSize, exact: a multiply instead of a divide on the hot path. */
  private readonly invPageSize: number;
  private readonly levels: number;
  /**
   * Per level: 2^-k, where a shift right by k brings that level's index to the low bits of the vpn
   * (a multiply by a power of two is exact, and quicker than the divide by 2^k it stands for).
   */
  private readonly levelScale: Float64Array;
  private readonly levelMask: Int32Array;
  /** TLB permission bits each access kind needs, for the current privilege. */
  private readonly need = new Uint8Array(3);
  // The TLB's arrays, held directly so that a hit reads no object but `this` (twice as fast).
  private readonly tlbFront: Int32Array;
  private readonly tlbFrontMask: number;
  private readonly tlbReadKey: Float64Array;
  private readonly tlbWriteKey: Float64Array;
  private readonly tlbExecKey: Float64Array;
  private readonly tlbBase: Float64Array;
  private readonly tlbPfn: Float64Array;
  private readonly tlbStamp: Float64Array;

  /** Root page-table frame of the running address space (-1: none). */
  rootPfn = -1;
  asid = 0;
  private user = true;

  /** The TLB's LRU clock: hits + misses so far, so never reset. */
  private clock = 0;
  /** Raw miss counter (hits are `clock - missCount`). */
  private missCount = 0;
  private hitsBase = 0;
  private missesBase = 0;
  walks = 0;
  pteReads = 0;
  readonly fault = new FaultRecord();

  constructor(arch: Arch, mem: PhysicalMemory, tlb: Tlb) {
    this.arch = arch;
    this.mem = mem;
    this.tlb = tlb;
    this.tlbFront = tlb.front;
    this.tlbFrontMask = tlb.frontMask;
    [this.tlbReadKey, this.tlbWriteKey, this.tlbExecKey] = tlb.accessKey;
    this.tlbBase = tlb.base;
    this.tlbPfn = tlb.pfn;
    this.tlbStamp = tlb.stamp;
    this.fmt = arch.pte;
    this.pageSize = arch.pageSize;
    this.invPageSize = 1 / arch.pageSize;
    this.levels = arch.levels;
    this.levelScale = new Float64Array(arch.levels);
    this.levelMask = new Int32Array(arch.levels);
    let below = 0;
    for (let l = arch.levels - 1; l >= 0; l--) {
      this.levelScale[l] = 2 ** -below;
      this.levelMask[l] = 2 ** arch.indexBits[l]! - 1;
      below += arch.indexBits[l]!;
    }
    this.setUserMode(true);
  }

  /** Switches address space (a context switch): the root table and the ASID that tags TLB entries. */
  setContext(rootPfn: number, asid: number): void {
    this.rootPfn = rootPfn;
    this.asid = asid;
  }

  /** User mode checks the user bit; supervisor mode (the kernel touching user memory) does not. */
  setUserMode(user: boolean): void {
    this.user = user;
    const u = user ? TLB_U : 0;
    this.need[ACCESS_READ] = TLB_R | u;
    this.need[ACCESS_WRITE] = TLB_W | TLB_D | u;
    this.need[ACCESS_EXEC] = TLB_X | u;
    this.tlb.regrantAll(this.need);
  }

  /** Index into the level-`level` table for page `vpn`. */
  indexAt(vpn: number, level: number): number {
    return (vpn * this.levelScale[level]!) & this.levelMask[level]!;
  }

  /**
   * Translates `va` for an access of kind `access`.
   * @returns the physical address, or -1 with {@link fault} filled in. Never throws, never allocates.
   */
  translate(va: number, access: AccessKind): number {
    const vpn = Math.floor(va * this.invPageSize);
    const key = vpn * 65536 + this.asid; // ASID_SPAN (tlb.ts), written out: an import is a live binding
    const i = this.tlbFront[vpn & this.tlbFrontMask]!;
    // Inlined where `access` is a constant, this choice folds away.
    const keys = access === 0 ? this.tlbReadKey : access === 1 ? this.tlbWriteKey : this.tlbExecKey;
    if (keys[i] === key) {
      this.tlbStamp[i] = ++this.clock;
      return this.tlbBase[i]! + (va - vpn * this.pageSize);
    }
    return this.slowTranslate(va, vpn, key, access);
  }

  /**
   * Translates the accesses to pages `vpns[from..to)` (kinds `kinds[i]`, each an {@link AccessKind})
   * for as long as each one hits through the TLB's hint — the first test {@link translate} makes —
   * writing each page's frame number to `pfns[i]`. It leaves the TLB and the counters as the same
   * `translate` calls would. Faster than those calls: the TLB's arrays stay in locals for the whole
   * run, where a loop of `translate` reloads them on every access (after its miss path, a call, the
   * JIT can assume nothing about them), and a caller that wants frames needs no divide per access.
   * @returns the index of the first access that is not such a hit (for `translate`), or `to`.
   */
  translateRun(vpns: Float64Array, kinds: Uint8Array, pfns: Int32Array, from: number, to: number): number {
    const asid = this.asid;
    const front = this.tlbFront;
    const frontMask = this.tlbFrontMask;
    const keys = this.tlb.accessKeys;
    const stride = this.tlb.entryCount + 1;
    const pfnOf = this.tlbPfn;
    const stamp = this.tlbStamp;
    let clock = this.clock;
    let i = from;
    for (; i < to; i++) {
      const vpn = vpns[i]!;
      const e = front[vpn & frontMask]!;
      // The kind's key by arithmetic: reads and writes alternate unpredictably, and a branch on the
      // kind was a tenth of the replay's profile.
      if (keys[kinds[i]! * stride + e] !== vpn * 65536 + asid) break;
      stamp[e] = ++clock;
      pfns[i] = pfnOf[e]!;
    }
    this.clock = clock;
    return i;
  }

  /** TLB hits since boot (or the last {@link resetCounters}). */
  get tlbHits(): number {
    return this.clock - this.missCount - this.hitsBase;
  }

  /** TLB misses since boot (or the last {@link resetCounters}); each one is a walk. */
  get tlbMisses(): number {
    return this.missCount - this.missesBase;
  }

  /**
   * Everything but a hinted hit: the set search (a hit there becomes the hint), and on a miss the walk
   * of the tables for `va` (its page `vpn`), which sets A/D in RAM and refills the TLB. One large
   * function on purpose: the JIT does not inline it, so the hit path stays small where it is inlined.
   * @returns the physical address, or -1 with {@link fault} filled in.
   */
  slowTranslate(va: number, vpn: number, key: number, access: AccessKind): number {
    const tlb = this.tlb;
    const tags = tlb.key;
    const stamps = this.tlbStamp;
    const first = (vpn & tlb.setMask) * tlb.ways;
    const end = first + tlb.ways;
    // The set search, which also picks the way a miss fills (as Tlb.fill would): the entry with this
    // tag, or else the first invalid way, or else the least recently used.
    let same = -1;
    let free = -1;
    let lru = first;
    for (let i = first; i < end; i++) {
      const tag = tags[i]!;
      if (tag === key) {
        if (tlb.accessKey[access][i] === key) {
          tlb.touch(i, vpn, ++this.clock);
          return tlb.base[i]! + (va - vpn * this.pageSize);
        }
        same = i; // short of rights or of the dirty bit: walk, and refill this entry
        break;
      }
      if (tag === -1) {
        if (free < 0) free = i;
      } else if (stamps[i]! < stamps[lru]!) lru = i;
    }
    const victim = same >= 0 ? same : free >= 0 ? free : lru;
    this.clock++;
    this.missCount++;
    const fmt = this.fmt;
    const mem = this.mem;
    if (va < 0 || va >= this.arch.userVaLimit || this.rootPfn < 0)
      return this.fail(va, access, FAULT_BAD_ADDRESS, -1);
    this.walks++;
    const pageSize = this.pageSize;
    const last = this.levels - 1;
    let table = this.rootPfn;
    let canWrite = true;
    let canUser = true;
    let noExec = false;
    for (let level = 0; level <= last; level++) {
      const ea = table * pageSize + this.indexAt(vpn, level) * fmt.entryBytes;
      const lo = this.readLo(ea);
      const hi = fmt.entryBytes === 8 ? mem.u32[(ea >>> 2) + 1]! : 0;
      this.pteReads++;
      if ((lo & fmt.present) === 0) return this.fail(va, access, FAULT_NOT_PRESENT, level);
      if (fmt.rightsAtEveryLevel) {
        if ((lo & fmt.write) === 0) canWrite = false;
        if ((lo & fmt.user) === 0) canUser = false;
        if ((hi & fmt.nxHi) !== 0) noExec = true;
      }
      const rights = lo & (fmt.read | fmt.write | fmt.exec);
      const isLeaf = fmt.leafMarkedByRights ? rights !== 0 : level === last;
      if (!isLeaf) {
        if (level === last) return this.fail(va, access, FAULT_RESERVED, level); // RISC-V: pointer at the last level
        if (fmt.rightsAtEveryLevel && (lo & fmt.accessed) === 0) this.writeLo(ea, (lo | fmt.accessed) >>> 0);
        table = fmt.pfnOf(lo, hi);
        if (table >= mem.frameCount) return this.fail(va, access, FAULT_RESERVED, level);
        continue;
      }
      if (level !== last) return this.fail(va, access, FAULT_RESERVED, level); // superpages are not modelled
      if (fmt.leafMarkedByRights && (lo & fmt.write) !== 0 && (lo & fmt.read) === 0) {
        return this.fail(va, access, FAULT_RESERVED, level); // RISC-V: W without R is reserved
      }
      const r = fmt.read === 0 || (lo & fmt.read) !== 0;
      const w = fmt.write === 0 || ((lo & fmt.write) !== 0 && canWrite);
      const u = fmt.user === 0 || ((lo & fmt.user) !== 0 && canUser);
      const x = fmt.exec !== 0 ? (lo & fmt.exec) !== 0 : fmt.nxHi !== 0 ? !noExec : true;
      if (
        (this.user && !u) ||
        (access === ACCESS_READ && !r) ||
        (access === ACCESS_WRITE && !w) ||
        (access === ACCESS_EXEC && !x)
      ) {
        return this.fail(va, access, FAULT_PROTECTION, level);
      }
      const pfn = fmt.pfnOf(lo, hi);
      if (pfn >= mem.frameCount) return this.fail(va, access, FAULT_RESERVED, level);
      let newLo = lo | fmt.accessed;
      if (access === ACCESS_WRITE) newLo |= fmt.dirty;
      newLo >>>= 0;
      if (newLo !== lo) this.writeLo(ea, newLo);
      let perm = 0;
      if (r) perm |= TLB_R;
      if (w) perm |= TLB_W;
      if (x) perm |= TLB_X;
      if (u) perm |= TLB_U;
      if (fmt.dirty === 0 || (newLo & fmt.dirty) !== 0) perm |= TLB_D;
      tlb.grant(tlb.fillAt(victim, vpn, this.asid, pfn, perm, this.clock), this.need);
      return pfn * pageSize + (va - vpn * pageSize);
    }
    return this.fail(va, access, FAULT_RESERVED, last);
  }

  /**
   * Walks the tables of `rootPfn` for `va` without touching anything (no A/D, no TLB, no counters).
   */
  probe(rootPfn: number, va: number): Probe {
    const fmt = this.fmt;
    const steps: WalkStep[] = [];
    if (va < 0 || va >= this.arch.userVaLimit || rootPfn < 0)
      return { va, steps, pa: -1, fault: FAULT_BAD_ADDRESS };
    const vpn = Math.floor(va / this.pageSize);
    const last = this.levels - 1;
    let table = rootPfn;
    for (let level = 0; level <= last; level++) {
      const index = this.indexAt(vpn, level);
      const entryPa = table * this.pageSize + index * fmt.entryBytes;
      const lo = this.readLo(entryPa);
      const hi = fmt.entryBytes === 8 ? this.mem.u32[(entryPa >>> 2) + 1]! : 0;
      const present = (lo & fmt.present) !== 0;
      const rights = lo & (fmt.read | fmt.write | fmt.exec);
      const leaf = present && (fmt.leafMarkedByRights ? rights !== 0 : level === last);
      steps.push({
        level,
        levelName: this.arch.levelNames[level]!,
        tablePfn: table,
        index,
        entryPa,
        lo,
        hi,
        leaf,
      });
      if (!present) return { va, steps, pa: -1, fault: FAULT_NOT_PRESENT };
      const pfn = fmt.pfnOf(lo, hi);
      if (pfn >= this.mem.frameCount || (leaf && level !== last) || (!leaf && level === last)) {
        return { va, steps, pa: -1, fault: FAULT_RESERVED };
      }
      if (leaf) return { va, steps, pa: pfn * this.pageSize + (va - vpn * this.pageSize), fault: FAULT_NONE };
      table = pfn;
    }
    return { va, steps, pa: -1, fault: FAULT_RESERVED };
  }

  /** Reads the low 32 bits (or the whole entry, when narrower) of the entry at `pa`. */
  readLo(pa: number): number {
    switch (this.fmt.entryBytes) {
      case 8:
      case 4:
        return this.mem.u32[pa >>> 2]!;
      case 2:
        return this.mem.u16[pa >>> 1]!;
      default:
        return this.mem.bytes[pa]!;
    }
  }

  /** Reads the high 32 bits of the entry at `pa` (0 for entries of 4 bytes or less). */
  readHi(pa: number): number {
    return this.fmt.entryBytes === 8 ? this.mem.u32[(pa >>> 2) + 1]! : 0;
  }

  writeLo(pa: number, lo: number): void {
    switch (this.fmt.entryBytes) {
      case 8:
      case 4:
        this.mem.u32[pa >>> 2] = lo;
        break;
      case 2:
        this.mem.u16[pa >>> 1] = lo;
        break;
      default:
        this.mem.bytes[pa] = lo;
    }
  }

  /** Writes a whole entry. */
  writeEntry(pa: number, lo: number, hi: number): void {
    this.writeLo(pa, lo);
    if (this.fmt.entryBytes === 8) this.mem.u32[(pa >>> 2) + 1] = hi;
  }

  resetCounters(): void {
    this.hitsBase = this.clock - this.missCount;
    this.missesBase = this.missCount;
    this.walks = 0;
    this.pteReads = 0;
  }

  private fail(va: number, access: AccessKind, kind: FaultKind, level: number): number {
    const f = this.fault;
    f.va = va;
    f.access = access;
    f.kind = kind;
    f.level = level;
    return -1;
  }
}
