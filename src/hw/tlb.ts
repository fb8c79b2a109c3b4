/**
 * A set-associative, ASID-tagged TLB kept as parallel typed arrays (struct of arrays), with exact
 * least-recently-used replacement within a set.
 *
 * The MMU's hit path is one compare: a direct-mapped hint (`front`, indexed by `vpn & frontMask`)
 * names the entry that last served a page number, and `accessKey[access][i]` holds the entry's tag
 * only when it grants that kind of access with no walk. A stale hint fails the compare and the set
 * search, the TLB proper, decides: the hint changes nothing that can be observed.
 *
 * LRU stamps come from the MMU's clock (hits + misses so far), passed in, so that the hit path
 * updates only fields the JIT can keep in registers.
 */
import { invariant } from '../base/errors.js';
import { isPowerOfTwo } from '../base/units.js';

/** Permission bits cached in an entry (`perm`). `TLB_D` means the PTE's dirty bit is already set. */
export const TLB_R = 1;
export const TLB_W = 2;
export const TLB_X = 4;
export const TLB_U = 8;
export const TLB_D = 16;

/**
 * ASIDs are below this; it multiplies the vpn in the lookup key (vpns below 2^MAX_VPN_BITS keep it
 * exact: 36 + 16 bits). The machine checks both when it is built.
 */
