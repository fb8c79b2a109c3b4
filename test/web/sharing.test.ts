/**
 * Sharing as the visualizer's engine shows it: every frame's mappers (from the kernel's reverse map)
 * against a walk of every page table, copy-on-write after fork, a library mapped by three, the zero
 * page, threads, smaps per VMA, the frame grid's colours, and the words for fork, threads,
 * copy-on-write breaks and write-backs.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { walkTables } from '../../src/kernel/inspect.js';
import type { Kernel } from '../../src/kernel/kernel.js';
import type { Mm } from '../../src/kernel/mm.js';
import type { StateView } from '../../web/src/engine/protocol.js';
import { ZERO_MAPPER_LIMIT } from '../../web/src/engine/protocol.js';
import { ScenarioSession, samplePositions } from '../../web/src/engine/session.js';
import { stateView } from '../../web/src/engine/view-state.js';
import { COW_COLOR, frameColor, paintFrames } from '../../web/src/logic/grid.js';
import {
  type Mapper,
  mapperCount,
  mapperMask,
  mappersOf,
  SHARE_CACHE,
  SHARE_COW,
  SHARE_NONE,
  SHARE_UNMAPPED,
  SHARE_ZERO,
  shareClass,
  shareCounts,
} from '../../web/src/logic/sharing.js';

const example = (name: string) =>
  readFileSync(new URL(`../../examples/${name}.vms`, import.meta.url), 'utf8');

/** Every present (or PROT_NONE) leaf of every address space, by frame: the page tables' own answer. */
function walkedMappers(k: Kernel): Map<number, Mapper[]> {
  const fmt = k.machine.arch.pte;
  const out = new Map<number, Mapper[]>();
  const seen = new Set<Mm>();
  for (const p of [...k.processes.values()].sort((a, b) => a.pid - b.pid)) {
    const mm = p.mm;
    if (mm === null || seen.has(mm)) continue;
    seen.add(mm);
    walkTables(k, mm, {
      entry(_level, _i, vpn, _ea, lo, hi, leaf) {
        if (!leaf || (lo & (fmt.present | fmt.swProtNone)) === 0) return;
        const pfn = fmt.pfnOf(lo, hi);
        const list = out.get(pfn) ?? [];
        list.push({ pid: mm.pid, vpn });
        out.set(pfn, list);
      },
    });
  }
  for (const list of out.values()) list.sort((a, b) => a.pid - b.pid || a.vpn - b.vpn);
  return out;
}

function session(name: string) {
  const s = new ScenarioSession(`${name}.vms`, example(name));
  const run = s.run();
  expect(run.runError).toBeNull();
  expect(run.bug).toBeNull();
  /** The view after the statement `text` (its first occurrence). */
  const stateAfter = (text: string): StateView => {
    const i = run.steps.findIndex((st) => st.text === text);
    expect(i, `no statement '${text}'`).toBeGreaterThanOrEqual(0);
    return s.stateAt(i + 1, null);
  };
  return { s, run, stateAfter };
}

const pidOf = (st: StateView, name: string) => st.procs.find((p) => p.name === name)!.pid;

describe('who maps each frame, in the frames view', () => {
  test.each([
    ['08-fork-and-cow', true],
    ['09-shared-library', true],
    ['10-shared-file', true],
    ['11-mremap', false],
    ['12-madvise', false],
  ])('at steps of %s, every frame lists the mappers a walk of every page table finds', (name, shares) => {
    const { s, run } = session(name);
    let sharedSeen = 0;
    // Ten positions spread over the scenario (each is a re-run of its prefix).
    for (const p of samplePositions(run.steps.length, 10)) {
      const k = s.kernelAt(p);
      const f = stateView(k, p, null).frames;
      const walked = walkedMappers(k);
      const zero = walked.get(f.zeroPfn) ?? [];
      expect(f.zeroMappers).toBe(zero.length);
      expect(mappersOf(f, f.zeroPfn)).toEqual(zero.slice(0, ZERO_MAPPER_LIMIT));
      walked.delete(f.zeroPfn);
      // Every other frame: its mappers, and as many as its mapcount says.
      const got: [number, Mapper[], number][] = [];
      const want: [number, Mapper[], number][] = [];
      for (let pfn = 0; pfn < f.kinds.length; pfn++) {
        if (pfn === f.zeroPfn) continue;
        const m = mappersOf(f, pfn);
        if (m.length > 0 || f.mapcount[pfn]! > 0) got.push([pfn, m, mapperCount(f, pfn)]);
        if (m.length > 1) sharedSeen++;
      }
      for (const [pfn, m] of [...walked].sort((x, y) => x[0] - y[0])) want.push([pfn, m, m.length]);
      expect(got, `position ${p}`).toEqual(want);
    }
    if (shares) expect(sharedSeen).toBeGreaterThan(0);
  });
});

