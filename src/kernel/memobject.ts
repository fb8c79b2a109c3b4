/**
 * What backs a shared or file mapping (Linux's inode and its `address_space`): a file's bytes, the
 * zero-filled memory of a shared anonymous mapping (shmem), or pages the kernel shows every process
 * (the vdso). Each object has its page cache (page index → pfn), the VMAs that map it (`vmas`, Linux
 * `i_mmap`, for the reverse map), and for files a backing store: the bytes the file was created with and
 * the pages written back since.
 *
 * File pages stay in the page cache when the last mapping goes, as on Linux (`Cached` in meminfo), until
 * reclaim drops them, the file is deleted or caches are dropped. Shmem and kernel objects die with their
 * last mapping.
 */

/** `kernel`: pages the kernel provides to every process (the vdso). */
export type MemObjectKind = 'file' | 'shmem' | 'kernel';

export class MemObject {
  /** The id in the kernel's mapping table (mapping.ts), -1 while unregistered. */
  id = -1;
  readonly kind: MemObjectKind;
  /** The name /proc/PID/maps shows. */
  path: string;
  /** `major:minor` and inode for the maps line. */
  readonly device: string;
  readonly inode: number;
  /** Bytes of the file (for shmem, of the mapping it was made for). */
  sizeBytes: number;
  /** The page cache: page index → pfn. */
  readonly pages = new Map<number, number>();
  /** Shmem pages out in swap: page index → swap slot. */
  readonly swapped = new Map<number, number>();
  /** VMAs (in any process) that map this object. */
  readonly vmas = new Set<import('./vma.js').Vma>();
  /** The file was opened for writing (shared writable mappings allowed). */
  writable = false;
  /** Still reachable by its path (a deleted file lives on while mapped). */
  linked = true;
  /** A System V segment holds it (shm.ts): it outlives its mappings until IPC_RMID. */
  ipcHeld = false;
  /** Pages this object has committed (shmem: its size, charged when created). */
  committedPages = 0;
  /**
   * A hugetlbfs file (MAP_HUGETLB, SHM_HUGETLB): its huge page size in bytes, else 0. Its mappings are
   * huge-page aligned and split only there; the pool is empty (vm.nr_hugepages 0, Linux's default),
   * so only a mapping that reserves nothing is made, and every fault in it is SIGBUS.
   */
  hugeBytes = 0;
  /** A hugetlbfs file whose mappings reserve nothing (a SHM_HUGETLB segment's: S_PRIVATE). */
  hugeNoReserve = false;
  /** The contents the file was created with (zeros beyond), and pages written back since. */
  private readonly base: Uint8Array | null;
  /** Bytes of `base` still part of the file (a shrinking truncate cuts them for good). */
  private baseBytes: number;
  private readonly written = new Map<number, Uint8Array>();
  private readonly pageSize: number;

  constructor(
    kind: MemObjectKind,
    path: string,
    data: Uint8Array | null,
    sizeBytes: number,
    device: string,
    inode: number,
    pageSize: number,
  ) {
    this.kind = kind;
    this.path = path;
    this.base = data;
    this.baseBytes = Math.min(data?.byteLength ?? 0, sizeBytes);
    this.sizeBytes = sizeBytes;
    this.device = device;
    this.inode = inode;
    this.pageSize = pageSize;
  }

  /** Pages the file covers (the last one partly). */
  get sizePages(): number {
    return Math.ceil(this.sizeBytes / this.pageSize);
  }

  /** The contents the object was created with, or null (zeros). */
  get initialBytes(): Uint8Array | null {
    return this.base;
  }

  /** Reads page `index` from the backing store into `dst` (zeros past the end of the file). */
  readPage(index: number, dst: Uint8Array): void {
    const page = this.written.get(index);
    if (page !== undefined) {
      dst.set(page);
    } else {
      dst.fill(0);
      const start = index * this.pageSize;
      const end = Math.min(start + this.pageSize, this.baseBytes);
      if (this.base !== null && end > start) dst.set(this.base.subarray(start, end));
    }
    const eofInPage = this.sizeBytes - index * this.pageSize;
    if (eofInPage < this.pageSize) dst.fill(0, Math.max(0, eofInPage));
  }

  /** Writes page `index` back to the store (the part inside the file). */
  writePage(index: number, src: Uint8Array): void {
    if (index * this.pageSize >= this.sizeBytes) return;
    this.written.set(index, src.slice(0, this.pageSize));
  }

  /** Changes the file's size; the store forgets what lies beyond. */
  truncate(sizeBytes: number): void {
    if (sizeBytes < this.sizeBytes) {
      this.baseBytes = Math.min(this.baseBytes, sizeBytes);
      for (const [index, page] of [...this.written]) {
        const keep = sizeBytes - index * this.pageSize;
        if (keep <= 0) this.written.delete(index);
        else if (keep < this.pageSize) page.fill(0, keep);
      }
    }
    this.sizeBytes = sizeBytes;
  }
}
