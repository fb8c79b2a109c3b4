/**
 * A path walked inside a root as a chroot sees it, the way Linux's path walk does it: component by
 * component, each one possibly a symbolic link whose target is walked in its place (a relative
 * target from the link's directory, an absolute one from the root again), `..` going to the parent
 * of where the walk is (a link already followed, not the path as written) and never above the root.
 * Where the files are — a host folder, files dropped on a web page — is the caller's: it answers
 * only "is this path a link, and to what".
 */

/** Links followed in one walk before it is refused: the kernel's MAXSYMLINKS (ELOOP). */
export const MAX_SYMLINKS = 40;

/**
 * Walks `path` inside the root.
 *
 * @param path the path to walk, absolute or not (both start at the root).
 * @param linkTarget the target of the link at `inside` (a path inside the root: `/lib64/ld.so`), or
 *   undefined when it is no link — a directory, a file, or nothing at all: a missing component stays
 *   in the result, for the caller's lookup to say so.
 * @returns the path inside the root with every link followed (`/usr/lib/…`, `/` for the root), or
 *   null when more than {@link MAX_SYMLINKS} links were followed (a loop, or a chain too long).
 */
export function chrootWalk(path: string, linkTarget: (inside: string) => string | undefined): string | null {
  const parts = components(path);
  const out: string[] = [];
  let links = 0;
  while (parts.length > 0) {
    const part = parts.shift()!;
    if (part === '..') {
      out.pop();
      continue;
    }
    const target = linkTarget(`/${[...out, part].join('/')}`);
    if (target === undefined) {
      out.push(part);
      continue;
    }
    if (++links > MAX_SYMLINKS) return null;
    if (target.startsWith('/')) out.length = 0;
    parts.unshift(...components(target));
  }
  return `/${out.join('/')}`;
}

/** A path's components, empty ones and `.` left out. */
function components(path: string): string[] {
  return path.split('/').filter((p) => p !== '' && p !== '.');
}