describe('fork and copy-on-write (example 08)', () => {
  test('after fork every page of buf is one frame mapped by A and B at the same address; after B writes half, those are its own', () => {
    const { stateAfter } = session('08-fork-and-cow');
    const forked = stateAfter('A: fork B');
    const a = pidOf(forked, 'A');
    const b = pidOf(forked, 'B');
    const buf = forked.procs
      .find((p) => p.pid === a)!
      .vmas.find((v) => v.perms === 'rw-p' && v.pages === 64)!;
    const frameAt = (st: StateView, pid: number, va: number): number => {
      const f = st.frames;
      for (let pfn = 0; pfn < f.kinds.length; pfn++)
        if (mappersOf(f, pfn).some((m) => m.pid === pid && m.vpn === va / 4096)) return pfn;
      return -1;
    };
    const f = forked.frames;
    for (let i = 0; i < 64; i++) {
      const va = buf.start + i * 4096;
      const pfn = frameAt(forked, a, va);
      expect(mappersOf(f, pfn)).toEqual([
        { pid: a, vpn: va / 4096 },
        { pid: b, vpn: va / 4096 },
      ]);
      expect(shareClass(f.kinds[pfn]!, f.mapcount[pfn]!, false)).toBe(SHARE_COW);
    }
    // The child's view of buf: every page resident, every page shared.
    const bBuf = forked.procs.find((p) => p.pid === b)!.vmas.find((v) => v.start === buf.start)!;
    expect(bBuf.rssPages).toBe(64);
    expect(bBuf.sharedPages).toBe(64);

    const written = stateAfter('B: write buf 128K fill=238');
    const w = written.frames;
    for (let i = 0; i < 64; i++) {
      const va = buf.start + i * 4096;
      const pa = frameAt(written, a, va);
      const pb = frameAt(written, b, va);
      if (i < 32) {
        // Copied: two frames, each mapped once — A keeps the original, B has the copy.
        expect(pa).not.toBe(pb);
        expect(mappersOf(w, pa)).toEqual([{ pid: a, vpn: va / 4096 }]);
        expect(mappersOf(w, pb)).toEqual([{ pid: b, vpn: va / 4096 }]);
        expect(shareClass(w.kinds[pb]!, w.mapcount[pb]!, false)).toBe(SHARE_NONE);
      } else {
        expect(pa).toBe(pb);
        expect(w.mapcount[pa]).toBe(2);
      }
    }
    const bAfter = written.procs.find((p) => p.pid === b)!.vmas.find((v) => v.start === buf.start)!;
    expect(bAfter.sharedPages).toBe(32);
    // smaps per VMA, as `expect B smaps buf …` says: 128 kB shared, 128 kB private, Pss 64 + 128.
    expect(bAfter.smaps).toMatchObject({ rss: 262144, sharedDirty: 131072, privateDirty: 131072 });
    expect(bAfter.smaps!.pss).toBe((65536 + 131072) * 4096);

    const ended = stateAfter('B: exit');
    expect(ended.frames.sharedPfns.length).toBe(0);
    expect(ended.procs.find((p) => p.pid === b)!.rollup).toBeNull();
  });

  test('the log says who forked whom, and each copy-on-write break with its frames', () => {
    const { run } = session('08-fork-and-cow');
    const fork = run.steps.find((st) => st.text === 'A: fork B')!;
    const forkEvent = fork.events.find((e) => e.type === 'fork')!;
    expect(forkEvent.detail).toBe(false);
    expect(forkEvent.text).toMatch(/^A forked B \(pid 2\): its pages are now shared, read-only in both/);
    const write = run.steps.find((st) => st.text === 'B: write buf 128K fill=238')!;
    const cows = write.events.filter((e) => e.type === 'cow');
    expect(cows).toHaveLength(32);
    expect(cows[0]!.text).toMatch(
      /^copy-on-write: B's page 0x7ffff7fbf000 now has its own frame 0x[0-9a-f]+, a copy of frame 0x7$/,
    );
    // The event links the writer's page and its new frame.
    expect(cows[0]!.pid).toBe(2);
    expect(cows[0]!.pfn).toBe(Number.parseInt(cows[0]!.text.match(/own frame (0x[0-9a-f]+)/)![1]!, 16));
    // B's statements are about B's addresses (the child is named for the walk to follow it).
    expect(write.focus).toEqual({ pid: 2, va: 0x7ffff7fbf000 });
    // The child's exit says its name, not a pid.
    const exit = run.steps.find((st) => st.text === 'B: exit')!;
    expect(exit.events.some((e) => e.text === 'B exited with code 0')).toBe(true);
  });
});

