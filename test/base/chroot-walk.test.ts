import { describe, expect, test } from 'vitest';
import { chrootWalk, MAX_SYMLINKS } from '../../src/base/chroot-walk.js';

/** A root of links only, by their path inside it; anything else is no link. */
function links(map: Record<string, string>): (inside: string) => string | undefined {
  return (inside) => map[inside];
}

describe('chrootWalk: a path inside a root as a chroot sees it', () => {
  test("Debian's merged /usr: a relative link from its directory, an absolute one from the root", () => {
    const root = links({
      '/lib': 'usr/lib',
      '/lib64/ld-linux-x86-64.so.2': '/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2',
    });
    expect(chrootWalk('/lib64/ld-linux-x86-64.so.2', root)).toBe(
      '/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2',
    );
    // A relative target is taken from the link's own directory, not from the root.
    expect(chrootWalk('/opt/bin/tool', links({ '/opt/bin/tool': '../libexec/tool' }))).toBe(
      '/opt/libexec/tool',
    );
  });

  test('an absolute link target is re-rooted: it never leaves the root', () => {
    const asked: string[] = [];
    const root = (inside: string) => {
      asked.push(inside);
      return inside === '/etc/alternatives/ld' ? '/usr/lib/ld.so' : undefined;
    };
    expect(chrootWalk('/etc/alternatives/ld', root)).toBe('/usr/lib/ld.so');
    // Every question was a path inside the root, the target's walked from the root again.
    expect(asked).toEqual([
      '/etc',
      '/etc/alternatives',
      '/etc/alternatives/ld',
      '/usr',
      '/usr/lib',
      '/usr/lib/ld.so',
    ]);
  });

  test('.. above the root stays at the root, in the path and in a link target', () => {
    const none = links({});
    expect(chrootWalk('/../../etc/passwd', none)).toBe('/etc/passwd');
    expect(chrootWalk('../..', none)).toBe('/');
    expect(chrootWalk('/a/./b/../../..', none)).toBe('/');
    expect(chrootWalk('/lib/ld.so', links({ '/lib': '../../../../usr/lib' }))).toBe('/usr/lib/ld.so');
  });

  test(".. after a link goes to the target's parent, as Linux's walk does, not back along the path", () => {
    const root = links({ '/lib': 'usr/lib' });
    expect(chrootWalk('/lib/../bin/sh', root)).toBe('/usr/bin/sh');
  });

  test('a loop of links is refused, not walked forever; a chain of MAX_SYMLINKS links is followed', () => {
    expect(chrootWalk('/a', links({ '/a': '/b', '/b': '/a' }))).toBeNull();
    expect(chrootWalk('/self/x', links({ '/self': '/self' }))).toBeNull();
    const chain: Record<string, string> = {};
    for (let i = 0; i < MAX_SYMLINKS; i++) chain[`/l${i}`] = `/l${i + 1}`;
    expect(chrootWalk('/l0', links(chain))).toBe(`/l${MAX_SYMLINKS}`);
    chain[`/l${MAX_SYMLINKS}`] = '/end';
    expect(chrootWalk('/l0', links(chain))).toBeNull();
  });

  test('missing components stay in the path for the lookup to name; empty ones and . are dropped', () => {
    expect(chrootWalk('//usr//./lib/missing.so', links({}))).toBe('/usr/lib/missing.so');
    expect(chrootWalk('', links({}))).toBe('/');
  });
});
