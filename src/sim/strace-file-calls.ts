/**
 * The strace replay's file calls: not compared (vmscope has no filesystem to check them against),
 * but followed, because mappings need them — which file an fd names (open, dup, close), how big it
 * is (stat, and the writes, truncations and allocations of files the program creates), where the
 * working directory is, and which names go (unlink, rename).
 */
import { FALLOC_NAMES, SEEK_NAMES } from '../workload/strace/names.js';
import type { LoggedCall } from '../workload/strace/parser.js';
import { parseNumber } from '../workload/strace/scan.js';
import type { Value } from '../workload/strace/value.js';
import { type FileNode, joinPath, OpenFile } from './strace-files.js';
import * as kapi from './strace-kernel.js';
import { NOT_MEMORY, type Task } from './strace-model.js';
import type { StraceReplay } from './strace-replay.js';

const FILE_CALLS: ReadonlySet<string> = new Set([
  'open',
  'openat',
  'openat2',
  'creat',
  'memfd_create',
  'close',
  'close_range',
  'dup',
  'dup2',
  'dup3',
  'fcntl',
  'fcntl64',
  'read',
  'readv',
  'write',
  'writev',
  'pwrite64',
  'pwritev',
  'pwritev2',
  'lseek',
  '_llseek',
  'ftruncate',
  'ftruncate64',
  'truncate',
  'truncate64',
  'fallocate',
  'unlink',
  'unlinkat',
  'rename',
  'renameat',
  'renameat2',
  'fstat',
  'fstat64',
  'newfstatat',
  'fstatat64',
  'stat',
  'stat64',
  'lstat',
  'lstat64',
  'statx',
  'chdir',
  'fchdir',
]);

export function isFileCall(name: string): boolean {
  return FILE_CALLS.has(name);
}

const AT_FDCWD = -100;

/** The working directory from an `AT_FDCWD</tmp>` annotation, whenever the log shows one. */
function learnCwd(r: StraceReplay, task: Task, v: Value): void {
  const { fd, path } = v.fd();
  if (fd !== AT_FDCWD || path === null) return;
  const g = task.group;
  if (g.cwd === null && g.guessedProgram !== null && g.space !== null) {
    // The program was named against a guessed directory: the first one the log shows was the real one.
    const rel = g.guessedProgram.split('/').pop() ?? '';
    kapi.renameProgram(r.kernel, g.guessedProgram, joinPath(path, rel));
  }
  g.guessedProgram = null;
  g.cwd = path;
}

/** The absolute path of `rel` for a call relative to directory fd `dirArg` (or the cwd). */
function pathFor(r: StraceReplay, task: Task, rel: string, dirArg: Value | null): string {
  let dir: string | null = task.group.cwd;
  if (dirArg !== null) {
    const { fd, path } = dirArg.fd();
    if (fd !== AT_FDCWD) dir = path ?? task.fds.fds.get(fd)?.node.path ?? dir;
    else if (path !== null) dir = path;
  }
  const abs = rel.startsWith('/') ? joinPath('/', rel) : joinPath(dir ?? '/', rel);
  return r.options.files.resolve?.(abs) ?? abs;
}

function pathArg(v: Value, c: LoggedCall): string {
  const s = v.str();
  if (s === null) throw v.error(`expected a path as a string in ${c.name}`);
  return s.value;
}

function setSize(r: StraceReplay, node: FileNode, size: number): void {
  if (node.type !== 'regular') return;
  kapi.resizeFile(r.kernel, node, size);
}

/** The open flags (x86's and the generic values) the replay acts on, by name. */
const OPEN_BITS: readonly (readonly [string, number])[] = [
  ['O_WRONLY', 0o1],
  ['O_RDWR', 0o2],
  ['O_CREAT', 0o100],
  ['O_TRUNC', 0o1000],
  ['O_APPEND', 0o2000],
  ['O_TMPFILE', 0o20200000],
];

/** Open flags by name; a number (`-X raw` prints `0x241`) stands for the names of its bits. */
function openFlagNames(names: string[]): string[] {
  const out: string[] = [];
  for (const n of names) {
    const num = /^(0x[0-9a-f]+|0[0-7]*|[1-9][0-9]*)$/i.test(n) ? parseNumber(n, 0, n.length) : Number.NaN;
    if (Number.isNaN(num)) out.push(n);
    else for (const [name, bits] of OPEN_BITS) if ((num & bits) === bits) out.push(name);
  }
  return out;
}

/** The file behind `fd` (from the -y annotation when the fd table does not know it). */
function openFile(r: StraceReplay, task: Task, v: Value): OpenFile | null {
  const { fd, path } = v.fd();
  const { node, open } = r.fs.nodeOf(task.fds, fd, path);
  if (open !== null) return open;
  if (node === null) return null;
  // An fd the log did not open (inherited), or re-opened without us seeing it: the -y path names it.
  const f = new OpenFile(node, { read: true, write: false, append: false });
  task.fds.fds.set(fd, f);
  return f;
}

