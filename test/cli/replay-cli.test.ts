import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { corpusPath, testCorpus } from '../corpus.js';
import { run } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'vmscope-replay-'));

async function json(...argv: string[]) {
  const r = await run(...argv, '--json');
  expect(r.err).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.out);
}

describe('vmscope replay', () => {
  testCorpus('the full system and --policy-only count the same faults on a real lackey trace', async () => {
    const trace = corpusPath('memtrace', 'sort.lackey.gz');
    const full = await json('replay', '--policy', 'clock', '--frames', '32', trace);
    const pure = await json('replay', '--policy-only', '--policy', 'clock', '--frames', '32', trace);
    expect(full.accesses).toBe(pure.accesses);
    expect(full.faults).toBe(pure.faults);
    expect(full.hits + full.faults).toBe(full.accesses);
    expect(full.writebacks).toBe(pure.writebacks);
    expect(full.processes[0]).toMatchObject({ state: 'finished', accesses: full.accesses });
    expect(full.tlb.hits + full.tlb.misses).toBeGreaterThanOrEqual(full.accesses);
  });

  testCorpus('reproduces OSTEP paging-policy.py on a whole real page trace (LRU)', async () => {
    const expected = JSON.parse(
      readFileSync(corpusPath('reference', 'paging-policy-realtrace', 'expected.json'), 'utf8'),
    );
    const c = expected.cases.find(
      (x: { id: string; command: string[] }) =>
        /sort/.test(x.id) && /LRU/i.test(JSON.stringify(x.command)) && x.command.includes('32'),
    );
    expect(c).toBeDefined();
    const r = await json(
      'replay',
      '--policy',
      'lru',
      '--frames',
      '32',
      corpusPath('memtrace', 'sort.pages.gz'),
    );
    expect(r.hits).toBe(c.expected.hits);
    expect(r.faults).toBe(c.expected.misses);
  });

  test('a plain page list: ids are opaque pages, 0 included; --plot writes an SVG', async () => {
    const file = join(dir, 'p.txt');
    writeFileSync(file, '0\n1\n2\n0\n3\n0\n4\n');
    const svg = join(dir, 'c.svg');
    const r = await json('replay', '--frames', '3', '--policy', 'fifo', '--plot', svg, file);
    expect(r).toMatchObject({ accesses: 7, faults: 6, hits: 1 });
    expect(readFileSync(svg, 'utf8')).toMatch(/^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  });

  testCorpus('--sweep-mpl shows thrashing: the fault rate climbs with the number of processes', async () => {
    const traces = ['sort', 'gzip', 'python-dict', 'memwalk'].map((t) =>
      corpusPath('memtrace', `${t}.pages.gz`),
    );
    const r = await run(
      'replay',
      '--sweep-mpl',
      '--policy-only',
      '--frames',
      '96',
      '--fault-cost',
      '2000',
      '--json',
      ...traces,
    );
    expect(r.status).toBe(0);
    const points = JSON.parse(r.out) as { mpl: number; faultRate: number; utilization: number }[];
    expect(points.map((p) => p.mpl)).toEqual([1, 2, 3, 4]);
    expect(points[3]!.faultRate).toBeGreaterThan(points[0]!.faultRate * 10);
    const peak = Math.max(...points.map((p) => p.utilization));
    expect(points[3]!.utilization).toBeLessThan(peak);
  });

  test('bad input: a malformed line names the file and line; an unknown policy suggests one', async () => {
    const file = join(dir, 'bad.txt');
    writeFileSync(file, '1\n2\nthree\n');
    const r = await run('replay', '--format', 'pages', file);
    expect(r.status).toBe(2);
    expect(r.err).toMatch(new RegExp(`^${file}:3:1: error: `));
    const p = await run('replay', '--policy', 'lur', file);
    expect(p.status).toBe(2);
    expect(p.err).toContain("(did you mean 'lru'?)");
    const missing = await run('replay', join(dir, 'nope.gz'));
    expect(missing.status).toBe(2);
    expect(missing.err).toContain('no such file');
  });
});

describe('a replay that did not replay the whole trace says so', () => {
  test('killed by the OOM killer after N of M accesses: on stderr, in the table, oomKills counted, exit 1', async () => {
    // Every page of this trace is written and there is no swap: with 4 frames the fifth page
    // written has nowhere to go, and the OOM killer ends the only process.
    const trace = join(dir, 'writes.lackey');
    const lines: string[] = [];
    for (let i = 0; i < 64; i++) lines.push(` S ${(0x10000 + i * 4096).toString(16)},8`);
    writeFileSync(trace, `${lines.join('\n')}\n`);
    const r = await run('replay', '--swap', '0', '--frames', '4', trace);
    expect(r.status).toBe(1);
    const m = /killed by the OOM killer after (\d+) of 64 accesses/.exec(r.err);
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeLessThan(64);
    expect(r.err).toContain('the figures cover only what ran');
    expect(r.out).toMatch(/accesses +\d+ \(not the whole trace: see below\)/);
    expect(r.out).toMatch(/OOM kills +1/);
    expect(r.out).toContain(`killed by the OOM killer after ${m![1]} of 64 accesses`);
    const j = await run('replay', '--swap', '0', '--frames', '4', '--json', trace);
    expect(j.status).toBe(1);
    const doc = JSON.parse(j.out);
    expect(doc).toMatchObject({ complete: false, oomKills: 1 });
    expect(doc.processes[0]).toMatchObject({ state: 'killed', traceAccesses: 64 });
  });

  test('a trace replayed to its end: finished, not running, exit 0', async () => {
    const trace = join(dir, 'reads.pages');
    writeFileSync(trace, '1\n2\n3\n1\n');
    const r = await run('replay', '--json', trace);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({
      complete: true,
      processes: [{ state: 'finished', traceAccesses: 4 }],
    });
    const t = await run('replay', trace);
    expect(t.out).toContain('finished: the whole trace replayed');
    expect(t.out).toMatch(/hits +1 \(25\.00%\)/);
  });
});
