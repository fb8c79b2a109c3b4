/**
 * The kernel's invariants, checked from scratch (Linux `validate_mm` and more). Tests call it after
 * every step; `vmscope run --check` after every line. It returns the problems found; an empty list
 * means all holds.
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
import type { Kernel } from './kernel.js';
import type { Mm } from './mm.js';
import { VM_EXEC, VM_SHARED, VM_STACK, VM_WRITE } from './vma.js';

export function checkKernel(k: Kernel): string[] {
  const problems: string[] = [...k.frames.validate()];
  const f = k.frames;
  const fmt = k.machine.arch.pte;
  const mmu = k.machine.mmu;
  const ps = k.pageSize;
  const n = f.frameCount;
  const maps = new Int32Array(n); // leaf entries pointing at each frame
  const tableRefs = new Int32Array(n); // references to each page-table frame
  const cacheRefs = new Int32Array(n);
  const swapRefs = new Int32Array(k.swap?.slotCount ?? 0);

  for (const obj of k.objects.values()) {
    for (const [index, pfn] of obj.pages) {
      cacheRefs[pfn]!++;
      const want = obj.kind === 'shmem' ? FRAME_SHMEM : obj.kind === 'kernel' ? FRAME_KERNEL : FRAME_FILE;
      if (f.kind[pfn] !== want)
        problems.push(`${obj.path} page ${index}: frame ${pfn} is ${FRAME_KIND_NAMES[f.kind[pfn]!]}`);
      if (f.objectId[pfn] !== obj.id || f.objectIndex[pfn] !== index)
        problems.push(`frame ${pfn}: wrong object back-pointer`);
    }
    if (obj.mapCount === 0) problems.push(`${obj.path}: cached while no VMA maps it`);
    for (const slot of obj.swapped.values()) {
      if (slot < swapRefs.length) swapRefs[slot]!++;
      else problems.push(`${obj.path}: swapped to slot ${slot}, beyond the device`);
    }
  }

  for (const proc of k.processes.values()) {
    const mm = proc.mm;
    if (mm === null) {
      if (proc.alive) problems.push(`pid ${proc.pid}: running without an address space`);
      continue;
    }
    const tag = `pid ${proc.pid}`;
    problems.push(...checkVmas(k, mm).map((p) => `${tag}: ${p}`));
    // Walk the whole tree.
    let tables = 0;
    let swapped = 0;
    const rss = { anon: 0, file: 0, shmem: 0 };
    const walk = (table: number, level: number, baseVpn: number): void => {
      tables++;
      tableRefs[table]!++;
      if (f.kind[table] !== FRAME_PAGETABLE)
        problems.push(`${tag}: table ${table} is ${FRAME_KIND_NAMES[f.kind[table]!]}`);
      if (f.owner[table] !== proc.pid) problems.push(`${tag}: table ${table} is owned by ${f.owner[table]}`);
      const entries = k.pageTables.entries[level]!;
      const span = k.pageTables.entrySpan[level]!;
      const leaf = level === k.machine.arch.levels - 1;
      for (let i = 0; i < entries; i++) {
        const ea = table * ps + i * fmt.entryBytes;
        const lo = mmu.readLo(ea);
        const hi = mmu.readHi(ea);
        if (lo === 0 && hi === 0) continue;
        const vpn = baseVpn + i * span;
        const pfn = fmt.pfnOf(lo, hi);
        if (!leaf) {
          if ((lo & fmt.present) === 0)
            problems.push(`${tag}: non-leaf entry at ${hex0x(ea)} is not present`);
          else if (pfn >= n) problems.push(`${tag}: table pointer beyond RAM at ${hex0x(ea)}`);
          else walk(pfn, level + 1, vpn);
          continue;
        }
        const va = vpn * ps;
        const vma = mm.vmaAt(va);
        if (!vma) {
          problems.push(`${tag}: page ${hex0x(va)} is mapped outside every VMA`);
          continue;
        }
        const present = (lo & fmt.present) !== 0;
        if (!present && (lo & fmt.swSwap) !== 0) {
          if (k.swap === null || pfn >= swapRefs.length)
            problems.push(`${tag}: ${hex0x(va)} swapped to slot ${pfn}, beyond the device`);
          else swapRefs[pfn]!++;
          swapped++;
          continue;
        }
        if (!present && (lo & fmt.swProtNone) === 0) {
          problems.push(`${tag}: unknown non-present entry for ${hex0x(va)}`);
          continue;
        }
        if (!present && vma.isAccessible())
          problems.push(`${tag}: PROT_NONE entry at ${hex0x(va)} in an accessible VMA`);
        if (present && !vma.isAccessible())
          problems.push(`${tag}: present entry at ${hex0x(va)} in a PROT_NONE VMA`);
        if (pfn >= n || f.kind[pfn] === FRAME_FREE) {
          problems.push(`${tag}: ${hex0x(va)} maps free or absent frame ${pfn}`);
          continue;
        }
        maps[pfn]!++;
        const kind = f.kind[pfn];
        if (kind === FRAME_ANON) rss.anon++;
        else if (kind === FRAME_SHMEM) rss.shmem++;
        else if (kind === FRAME_FILE || kind === FRAME_KERNEL) rss.file++;
        else problems.push(`${tag}: ${hex0x(va)} maps a ${FRAME_KIND_NAMES[kind!]} frame`);
        if (kind === FRAME_ANON && f.owner[pfn] !== proc.pid)
          problems.push(`${tag}: ${hex0x(va)} maps anonymous frame ${pfn} of pid ${f.owner[pfn]}`);
        if (present) {
          const d = fmt.decode(lo, hi);
          if (d.write && (vma.flags & VM_WRITE) === 0)
            problems.push(`${tag}: ${hex0x(va)} writable in a read-only VMA`);
          if (d.write && !vma.isShared() && kind !== FRAME_ANON)
            problems.push(`${tag}: ${hex0x(va)} writable over a shared page of a private VMA`);
          if (!d.user) problems.push(`${tag}: ${hex0x(va)} is not a user page`);
          const nxCapable = fmt.exec !== 0 || fmt.nxHi !== 0;
          if (nxCapable && d.exec && (vma.flags & VM_EXEC) === 0)
            problems.push(`${tag}: ${hex0x(va)} executable in a non-exec VMA`);
        }
      }
    };
    if (mm.rootPfn < 0) problems.push(`${tag}: no page-table root`);
    else walk(mm.rootPfn, 0, 0);
    if (swapped !== mm.swapEnts)
      problems.push(`${tag}: VmSwap counts ${mm.swapEnts} entries, the tables hold ${swapped}`);
    if (tables - 1 !== mm.ptPages)
      problems.push(`${tag}: VmPTE counts ${mm.ptPages} tables, the tree has ${tables - 1}`);
    if (rss.anon !== mm.rssAnon) problems.push(`${tag}: RssAnon ${mm.rssAnon} pages, ${rss.anon} mapped`);
    if (rss.file !== mm.rssFile) problems.push(`${tag}: RssFile ${mm.rssFile} pages, ${rss.file} mapped`);
    if (rss.shmem !== mm.rssShmem)
      problems.push(`${tag}: RssShmem ${mm.rssShmem} pages, ${rss.shmem} mapped`);
    if (mm.hiwaterRss < mm.rss) problems.push(`${tag}: VmHWM below VmRSS`);
    problems.push(...checkTlb(k, mm, proc.pid));
  }

  for (let pfn = 0; pfn < n; pfn++) {
    const slot = f.swapSlot[pfn]!;
    if (slot >= 0) {
      if (f.kind[pfn] !== FRAME_ANON)
        problems.push(`frame ${pfn} caches swap slot ${slot} but is not anonymous`);
      if (slot < swapRefs.length) swapRefs[slot]!++;
      else problems.push(`frame ${pfn} caches swap slot ${slot}, beyond the device`);
    }
  }
  if (k.swap) {
    let used = 0;
    for (let s = 0; s < swapRefs.length; s++) {
      if (k.swap.count[s] !== swapRefs[s])
        problems.push(`swap slot ${s}: count ${k.swap.count[s]}, referenced ${swapRefs[s]} times`);
      if (k.swap.count[s]! > 0) used++;
    }
    if (used !== k.swap.usedSlots())
      problems.push(`swap: ${used} slots in use, the free list says ${k.swap.usedSlots()}`);
  }
  problems.push(...k.reclaim.validate());
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
    if (f.mapcount[pfn] !== maps[pfn])
      problems.push(`frame ${pfn}: mapcount ${f.mapcount[pfn]}, mapped ${maps[pfn]} times`);
    const expectRefs = maps[pfn]! + cacheRefs[pfn]!;
    if (f.refcount[pfn] !== expectRefs)
      problems.push(`frame ${pfn}: refcount ${f.refcount[pfn]}, expected ${expectRefs}`);
    if ((kind === FRAME_FILE || kind === FRAME_SHMEM || kind === FRAME_KERNEL) && cacheRefs[pfn] !== 1)
      problems.push(`frame ${pfn}: not in exactly one page cache`);
    if (kind === FRAME_ANON && maps[pfn] === 0)
      problems.push(`anonymous frame ${pfn} is leaked (mapped nowhere)`);
  }
  return problems;
}

/** VMAs sorted, aligned, non-overlapping, inside user space; counters equal to a recount. */
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
    if (v.object && v.object.mapCount <= 0) problems.push(`${range}: its object has no map count`);
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
