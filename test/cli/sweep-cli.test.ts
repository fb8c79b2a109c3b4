/**
 * `vmscope sweep` as a batch system runs it: the built command in separate processes. Three shards
 * started together and merged give the single run's table byte for byte; a rerun recomputes only the
 * cells whose files are gone; a merge of a folder lacking cells names them and fails; --plot writes
 * a PNG.
 */
import { mkdtempSync, readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { corpusPath, testCorpus } from '../corpus.js';
import { hasBuiltCli, readPng, vmscope } from './built-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'vmscope-sweep-cli-'));

/** A deterministic generator (mulberry32), so the fixtures are the same on every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Two small traces of two formats: a page list (a hot set and a cold tail) and a lackey trace
// (loops over arrays of 64-byte records, loads and stores).
const pages = join(dir, 'hot-cold.pages');
const lackey = join(dir, 'loops.lackey');
{
  const r = random(7);
  const ids = Array.from({ length: 6000 }, () =>
    r() < 0.7 ? Math.floor(r() * 40) : 40 + Math.floor(r() * 400),
  );
  writeFileSync(pages, `${ids.join('\n')}\n`);
  const lines: string[] = [];
  for (let pass = 0; pass < 6; pass++)
    for (let i = 0; i < 1500; i++) {
      const addr = 0x10000000 + ((i * 64 * (pass + 1)) % (300 * 4096));
      lines.push(`${i % 5 === 0 ? ' S' : ' L'} ${addr.toString(16)},8`);
    }
  writeFileSync(lackey, `${lines.join('\n')}\n`);
}

const POLICIES = 'lru,fifo,clock,opt,./examples/policies/random-oldest-k.js';
const FRAMES = '4,16,64,256';

/** `sweep` over `traces` with `extra` flags. */
const sweep = (traces: readonly string[], ...extra: string[]) =>
  vmscope([
    'sweep',
    '--traces',
    traces.join(','),
    '--policies',
    POLICIES,
    '--frames',
    FRAMES,
    '--threads',
    '1',
    ...extra,
  ]);

/** The single run's table in `one`, three shards at once in `sharded` then --merge: the same bytes. */
async function shardsEqualSingle(traces: readonly string[], name: string): Promise<void> {
  const one = join(dir, `${name}-one`);
  const sharded = join(dir, `${name}-sharded`);
  const single = await sweep(traces, '--out', one, '--json');
  expect(single.err).not.toMatch(/error/);
  expect(single.status).toBe(0);
  const shards = await Promise.all(
    ['1/3', '2/3', '3/3'].map((s) => sweep(traces, '--out', sharded, '--shard', s)),
  );
  for (const [i, s] of shards.entries()) {
    expect(s.status, s.err).toBe(0);
    expect(s.err).toContain(`shard ${i + 1}/3 done`);
    expect(s.out).toBe('');
  }
  const cells = traces.length * POLICIES.split(',').length;
  expect(readdirSync(join(sharded, 'cells')).filter((f) => f.endsWith('.json'))).toHaveLength(cells);
  const merged = await vmscope(['sweep', '--merge', sharded, '--json']);
  expect(merged.status, merged.err).toBe(0);
  expect(merged.out).toBe(single.out);
  for (const f of ['sweep.csv', 'sweep.json'])
    expect(readFileSync(join(sharded, f), 'utf8'), f).toBe(readFileSync(join(one, f), 'utf8'));
  const csv = readFileSync(join(one, 'sweep.csv'), 'utf8').trimEnd().split('\n');
  expect(csv[0]).toBe('trace,format,policy,frames,accesses,faults,miss_ratio');
  expect(csv).toHaveLength(1 + cells * FRAMES.split(',').length);
}

describe.skipIf(!hasBuiltCli)('vmscope sweep in separate processes', () => {
  test('three shards started together, then --merge: the CSV and JSON tables equal one unsharded run byte for byte', async () => {
    await shardsEqualSingle([pages, lackey], 'fixtures');
  });

  testCorpus('the same with a corpus trace in the grid', async () => {
    await shardsEqualSingle([pages, corpusPath('memtrace', 'sort.pages.gz')], 'corpus');
  });

  test('resume: with one cell file deleted a rerun computes that cell alone, says which were skipped, and the table is the same', async () => {
    const out = join(dir, 'resume');
    const first = await sweep([pages, lackey], '--out', out, '--table', '-');
    expect(first.status, first.err).toBe(0);
    expect(first.err).toContain('sweep: 10 cells; computing 10 on 1 thread');
    const cells = join(out, 'cells');
    const files = readdirSync(cells).sort();
    const gone = files.find((f) => f.startsWith('loops.lackey~fifo~'))!;
    const before = new Map(files.map((f) => [f, statSync(join(cells, f)).mtimeMs]));
    const csv = readFileSync(join(out, 'sweep.csv'), 'utf8');
    unlinkSync(join(cells, gone));
    unlinkSync(join(out, 'sweep.csv'));
    const again = await sweep([pages, lackey], '--out', out, '--table', '-');
    expect(again.status, again.err).toBe(0);
    expect(again.err).toMatch(
      /9 already in .*resume, skipped \(hot-cold\.pages × random-oldest-k, hot-cold\.pages × clock, /,
    );
    expect(again.err).toContain('computing 1 (loops.lackey × fifo) on 1 thread');
    expect(readdirSync(cells).sort()).toEqual(files);
    for (const f of files)
      if (f !== gone) expect(statSync(join(cells, f)).mtimeMs, `${f} untouched`).toBe(before.get(f));
    expect(again.out).toBe(first.out);
    expect(readFileSync(join(out, 'sweep.csv'), 'utf8')).toBe(csv);
  });

  test('--merge of a folder lacking cells names each missing cell, writes no table and exits non-zero', async () => {
    const out = join(dir, 'incomplete');
    for (const s of ['1/3', '3/3'])
      expect((await sweep([pages, lackey], '--out', out, '--shard', s)).status).toBe(0);
    const merged = await vmscope(['sweep', '--merge', out]);
    expect(merged.status).toBe(1);
    expect(merged.out).toBe('');
    // Shard 2/3 holds cells 2, 5 and 8 of the sorted order: hot-cold.pages first, the policies in
    // code-unit order (./examples/… before clock, fifo, lru, opt).
    expect(merged.err).toBe(
      `sweep: 3 of 10 cells are missing from ${out} (no table written):\n` +
        `  cell 2: ${pages} × clock\n  cell 5: ${pages} × opt\n  cell 8: ${lackey} × fifo\n`,
    );
    expect(readdirSync(out)).not.toContain('sweep.csv');
  });

  test('--plot F.png: a PNG of the stated size (760 × 420 at twice the scale) with the lines in colour', async () => {
    const png = join(dir, 'sweep.png');
    const r = await sweep([pages, lackey], '--plot', png);
    expect(r.status, r.err).toBe(0);
    const p = readPng(png);
    expect(p.signature).toBe(true);
    expect([p.width, p.height]).toEqual([1520, 840]);
    expect(p.colours).toBeGreaterThan(2);
  });
});
