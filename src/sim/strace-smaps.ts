/**
 * /proc/PID/smaps as data, for `vmscope strace --show smaps`: each VMA's maps line with its page
 * counts read from the page tables (resident, shared or private, clean or dirty, referenced,
 * anonymous, swapped, PSS) and its VmFlags, as Linux's `show_smap` computes them. A page is "shared"
 * when more than one mapping maps it (Linux's mapcount rule), whatever MAP_SHARED says.
 */
import { FRAME_ANON } from '../kernel/frames.js';
import type { Kernel } from '../kernel/kernel.js';
import type { Process } from '../kernel/process.js';
import {
  VM_ACCOUNT,
  VM_DONTEXPAND,
  VM_EXEC,
  VM_GROWSDOWN,
  VM_MAYEXEC,
  VM_MAYREAD,
  VM_MAYSHARE,
  VM_MAYWRITE,
  VM_NOHUGEPAGE,
  VM_NORESERVE,
  VM_PFNMAP,
  VM_READ,
  VM_SHARED,
  VM_WRITE,
} from '../kernel/vma.js';
import type { MapsLine } from './snapshot.js';

export interface SmapsEntry {
  readonly line: MapsLine;
  /** Bytes, as /proc shows them in kB. */
  readonly size: number;
  readonly rss: number;
  readonly pss: number;
  readonly sharedClean: number;
  readonly sharedDirty: number;
  readonly privateClean: number;
  readonly privateDirty: number;
  readonly referenced: number;
  readonly anonymous: number;
  readonly swap: number;
  readonly vmFlags: string;
}

/** Linux's two-letter VmFlags codes for the vm_flags vmscope has (show_smap_vma_flags). */
const FLAG_CODES: readonly (readonly [number, string])[] = [
  [VM_READ, 'rd'],
  [VM_WRITE, 'wr'],
  [VM_EXEC, 'ex'],
  [VM_SHARED, 'sh'],
  [VM_MAYREAD, 'mr'],
  [VM_MAYWRITE, 'mw'],
  [VM_MAYEXEC, 'me'],
  [VM_MAYSHARE, 'ms'],
  [VM_GROWSDOWN, 'gd'],
  [VM_PFNMAP, 'pf'],
  [VM_DONTEXPAND, 'de'],
  [VM_ACCOUNT, 'ac'],
  [VM_NORESERVE, 'nr'],
  [VM_NOHUGEPAGE, 'nh'],
];

export function smapsEntries(k: Kernel, proc: Process): SmapsEntry[] {
  const mm = proc.mm;
  if (mm === null) return [];
  const fmt = k.machine.arch.pte;
  const f = k.frames;
  const ps = k.pageSize;
  return k.maps(proc).map(({ vma, ...line }) => {
    let rss = 0;
    let pss = 0;
    let sharedClean = 0;
    let sharedDirty = 0;
    let privateClean = 0;
    let privateDirty = 0;
    let referenced = 0;
    let anonymous = 0;
    let swap = 0;
    if (vma !== null) {
      k.pageTables.forEachLeaf(mm, vma.start / ps, vma.end / ps, (_vpn, _pa, lo, hi) => {
        if ((lo & fmt.swSwap) !== 0 && (lo & fmt.present) === 0) {
          swap += ps;
          return;
        }
        if ((lo & fmt.present) === 0 && (lo & fmt.swProtNone) === 0) return;
        const pfn = fmt.pfnOf(lo, hi);
        const mapcount = Math.max(1, f.mapcount[pfn]!);
        const dirty = (lo & fmt.dirty) !== 0;
        rss += ps;
        pss += ps / mapcount;
        if (mapcount > 1) {
          if (dirty) sharedDirty += ps;
          else sharedClean += ps;
        } else if (dirty) privateDirty += ps;
        else privateClean += ps;
        if ((lo & fmt.accessed) !== 0) referenced += ps;
        if (f.kind[pfn] === FRAME_ANON) anonymous += ps;
      });
    }
    const flags = vma?.flags ?? VM_EXEC; // [vsyscall]
    const vmFlags = FLAG_CODES.filter(([bit]) => (flags & bit) !== 0)
      .map(([, code]) => code)
      .join(' ');
    return {
      line,
      size: line.end - line.start,
      rss,
      pss: Math.floor(pss),
      sharedClean,
      sharedDirty,
      privateClean,
      privateDirty,
      referenced,
      anonymous,
      swap,
      vmFlags,
    };
  });
}
