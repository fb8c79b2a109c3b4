/**
 * The physical-memory grid: how many frames per row and how big a cell, which frame a pixel is, and
 * each frame's colour (by kind, by owner for the frames a process owns, and by sharing). Colours are packed
 * for a `Uint32Array` over `ImageData` (little-endian: 0xAABBGGRR), so drawing 64 Ki frames is one
 * loop and one `putImageData`.
 */
import {
  SHARE_CACHE,
  SHARE_COW,
  SHARE_NONE,
  SHARE_UNMAPPED,
  SHARE_ZERO,
  type ShareClass,
  shareClass,
} from './sharing.js';

export interface GridGeometry {
  readonly cols: number;
  readonly rows: number;
  readonly cell: number;
}

/**
 * The largest cell (at most `maxCell` px) that fits `frames` frames into `width` × `height`, with a
 * power-of-two row length so that row starts are round frame numbers. Cells are at least 1 px;
 * when even that does not fit the height, the grid is taller than asked.
 */
export function gridGeometry(frames: number, width: number, height: number, maxCell = 16): GridGeometry {
  let best: GridGeometry | null = null;
  for (let cols = 1; ; cols *= 2) {
    const rows = Math.ceil(frames / cols);
    const cell = Math.min(maxCell, Math.floor(width / cols), Math.floor(height / rows));
    // Equal cells: the wider grid (screens are wider than tall).
    if (cell >= 1 && (best === null || cell >= best.cell)) best = { cols, rows, cell };
    if (cols >= frames || cols >= width) break;
  }
  if (best !== null) return best;
  // Not even 1 px per frame fits the height: the widest power of two that fits, taller than asked.
  let cols = 1;
  while (cols * 2 <= width && cols * 2 <= frames) cols *= 2;
  return { cols, rows: Math.ceil(frames / cols), cell: 1 };
}

/** The fewest frames the grid draws of a larger machine: a few rows of cells a student can read. */
export const MIN_SHOWN_FRAMES = 256;

/**
 * How many frames the grid draws: the frames from 0 up to the next power of two at or above every
 * frame in use (and every frame in `also`, such as the selected one), at least
 * {@link MIN_SHOWN_FRAMES}, never more than the machine has. The frame allocator hands out the
 * lowest free frames first, so on a machine far larger than its processes the used frames are a
 * strip at the start; drawing all of them would leave that strip a sliver in a grey field. The
 * frames past the shown part are free by construction.
 */
export function shownFrames(kinds: Uint8Array, also: readonly number[] = []): number {
  const n = kinds.length;
  let top = -1;
  for (let pfn = n - 1; pfn >= 0; pfn--) {
    if (kinds[pfn] !== KIND_FREE) {
      top = pfn;
      break;
    }
  }
  for (const pfn of also) if (pfn < n && pfn > top) top = pfn;
  let shown = MIN_SHOWN_FRAMES;
  while (shown < top + 1) shown *= 2;
  return Math.min(n, shown);
}

/** The frame under pixel (x, y), or -1. */
export function pfnAt(g: GridGeometry, frames: number, x: number, y: number): number {
  const col = Math.floor(x / g.cell);
  const row = Math.floor(y / g.cell);
  if (col < 0 || row < 0 || col >= g.cols || row >= g.rows) return -1;
  const pfn = row * g.cols + col;
  return pfn < frames ? pfn : -1;
}

/** Frame kinds, as the kernel numbers them (kernel/frames.ts). */
export const KIND_FREE = 0;
export const KIND_PAGETABLE = 1;
export const KIND_ANON = 2;
export const KIND_FILE = 3;
export const KIND_SHMEM = 4;
export const KIND_KERNEL = 5;
export const KIND_NAMES = ['free', 'page table', 'anonymous', 'file (page cache)', 'shmem', 'kernel'];

/** Process colours, by pid (pid 1 gets the first). */
export const PROCESS_COLORS = [
  '#4e79a7',
  '#e15759',
  '#59a14f',
  '#b07aa1',
  '#f28e2b',
  '#9c755f',
  '#ff9da7',
  '#7f7f3f',
];

export const KIND_COLORS: Record<number, string> = {
  [KIND_FREE]: '#e9ecef',
  [KIND_PAGETABLE]: '#2f2f46',
  [KIND_ANON]: '#4e79a7',
  [KIND_FILE]: '#c9a227',
  [KIND_SHMEM]: '#1fa8b8',
  [KIND_KERNEL]: '#555555',
};