describe('a library mapped by three processes (example 09)', () => {
  test('one set of page-cache frames; each has A, B and C as mappers where their windows reach', () => {
    const { stateAfter } = session('09-shared-library');
    const st = stateAfter('C: fetch lib+32K');
    const f = st.frames;
    const lib = (name: string) =>
      st.procs.find((p) => p.name === name)!.vmas.find((v) => v.name === '/libdemo.so')!;
    const [a, b, c] = ['A', 'B', 'C'].map((n) => pidOf(st, n));
    const cache: number[] = [];
    for (let pfn = 0; pfn < f.kinds.length; pfn++) if (f.kinds[pfn] === 3) cache.push(pfn);
    expect(cache).toHaveLength(16);
    for (const [i, pfn] of cache.entries()) {
      const vpn = lib('A').start / 4096 + i;
      // C's read at lib+32K mapped the fault-around window Linux computes: the PT-aligned 16 pages
      // around it, cut at the VMA's start — all but the first page.
      const want = i === 0 ? [a, b] : [a, b, c];
      expect(mappersOf(f, pfn)).toEqual(want.map((pid) => ({ pid, vpn })));
      expect(shareClass(f.kinds[pfn]!, f.mapcount[pfn]!, false)).toBe(SHARE_CACHE);
    }
    expect(shareCounts(f)[SHARE_CACHE]).toBe(16);
    // PSS splits each page among its mappers: the three add up to the 64 kB really used.
    const pss = ['A', 'B', 'C'].map((n) => lib(n).smaps!.pss).reduce((x, y) => x + y, 0);
    expect(Math.abs(pss - 65536 * 4096)).toBeLessThan(16 * 3);
    expect(Math.floor(lib('A').smaps!.pss / 4096 / 1024)).toBe(21);
    expect(lib('C').smaps!.rss).toBe(15 * 4096);
    // Selecting B's mapping keeps exactly the 16 frames (whoever else maps them).
    const mask = mapperMask(
      f,
      (pid, vpn) => pid === b && vpn >= lib('B').start / 4096 && vpn < lib('B').end / 4096,
    );
    expect(cache.every((pfn) => mask[pfn] === 1)).toBe(true);
    expect(mask.reduce((n, x) => n + x, 0)).toBe(16);

    // Nobody maps them any more; the page cache keeps them.
    const gone = stateAfter('B: exit');
    for (const pfn of cache) {
      expect(gone.frames.kinds[pfn]).toBe(3);
      expect(shareClass(3, gone.frames.mapcount[pfn]!, false)).toBe(SHARE_UNMAPPED);
    }
  });

  test('sync narrates each page written back to the file', () => {
    const { run, stateAfter } = session('09-shared-library');
    const sync = run.steps.find((st) => st.text === 'sync')!;
    const wb = sync.events.filter((e) => e.type === 'writeback');
    expect(wb).toHaveLength(16);
    expect(wb[0]!.detail).toBe(false);
    const pfn = wb[0]!.pfn!;
    expect(wb[0]!.text).toBe(`page 0 of /libdemo.so written back to the file (frame 0x${pfn.toString(16)})`);
    // The link is to the page-cache frame that was written: the one A's first page of lib maps later.
    const st = stateAfter('A: fetch lib');
    const lib = st.procs.find((p) => p.name === 'A')!.vmas.find((v) => v.name === '/libdemo.so')!;
    expect(mappersOf(st.frames, pfn)).toContainEqual({ pid: pidOf(st, 'A'), vpn: lib.start / 4096 });
  });
});

