/**
 * Sharing checked against Linux by what changes. The corpus's sharing programs print
 * /proc/self/status and smaps_rollup at marked points of a run on the real kernel; between two
 * points a program did a few known things (mapped, wrote, forked, advised, synced). A scenario
 * doing the same things must change the same counters by the same amounts. Whole values differ —
 * the real process also carries libc, the loader and their pages — but those stand still between
 * the points compared here (each pair was chosen so that only the program's own steps ran between
 * them; the cases where the C library also moved a counter are left out, and named below).
 */
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { formatSnapshot } from '../../src/report/show.js';
import { runScenario } from '../../src/sim/scenario-runner.js';
import { parseScenario } from '../../src/workload/scenario/parse.js';
import { corpusPath, describeCorpus } from '../corpus.js';

/** kB counters of one point: `VmRSS`, `RssAnon`… from status and `Rss`, `Pss_Anon`… from the rollup. */
type Counters = Record<string, number>;

/** `Name:   123 kB` lines of a status or smaps_rollup text; a name seen twice keeps the first. */
function counters(text: string, prefix: string): Counters {
  const out: Counters = {};
  for (const m of text.matchAll(/^(\w+):\s+(\d+) kB$/gm)) out[prefix + m[1]!] ??= Number(m[2]);
  return out;
}

/** The points a corpus program printed: name → its status (`status.` keys) and rollup (`rollup.`). */
function linuxPoints(caseDir: string): Map<string, Counters> {
  const out = readFileSync(corpusPath('strace', caseDir, 'out.txt'), 'utf8');
  const points = new Map<string, Counters>();
  const re =
    /=== POINT (\S+) pid=\d+\n--- maps\n[\s\S]*?--- status\n([\s\S]*?)--- smaps_rollup\n([\s\S]*?)=== END \1\n/g;
  for (const m of out.matchAll(re))
    points.set(m[1]!, { ...counters(m[2]!, 'status.'), ...counters(m[3]!, 'rollup.') });
  return points;
}

/**
 * Runs a scenario in which `point NAME PROC` lines (replaced by `show PROC status` and `show PROC
 * smaps_rollup`) mark the points, and gives each point's counters as the /proc text reads them.
 */
function simPoints(text: string): Map<string, Counters> {
  const names: string[] = [];
  const lines = text.split('\n').flatMap((line) => {
    const m = /^point (\S+) (\S+)$/.exec(line.trim());
    if (m === null) return [line];
    names.push(m[1]!);
    return [`show ${m[2]} status`, `show ${m[2]} smaps_rollup`];
  });
  const r = runScenario(parseScenario('same-steps.vms', lines.join('\n')), { check: true });
  const failed = r.steps.filter((s) => s.verdict && !s.verdict.ok).map((s) => s.statement.text);
  expect(failed, 'scenario expectations').toEqual([]);
  const texts = r.steps
    .filter((s) => s.snapshot?.what === 'status' || s.snapshot?.what === 'smaps_rollup')
    .map((s) => ({ what: s.snapshot!.what, text: formatSnapshot(r.kernel.machine.arch, s.snapshot!) }));
  const points = new Map<string, Counters>();
  names.forEach((name, i) => {
    const status = texts[2 * i]!;
    const rollup = texts[2 * i + 1]!;
    expect([status.what, rollup.what]).toEqual(['status', 'smaps_rollup']);
    points.set(name, { ...counters(status.text, 'status.'), ...counters(rollup.text, 'rollup.') });
  });
  return points;
}

/** What changed from point `from` to point `to`, in the named counters. */
function delta(points: Map<string, Counters>, from: string, to: string, keys: readonly string[]): Counters {
  const a = points.get(from);
  const b = points.get(to);
  if (a === undefined || b === undefined) throw new Error(`no point ${a === undefined ? from : to}`);
  return Object.fromEntries(keys.map((k) => [k, (b[k] ?? Number.NaN) - (a[k] ?? Number.NaN)]));
}

const ANON = ['status.RssAnon', 'status.RssShmem', 'rollup.Pss_Anon', 'rollup.Pss_Shmem', 'rollup.Anonymous'];
const DIRTY = ['rollup.Shared_Dirty', 'rollup.Private_Dirty'];
const FILE = ['status.RssFile', 'rollup.Pss_File', 'rollup.Shared_Clean', 'rollup.Private_Clean'];