export function processColor(pid: number): string {
  return PROCESS_COLORS[
    (((pid - 1) % PROCESS_COLORS.length) + PROCESS_COLORS.length) % PROCESS_COLORS.length
  ]!;
}

function rgb(hex: string): [number, number, number] {
  const v = Number.parseInt(hex.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

function pack(r: number, g: number, b: number, a = 255): number {
  return ((a << 24) | (b << 16) | (g << 8) | r) >>> 0;
}

/** Mixes a colour toward white by `t` (0 = as is, 1 = white). */
function fade(c: [number, number, number], t: number): [number, number, number] {
  return [c[0] + (255 - c[0]) * t, c[1] + (255 - c[1]) * t, c[2] + (255 - c[2]) * t].map(Math.round) as [
    number,
    number,
    number,
  ];
}

/** Darkens a colour by `t` (0 = as is, 1 = black). */
function shade(c: [number, number, number], t: number): [number, number, number] {
  return c.map((x) => Math.round(x * (1 - t))) as [number, number, number];
}

/**
 * Shared frames stand apart from everyone's own: anonymous pages still shared copy-on-write after a
 * fork, the shared zero page; page-cache pages are darker when several map them and pale when no one
 * does (still cached).
 */
export const COW_COLOR = '#c026d3';
export const ZERO_PAGE_COLOR = '#84cc16';
/** How much darker a page-cache page mapped by several is, and how much paler one mapped by none. */
const SHARED_SHADE = 0.45;
const UNMAPPED_FADE = 0.6;

/** The CSS colour of a page-cache kind (file, shmem, kernel) mapped by several, or by no one. */
export function cacheColor(kind: number, share: ShareClass): string {
  const c = rgb(KIND_COLORS[kind] ?? '#ff00ff');
  const d =
    share === SHARE_CACHE ? shade(c, SHARED_SHADE) : share === SHARE_UNMAPPED ? fade(c, UNMAPPED_FADE) : c;
  return `rgb(${d[0]}, ${d[1]}, ${d[2]})`;
}

/**
 * The packed colour of a frame: a process's anonymous frames in its colour, its page tables in a
 * dark shade of it, page-cache, shmem and kernel frames in their kind's colour, free frames pale —
 * and shared frames by their sharing (`share`, logic/sharing.ts). `dim` fades it (frames outside the
 * selection).
 */
export function frameColor(
  kind: number,
  owner: number,
  dim: boolean,
  share: ShareClass = SHARE_NONE,
): number {
  let c: [number, number, number];
  if (share === SHARE_ZERO) c = rgb(ZERO_PAGE_COLOR);
  else if (share === SHARE_COW) c = rgb(COW_COLOR);
  else if (kind === KIND_ANON && owner > 0) c = rgb(processColor(owner));
  else if (kind === KIND_PAGETABLE && owner > 0) c = shade(rgb(processColor(owner)), 0.55);
  else c = rgb(KIND_COLORS[kind] ?? '#ff00ff');
  if (share === SHARE_CACHE) c = shade(c, SHARED_SHADE);
  else if (share === SHARE_UNMAPPED) c = fade(c, UNMAPPED_FADE);
  if (dim && kind !== KIND_FREE) c = fade(c, 0.78);
  return pack(c[0], c[1], c[2]);
}

/**
 * Colours of every frame into `out` (one packed colour per frame). With `sharing` (each frame's
 * mapcount and the zero page's frame), shared frames get their own colours.
 */
export function paintFrames(
  kinds: Uint8Array,
  owners: Int32Array,
  keep: ((pfn: number) => boolean) | null,
  out: Uint32Array,
  sharing: { readonly mapcount: Int32Array; readonly zeroPfn: number } | null = null,
): void {
  // Few distinct (kind, owner, sharing, dim) combinations: memoize their packed colours.
  const memo = new Map<number, number>();
  const n = Math.min(kinds.length, out.length);
  for (let pfn = 0; pfn < n; pfn++) {
    const kind = kinds[pfn]!;
    const owner = owners[pfn]!;
    const dim = keep !== null && !keep(pfn);
    const share =
      sharing === null ? SHARE_NONE : shareClass(kind, sharing.mapcount[pfn]!, pfn === sharing.zeroPfn);
    const key = ((owner + 1) * 16 + kind * 2 + (dim ? 1 : 0)) * 8 + share;
    let c = memo.get(key);
    if (c === undefined) {
      c = frameColor(kind, owner, dim, share);
      memo.set(key, c);
    }
    out[pfn] = c;
  }
}
