/**
 * The reverse map (Linux `mm/rmap.c`): from a frame to every page-table entry that maps it, in every
 * address space. A page names its mapping and offset (frames.ts); the mapping lists the VMAs that may
 * map it — an anon_vma's VMAs (its own and those forked from them), a file's or shmem's `vmas` — and
 * each VMA turns the offset into the one virtual page where the page can be. The entry there maps this
 * frame, or something else (a COW copy, nothing yet).
 *
 * Reclaim unmaps a page from all its mappers through here; msync cleans shared file pages through
 * here; the checker and the visualizer ask who maps a frame.
 */
import type { Mmu } from '../hw/mmu.js';
import type { PteFormat } from '../hw/pte.js';
import type { FrameTable } from './frames.js';
import { AnonVma, type MappingTable } from './mapping.js';
import type { Mm } from './mm.js';
import type { PageTables } from './pagetable.js';
import type { Vma } from './vma.js';

/** One page-table entry that maps a frame. The visitor is handed one object, refilled per entry. */
export interface MapperVisit {
  readonly mm: Mm;
  readonly vma: Vma;
  readonly vpn: number;
  readonly entryPa: number;
  readonly lo: number;
  readonly hi: number;
}

type Writable<T> = { -readonly [K in keyof T]: T[K] };
const LOOKUP = { allocate: false } as const;

export class Rmap {
  private readonly frames: FrameTable;
  private readonly mappings: MappingTable;
  private readonly pageTables: PageTables;
  private readonly mmu: Mmu;
  private readonly fmt: PteFormat;
  private readonly pageSize: number;
  private readonly visit: Writable<MapperVisit>;

  constructor(frames: FrameTable, mappings: MappingTable, pageTables: PageTables, mmu: Mmu) {
    this.frames = frames;
    this.mappings = mappings;
    this.pageTables = pageTables;
    this.mmu = mmu;
    this.fmt = mmu.arch.pte;
    this.pageSize = mmu.arch.pageSize;
    this.visit = { mm: null as unknown as Mm, vma: null as unknown as Vma, vpn: 0, entryPa: 0, lo: 0, hi: 0 };
    this.dirtyFound.bit = this.fmt.dirty;
  }

  /** The VMAs that may map page `pfn` (Linux `rmap_walk_anon` / `rmap_walk_file`'s candidates). */
  candidates(pfn: number): Iterable<Vma> {
    const m = this.mappings.get(this.frames.mapping[pfn]!);
    if (m === undefined) return [];
    return m instanceof AnonVma ? m.vmas : m.vmas;
  }

  /**
   * Calls `fn` for every present (or PROT_NONE) leaf entry that maps `pfn`, over every address space,
   * with `ctx` (so that a hot caller's visitor can be made once: nothing is allocated per entry).
   * `fn` may rewrite the entry it is given, but not add or remove VMAs; the visit it gets is valid
   * only during that call.
   * @returns how many there were.
   */
  forEachMapper<C>(pfn: number, fn: (v: MapperVisit, ctx: C) => void, ctx: C): number;
  forEachMapper(pfn: number, fn: (v: MapperVisit) => void): number;
  forEachMapper<C>(pfn: number, fn: (v: MapperVisit, ctx: C | undefined) => void, ctx?: C): number {
    const index = this.frames.index[pfn]!;
    const fmt = this.fmt;
    const visit = this.visit;
    let found = 0;
    for (const vma of this.candidates(pfn)) {
      const mm = vma.mm;
      if (mm === null) continue;
      const pages = (vma.end - vma.start) / this.pageSize;
      if (index < vma.pgoff || index >= vma.pgoff + pages) continue;
      const vpn = vma.start / this.pageSize + (index - vma.pgoff);
      const entryPa = this.pageTables.leafEntry(mm, mm.pid, vpn, LOOKUP);
      if (entryPa < 0) continue;
      const lo = this.mmu.readLo(entryPa);
      if ((lo & (fmt.present | fmt.swProtNone)) === 0) continue;
      const hi = this.mmu.readHi(entryPa);
      if (fmt.pfnOf(lo, hi) !== pfn) continue;
      found++;
      visit.mm = mm;
      visit.vma = vma;
      visit.vpn = vpn;
      visit.entryPa = entryPa;
      visit.lo = lo;
      visit.hi = hi;
      fn(visit, ctx);
    }
    return found;
  }

  /** Every mapper of `pfn` as (mm, virtual address) pairs, for inspection. */
  mappers(pfn: number): { mm: Mm; va: number }[] {
    const out: { mm: Mm; va: number }[] = [];
    this.forEachMapper(pfn, (v) => out.push({ mm: v.mm, va: v.vpn * this.pageSize }));
    return out;
  }

  /** True when some mapper's entry of `pfn` has its dirty bit set (or the arch has none). */
  anyDirty(pfn: number): boolean {
    if (this.fmt.dirty === 0) return this.frames.mapcount[pfn]! > 0;
    const found = this.dirtyFound;
    found.dirty = false;
    this.forEachMapper(pfn, noteDirty, found);
    return found.dirty;
  }

  // anyDirty's visit context, made once (it allocated on every eviction).
  private readonly dirtyFound = { dirty: false, bit: 0 };
}

function noteDirty(v: MapperVisit, found: { dirty: boolean; bit: number }): void {
  if ((v.lo & found.bit) !== 0) found.dirty = true;
}
