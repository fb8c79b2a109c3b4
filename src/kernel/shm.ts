/**
 * System V shared memory as Linux's `ipc/shm.c` keeps it: shmget makes a segment, a shmem file named
 * `SYSV<key as 8 hex digits>` that is never linked anywhere (its maps line reads `(deleted)`, its inode
 * column is the segment's id) and whose size is charged to the commit limit at creation; shmat maps
 * that file MAP_SHARED (read-only with SHM_RDONLY) where mmap would place it, or at the address given;
 * shmdt unmaps the attach starting at an address. The segment outlives its attaches: it goes with
 * shmctl(IPC_RMID) when nothing maps it, or else with the last unmap after it (until then shmat by id
 * still works, but its key finds it no more). A segment's attach count is the VMAs that map its file
 * (Linux's shm_nattch counts them too: a split or a fork adds one).
 *
 * Ids are given as `ipc_idr_alloc` gives them: an index cycling upwards through at least 64 slots and a
 * sequence number bumped when the index wraps, `id = seq << 15 | index`; `nextId` is Linux's
 * kernel.shm_next_id (CONFIG_CHECKPOINT_RESTORE), which names the id the next new segment takes.
 */
import {
  EEXIST,
  EINVAL,
  ENOENT,
  ENOMEM,
  ENOSPC,
  MAP_FIXED,
  MAP_SHARED,
  PROT_EXEC,
  PROT_READ,
  PROT_WRITE,
} from './errno.js';
import type { Kernel } from './kernel.js';
import { MemObject } from './memobject.js';
import { enoughMemory, hugePageBytes, hugetlbfsDevice, sysMmap, unmapRange } from './mmap.js';
import type { Process } from './process.js';
import type { Vma } from './vma.js';

export const IPC_PRIVATE = 0;
export const IPC_CREAT = 0o1000;
export const IPC_EXCL = 0o2000;
export const IPC_RMID = 0;
export const IPC_SET = 1;
export const IPC_STAT = 2;
export const SHM_LOCK = 11;
export const SHM_UNLOCK = 12;
/** shmget: a segment of huge pages (hugetlbfs; the pool is empty, as Linux's default). */
export const SHM_HUGETLB = 0o4000;
/** shmget: no commit charge (as MAP_NORESERVE). */
export const SHM_NORESERVE = 0o10000;
/** shmget: SHM_HUGETLB's page size, log2, in bits 26-31 (0: the default), as mmap's. */
const SHM_HUGE_SHIFT = 26;
/** shmat flags. */
export const SHM_RDONLY = 0o10000;
export const SHM_RND = 0o20000;
export const SHM_REMAP = 0o40000;
export const SHM_EXEC = 0o100000;

/** Linux's IPCMNI_SHIFT: the index's bits in an id. */
const IPC_INDEX_BITS = 15;
const IPC_MNI = 1 << IPC_INDEX_BITS;
/** ipc_min_cycle (RADIX_TREE_MAP_SIZE): indices cycle through at least this many slots. */
const IPC_MIN_CYCLE = 64;
/** SHMMNI, the default kernel.shmmni. */
const SHMMNI = 4096;

export interface ShmSegment {
  readonly id: number;
  /** The key it was made with; IPC_PRIVATE once IPC_RMID marked it for destruction. */
  key: number;
  /** The size asked for, in bytes (shm_segsz). */
  readonly size: number;
  /** The shmem file behind it. */
  readonly file: MemObject;
  /** IPC_RMID came while it was attached (Linux's SHM_DEST): it goes with its last unmap. */
  dest: boolean;
}

export class SysvShm {
  private readonly k: Kernel;
  private readonly byId = new Map<number, ShmSegment>();
  private readonly byFile = new Map<MemObject, ShmSegment>();
  private lastIndex = -1;
  private seq = 0;
  /** kernel.shm_next_id: the id the next new segment takes (-1: the usual allocation). */
  nextId = -1;

  constructor(k: Kernel) {
    this.k = k;
  }

  /** Live segments, by id (a segment marked for destruction stays while mapped). */
  segments(): ShmSegment[] {
    this.prune();
    return [...this.byId.values()];
  }

  /** The live segment with this id, or null. */
  segment(id: number): ShmSegment | null {
    return id < 0 ? null : this.lookup(id);
  }

  /** shm_nattch: the VMAs that map the segment's file, in every process. */
  attaches(seg: ShmSegment): number {
    return seg.file.vmas.size;
  }

  /** The segment whose file a VMA maps, or null (the VMA is no System V attach). */
  segmentOf(vma: Vma): ShmSegment | null {
    if (vma.object === null) return null;
    const seg = this.byFile.get(vma.object);
    return seg !== undefined && this.alive(seg) ? seg : null;
  }

