/**
 * Who maps a frame, read from the frames view the worker sends (engine/protocol.ts `FramesView`):
 * the one mapper of a frame mapped once, every mapper of a shared one (kept apart, in pfn order), and
 * what kind of sharing it is — copy-on-write anonymous memory, page-cache pages of a file or of
 * shared memory mapped by several, the shared zero page — for the frame grid's colours and the
 * address-space highlights.
 */

/** The part of the frames view these functions read. */
export interface MapperTable {
  readonly kinds: Uint8Array;
  readonly mapcount: Int32Array;
  readonly mapPid: Int32Array;
  readonly mapVpn: Float64Array;
  readonly sharedPfns: Int32Array;
  readonly sharedStart: Int32Array;
  readonly mapperPids: Int32Array;
  readonly mapperVpns: Float64Array;
  readonly zeroPfn: number;
  readonly zeroMappers: number;
}

/** One page-table entry mapping a frame: the address space (by its pid) and the virtual page. */
export interface Mapper {
  readonly pid: number;
  readonly vpn: number;
}

/** Where `pfn`'s mappers are listed among the shared frames, or -1 when it is mapped at most once. */
export function sharedIndex(t: MapperTable, pfn: number): number {
  const a = t.sharedPfns;
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < pfn) lo = mid + 1;
    else hi = mid;
  }
  return lo < a.length && a[lo] === pfn ? lo : -1;
}

/** Every mapper of `pfn` (for the zero page: the first ones listed), in pid then address order. */
export function mappersOf(t: MapperTable, pfn: number): Mapper[] {
  const i = sharedIndex(t, pfn);
  if (i >= 0) {
    const out: Mapper[] = [];
    for (let j = t.sharedStart[i]!; j < t.sharedStart[i + 1]!; j++)
      out.push({ pid: t.mapperPids[j]!, vpn: t.mapperVpns[j]! });
    return out;
  }
  const pid = t.mapPid[pfn] ?? -1;
  return pid >= 0 ? [{ pid, vpn: t.mapVpn[pfn]! }] : [];
}

/** How many page-table entries map `pfn` (the zero page's are counted apart: Linux counts it nowhere). */
export function mapperCount(t: MapperTable, pfn: number): number {
  return pfn === t.zeroPfn ? t.zeroMappers : (t.mapcount[pfn] ?? 0);
}

/** A frame's sharing, for colour. */
export const SHARE_NONE = 0;
/** Anonymous memory mapped by several (after fork, until one side writes). */
export const SHARE_COW = 1;
/** A page-cache page (file, shmem, the kernel's vdso) mapped more than once. */
export const SHARE_CACHE = 2;
/** The shared zero page, mapped by reads of untouched memory. */
export const SHARE_ZERO = 3;
/** A page-cache page no one maps (still cached). */
export const SHARE_UNMAPPED = 4;
export type ShareClass = 0 | 1 | 2 | 3 | 4;

/** Frame kinds, as the kernel numbers them (kernel/frames.ts). */
const ANON = 2;
const FILE = 3;
const SHMEM = 4;
const KERNEL = 5;

export function shareClass(kind: number, mapcount: number, isZeroPage: boolean): ShareClass {
  if (isZeroPage) return SHARE_ZERO;
  if (kind === ANON) return mapcount >= 2 ? SHARE_COW : SHARE_NONE;
  if (kind === FILE || kind === SHMEM || kind === KERNEL) {
    if (mapcount >= 2) return SHARE_CACHE;
    return mapcount === 0 && kind !== KERNEL ? SHARE_UNMAPPED : SHARE_NONE;
  }
  return SHARE_NONE;
}

/** How many frames of each sharing class there are (the zero page counts as shared while mapped). */
export function shareCounts(t: MapperTable): Record<ShareClass, number> {
  const c: Record<ShareClass, number> = { 0: 0, 1: 0, 2: 0, 3: 0, 4: 0 };
  const n = t.kinds.length;
  for (let pfn = 0; pfn < n; pfn++) {
    const kind = t.kinds[pfn]!;
    if (kind === 0 || kind === 1) continue;
    c[shareClass(kind, t.mapcount[pfn]!, pfn === t.zeroPfn && t.zeroMappers > 0)]++;
  }
  return c;
}

/**
 * One byte per frame: 1 where some mapper satisfies `test` (the frames a selected VMA or process
 * maps, whoever else maps them too). Frames mapped once cost one test each.
 */
export function mapperMask(t: MapperTable, test: (pid: number, vpn: number) => boolean): Uint8Array {
  const n = t.kinds.length;
  const mask = new Uint8Array(n);
  for (let pfn = 0; pfn < n; pfn++) {
    const pid = t.mapPid[pfn]!;
    if (pid >= 0 && test(pid, t.mapVpn[pfn]!)) mask[pfn] = 1;
  }
  for (let i = 0; i < t.sharedPfns.length; i++) {
    const pfn = t.sharedPfns[i]!;
    if (mask[pfn] === 1) continue;
    for (let j = t.sharedStart[i]!; j < t.sharedStart[i + 1]!; j++) {
      if (test(t.mapperPids[j]!, t.mapperVpns[j]!)) {
        mask[pfn] = 1;
        break;
      }
    }
  }
  return mask;
}
