/**
 * The kernel's invariants, checked from scratch (Linux `validate_mm` and more). Tests call it after
 * every step; `vmscope run --check` after every line. It returns the problems found; an empty list
 * means all holds.
 *
 * Beyond each structure's own consistency it checks what sharing depends on: a frame's mapcount is the
 * number of entries mapping it over every address space, its refcount that plus the caches holding
 * it; every mapped page is reachable through the reverse map from where it is mapped (its anon_vma
 * lists that VMA, its offset is the one that VMA gives); a page shared copy-on-write is read-only in
 * every mapper; a swap slot's count is the entries naming it plus its cache and shmem users.
 */
import { hex0x } from '../base/units.js';
import { TLB_D, TLB_U, TLB_W, TLB_X } from '../hw/tlb.js';
import {
  FRAME_ANON,
  FRAME_FILE,
  FRAME_FREE,
  FRAME_KERNEL,
  FRAME_KIND_NAMES,
  FRAME_PAGETABLE,
  FRAME_SHMEM,
} from './frames.js';
import { walkTables } from './inspect.js';
import type { Kernel } from './kernel.js';
import { AnonVma } from './mapping.js';
import { MemObject } from './memobject.js';
import type { Mm } from './mm.js';
import { VM_ACCOUNT, VM_EXEC, VM_SHARED, VM_STACK, VM_WRITE, type Vma } from './vma.js';

