/**
 * What backs a shared or file mapping: a file's bytes, or the zero-filled memory of a shared anonymous
 * mapping (shmem). Each object has its own page cache, page index → pfn; cached frames hold one
 * reference for the cache and one per mapping.
 *
 * vmscope frees an object's cached pages when the last VMA mapping it goes away, so that MemFree
 * returns to its boot value when every process has exited (Linux would keep file pages as `Cached`).
 */

/** `kernel`: pages the kernel provides to every process (the vdso). */
export type MemObjectKind = 'file' | 'shmem' | 'kernel';

let nextObjectId = 1;
let nextInode = 1000;

export class MemObject {
  readonly id: number;
  readonly kind: MemObjectKind;
  /** The name /proc/PID/maps shows. */
  readonly path: string;
  /** `major:minor` and inode for the maps line. */
  readonly device: string;
  readonly inode: number;
  /** File contents (null for shmem, which starts zero-filled). */
  readonly data: Uint8Array | null;
  readonly sizeBytes: number;
  /** The page cache: page index → pfn. */
  readonly pages = new Map<number, number>();
  /** Shmem pages out in swap: page index → swap slot. */
  readonly swapped = new Map<number, number>();
  /** VMAs (in any process) that map this object. */
  mapCount = 0;
  /** The file was opened for writing (shared writable mappings allowed). Files vmscope loads are not. */
  writable = false;

  constructor(kind: MemObjectKind, path: string, data: Uint8Array | null, sizeBytes: number, device: string) {
    this.id = nextObjectId++;
    this.kind = kind;
    this.path = path;
    this.data = data;
    this.sizeBytes = sizeBytes;
    this.device = device;
    this.inode = nextInode++;
  }
}

/** A file with the given contents, as the maps line names it. */
export function fileObject(path: string, data: Uint8Array): MemObject {
  return new MemObject('file', path, data, data.byteLength, 'fe:00');
}

/** The object behind an anonymous MAP_SHARED mapping (Linux: a shmem file named `/dev/zero`). */
export function shmemObject(sizeBytes: number): MemObject {
  return new MemObject('shmem', '/dev/zero (deleted)', null, sizeBytes, '00:01');
}