  /** shmget(2). @returns the segment's id, or -errno. */
  get(proc: Process, key: number, size: number, flags: number): number {
    if (key !== IPC_PRIVATE) {
      const found = this.segments().find((s) => s.key === key);
      if (found === undefined) {
        if (!(flags & IPC_CREAT)) return -ENOENT;
      } else {
        if (flags & IPC_CREAT && flags & IPC_EXCL) return -EEXIST;
        // shm_more_checks: the segment must be at least as large as asked.
        if (found.size < size) return -EINVAL;
        return found.id;
      }
    }
    return this.newSegment(proc, key, size, flags);
  }

  /** newseg: the segment's shmem file, charged for its pages, and its id. */
  private newSegment(proc: Process, key: number, size: number, flags: number): number {
    const k = this.k;
    const ps = k.pageSize;
    if (size < 1 || !Number.isSafeInteger(size)) return -EINVAL;
    const pages = Math.ceil(size / ps);
    const live = this.segments();
    if (live.length >= SHMMNI) return -ENOSPC;
    let huge = 0;
    if (flags & SHM_HUGETLB) {
      // hstate_sizelog: a huge page size the machine has; hugetlb_file_setup then finds vm.nr_hugepages
      // at 0 (Linux's default): no huge page to reserve, unless SHM_NORESERVE reserves none.
      huge = hugePageBytes(proc.mm!, Math.floor(flags / 2 ** SHM_HUGE_SHIFT) & 0x3f);
      if (huge === 0) return -EINVAL;
      if (!(flags & SHM_NORESERVE)) return -ENOMEM;
    }
    // A hugetlbfs segment is never charged to the commit limit.
    const reserve = huge === 0 && (!(flags & SHM_NORESERVE) || k.commit.mode === 2);
    if (reserve && !enoughMemory(k, proc.mm!, pages)) return -ENOMEM;
    const id = this.allocId();
    if (id < 0) return -ENOSPC;
    const name = `/SYSV${(key >>> 0).toString(16).padStart(8, '0')} (deleted)`;
    // Whole huge pages for hugetlbfs (hugesize); shm_segsz stays the size asked.
    const fileBytes = huge > 0 ? Math.ceil(size / huge) * huge : size;
    const dev = huge > 0 ? hugetlbfsDevice(huge) : '00:01';
    const file = k.pageCache.register(new MemObject('shmem', name, null, fileBytes, dev, id, ps));
    file.hugeBytes = huge;
    file.hugeNoReserve = huge > 0;
    file.writable = true;
    file.linked = false;
    file.ipcHeld = true;
    if (reserve) {
      file.committedPages = pages;
      k.commit.add(pages);
    }
    const seg: ShmSegment = { id, key, size, file, dest: false };
    this.byId.set(id, seg);
    this.byFile.set(file, seg);
    return id;
  }

  /** ipc_idr_alloc: the lowest free index from shm_next_id, or the next one in the cycle. */
  private allocId(): number {
    const used = new Set([...this.byId.keys()].map((id) => id % IPC_MNI));
    if (this.nextId >= 0) {
      const want = this.nextId;
      this.nextId = -1;
      let index = want % IPC_MNI;
      while (used.has(index) && index < IPC_MNI) index++;
      if (index >= IPC_MNI) return -1;
      return Math.floor(want / IPC_MNI) * IPC_MNI + index;
    }
    const cycle = Math.min(Math.max(Math.floor((used.size * 3) / 2), IPC_MIN_CYCLE), IPC_MNI);
    let index = -1;
    for (let n = 0; n < cycle; n++) {
      const i = (this.lastIndex + 1 + n) % cycle;
      if (!used.has(i)) {
        index = i;
        break;
      }
    }
    if (index < 0) return -1;
    if (index <= this.lastIndex) this.seq = (this.seq + 1) % (2 ** 31 / IPC_MNI);
    this.lastIndex = index;
    return this.seq * IPC_MNI + index;
  }