export function handleFileCall(r: StraceReplay, task: Task, c: LoggedCall): void {
  const res = c.result;
  const ok = res.kind === 'value';
  const value = ok ? res.value : -1;
  switch (c.name) {
    case 'open':
    case 'openat':
    case 'openat2':
    case 'creat': {
      const at = c.name === 'openat' || c.name === 'openat2' ? 1 : 0;
      if (at === 1) learnCwd(r, task, c.arg(0));
      if (!ok || res.kind !== 'value') {
        r.trackedCall(task, c);
        return;
      }
      const rel = pathArg(c.arg(at), c);
      const path = res.path ?? pathFor(r, task, rel, at === 1 ? c.arg(0) : null);
      let names: string[];
      if (c.name === 'creat') names = ['O_WRONLY', 'O_CREAT', 'O_TRUNC'];
      else if (c.name === 'openat2') names = openFlagNames(c.arg(2).field('flags')?.names() ?? []);
      else names = openFlagNames(c.arg(at + 1).names());
      const write = names.includes('O_WRONLY') || names.includes('O_RDWR');
      let node: FileNode;
      if (names.includes('O_TMPFILE')) node = r.fs.create(path);
      else if (names.includes('O_CREAT') && !r.fs.has(path)) {
        // A name the log has not seen: new, unless the sysroot has it (then it existed, with its size).
        const size = r.options.files.size?.(path) ?? null;
        node = size === null ? r.fs.create(path) : r.fs.node(path);
        if (size !== null) node.size ??= size;
      } else node = r.fs.node(path);
      if (names.includes('O_TRUNC') && write) setSize(r, node, 0);
      task.fds.fds.set(
        value,
        new OpenFile(node, { read: !names.includes('O_WRONLY'), write, append: names.includes('O_APPEND') }),
      );
      r.trackedCall(task, c);
      return;
    }
    case 'memfd_create': {
      if (ok) {
        const name = pathArg(c.arg(0), c);
        const node = r.fs.create(
          res.kind === 'value' && res.path !== null ? res.path : `/memfd:${name} (deleted)`,
        );
        node.hugeBytes = memfdHugeBytes(c.argc > 1 ? c.arg(1).raw : '');
        task.fds.fds.set(value, new OpenFile(node, { read: true, write: true, append: false }));
      }
      r.trackedCall(task, c);
      return;
    }
    case 'close':
      if (ok) task.fds.fds.delete(c.arg(0).fd().fd);
      r.trackedCall(task, c);
      return;
    case 'close_range': {
      if (ok) {
        const first = c.arg(0).int('an fd');
        const last = c.arg(1).int('an fd');
        for (const fd of [...task.fds.fds.keys()]) if (fd >= first && fd <= last) task.fds.fds.delete(fd);
      }
      r.trackedCall(task, c);
      return;
    }
    case 'dup':
    case 'dup2':
    case 'dup3': {
      const from = openFile(r, task, c.arg(0));
      if (ok && from !== null) task.fds.fds.set(value, from);
      r.trackedCall(task, c);
      return;
    }
    case 'fcntl':
    case 'fcntl64': {
      const cmd = c.arg(1).raw;
      if (cmd !== 'F_DUPFD' && cmd !== 'F_DUPFD_CLOEXEC') {
        r.skipCall(task, c, NOT_MEMORY);
        return;
      }
      const from = openFile(r, task, c.arg(0));
      if (ok && from !== null) task.fds.fds.set(value, from);
      r.trackedCall(task, c);
      return;
    }
    case 'read':
    case 'readv':
    case 'write':
    case 'writev': {
      const f = openFile(r, task, c.arg(0));
      if (f === null || f.node.type !== 'regular') {
        r.skipCall(task, c, NOT_MEMORY);
        return;
      }
      if (ok && value > 0) {
        const writing = c.name === 'write' || c.name === 'writev';
        if (writing && f.append && f.node.size !== null) f.pos = f.node.size;
        f.pos += value;
        if (writing && f.node.size !== null && f.pos > f.node.size) setSize(r, f.node, f.pos);
      }
      r.trackedCall(task, c);
      return;
    }
    case 'pwrite64':
    case 'pwritev':
    case 'pwritev2': {
      const f = openFile(r, task, c.arg(0));
      if (f === null || f.node.type !== 'regular') {
        r.skipCall(task, c, NOT_MEMORY);
        return;
      }
      if (ok && value > 0 && f.node.size !== null) {
        const off = c.arg(3).int('a file offset');
        if (off + value > f.node.size) setSize(r, f.node, off + value);
      }
      r.trackedCall(task, c);
      return;
    }
    case 'lseek': {
      const f = openFile(r, task, c.arg(0));
      c.arg(2).flags(SEEK_NAMES, 'SEEK_*');
      if (f !== null && ok) f.pos = value;
      r.trackedCall(task, c);
      return;
    }
    case '_llseek': {
      const f = openFile(r, task, c.arg(0));
      const pos = c.arg(3).items()?.[0]?.tryInt() ?? null;
      if (f !== null && ok && pos !== null) f.pos = pos;
      r.trackedCall(task, c);
      return;
    }
    case 'ftruncate':
    case 'ftruncate64': {
      const f = openFile(r, task, c.arg(0));
      if (f !== null && ok) setSize(r, f.node, c.arg(1).int('a length'));
      r.trackedCall(task, c);
      return;
    }
    case 'truncate':
    case 'truncate64':
      if (ok) setSize(r, r.fs.node(pathFor(r, task, pathArg(c.arg(0), c), null)), c.arg(1).int('a length'));
      r.trackedCall(task, c);
      return;
    case 'fallocate': {
      const f = openFile(r, task, c.arg(0));
      const mode = c.arg(1).flags(FALLOC_NAMES, 'FALLOC_FL_* flags');
      if (
        f !== null &&
        ok &&
        (mode & FALLOC_NAMES.get('FALLOC_FL_KEEP_SIZE')!) === 0 &&
        f.node.size !== null
      ) {
        const end = c.arg(2).int('an offset') + c.arg(3).int('a length');
        if (end > f.node.size) setSize(r, f.node, end);
      }
      r.trackedCall(task, c);
      return;
    }
    case 'unlink':
    case 'unlinkat': {
      const at = c.name === 'unlinkat' ? 1 : 0;
      if (at === 1) learnCwd(r, task, c.arg(0));
      if (ok) {
        const path = pathFor(r, task, pathArg(c.arg(at), c), at === 1 ? c.arg(0) : null);
        kapi.unlinkFile(r.kernel, r.fs.unlink(path), path);
      }
      r.trackedCall(task, c);
      return;
    }
    case 'rename':
    case 'renameat':
    case 'renameat2': {
      const two = c.name !== 'rename';
      if (ok) {
        const from = pathFor(r, task, pathArg(c.arg(two ? 1 : 0), c), two ? c.arg(0) : null);
        const to = pathFor(r, task, pathArg(c.arg(two ? 3 : 1), c), two ? c.arg(2) : null);
        r.fs.rename(from, to);
        kapi.renameFile(r.kernel, from, to);
      }
      r.trackedCall(task, c);
      return;
    }
    case 'chdir':
      if (ok) task.group.cwd = pathFor(r, task, pathArg(c.arg(0), c), null);
      r.trackedCall(task, c);
      return;
    case 'fchdir': {
      const f = openFile(r, task, c.arg(0));
      if (ok && f !== null) task.group.cwd = f.node.path;
      r.trackedCall(task, c);
      return;
    }
    default:
      statCall(r, task, c, ok);
  }
}