describeCorpus('sharing, step by step as on Linux', () => {
  for (const build of ['pie', 'nopie']) {
    test(`fork-cow (${build}): a child writing half of 64 inherited pages moves them from Shared_Dirty to Private_Dirty`, () => {
      const linux = linuxPoints(`fork-cow-a-${build}`);
      // The program: 64 written pages (malloc's mmap), fork, the child writes pages 0..31, exits.
      const sim = simPoints(`spawn A
point start A
A: mmap buf 256K rw- private
A: write buf 256K
point before-fork A
A: fork B
point child-before-write B
B: write buf 128K fill=0xee
point child-after-write B
B: exit
point parent-after-child A
`);
      const keys = [...ANON, ...DIRTY];
      // The child's own writes are the only thing between these two of its points.
      expect(delta(sim, 'child-before-write', 'child-after-write', keys)).toEqual(
        delta(linux, 'child-before-write', 'child-after-write', keys),
      );
      // Once the child has gone the parent's pages are its own again: every counter as before the fork.
      expect(delta(sim, 'before-fork', 'parent-after-child', [...keys, ...FILE])).toEqual(
        delta(linux, 'before-fork', 'parent-after-child', [...keys, ...FILE]),
      );
      // Right after fork the child's anonymous RSS is the parent's: the PTEs were copied (Linux's
      // copy_page_range), while file pages of VMAs without anonymous pages were not.
      expect(sim.get('child-before-write')!['status.RssAnon']).toBe(
        sim.get('before-fork')!['status.RssAnon'],
      );
      expect(linux.get('child-before-write')!['status.RssAnon']).toBe(
        linux.get('before-fork')!['status.RssAnon'],
      );
      // The 64 pages are the 256 kB the parent's anonymous RSS grew by (Linux: 260, malloc's heap
      // set up its first page too).
      expect(delta(sim, 'start', 'before-fork', ['status.RssAnon'])).toEqual({ 'status.RssAnon': 256 });
      expect(delta(linux, 'start', 'before-fork', ['status.RssAnon'])).toEqual({ 'status.RssAnon': 256 + 4 });
    });

    test(`shared-anon (${build}): shared anonymous pages count in RssShmem only where touched, and are the parent's once the child is gone`, () => {
      const linux = linuxPoints(`shared-anon-a-${build}`);
      // mmap 16 shared pages; fork; the child writes all 16 and exits; the parent reads them.
      const sim = simPoints(`spawn A
point start A
A: mmap sh 64K rw- shared
point after-mmap A
A: fork B
B: write sh 64K fill=0x80
point child-after-write B
B: exit
A: read sh 64K
point parent-read A
`);
      const keys = [...ANON, ...DIRTY];
      expect(delta(sim, 'start', 'after-mmap', keys)).toEqual(delta(linux, 'start', 'after-mmap', keys));
      expect(delta(sim, 'after-mmap', 'parent-read', keys)).toEqual(
        delta(linux, 'after-mmap', 'parent-read', keys),
      );
      // In the child: the shmem pages it wrote are its RssShmem, and all of their Pss (the parent
      // has not touched them); its anonymous pages are shared with the parent.
      for (const key of ['status.RssShmem', 'rollup.Pss_Shmem'])
        expect(sim.get('child-after-write')![key], key).toBe(linux.get('child-after-write')![key]);
    });

    test(`madvise (${build}): MADV_DONTNEED drops 16 of 32 written pages, and reading them back maps the zero page`, () => {
      const linux = linuxPoints(`madvise-a-${build}`);
      const sim = simPoints(`spawn A
point start A
A: mmap m 128K rw- private
A: write m 128K fill=0x30
point written A
A: madvise m+32K 64K dontneed
point dontneed A
A: read m+32K 64K
point read-back A
`);
      const keys = [...ANON, ...DIRTY];
      expect(delta(sim, 'start', 'written', keys)).toEqual(delta(linux, 'start', 'written', keys));
      expect(delta(sim, 'written', 'dontneed', keys)).toEqual(delta(linux, 'written', 'dontneed', keys));
      expect(delta(sim, 'dontneed', 'read-back', keys)).toEqual(delta(linux, 'dontneed', 'read-back', keys));
    });

    test(`file-map (${build}): a private mapping's read maps the cached file around it, a write copies one page; msync cleans the file`, () => {
      const linux = linuxPoints(`file-map-a-${build}`);
      // data.bin: 8 pages written by write(2), so cached and dirty. A private mapping of all of it,
      // read at page 1 (fault-around maps the 8 cached pages), written at page 1 (COW); then a
      // shared mapping written at page 2 and msync(MS_SYNC) over it.
      const sim = simPoints(`file data.bin 32K fill=0x41
spawn A
point file-created A
A: mmap priv 32K rw- private file=data.bin
A: read priv+4K
A: write priv+4K 1 fill=0x70
point private-written A
A: mmap shr 32K rw- shared file=data.bin
A: write shr+8K 1 fill=0x73
A: msync shr 32K sync
A: read priv+8K
point shared-written A
A: munmap priv 32K
A: munmap shr 32K
point unmapped A
`);
      const keys = [...ANON, ...DIRTY, ...FILE];
      // Between file-created and private-written Linux's RssAnon also grew by one page of the
      // program's own stack (pread's buffer); the file's counters are the program's alone.
      const fileKeys = [...FILE, 'rollup.Shared_Dirty'];
      expect(delta(sim, 'file-created', 'private-written', fileKeys)).toEqual(
        delta(linux, 'file-created', 'private-written', fileKeys),
      );
      expect(delta(sim, 'private-written', 'shared-written', keys)).toEqual(
        delta(linux, 'private-written', 'shared-written', keys),
      );
      // Unmapped, the file's pages leave the process (they stay in the page cache).
      expect(delta(sim, 'file-created', 'unmapped', FILE)).toEqual(
        delta(linux, 'file-created', 'unmapped', FILE),
      );
    });
  }
});