export function checkKernel(k: Kernel): string[] {
  const problems: string[] = [...k.frames.validate()];
  const f = k.frames;
  const n = f.frameCount;
  const maps = new Int32Array(n); // leaf entries pointing at each frame
  const tableRefs = new Int32Array(n); // references to each page-table frame
  const cacheRefs = new Int32Array(n);
  const swapRefs = new Int32Array(k.swap?.slotCount ?? 0);
  const writableAnon: number[] = [];

  let shmemCommitted = 0;
  for (const m of k.mappings.all()) {
    if (!(m instanceof MemObject)) continue;
    shmemCommitted += m.committedPages;
    for (const [index, pfn] of m.pages) {
      cacheRefs[pfn]!++;
      const want = m.kind === 'shmem' ? FRAME_SHMEM : m.kind === 'kernel' ? FRAME_KERNEL : FRAME_FILE;
      if (f.kind[pfn] !== want)
        problems.push(`${m.path} page ${index}: frame ${pfn} is ${FRAME_KIND_NAMES[f.kind[pfn]!]}`);
      if (f.mapping[pfn] !== m.id || f.index[pfn] !== index)
        problems.push(`frame ${pfn}: wrong mapping back-pointer (${m.path} page ${index})`);
    }
    if (m.vmas.size === 0 && (m.kind !== 'file' || !m.linked) && !m.ipcHeld)
      problems.push(`${m.path}: alive while no VMA maps it`);
    for (const slot of m.swapped.values()) {
      if (slot < swapRefs.length) swapRefs[slot]!++;
      else problems.push(`${m.path}: swapped to slot ${slot}, beyond the device`);
    }
  }

  const seen = new Set<Mm>();
  let committed = 0;
  for (const proc of k.processes.values()) {
    const mm = proc.mm;
    if (mm === null) {
      if (proc.alive) problems.push(`pid ${proc.pid}: running without an address space`);
      continue;
    }
    if (!proc.alive) problems.push(`pid ${proc.pid}: ended but still holds an address space`);
    if (seen.has(mm)) continue;
    seen.add(mm);
    const tag = `pid ${mm.pid}`;
    const users = k.tasksOf(mm).length;
    if (users !== mm.users)
      problems.push(`${tag}: ${users} tasks use the address space, it counts ${mm.users}`);
    problems.push(...checkVmas(k, mm).map((p) => `${tag}: ${p}`));
    for (const v of mm.vmas) if (v.flags & VM_ACCOUNT) committed += (v.end - v.start) / k.pageSize;
    problems.push(...walkMm(k, mm, tag, maps, tableRefs, swapRefs, writableAnon));
    problems.push(...checkTlb(k, mm, mm.pid));
  }
  if (committed + shmemCommitted !== k.commit.committed)
    problems.push(
      `Committed_AS counts ${k.commit.committed} pages, the mappings hold ${committed + shmemCommitted}`,
    );

  if (k.swap) {
    const swap = k.swap;
    for (let pfn = 0; pfn < n; pfn++) {
      const slot = f.swapSlot[pfn]!;
      if (slot < 0) continue;
      if (f.kind[pfn] !== FRAME_ANON)
        problems.push(`frame ${pfn} caches swap slot ${slot} but is not anonymous`);
      if (slot >= swapRefs.length) problems.push(`frame ${pfn} caches swap slot ${slot}, beyond the device`);
      else {
        swapRefs[slot]!++;
        if (swap.cachedPfn[slot] !== pfn)
          problems.push(`swap cache: slot ${slot} does not name frame ${pfn}`);
      }
    }
    let used = 0;
    for (let s = 0; s < swapRefs.length; s++) {
      if (swap.count[s] !== swapRefs[s])
        problems.push(`swap slot ${s}: count ${swap.count[s]}, referenced ${swapRefs[s]} times`);
      if (swap.count[s]! > 0) used++;
      const c = swap.cachedPfn[s]!;
      if (c >= 0 && f.swapSlot[c] !== s)
        problems.push(`swap cache: slot ${s} names frame ${c}, which is not its copy`);
    }
    if (used !== swap.usedSlots())
      problems.push(`swap: ${used} slots in use, the free list says ${swap.usedSlots()}`);
  } else {
    for (let pfn = 0; pfn < n; pfn++)
      if (f.swapSlot[pfn] !== -1) problems.push(`frame ${pfn} caches a swap slot without a swap device`);
  }
  problems.push(...k.reclaim.validate());

  const zero = k.vm.zeroPfn;
  for (let pfn = 0; pfn < n; pfn++) {
    const kind = f.kind[pfn];
    if (kind === FRAME_FREE) {
      if (f.refcount[pfn] !== 0 || f.mapcount[pfn] !== 0) problems.push(`free frame ${pfn} has references`);
      continue;
    }
    if (kind === FRAME_PAGETABLE) {
      if (tableRefs[pfn] !== 1) problems.push(`page-table frame ${pfn} is reachable ${tableRefs[pfn]} times`);
      continue;
    }
    if (pfn === zero) {
      if (f.refcount[pfn] !== 1 || f.mapcount[pfn] !== 0) problems.push('the zero page is counted as mapped');
      continue;
    }
    if (f.mapcount[pfn] !== maps[pfn])
      problems.push(`frame ${pfn}: mapcount ${f.mapcount[pfn]}, mapped ${maps[pfn]} times`);
    const swapCache = f.swapSlot[pfn]! >= 0 ? 1 : 0;
    const expectRefs = maps[pfn]! + cacheRefs[pfn]! + swapCache;
    if (f.refcount[pfn] !== expectRefs)
      problems.push(`frame ${pfn}: refcount ${f.refcount[pfn]}, expected ${expectRefs}`);
    if ((kind === FRAME_FILE || kind === FRAME_SHMEM || kind === FRAME_KERNEL) && cacheRefs[pfn] !== 1)
      problems.push(`frame ${pfn}: not in exactly one page cache`);
    if (kind === FRAME_ANON) {
      if (maps[pfn] === 0 && swapCache === 0)
        problems.push(`anonymous frame ${pfn} is leaked (mapped nowhere)`);
      if (!(k.mappings.get(f.mapping[pfn]!) instanceof AnonVma))
        problems.push(`anonymous frame ${pfn} belongs to no anon_vma`);
    }
  }
  // Copy-on-write: a page written in place must be its mapper's alone.
  for (const pfn of writableAnon)
    if (!k.vm.isExclusiveAnon(pfn))
      problems.push(`frame ${pfn} is writable but shared (a missed copy-on-write)`);
  return problems;
}