  /**
   * shmat(2): maps the segment MAP_SHARED, read-write or (SHM_RDONLY) read-only, executable with
   * SHM_EXEC; at `addr` when given (rounded down to a page with SHM_RND, refused where something is
   * mapped unless SHM_REMAP), else where mmap would place it. @returns the address, or -errno.
   */
  attach(proc: Process, id: number, addr: number, flags: number): number {
    const ps = this.k.pageSize;
    if (id < 0) return -EINVAL;
    let mmapFlags = MAP_SHARED;
    if (addr !== 0) {
      // SHMLBA is the page size on x86.
      if (addr % ps !== 0) {
        if (!(flags & SHM_RND)) return -EINVAL;
        addr -= addr % ps;
        if (addr === 0 && flags & SHM_REMAP) return -EINVAL;
      }
      mmapFlags |= MAP_FIXED;
    } else if (flags & SHM_REMAP) return -EINVAL;
    let prot = flags & SHM_RDONLY ? PROT_READ : PROT_READ | PROT_WRITE;
    if (flags & SHM_EXEC) prot |= PROT_EXEC;
    const seg = this.lookup(id);
    if (seg === null) return -EINVAL;
    const mm = proc.mm!;
    if (addr !== 0 && !(flags & SHM_REMAP)) {
      // find_vma_intersection over the size of the segment's file (whole huge pages for hugetlbfs).
      const next = mm.findVma(addr);
      if (next !== null && next.start < addr + seg.file.sizeBytes) return -EINVAL;
    }
    // The segment's file is opened read-only for SHM_RDONLY: a shared mapping of it may never write.
    const file = seg.file;
    file.writable = (flags & SHM_RDONLY) === 0;
    try {
      return sysMmap(this.k, proc, { addr, len: file.sizeBytes, prot, flags: mmapFlags, file, offset: 0 });
    } finally {
      file.writable = true;
    }
  }

  /**
   * shmdt(2) as `ksys_shmdt`: from the first VMA at or above `addr`, the first attach VMA that starts at
   * `addr` plus its file offset is unmapped, and then every other piece of the same segment's file
   * lying where the segment could reach from `addr`. @returns 0, or -EINVAL when there is none.
   */
  detach(proc: Process, addr: number): number {
    const k = this.k;
    const ps = k.pageSize;
    if (addr % ps !== 0) return -EINVAL;
    const mm = proc.mm!;
    let i = mm.findIndex(addr);
    let seg: ShmSegment | null = null;
    for (; i < mm.vmas.length; i++) {
      const v = mm.vmas[i]!;
      const s = this.segmentOf(v);
      if (s !== null && v.start >= addr && (v.start - addr) / ps === v.pgoff) {
        seg = s;
        unmapRange(k, proc, mm, v.start, v.end);
        break;
      }
    }
    if (seg === null) return -EINVAL;
    const size = Math.ceil(seg.size / ps) * ps;
    while (i < mm.vmas.length && mm.vmas[i]!.end - addr <= size) {
      const v = mm.vmas[i]!;
      if (v.object === seg.file && (v.start - addr) / ps === v.pgoff) unmapRange(k, proc, mm, v.start, v.end);
      else i++;
    }
    return 0;
  }

  /**
   * shmctl(2) of the commands that change or check a segment: IPC_RMID (destroyed now when nothing maps
   * it, else marked and its key forgotten), IPC_STAT, IPC_SET, SHM_LOCK and SHM_UNLOCK (0 for a live
   * id). @returns 0 or -errno (EINVAL for an unknown id or command).
   */
  control(id: number, cmd: number): number {
    const seg = id < 0 ? null : this.lookup(id);
    if (seg === null) return -EINVAL;
    switch (cmd) {
      case IPC_RMID:
        if (seg.file.vmas.size === 0) this.destroy(seg);
        else {
          seg.dest = true;
          seg.key = IPC_PRIVATE;
          seg.file.ipcHeld = false;
        }
        return 0;
      case IPC_STAT:
      case IPC_SET:
      case SHM_LOCK:
      case SHM_UNLOCK:
        return 0;
      default:
        return -EINVAL;
    }
  }

  /** The segment with this id (its sequence number too), or null. */
  private lookup(id: number): ShmSegment | null {
    this.prune();
    return this.byId.get(id) ?? null;
  }

  private alive(seg: ShmSegment): boolean {
    return !seg.dest || seg.file.vmas.size > 0;
  }

  /** Forgets segments marked for destruction whose last mapping went (the page cache freed them). */
  private prune(): void {
    for (const seg of this.byId.values()) if (!this.alive(seg)) this.forget(seg);
  }

  /** shm_destroy: the file's pages and its commit charge go with it. */
  private destroy(seg: ShmSegment): void {
    const k = this.k;
    seg.file.ipcHeld = false;
    k.pageCache.destroy(seg.file);
    k.commit.add(-seg.file.committedPages);
    seg.file.committedPages = 0;
    this.forget(seg);
  }

  private forget(seg: ShmSegment): void {
    this.byId.delete(seg.id);
    this.byFile.delete(seg.file);
  }
}
