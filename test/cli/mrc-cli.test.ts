import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { bufferIo } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { corpusPath, testCorpus } from '../corpus.js';

const dir = mkdtempSync(join(tmpdir(), 'vmscope-mrc-'));

async function run(...argv: string[]) {
  const io = bufferIo();
  const status = await main(argv, io);
  return { status, out: io.stdout, err: io.stderr };
}

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
      '--csv',
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
    expect(r.err).toContain("expected --frames LO..HI or a list such as 16,32,64 (1..67108864), got '64..8'");
  });
});
