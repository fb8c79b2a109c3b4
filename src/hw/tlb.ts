/**
 * A set-associative, ASID-tagged TLB kept as parallel typed arrays (struct of arrays). A lookup is a
 * scan of one set's ways; replacement within a set is least-recently-used. The MMU inlines the lookup
 * on its hot path; this class owns filling and invalidation.
 */
import { invariant } from '../base/errors.js';
import { isPowerOfTwo } from '../base/units.js';

/** Permission bits cached in an entry (`perm`). `TLB_D` means the PTE's dirty bit is already set. */
export const TLB_R = 1;
export const TLB_W = 2;
export const TLB_X = 4;
export const TLB_U = 8;
export const TLB_D = 16;

/** One entry as the UI and tests see it. */
export interface TlbEntryView {
  readonly index: number;
  readonly set: number;
  readonly way: number;
  readonly vpn: number;
  readonly asid: number;
  readonly pfn: number;
  readonly perm: number;
}

export class Tlb {
  readonly entryCount: number;
  readonly ways: number;
  readonly sets: number;
  readonly setMask: number;
  /** Tag: virtual page number, or -1 for an invalid entry. */
  readonly vpn: Float64Array;
  readonly asid: Int32Array;
  readonly pfn: Float64Array;
  readonly perm: Uint8Array;
  /** LRU stamp per entry (larger = more recent). */
  readonly stamp: Float64Array;
  tick = 0;
  /** Entries dropped by invalidation, and full flushes, for the statistics. */
  invalidations = 0;
  flushes = 0;
  /** Valid entries replaced to make room. */
  evictions = 0;

  /**
   * @param entryCount total entries; @param ways associativity. `entryCount / ways` sets, a power of two.
   */
  constructor(entryCount: number, ways: number) {
    invariant(entryCount > 0 && ways > 0 && entryCount % ways === 0, 'tlb: ways must divide entries');
    invariant(isPowerOfTwo(entryCount / ways), 'tlb: the number of sets must be a power of two');
    this.entryCount = entryCount;
    this.ways = ways;
    this.sets = entryCount / ways;
    this.setMask = this.sets - 1;
    this.vpn = new Float64Array(entryCount).fill(-1);
    this.asid = new Int32Array(entryCount);
    this.pfn = new Float64Array(entryCount);
    this.perm = new Uint8Array(entryCount);
    this.stamp = new Float64Array(entryCount);
  }

  /** Index of the entry for (`vpn`, `asid`), or -1. No side effects. */
  find(vpn: number, asid: number): number {
    const base = (vpn & this.setMask) * this.ways;
    for (let i = base; i < base + this.ways; i++) {
      if (this.vpn[i] === vpn && this.asid[i] === asid) return i;
    }
    return -1;
  }

  /** Installs a translation, replacing the same tag or else an invalid or the least recently used way. */
  fill(vpn: number, asid: number, pfn: number, perm: number): number {
    const base = (vpn & this.setMask) * this.ways;
    let victim = this.find(vpn, asid);
    if (victim < 0) {
      victim = base;
      for (let i = base; i < base + this.ways; i++) {
        if (this.vpn[i] === -1) {
          victim = i;
          break;
        }
        if (this.stamp[i]! < this.stamp[victim]!) victim = i;
      }
      if (this.vpn[victim] !== -1) this.evictions++;
    }
    this.vpn[victim] = vpn;
    this.asid[victim] = asid;
    this.pfn[victim] = pfn;
    this.perm[victim] = perm;
    this.stamp[victim] = ++this.tick;
    return victim;
  }

  /** Drops the entry for one page (like `invlpg`). */
  invalidatePage(asid: number, vpn: number): void {
    const i = this.find(vpn, asid);
    if (i >= 0) {
      this.vpn[i] = -1;
      this.invalidations++;
    }
  }

  /** Drops every entry of `asid` whose page lies in [startVpn, endVpn). */
  invalidateRange(asid: number, startVpn: number, endVpn: number): void {
    if (endVpn - startVpn <= this.ways * 2) {
      for (let v = startVpn; v < endVpn; v++) this.invalidatePage(asid, v);
      return;
    }
    for (let i = 0; i < this.entryCount; i++) {
      const v = this.vpn[i]!;
      if (v >= startVpn && v < endVpn && this.asid[i] === asid) {
        this.vpn[i] = -1;
        this.invalidations++;
      }
    }
  }

  /** Drops every entry of one address space (exit, or ASID reuse). */
  invalidateAsid(asid: number): void {
    for (let i = 0; i < this.entryCount; i++) {
      if (this.vpn[i] !== -1 && this.asid[i] === asid) {
        this.vpn[i] = -1;
        this.invalidations++;
      }
    }
  }

  /** Drops everything. */
  flushAll(): void {
    this.vpn.fill(-1);
    this.flushes++;
  }

  /** Valid entries, for display and the coherence check. */
  entries(): TlbEntryView[] {
    const out: TlbEntryView[] = [];
    for (let i = 0; i < this.entryCount; i++) {
      const vpn = this.vpn[i]!;
      if (vpn === -1) continue;
      out.push({
        index: i,
        set: Math.floor(i / this.ways),
        way: i % this.ways,
        vpn,
        asid: this.asid[i]!,
        pfn: this.pfn[i]!,
        perm: this.perm[i]!,
      });
    }
    return out;
  }
}

/** `rwxud` style text for an entry's permission bits. */
export function formatTlbPerm(perm: number): string {
  return (
    (perm & TLB_R ? 'r' : '-') +
    (perm & TLB_W ? 'w' : '-') +
    (perm & TLB_X ? 'x' : '-') +
    (perm & TLB_U ? 'u' : '-') +
    (perm & TLB_D ? 'd' : '-')
  );
}
