/**
 * Overcommit accounting (Linux `mm/util.c` `__vm_enough_memory`, Documentation/mm/overcommit-accounting):
 * how much memory the system has promised (Committed_AS) and whether it may promise more.
 *
 * Committed pages are counted where they are: every VM_ACCOUNT page of every address space (private
 * writable mappings, the heap, the stack, bss) and every page of a shared anonymous (shmem) object.
 * The syscalls that would add some ask {@link vmEnoughMemory} first, with Linux's rule per mode:
 *   0 (heuristic, the default): refuse only a single request larger than RAM plus swap;
 *   1 (always): never refuse;
 *   2 (never overcommit): the total must stay below CommitLimit = RAM × ratio/100 (or
 *     overcommit_kbytes) + swap, less the admin reserve and, per process, min(VmSize/32, user reserve).
 */

export type OvercommitMode = 0 | 1 | 2;

export interface OvercommitSettings {
  /** vm.overcommit_memory. */
  readonly mode?: OvercommitMode;
  /** vm.overcommit_ratio (percent of RAM), used when `kbytes` is 0. */
  readonly ratio?: number;
  /** vm.overcommit_kbytes. */
  readonly kbytes?: number;
}

export class CommitAccounting {
  /** Pages committed (Committed_AS). */
  committed = 0;
  mode: OvercommitMode;
  ratio: number;
  kbytes: number;
  private readonly ramPages: number;
  private readonly swapPages: number;
  private readonly pageSize: number;
  /** vm.admin_reserve_kbytes and vm.user_reserve_kbytes, in pages (3% of free memory at boot, capped). */
  readonly adminReserve: number;
  readonly userReserve: number;

  constructor(ramPages: number, swapPages: number, pageSize: number, settings: OvercommitSettings = {}) {
    this.ramPages = ramPages;
    this.swapPages = swapPages;
    this.pageSize = pageSize;
    this.mode = settings.mode ?? 0;
    this.ratio = settings.ratio ?? 50;
    this.kbytes = settings.kbytes ?? 0;
    const free3 = Math.floor((ramPages * 3) / 100);
    this.adminReserve = Math.min(free3, Math.floor((8 << 20) / pageSize));
    this.userReserve = Math.min(free3, Math.floor((128 << 20) / pageSize));
  }

  /** CommitLimit in pages (`vm_commit_limit`). */
  get limit(): number {
    const ram =
      this.kbytes > 0
        ? Math.floor((this.kbytes * 1024) / this.pageSize)
        : Math.floor((this.ramPages * this.ratio) / 100);
    return ram + this.swapPages;
  }

  /**
   * May `pages` more be committed for a process whose VmSize is `totalVm` pages? (An unprivileged
   * process: the admin reserve applies.)
   */
  vmEnoughMemory(pages: number, totalVm = 0): boolean {
    if (pages <= 0 || this.mode === 1) return true;
    if (this.mode === 0) return pages <= this.ramPages + this.swapPages;
    const allowed = this.limit - this.adminReserve - Math.min(Math.floor(totalVm / 32), this.userReserve);
    return this.committed + pages < allowed;
  }

  add(pages: number): void {
    this.committed += pages;
  }
}
