/**
 * Drawing a 48-bit address space on a screen: VMAs get a height that grows with the log of their
 * size, and the gaps between them (terabytes, often) are compressed to a thin band that says how
 * big they are. High addresses at the top, as textbooks draw it.
 */

export interface Range {
  readonly start: number;
  readonly end: number;
}

export type Row =
  | {
      readonly kind: 'vma';
      readonly index: number;
      readonly start: number;
      readonly end: number;
      readonly y: number;
      readonly h: number;
    }
  | {
      readonly kind: 'gap';
      readonly start: number;
      readonly end: number;
      readonly y: number;
      readonly h: number;
    };

export interface LayoutOptions {
  readonly pageSize: number;
  /** Smallest and largest VMA heights in pixels. */
  readonly minHeight?: number;
  readonly maxHeight?: number;
  /** Height of a compressed gap band. */
  readonly gapHeight?: number;
  /** The first address that is no user address (x86-64: 2^47): a gap across it gets two lines. */
  readonly userVaLimit?: number;
}

/** Height of a VMA of `pages` pages: 40 px for one page, +5 px per doubling, capped. */
export function vmaHeight(pages: number, min = 40, max = 96): number {
  return Math.round(Math.min(max, Math.max(min, min + 5 * Math.log2(Math.max(1, pages)))));
}

/**
 * Rows top-down (highest address first) for VMAs sorted by address, with a gap row wherever two
 * VMAs are not adjacent and one below the lowest VMA (address 0 up to it).
 */
export function layoutAddressSpace(vmas: readonly Range[], o: LayoutOptions): Row[] {
  const gapH = o.gapHeight ?? 18;
  const rows: Row[] = [];
  let y = 0;
  for (let i = vmas.length - 1; i >= 0; i--) {
    const v = vmas[i]!;
    const above = vmas[i + 1];
    if (above !== undefined && above.start > v.end) {
      const h = crossesUserLimit(v.end, above.start, o.userVaLimit) ? 2 * gapH : gapH;
      rows.push({ kind: 'gap', start: v.end, end: above.start, y, h });
      y += h;
    }
    const h = vmaHeight((v.end - v.start) / o.pageSize, o.minHeight, o.maxHeight);
    rows.push({ kind: 'vma', index: i, start: v.start, end: v.end, y, h });
    y += h;
  }
  const lowest = vmas[0];
  if (lowest !== undefined && lowest.start > 0)
    rows.push({ kind: 'gap', start: 0, end: lowest.start, y, h: gapH });
  return rows;
}

function crossesUserLimit(start: number, end: number, limit: number | undefined): boolean {
  return limit !== undefined && start < limit && end > limit;
}

/**
 * What a gap is, in words: unmapped user space, and — when it reaches past the end of user space
 * (x86-64's stack top to `[vsyscall]`) — how much of it the process could map, and that the rest is
 * the non-canonical hole and the kernel's half, which it can never map.
 */
export function gapText(
  start: number,
  end: number,
  userVaLimit: number,
  formatSize: (bytes: number) => string,
): { readonly text: string; readonly title: string } {
  if (!crossesUserLimit(start, end, userVaLimit)) {
    const text = `${formatSize(end - start)} unmapped${start >= userVaLimit ? ' (not user space)' : ''}`;
    return { text, title: text };
  }
  const limit = `0x${userVaLimit.toString(16)}`;
  return {
    text: `${formatSize(userVaLimit - start)} unmapped, then no user space: non-canonical hole, kernel half`,
    title: `${formatSize(userVaLimit - start)} of user space unmapped up to ${limit}; above it the process has no addresses at all — the non-canonical hole, then the kernel's half of the address space, where [vsyscall] is shown`,
  };
}

/** Total height of a layout. */
export function layoutHeight(rows: readonly Row[]): number {
  const last = rows[rows.length - 1];
  return last === undefined ? 0 : last.y + last.h;
}

/**
 * The page-aligned address at height `dy` (0 = top) inside a row drawn `h` pixels high:
 * the top of the row is its highest page.
 */
export function vaAtHeight(row: Range, h: number, dy: number, pageSize: number): number {
  const pages = (row.end - row.start) / pageSize;
  const fromTop = Math.min(pages - 1, Math.max(0, Math.floor((dy / h) * pages)));
  return row.end - (fromTop + 1) * pageSize;
}

/** Height (from the row's top) of the middle of the page holding `va`. */
export function heightOfVa(row: Range, h: number, va: number, pageSize: number): number {
  const pages = (row.end - row.start) / pageSize;
  const fromTop = Math.floor((row.end - 1 - va) / pageSize);
  return ((fromTop + 0.5) / pages) * h;
}

/** Index of the range holding `va` in ranges sorted by start, or -1. */
export function rangeAt(ranges: readonly Range[], va: number): number {
  let lo = 0;
  let hi = ranges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ranges[mid]!.end > va) hi = mid;
    else lo = mid + 1;
  }
  return lo < ranges.length && ranges[lo]!.start <= va ? lo : -1;
}