describe('the zero page and threads', () => {
  const text = [
    'machine x86_64 ram=32MiB',
    'spawn A',
    'A: mmap x 64K rw- private',
    'A: read x 64K',
    'A: write x+8K 1',
    'A: thread T',
    'T: read x+16K 1',
  ].join('\n');

  test('pages read but never written map the zero page: listed as its mappers, in no RSS', () => {
    const s = new ScenarioSession('zero.vms', text);
    const run = s.run();
    expect(run.runError).toBeNull();
    const at = (t: string) => s.stateAt(run.steps.findIndex((st) => st.text === t) + 1, null);
    const read = at('A: read x 64K');
    const a = read.procs[0]!;
    const x = a.vmas.find((v) => v.pages === 16)!;
    expect(x.zeroPages).toBe(16);
    expect(x.rssPages).toBe(0);
    expect(x.smaps!.rss).toBe(0);
    const f = read.frames;
    expect(f.zeroPfn).toBeGreaterThanOrEqual(0);
    expect(f.zeroMappers).toBe(16);
    expect(mappersOf(f, f.zeroPfn)).toHaveLength(16);
    expect(shareClass(f.kinds[f.zeroPfn]!, f.mapcount[f.zeroPfn]!, true)).toBe(SHARE_ZERO);
    expect(shareCounts(f)[SHARE_ZERO]).toBe(1);
    // The first write gives that page a frame of its own (a copy-on-write break of the zero page).
    const written = at('A: write x+8K 1');
    const x2 = written.procs[0]!.vmas.find((v) => v.pages === 16)!;
    expect([x2.zeroPages, x2.rssPages]).toEqual([15, 1]);
    expect(written.frames.zeroMappers).toBe(15);
    const cow = run.steps.find((st) => st.text === 'A: write x+8K 1')!.events.find((e) => e.type === 'cow')!;
    expect(cow.text).toMatch(/^copy-on-write: A's page 0x[0-9a-f]+ now has its own frame/);
  });

  test("a thread shows its process's address space, and the log says it shares it", () => {
    const s = new ScenarioSession('zero.vms', text);
    const run = s.run();
    const thread = run.steps.find((st) => st.text === 'A: thread T')!;
    expect(thread.events.find((e) => e.type === 'thread')!.text).toBe(
      'A started thread T (tid 2) in the same address space',
    );
    expect(run.steps.at(-1)!.focus?.pid).toBe(2);
    const st = s.stateAt(run.steps.length, null);
    const [a, t] = st.procs;
    expect([t!.name, t!.pid, t!.tgid, t!.mmPid]).toEqual(['T', 2, 1, 1]);
    expect(t!.vmas).toBe(a!.vmas);
    // The mm was walked once: each zero-page mapping is listed once, under the process's pid.
    expect(st.frames.zeroMappers).toBe(15);
    expect(mappersOf(st.frames, st.frames.zeroPfn).every((m) => m.pid === 1)).toBe(true);
  });
});

describe('the frame grid colours sharing apart', () => {
  test('copy-on-write, a page-cache page mapped by several or by none, and the zero page each get their own colour', () => {
    const anonA = frameColor(2, 1, false);
    const cow = frameColor(2, 1, false, SHARE_COW);
    const file = frameColor(3, -1, false);
    const fileShared = frameColor(3, -1, false, SHARE_CACHE);
    const fileCached = frameColor(3, -1, false, SHARE_UNMAPPED);
    const zero = frameColor(5, -1, false, SHARE_ZERO);
    expect(new Set([anonA, cow, file, fileShared, fileCached, zero, frameColor(5, -1, false)]).size).toBe(7);
    // A COW-shared page is the same colour whoever brought it in.
    expect(frameColor(2, 2, false, SHARE_COW)).toBe(cow);
    const v = Number.parseInt(COW_COLOR.slice(1), 16);
    expect(cow).toBe((0xff000000 | ((v & 0xff) << 16) | (v & 0xff00) | (v >> 16)) >>> 0);
    // paintFrames takes sharing from the mapcounts and the zero page's frame.
    const kinds = Uint8Array.of(5, 2, 2, 3, 3, 3);
    const owners = Int32Array.of(-1, 1, 1, -1, -1, -1);
    const mapcount = Int32Array.of(0, 1, 2, 1, 3, 0);
    const out = new Uint32Array(6);
    paintFrames(kinds, owners, null, out, { mapcount, zeroPfn: 0 });
    expect([...out]).toEqual([zero, anonA, cow, file, fileShared, fileCached]);
    // Without sharing the old colours stay.
    paintFrames(kinds, owners, null, out);
    expect(out[2]).toBe(anonA);
  });
});
