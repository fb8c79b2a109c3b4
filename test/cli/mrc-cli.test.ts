import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { checkoutRoot, corpusPath, testCorpus } from '../corpus.js';
import { run } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'vmscope-mrc-'));

describe('vmscope mrc', () => {
  testCorpus('every curve point equals a replay of the policy with that many frames', async () => {
    const trace = corpusPath('memtrace', 'gzip.pages.gz');
    const csv = join(dir, 'c.csv');
    const r = await run(
      'mrc',
      '--policies',
      'lru,fifo,opt',
      '--frames',
      '8,16,64',
      '--threads',
      '2',
      '--json',
      '--table',
      csv,
      trace,
    );
    expect(r.err).toBe('');
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.out) as { curves: { policy: string; sizes: number[]; faults: number[] }[] };
    for (const c of doc.curves) {
      for (const [i, frames] of c.sizes.entries()) {
        const rep = await run(
          'replay',
          '--policy-only',
          '--policy',
          c.policy,
          '--frames',
          String(frames),
          '--json',
          trace,
        );
        expect(JSON.parse(rep.out).faults, `${c.policy} at ${frames} frames`).toBe(c.faults[i]);
      }
    }
    // OPT is a lower bound for every policy at every size.
    const opt = doc.curves.find((c) => c.policy === 'opt')!;
    for (const c of doc.curves)
      for (const [i, f] of c.faults.entries()) expect(f).toBeGreaterThanOrEqual(opt.faults[i]!);
    expect(readFileSync(csv, 'utf8').split('\n')[0]).toBe('policy,frames,faults,miss_ratio');
  });

  test('bad sizes are an input error', async () => {
    const r = await run('mrc', '--frames', '64..8', corpusPath('memtrace', 'gzip.pages.gz'));
    expect(r.status).toBe(2);
    expect(r.err).toContain(
      "--frames: error: expected --frames LO..HI, LO..HI/x2, LO..HI/+STEP, a list such as 16,24,32, or log-spaced (sizes 1..67,108,864), got '64..8': LO must be at least 1 and at most HI",
    );
  });
});

