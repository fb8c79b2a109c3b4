/**
 * The simulated filesystem: files by path, each a {@link MemObject} with its bytes, its size and its
 * page cache. Exec and spawn put the files they load here (a second load of the same bytes shares the
 * page cache); scenarios and strace replays create, grow, truncate and delete files the program uses.
 *
 * A deleted (or replaced) file lives on while something maps it, as an unlinked inode does on Linux.
 */
import { MemObject } from './memobject.js';
import type { PageCache } from './pagecache.js';

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export interface FileOptions {
  /** Opened for writing by whoever maps it (so MAP_SHARED may be writable). */
  readonly writable?: boolean;
  /** `major:minor` shown in maps (default `fe:00`, the recorded machine's root disk). */
  readonly device?: string;
}

export class SimFs {
  private readonly files = new Map<string, MemObject>();
  private readonly cache: PageCache;
  private readonly pageSize: number;
  private nextInode = 1000;

  constructor(cache: PageCache, pageSize: number) {
    this.cache = cache;
    this.pageSize = pageSize;
  }

  lookup(path: string): MemObject | undefined {
    return this.files.get(path);
  }

  /** Every file, by path. */
  list(): MemObject[] {
    return [...this.files.values()];
  }

  /**
   * Creates (or replaces) the file at `path` with `data`, or with `size` zero bytes when `data` is
   * null. @returns the new file.
   */
  create(
    path: string,
    data: Uint8Array | null,
    size = data?.byteLength ?? 0,
    opts: FileOptions = {},
  ): MemObject {
    this.unlink(path);
    const obj = new MemObject(
      'file',
      path,
      data,
      size,
      opts.device ?? 'fe:00',
      this.newInode(),
      this.pageSize,
    );
    obj.writable = opts.writable ?? false;
    this.cache.register(obj);
    this.files.set(path, obj);
    return obj;
  }

  /**
   * The file at `path` with exactly these contents: the existing one (sharing its page cache) when its
   * bytes are the same, else a new one in its place.
   */
  open(path: string, data: Uint8Array): MemObject {
    const have = this.files.get(path);
    const init = have?.initialBytes;
    if (have !== undefined && init != null && have.sizeBytes === data.byteLength && sameBytes(init, data))
      return have;
    return this.create(path, data);
  }

  /** Removes `path`; the file's pages go once nothing maps it. @returns false when there was none. */
  unlink(path: string): boolean {
    const obj = this.files.get(path);
    if (obj === undefined) return false;
    this.files.delete(path);
    obj.linked = false;
    obj.path = `${path} (deleted)`;
    this.cache.released(obj);
    return true;
  }

  /**
   * rename(2): the file at `from` takes the name `to`; a file that had that name is unlinked (it
   * lives on while mapped). @returns false when `from` names no file.
   */
  rename(from: string, to: string): boolean {
    const obj = this.files.get(from);
    if (obj === undefined) return false;
    if (from === to) return true;
    this.unlink(to);
    this.files.delete(from);
    obj.path = to;
    this.files.set(to, obj);
    return true;
  }

  /**
   * ftruncate: the file's new size. Pages wholly beyond it are unmapped everywhere (private copies
   * too, as Linux's `truncate_pagecache` does) and dropped; a later access there is SIGBUS.
   */
  truncate(obj: MemObject, sizeBytes: number): void {
    const keepPages = Math.ceil(sizeBytes / this.pageSize);
    if (keepPages < obj.sizePages) this.cache.unmapFrom(obj, keepPages);
    for (const index of [...obj.pages.keys()]) if (index >= keepPages) this.cache.remove(obj, index);
    if (sizeBytes < obj.sizeBytes) this.cache.zeroFrom(obj, sizeBytes);
    obj.truncate(sizeBytes);
  }

  newInode(): number {
    return this.nextInode++;
  }
}