/** Walks one address space's tree: tables, entries against VMAs, identities, RSS and swap counters. */
function walkMm(
  k: Kernel,
  mm: Mm,
  tag: string,
  maps: Int32Array,
  tableRefs: Int32Array,
  swapRefs: Int32Array,
  writableAnon: number[],
): string[] {
  const problems: string[] = [];
  const f = k.frames;
  const fmt = k.machine.arch.pte;
  const ps = k.pageSize;
  const n = f.frameCount;
  const zero = k.vm.zeroPfn;
  let tables = 0;
  let swapped = 0;
  const rss = { anon: 0, file: 0, shmem: 0 };
  const checkLeaf = (vpn: number, lo: number, hi: number, pfn: number): void => {
    const va = vpn * ps;
    const vma = mm.vmaAt(va);
    if (!vma) {
      problems.push(`${tag}: page ${hex0x(va)} is mapped outside every VMA`);
      return;
    }
    const present = (lo & fmt.present) !== 0;
    if (!present && (lo & fmt.swSwap) !== 0) {
      if (k.swap === null || pfn >= swapRefs.length)
        problems.push(`${tag}: ${hex0x(va)} swapped to slot ${pfn}, beyond the device`);
      else swapRefs[pfn]!++;
      swapped++;
      return;
    }
    if (!present && (lo & fmt.swProtNone) === 0) {
      problems.push(`${tag}: unknown non-present entry for ${hex0x(va)}`);
      return;
    }
    if (!present && vma.isAccessible())
      problems.push(`${tag}: PROT_NONE entry at ${hex0x(va)} in an accessible VMA`);
    if (present && !vma.isAccessible())
      problems.push(`${tag}: present entry at ${hex0x(va)} in a PROT_NONE VMA`);
    if (pfn >= n || f.kind[pfn] === FRAME_FREE) {
      problems.push(`${tag}: ${hex0x(va)} maps free or absent frame ${pfn}`);
      return;
    }
    const d = fmt.decode(lo, hi);
    if (pfn === zero) {
      if (present && d.write) problems.push(`${tag}: the zero page is writable at ${hex0x(va)}`);
      if (vma.object !== null || vma.isShared())
        problems.push(`${tag}: the zero page outside private anonymous memory`);
      return;
    }
    maps[pfn]!++;
    const kind = f.kind[pfn];
    if (kind === FRAME_ANON) rss.anon++;
    else if (kind === FRAME_SHMEM) rss.shmem++;
    else if (kind === FRAME_FILE || kind === FRAME_KERNEL) rss.file++;
    else problems.push(`${tag}: ${hex0x(va)} maps a ${FRAME_KIND_NAMES[kind!]} frame`);
    problems.push(...checkIdentity(k, vma, va, pfn, tag));
    if (present) {
      if (d.write && (vma.flags & VM_WRITE) === 0)
        problems.push(`${tag}: ${hex0x(va)} writable in a read-only VMA`);
      if (d.write && !vma.isShared() && kind !== FRAME_ANON)
        problems.push(`${tag}: ${hex0x(va)} writable over a shared page of a private VMA`);
      if (d.write && kind === FRAME_ANON) writableAnon.push(pfn);
      if (!d.user) problems.push(`${tag}: ${hex0x(va)} is not a user page`);
      const nxCapable = fmt.exec !== 0 || fmt.nxHi !== 0;
      if (nxCapable && d.exec && (vma.flags & VM_EXEC) === 0)
        problems.push(`${tag}: ${hex0x(va)} executable in a non-exec VMA`);
    }
  };
  walkTables(k, mm, {
    table(table) {
      tables++;
      tableRefs[table]!++;
      if (f.kind[table] !== FRAME_PAGETABLE)
        problems.push(`${tag}: table ${table} is ${FRAME_KIND_NAMES[f.kind[table]!]}`);
      if (f.owner[table] !== mm.pid) problems.push(`${tag}: table ${table} is owned by ${f.owner[table]}`);
    },
    entry(_level, _i, vpn, ea, lo, hi, leaf) {
      const pfn = fmt.pfnOf(lo, hi);
      if (leaf) checkLeaf(vpn, lo, hi, pfn);
      else if ((lo & fmt.present) === 0)
        problems.push(`${tag}: non-leaf entry at ${hex0x(ea)} is not present`);
      else if (pfn >= n) problems.push(`${tag}: table pointer beyond RAM at ${hex0x(ea)}`);
    },
  });
  if (mm.rootPfn < 0) problems.push(`${tag}: no page-table root`);
  if (swapped !== mm.swapEnts)
    problems.push(`${tag}: VmSwap counts ${mm.swapEnts} entries, the tables hold ${swapped}`);
  if (tables - 1 !== mm.ptPages)
    problems.push(`${tag}: VmPTE counts ${mm.ptPages} tables, the tree has ${tables - 1}`);
  if (rss.anon !== mm.rssAnon) problems.push(`${tag}: RssAnon ${mm.rssAnon} pages, ${rss.anon} mapped`);
  if (rss.file !== mm.rssFile) problems.push(`${tag}: RssFile ${mm.rssFile} pages, ${rss.file} mapped`);
  if (rss.shmem !== mm.rssShmem) problems.push(`${tag}: RssShmem ${mm.rssShmem} pages, ${rss.shmem} mapped`);
  if (mm.hiwaterRss < mm.rss) problems.push(`${tag}: VmHWM below VmRSS`);
  return problems;
}

/** The page at `va` is where the reverse map will look for it. */
function checkIdentity(k: Kernel, vma: Vma, va: number, pfn: number, tag: string): string[] {
  const f = k.frames;
  const index = vma.linearIndex(va, k.pageSize);
  const m = k.mappings.get(f.mapping[pfn]!);
  const where = `${tag}: ${hex0x(va)} (frame ${pfn})`;
  if (f.kind[pfn] === FRAME_ANON) {
    if (!(m instanceof AnonVma)) return [`${where}: anonymous page with no anon_vma`];
    if (!m.vmas.has(vma))
      return [`${where}: its anon_vma does not list this VMA (the reverse map misses it)`];
  } else if (m !== vma.object) {
    return [`${where}: cached page of another object`];
  }
  if (f.index[pfn] !== index) return [`${where}: page offset ${f.index[pfn]}, the VMA gives ${index}`];
  return [];
}