describe('mrc defaults a new user can read', () => {
  const belady = join(dir, 'belady.txt');
  writeFileSync(belady, '1\n2\n3\n4\n1\n2\n5\n1\n2\n3\n4\n5\n');

  test("--frames 1..6 means every size, so FIFO's Belady anomaly shows (9 faults at 3 frames, 10 at 4)", async () => {
    const r = await run('mrc', '--policies', 'fifo', '--frames', '1..6', '--json', belady);
    const doc = JSON.parse(r.out);
    expect(doc.curves[0].sizes).toEqual([1, 2, 3, 4, 5, 6]);
    expect(doc.curves[0].faults).toEqual([12, 12, 9, 10, 5, 5]);
    const p2 = await run('mrc', '--policies', 'fifo', '--frames', '1..6/x2', '--json', belady);
    expect(JSON.parse(p2.out).curves[0].sizes).toEqual([1, 2, 4, 6]);
    const step = await run('mrc', '--policies', 'fifo', '--frames', '2..6/+2', '--json', belady);
    expect(JSON.parse(step.out).curves[0].sizes).toEqual([2, 4, 6]);
  });

  test('by default the sizes stop at the footprint, which is printed; counts stand beside the ratios', async () => {
    const r = await run('mrc', '--policies', 'lru,fifo', belady);
    expect(r.status).toBe(0);
    expect(r.out).toContain('belady.txt (pages): 12 accesses, footprint 5 distinct pages');
    const rows = r.out.split('\n').filter((l) => /^│ +\d/.test(l));
    expect(rows.map((l) => Number(/^│ +(\d+)/.exec(l)![1]))).toEqual([1, 2, 4, 5]);
    expect(r.out).toMatch(/│ +4 │ +8 \(66\.667%\) │ +10 \(83\.333%\) │/);
    const j = JSON.parse((await run('mrc', '--policies', 'lru', '--json', belady)).out);
    expect(j).toMatchObject({ footprint: 5, accesses: 12 });
  });

  test('--seed reaches the random policies: the same seed, the same curve', async () => {
    const trace = join(dir, 'loop.txt');
    writeFileSync(trace, `${Array.from({ length: 400 }, (_, i) => i % 13).join('\n')}\n`);
    const curve = async (seed: string) =>
      JSON.parse(
        (await run('mrc', '--policies', 'random', '--frames', '4..12', '--seed', seed, '--json', trace)).out,
      ).curves[0].faults;
    expect(await curve('1')).toEqual(await curve('1'));
    expect(await curve('1')).not.toEqual(await curve('2'));
  });

  test('the plot fits its y axis to the data (no 0..1 when every ratio is small) and names every line', async () => {
    const svg = join(dir, 'mrc.svg');
    const r = await run('mrc', '--policies', 'lru,fifo,opt', '--frames', '3..6', '--plot', svg, belady);
    expect(r.status).toBe(0);
    const text = readFileSync(svg, 'utf8');
    for (const name of ['lru', 'fifo', 'opt']) expect(text).toContain(`>${name}</text>`);
    expect(text).not.toMatch(/>1\.0</);
  });
  test('the plot on a log axis ticks only powers of two (128 and 150 overlapped) and its title clears the y label', async () => {
    const pages = join(dir, 'loop200.txt');
    writeFileSync(pages, `${Array.from({ length: 600 }, (_, i) => i % 200).join('\n')}\n`);
    const svg = join(dir, 'log.svg');
    const r = await run('mrc', '--policies', 'lru', '--plot', svg, pages);
    expect(r.status).toBe(0);
    const text = readFileSync(svg, 'utf8');
    const ticks = text.match(/aria-label="x-axis tick label">(.*?)<\/g>/)![1]!;
    const labels = [...ticks.matchAll(/>([^<]+)<\/text>/g)].map((m) => Number(m[1]!.replace(/,/g, '')));
    expect(labels.length).toBeGreaterThan(3);
    for (const n of labels) expect(Math.log2(n) % 1).toBe(0);
    // Both sit in the top margin: the y label at its top, the title below it (11px text).
    const at = (label: string) => {
      const g = text.match(
        new RegExp(
          `translate\\(-?[\\d.]+,(-?[\\d.]+)\\)"[^>]*aria-label="${label}"><text transform="translate\\([\\d.]+,([\\d.]+)\\)`,
        ),
      )!;
      return Number(g[1]) + Number(g[2]);
    };
    expect(at('text')).toBeGreaterThanOrEqual(at('y-axis label') + 14);
  });
});

describe('the bundled example trace and the README plot made from it', () => {
  test("matmul.lines.gz: LRU's two knees and LIRS near OPT below the first, worse than LRU between (as the README says)", async () => {
    const trace = join(checkoutRoot(), 'examples', 'traces', 'matmul.lines.gz');
    const lirs = join(checkoutRoot(), 'examples', 'policies', 'lirs.js');
    const r = await run(
      'mrc',
      '--policies',
      `lru,opt,${lirs}`,
      '--frames',
      '32,48,64,256,288,512',
      '--json',
      trace,
    );
    expect(r.status, r.err).toBe(0);
    const doc = JSON.parse(r.out) as { accesses: number; footprint: number; curves: { faults: number[] }[] };
    expect([doc.accesses, doc.footprint]).toEqual([237_570, 1182]);
    const pct = (f: number) => Number(((100 * f) / doc.accesses).toFixed(1));
    const [lru, opt, lirsCurve] = doc.curves.map((c) => c.faults.map(pct));
    expect(lru).toEqual([55.4, 54.8, 6.6, 6.5, 6.5, 0.7]);
    expect(opt![0]).toBe(26.9);
    expect(lirsCurve![0]).toBe(31.7);
    expect(lirsCurve![3]).toBe(12.4);
  });
});