/** fstat, newfstatat, stat, lstat, statx…: a regular file's size. */
function statCall(r: StraceReplay, task: Task, c: LoggedCall, ok: boolean): void {
  if (!ok) {
    r.trackedCall(task, c);
    return;
  }
  let node: FileNode | null = null;
  let buf: Value;
  let sizeField = 'st_size';
  let modeField = 'st_mode';
  switch (c.name) {
    case 'fstat':
    case 'fstat64':
      node = openFile(r, task, c.arg(0))?.node ?? null;
      buf = c.arg(1);
      break;
    case 'stat':
    case 'stat64':
    case 'lstat':
    case 'lstat64':
      node = r.fs.node(pathFor(r, task, pathArg(c.arg(0), c), null));
      buf = c.arg(1);
      break;
    default: {
      // newfstatat/fstatat64(dirfd, path, buf, flags), statx(dirfd, path, flags, mask, buf)
      learnCwd(r, task, c.arg(0));
      const rel = pathArg(c.arg(1), c);
      if (rel === '') node = openFile(r, task, c.arg(0))?.node ?? null;
      else node = r.fs.node(pathFor(r, task, rel, c.arg(0)));
      if (c.name === 'statx') {
        buf = c.arg(4);
        sizeField = 'stx_size';
        modeField = 'stx_mode';
      } else buf = c.arg(2);
    }
  }
  const size = buf.field(sizeField);
  const mode = buf.field(modeField)?.raw ?? '';
  if (node !== null && size !== null && mode.startsWith('S_IFREG')) setSize(r, node, size.int('a file size'));
  r.trackedCall(task, c);
}

/**
 * memfd_create's MFD_HUGETLB as strace prints it (`MFD_HUGETLB|30<<MFD_HUGE_SHIFT`, or a size's name):
 * the huge page size in bytes (x86-64's 2 MiB by default), or 0 for an ordinary memfd.
 */
function memfdHugeBytes(flags: string): number {
  if (!/\bMFD_HUGETLB\b/.test(flags)) return 0;
  const shift = /\b(\d+)<<MFD_HUGE_SHIFT\b/.exec(flags)?.[1];
  if (shift !== undefined) return 2 ** Number(shift);
  if (/\bMFD_HUGE_1GB\b/.test(flags)) return 2 ** 30;
  return 2 ** 21;
}
