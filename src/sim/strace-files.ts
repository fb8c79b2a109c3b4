/**
 * What a strace replay knows of the program's files: a small filesystem of the paths the log
 * touched (each a node with a size when the log or the sysroot tells it), and per-task fd tables
 * whose open file descriptions carry their offset, so that `write` grows a file the program created,
 * `ftruncate` cuts it, and an mmap of it past its end raises SIGBUS as on Linux.
 *
 * Paths are as the process saw them: strace's `-y` annotation when the log has it (the kernel's own
 * resolved path), else the path argument made absolute against the working directory.
 */
import type { MemObject } from '../kernel/memobject.js';

/** A file the log mentions (Linux's inode, as far as the replay needs one). */
export class FileNode {
  path: string;
  /** Size in bytes, or null when nothing told it yet. */
  size: number | null;
  /** `regular` files can be mapped with their size; `zero` is /dev/zero; `other` everything else. */
  readonly type: 'regular' | 'zero' | 'other';
  /** The kernel object backing mappings of it (created at the first mmap). */
  object: MemObject | null = null;
  /** Removed from its directory (unlink) while still open or mapped. */
  unlinked = false;
  /** A hugetlbfs file (memfd_create with MFD_HUGETLB): its huge page size in bytes, else 0. */
  hugeBytes = 0;

  constructor(path: string, type: FileNode['type'], size: number | null) {
    this.path = path;
    this.type = type;
    this.size = size;
  }

  /** The name /proc/PID/maps shows: the path, with ` (deleted)` once it was unlinked. */
  get shownName(): string {
    return this.unlinked ? `${this.path} (deleted)` : this.path;
  }

  /** Whether `path` (a `-y` annotation, perhaps with ` (deleted)`) names this node. */
  isNamed(path: string): boolean {
    return path === this.path || path === this.shownName;
  }
}

/** An open file description: shared by dup'd fds and across fork, with its own offset. */
export class OpenFile {
  readonly node: FileNode;
  readonly readable: boolean;
  readonly writable: boolean;
  readonly append: boolean;
  pos = 0;

  constructor(node: FileNode, access: { read: boolean; write: boolean; append: boolean }) {
    this.node = node;
    this.readable = access.read;
    this.writable = access.write;
    this.append = access.append;
  }
}

export class FdTable {
  readonly fds = new Map<number, OpenFile>();

  /** A copy for a child that does not share its parent's table (fork without CLONE_FILES). */
  clone(): FdTable {
    const t = new FdTable();
    for (const [fd, f] of this.fds) t.fds.set(fd, f);
    return t;
  }
}

/** The type a path names, by the device files Linux gives special mmap behaviour. */
function typeOf(path: string): FileNode['type'] {
  if (path === '/dev/zero') return 'zero';
  if (/^\/(proc|sys|dev)\//.test(path) && !path.startsWith('/dev/shm/')) return 'other';
  if (/^(socket|pipe|anon_inode|net|TCP|UDP|UNIX|NETLINK)[:[]/.test(path)) return 'other';
  return 'regular';
}

export class Filesystem {
  private readonly byPath = new Map<string, FileNode>();

  /**
   * The node at `path`, made on first mention (size unknown). A `-y` path ending in ` (deleted)`
   * names a file already unlinked: a node of its own, outside the directory.
   */
  node(path: string): FileNode {
    let n = this.byPath.get(path);
    if (n === undefined) {
      const deleted = path.endsWith(' (deleted)') && !path.startsWith('/memfd:');
      const name = deleted ? path.slice(0, -' (deleted)'.length) : path;
      n = new FileNode(name, typeOf(name), null);
      if (deleted) n.unlinked = true;
      else this.byPath.set(path, n);
    }
    return n;
  }

  /**
   * The node an fd names: the fd table's, when its path (if the log shows one) agrees; else the
   * path's (an fd opened before the log starts, or one the replay lost track of).
   */
  nodeOf(fds: FdTable, fd: number, path: string | null): { node: FileNode | null; open: OpenFile | null } {
    const open = fds.fds.get(fd) ?? null;
    if (open !== null && (path === null || open.node.isNamed(path))) return { node: open.node, open };
    return { node: path === null ? null : this.node(path), open: null };
  }

  /** A fresh, empty regular file at `path` (O_CREAT of a new name, memfd_create, O_TMPFILE). */
  create(path: string): FileNode {
    const n = new FileNode(path, typeOf(path) === 'other' ? 'other' : 'regular', 0);
    this.byPath.set(path, n);
    return n;
  }

  has(path: string): boolean {
    return this.byPath.has(path);
  }

  /** unlink: the name goes; open fds and mappings keep the node. @returns it, if the log knew it. */
  unlink(path: string): FileNode | null {
    const n = this.byPath.get(path);
    if (n === undefined) return null;
    n.unlinked = true;
    this.byPath.delete(path);
    return n;
  }

  /** rename: @returns the node `to` named before, now unlinked. */
  rename(from: string, to: string): FileNode | null {
    const n = this.byPath.get(from);
    if (n === undefined) return null;
    this.byPath.delete(from);
    const replaced = this.byPath.get(to);
    if (replaced) replaced.unlinked = true;
    n.path = to;
    this.byPath.set(to, n);
    return replaced ?? null;
  }
}

/** `dir` + `path` as a normalised absolute path (`..` and `.` folded; no links resolved). */
export function joinPath(dir: string, path: string): string {
  const parts = (path.startsWith('/') ? path : `${dir}/${path}`).split('/');
  const out: string[] = [];
  for (const p of parts) {
    if (p === '' || p === '.') continue;
    if (p === '..') out.pop();
    else out.push(p);
  }
  return `/${out.join('/')}`;
}
