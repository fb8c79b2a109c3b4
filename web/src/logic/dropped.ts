/**
 * Finding a path among the files dropped on the page. A loose file carries no directory (the
 * browser gives only its name), so it matches a path by its last component — when no other dropped
 * file does. A dropped folder keeps its files' paths (`sysroot/lib64/ld-linux-x86-64.so.2`) and acts
 * as a sysroot: an absolute path is looked up inside it as a chroot would, symbolic links resolved
 * (an absolute target starts again at the folder). A checkout without symbolic links holds each
 * link as a small text file naming its target (a "link file"); those are followed like links.
 */
import { chrootWalk } from '../../../src/base/chroot-walk.js';

export interface DroppedEntry {
  /** The file's name, or its path inside a dropped folder, the folder's own name first. */
  readonly name: string;
  readonly bytes: Uint8Array;
}

/** What a path found: a file and the path the process sees it at (links resolved). */
export type Found =
  | { readonly kind: 'found'; readonly file: DroppedEntry; readonly path: string }
  | { readonly kind: 'ambiguous'; readonly names: readonly string[] }
  | { readonly kind: 'missing' };

/** A link file's target, or null: a short line of text naming a path (never an ELF, never binary). */
export function linkTarget(bytes: Uint8Array): string | null {
  if (bytes.length === 0 || bytes.length > 1024 || bytes[0] === 0x7f) return null;
  let text = '';
  for (const b of bytes) {
    if (b === 0 || b === 0x0a || b === 0x0d) return null;
    text += String.fromCharCode(b);
  }
  return text.includes('/') ? text : null;
}

function components(path: string): string[] {
  return path.split('/').filter((p) => p !== '' && p !== '.');
}

/**
 * `path` inside the dropped folder `root` as a chroot would see it, every link followed, or null
 * when it leads to no dropped file (or loops).
 */
function resolveInFolder(
  byName: ReadonlyMap<string, DroppedEntry>,
  root: string,
  path: string,
): { file: DroppedEntry; path: string } | null {
  const fileAt = (inside: string) => byName.get(inside === '/' ? root : `${root}${inside}`);
  const inside = chrootWalk(path, (p) => {
    const file = fileAt(p);
    return file === undefined ? undefined : (linkTarget(file.bytes) ?? undefined);
  });
  const file = inside === null ? undefined : fileAt(inside);
  return file === undefined || inside === null ? null : { file, path: inside };
}

/** How many trailing components two paths share. */
function sharedTail(a: readonly string[], b: readonly string[]): number {
  let n = 0;
  while (n < a.length && n < b.length && a[a.length - 1 - n] === b[b.length - 1 - n]) n++;
  return n;
}

/**
 * The dropped file `path` names: the file of that exact name; else the file at that path inside a
 * dropped folder (when one folder has it); else the file whose path shares the most trailing
 * components with it, at least its base name (when one file does). A link file found that way is
 * followed inside its folder. `path` is shown as asked unless a folder resolved it.
 */
export function findDropped(files: readonly DroppedEntry[], path: string): Found {
  return droppedIndex(files)(path);
}

/** `findDropped` over the same files many times: the names indexed once. */
export function droppedIndex(files: readonly DroppedEntry[]): (path: string) => Found {
  const byName = new Map<string, DroppedEntry>();
  for (const f of files) byName.set(f.name, f);
  const roots = [...new Set(files.filter((f) => f.name.includes('/')).map((f) => f.name.split('/')[0]!))];
  const tails = files.map((f) => ({ f, parts: components(f.name) }));
  return (path) => find(byName, roots, tails, path);
}

function find(
  byName: ReadonlyMap<string, DroppedEntry>,
  roots: readonly string[],
  tails: readonly { f: DroppedEntry; parts: string[] }[],
  path: string,
): Found {
  const asked = path.replace(/^(\.\/)+/, '');
  const exact = byName.get(asked);
  if (exact !== undefined) return { kind: 'found', file: exact, path };
  if (path.startsWith('/')) {
    const inRoots = roots.flatMap((root) => {
      const r = resolveInFolder(byName, root, path);
      return r === null ? [] : [{ root, ...r }];
    });
    if (inRoots.length === 1) return { kind: 'found', file: inRoots[0]!.file, path: inRoots[0]!.path };
    if (inRoots.length > 1) return { kind: 'ambiguous', names: inRoots.map((r) => r.file.name) };
  }
  const want = components(asked);
  let best = 0;
  let matches: DroppedEntry[] = [];
  for (const { f, parts } of tails) {
    const n = sharedTail(parts, want);
    if (n === 0 || n < best) continue;
    if (n > best) matches = [];
    best = n;
    matches.push(f);
  }
  if (matches.length > 1) return { kind: 'ambiguous', names: matches.map((f) => f.name) };
  const file = matches[0];
  if (file === undefined) return { kind: 'missing' };
  const slash = file.name.indexOf('/');
  if (slash > 0 && linkTarget(file.bytes) !== null) {
    // A link inside a folder: follow it from where it lies.
    const r = resolveInFolder(byName, file.name.slice(0, slash), `/${file.name.slice(slash + 1)}`);
    if (r !== null) return { kind: 'found', file: r.file, path: r.path };
  }
  return { kind: 'found', file, path };
}

/** A file's base name, as a person drops it. */
export function baseName(path: string): string {
  const i = path.lastIndexOf('/');
  return i >= 0 ? path.slice(i + 1) : path;
}