export const ASID_SPAN = 65536;

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
  /**
   * Tag of each entry: `vpn * ASID_SPAN + asid`, one exact double, or -1 when invalid. Arrays have one
   * extra slot at `entryCount`, never valid, that stale hints point at.
   */
  readonly key: Float64Array;
  /** Per kind of access (read, write, fetch): the tag when the entry grants that access outright, else -1. */
  readonly accessKey: readonly [Float64Array, Float64Array, Float64Array];
  /**
   * The three `accessKey` arrays end to end in one (kind k's entry i at `k * (entryCount + 1) + i`),
   * for a lookup that picks the kind by arithmetic rather than a branch.
   */
  readonly accessKeys: Float64Array;
  readonly vpn: Float64Array;
  readonly asid: Int32Array;
  readonly pfn: Float64Array;
  /** `pfn * pageSize`: the physical page base, so a hit needs no multiply. */
  readonly base: Float64Array;
  readonly perm: Uint8Array;
  /** LRU stamp per entry (larger = more recent). */
  readonly stamp: Float64Array;
  /** Direct-mapped hint: `vpn & frontMask` → the entry that last served that vpn. */
  readonly front: Int32Array;
  readonly frontMask: number;
  /** A clock for callers that pass no stamp (the TLB used on its own). */
  tick = 0;
  /** Entries dropped by invalidation, full flushes, valid entries replaced to make room. */
  invalidations = 0;
  flushes = 0;
  evictions = 0;
  /** The index of the never-valid slot. */
  readonly none: number;

  /**
   * @param entryCount total entries; @param ways associativity. `entryCount / ways` sets, a power of two.
   */
  /** Bytes per page, for the physical page base (`base`). */
  readonly pageSize: number;

  constructor(entryCount: number, ways: number, pageSize = 4096) {
    invariant(entryCount > 0 && ways > 0 && entryCount % ways === 0, 'tlb: ways must divide entries');
    invariant(isPowerOfTwo(entryCount / ways), 'tlb: the number of sets must be a power of two');
    this.entryCount = entryCount;
    this.ways = ways;
    this.sets = entryCount / ways;
    this.setMask = this.sets - 1;
    this.pageSize = pageSize;
    const n = entryCount + 1;
    this.none = entryCount;
    this.key = new Float64Array(n).fill(-1);
    this.accessKeys = new Float64Array(3 * n).fill(-1);
    this.accessKey = [
      this.accessKeys.subarray(0, n),
      this.accessKeys.subarray(n, 2 * n),
      this.accessKeys.subarray(2 * n, 3 * n),
    ];
    this.vpn = new Float64Array(n).fill(-1);
    this.asid = new Int32Array(n);
    this.pfn = new Float64Array(n);
    this.base = new Float64Array(n);
    this.perm = new Uint8Array(n);
    this.stamp = new Float64Array(n);
    const frontSize = Math.max(1024, 2 ** Math.ceil(Math.log2(entryCount * 4)));
    this.front = new Int32Array(frontSize).fill(entryCount);
    this.frontMask = frontSize - 1;
  }

  /** Index of the entry for (`vpn`, `asid`), or -1. No side effects. */
  find(vpn: number, asid: number): number {
    const first = (vpn & this.setMask) * this.ways;
    const key = vpn * ASID_SPAN + asid;
    for (let i = first; i < first + this.ways; i++) if (this.key[i] === key) return i;
    return -1;
  }

  /**
   * Marks entry `i` (holding page `vpn`) most recently used at time `stamp` and makes it the hint for
   * its page number.
   */
  touch(i: number, vpn: number, stamp: number = ++this.tick): void {
    this.stamp[i] = stamp;
    this.front[vpn & this.frontMask] = i;
  }

  /**
   * Installs a translation, replacing the same tag or else an invalid or the least recently used way.
   * @returns the entry's index. Its per-access keys are the caller's to {@link grant}.
   */
  fill(vpn: number, asid: number, pfn: number, perm: number, stamp: number = ++this.tick): number {
    let victim = this.find(vpn, asid);
    if (victim < 0) {
      const first = (vpn & this.setMask) * this.ways;
      victim = first;
      for (let i = first; i < first + this.ways; i++) {
        if (this.key[i] === -1) {
          victim = i;
          break;
        }
        if (this.stamp[i]! < this.stamp[victim]!) victim = i;
      }
    }
    return this.fillAt(victim, vpn, asid, pfn, perm, stamp);
  }

  /**
   * {@link fill} into the way `victim` its caller chose as fill does (the entry with the same tag, or
   * else the first invalid way, or else the least recently used). @returns `victim`.
   */
  fillAt(victim: number, vpn: number, asid: number, pfn: number, perm: number, stamp: number): number {
    const key = vpn * ASID_SPAN + asid;
    const old = this.key[victim]!;
    if (old !== -1 && old !== key) this.evictions++;
    this.key[victim] = key;
    this.vpn[victim] = vpn;
    this.asid[victim] = asid;
    this.pfn[victim] = pfn;
    this.base[victim] = pfn * this.pageSize;
    this.perm[victim] = perm;
    this.touch(victim, vpn, stamp);
    return victim;
  }

  /**
   * Sets entry `i`'s per-access keys from its permission bits: access kind `a` is granted outright
   * when `(perm & need[a]) === need[a]`.
   */
  grant(i: number, need: Uint8Array): void {
    const key = this.key[i]!;
    const perm = this.perm[i]!;
    const keys = this.accessKey;
    const valid = key !== -1;
    keys[0][i] = valid && (perm & need[0]!) === need[0] ? key : -1;
    keys[1][i] = valid && (perm & need[1]!) === need[1] ? key : -1;
    keys[2][i] = valid && (perm & need[2]!) === need[2] ? key : -1;
  }

  /** Re-grants every entry (after a change of privilege). */
  regrantAll(need: Uint8Array): void {
    for (let i = 0; i < this.entryCount; i++) this.grant(i, need);
  }

  /** Drops the entry for one page (like `invlpg`). */
  invalidatePage(asid: number, vpn: number): void {
    const i = this.find(vpn, asid);
    if (i >= 0) this.drop(i);
  }

  /** Drops every entry of `asid` whose page lies in [startVpn, endVpn). */
  invalidateRange(asid: number, startVpn: number, endVpn: number): void {
    if (endVpn - startVpn <= this.ways * 2) {
      for (let v = startVpn; v < endVpn; v++) this.invalidatePage(asid, v);
      return;
    }
    for (let i = 0; i < this.entryCount; i++) {
      const v = this.vpn[i]!;
      if (v >= startVpn && v < endVpn && this.asid[i] === asid) this.drop(i);
    }
  }

  /** Drops every entry of one address space (exit, or ASID reuse). */
  invalidateAsid(asid: number): void {
    for (let i = 0; i < this.entryCount; i++) if (this.vpn[i] !== -1 && this.asid[i] === asid) this.drop(i);
  }

  /** Drops everything. */
  flushAll(): void {
    this.key.fill(-1);
    for (const k of this.accessKey) k.fill(-1);
    this.vpn.fill(-1);
    this.flushes++;
  }

  private drop(i: number): void {
    this.key[i] = -1;
    this.accessKey[0][i] = -1;
    this.accessKey[1][i] = -1;
    this.accessKey[2][i] = -1;
    this.vpn[i] = -1;
    this.invalidations++;
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
