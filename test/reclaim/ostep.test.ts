/**
 * OSTEP's page-replacement homework (vm-beyondphys-policy/paging-policy.py, run with `-c`) gives,
 * for every access, whether it hit, what it evicted and what memory held. vmscope's cache
 * simulation reproduces every case whose policy it shares: FIFO, LRU, OPT, UNOPT and MRU by their
 * own rules, RAND and CLOCK through the faithful ports `ostep-rand` and `ostep-clock` (CPython's
 * MT19937, the script's arrival-ordered memory list). The addresses of seeded cases are drawn from
 * the same generator first, so reproducing them also checks the generator.
 */
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { LruPolicy } from '../../src/kernel/reclaim/lru.js';
import { OstepClockPolicy, OstepRandPolicy } from '../../src/kernel/reclaim/ostep.js';
import type { ReplacementPolicy } from '../../src/kernel/reclaim/policy.js';
import { PyRandom } from '../../src/kernel/reclaim/pyrandom.js';
import { createPolicy } from '../../src/kernel/reclaim/registry.js';
import { CacheSim, NextUseBuilder } from '../../src/sim/cachesim.js';
import { corpusPath, describeCorpus, fromCorpus, testCorpus } from '../corpus.js';
import { corpusPages } from './support.js';

interface Access {
  page: number;
  hit: boolean;
  memory_after: number[];
  victim: number | null;
}

interface OstepCase {
  id: string;
  inputs: Record<string, string>;
  expected: {
    hits: number;
    misses: number;
    addresses: number[] | string;
    accesses?: Access[];
    hit_sequence?: string;
    victims?: number[];
    final_memory?: number[];
  };
}

function load(folder: string): OstepCase[] {
  return fromCorpus(
    () =>
      (
        JSON.parse(readFileSync(corpusPath('reference', folder, 'expected.json'), 'utf8')) as {
          cases: OstepCase[];
        }
      ).cases,
    [],
  );
}

const CASES = load('paging-policy');
const REALTRACE = load('paging-policy-realtrace') as unknown as {
  id: string;
  inputs: { policy: string; cachesize: number; page_trace: string };
  expected: { hits: number; misses: number };
}[];

/** The addresses a case replays, and the generator as the script left it after making them. */
function setUp(c: OstepCase): { refs: number[]; rng: PyRandom } {
  const rng = new PyRandom(Number(c.inputs['seed']));
  const file = c.inputs['addressfile'];
  if (file) return { refs: Array.from(corpusPages('reference', 'paging-policy', file)), rng };
  const refs = c.expected.addresses as number[];
  if (c.inputs['addresses'] === '-1') {
    // The script drew its addresses from the generator: draw them again, and they must agree.
    const maxpage = Number(c.inputs['maxpage']);
    const drawn = refs.map(() => Math.floor(maxpage * rng.random()));
    expect(drawn, 'the addresses regenerated from the seed').toEqual(refs);
  }
  return { refs, rng };
}

function policyFor(c: OstepCase, rng: PyRandom): ReplacementPolicy {
  const frames = Number(c.inputs['cachesize']);
  const seed = Number(c.inputs['seed']);
  switch (c.inputs['policy']) {
    case 'RAND':
      return new OstepRandPolicy(frames, seed, rng);
    case 'CLOCK':
      return new OstepClockPolicy(frames, Number(c.inputs['clockbits']), seed, rng);
    default:
      return createPolicy(c.inputs['policy']!.toLowerCase(), frames);
  }
}

testCorpus('the corpus has the cases this suite relies on', () => {
  expect(CASES.length).toBe(148);
  const policies = new Set(CASES.map((c) => c.inputs['policy']));
  expect(policies).toEqual(new Set(['FIFO', 'LRU', 'OPT', 'UNOPT', 'MRU', 'RAND', 'CLOCK']));
  expect(REALTRACE.length).toBe(32);
});

describeCorpus.each(CASES.map((c, i) => [`${c.id} #${i}`, c] as const))(
  'OSTEP paging-policy %s',
  (_name, c) => {
    test('every access hits or misses, evicts and leaves memory as paging-policy.py says', () => {
      const { refs, rng } = setUp(c);
      const sim = new CacheSim(policyFor(c, rng));
      let future = null;
      if (sim.policy.needsFuture) {
        const b = new NextUseBuilder(refs.length);
        b.push(Float64Array.from(refs), refs.length);
        future = b.finish();
        sim.setFuture(future);
      }
      const hits: string[] = [];
      const victims: number[] = [];
      refs.forEach((page, i) => {
        const hit = sim.access(page);
        hits.push(hit ? 'H' : 'M');
        if (sim.lastVictim >= 0) victims.push(sim.lastVictim);
        const want = c.expected.accesses?.[i];
        if (want) {
          const where = `access ${i} (page ${page})`;
          expect(hit, where).toBe(want.hit);
          expect(sim.lastVictim >= 0 ? sim.lastVictim : null, where).toBe(want.victim);
          expect(sim.residentPages(), where).toEqual(want.memory_after);
        }
      });
      expect(sim.hits).toBe(c.expected.hits);
      expect(sim.faults).toBe(c.expected.misses);
      if (c.expected.hit_sequence !== undefined) {
        expect(hits.join('')).toBe(c.expected.hit_sequence);
        expect(victims).toEqual(c.expected.victims);
        expect(sim.residentPages()).toEqual(c.expected.final_memory);
      }
      expect(sim.validate()).toEqual([]);
    });
  },
);

describeCorpus('OSTEP paging-policy on whole real page traces', () => {
  test.each(REALTRACE.map((c) => [c.id, c] as const))('%s: the same hits and misses', (_id, c) => {
    const name = c.inputs.page_trace.split(' ')[0]!; // "memtrace/sort.pages.gz (gunzip … first)"
    const pages = corpusPages(...name.split('/'));
    const sim = new CacheSim(createPolicy(c.inputs.policy.toLowerCase(), c.inputs.cachesize));
    for (let i = 0; i < pages.length; i += 8192)
      sim.run(pages.subarray(i, i + 8192), null, Math.min(8192, pages.length - i));
    expect({ hits: sim.hits, misses: sim.faults }).toEqual({
      hits: c.expected.hits,
      misses: c.expected.misses,
    });
  });
});

test("FIFO shows Belady's anomaly on 1,2,3,4,1,2,5,1,2,3,4,5", () => {
  const refs = [1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5];
  const run = (frames: number) => {
    const sim = new CacheSim(createPolicy('fifo', frames));
    for (const p of refs) sim.access(p);
    return sim.faults;
  };
  expect(run(3)).toBe(9);
  expect(run(4)).toBe(10);
  // LRU is a stack algorithm: more frames never hurt.
  const lru = (frames: number) => {
    const sim = new CacheSim(new LruPolicy(frames));
    for (const p of refs) sim.access(p);
    return sim.faults;
  };
  expect(lru(4)).toBeLessThanOrEqual(lru(3));
});