/** VMAs sorted, aligned, non-overlapping, inside user space, on their rmap lists; counters equal a recount. */
function checkVmas(k: Kernel, mm: Mm): string[] {
  const problems: string[] = [];
  const ps = k.pageSize;
  let total = 0;
  let data = 0;
  let exec = 0;
  let stack = 0;
  let prevEnd = 0;
  for (const v of mm.vmas) {
    const range = `VMA ${hex0x(v.start)}-${hex0x(v.end)}`;
    if (v.start % ps !== 0 || v.end % ps !== 0) problems.push(`${range} is not page-aligned`);
    if (v.start >= v.end) problems.push(`${range} is empty or inverted`);
    if (v.start < prevEnd) problems.push(`${range} overlaps or is out of order`);
    if (v.end > mm.taskSize) problems.push(`${range} ends above TASK_SIZE`);
    if (v.mm !== mm) problems.push(`${range} does not know its address space`);
    if (v.object && (!v.object.vmas.has(v) || v.object.id < 0))
      problems.push(`${range}: its object does not list it`);
    if (v.anonVma !== null && !v.anonChain.includes(v.anonVma))
      problems.push(`${range}: its anon_vma is not on its chain`);
    for (const av of v.anonChain)
      if (!av.vmas.has(v) || av.id < 0) problems.push(`${range}: an anon_vma of its chain does not list it`);
    prevEnd = v.end;
    const pages = (v.end - v.start) / ps;
    total += pages;
    if ((v.flags & (VM_EXEC | VM_WRITE | VM_STACK)) === VM_EXEC) exec += pages;
    else if ((v.flags & VM_STACK) === VM_STACK) stack += pages;
    else if ((v.flags & (VM_WRITE | VM_SHARED | VM_STACK)) === VM_WRITE) data += pages;
  }
  if (total !== mm.totalVm) problems.push(`total_vm ${mm.totalVm}, VMAs hold ${total}`);
  if (data !== mm.dataVm) problems.push(`data_vm ${mm.dataVm}, VMAs hold ${data}`);
  if (exec !== mm.execVm) problems.push(`exec_vm ${mm.execVm}, VMAs hold ${exec}`);
  if (stack !== mm.stackVm) problems.push(`stack_vm ${mm.stackVm}, VMAs hold ${stack}`);
  if (mm.hiwaterVm < mm.totalVm) problems.push('VmPeak below VmSize');
  if (mm.brk < mm.startBrk) problems.push('brk below start_brk');
  return problems;
}

/** Every TLB entry of this address space agrees with its page table and grants no more than it. */
function checkTlb(k: Kernel, mm: Mm, pid: number): string[] {
  if (!k.asidIsLive(mm)) return [];
  const problems: string[] = [];
  const fmt = k.machine.arch.pte;
  const mmu = k.machine.mmu;
  for (const e of k.machine.tlb.entries()) {
    if (e.asid !== mm.asid) continue;
    const va = e.vpn * k.pageSize;
    const probe = mmu.probe(mm.rootPfn, va);
    const leaf = probe.steps[probe.steps.length - 1];
    if (probe.pa < 0 || !leaf) {
      problems.push(`pid ${pid}: TLB caches ${hex0x(va)}, which its page table does not map`);
      continue;
    }
    if (Math.floor(probe.pa / k.pageSize) !== e.pfn)
      problems.push(`pid ${pid}: TLB maps ${hex0x(va)} to a stale frame ${e.pfn}`);
    const d = fmt.decode(leaf.lo, leaf.hi);
    if (e.perm & TLB_W && !d.write)
      problems.push(`pid ${pid}: TLB grants write to ${hex0x(va)}, the PTE does not`);
    if (e.perm & TLB_U && !d.user)
      problems.push(`pid ${pid}: TLB grants user access to ${hex0x(va)}, the PTE does not`);
    if (e.perm & TLB_X && !d.exec)
      problems.push(`pid ${pid}: TLB grants execute on ${hex0x(va)}, the PTE does not`);
    if (e.perm & TLB_D && fmt.dirty !== 0 && !d.dirty)
      problems.push(`pid ${pid}: TLB thinks ${hex0x(va)} is dirty, the PTE does not`);
  }
  return problems;
}
