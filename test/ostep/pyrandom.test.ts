/**
 * vmscope's port of CPython's `random` against CPython itself. `cpython-random.json` was generated
 * once with CPython 3.11.7 by this program (run from the checkout's root):
 *
 *     import json, random
 *     g = random.Random(20240611)
 *     seeds = [0, 1, 2, 3, 7, 42, 1000, 12345, 2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**32 + 1,
 *              2**53 - 1, 2**64 + 5, 10**30, -1, -7, -(2**40)]
 *     while len(seeds) < 120:
 *         bits = g.choice([8, 16, 31, 32, 33, 48, 64, 100])
 *         s = g.getrandbits(bits)
 *         seeds.append(-s if g.random() < 0.1 else s)
 *     rows = []
 *     for s in seeds:
 *         r = random.Random(s)
 *         row = {'seed': str(s), 'random': [r.random() for _ in range(6)]}
 *         row['getrandbits'] = [[k, r.getrandbits(k)] for k in (1, 5, 17, 31, 32)]
 *         row['randrange'] = [[n, r.randrange(n)] for n in (1, 2, 3, 10, 100, 1000, 2**31 + 7, 2**32)]
 *         row['randint'] = [[a, b, r.randint(a, b)] for a, b in ((0, 9), (-5, 5), (1, 6))]
 *         row['choice'] = r.choice(list(range(37)))
 *         row['uniform'] = r.uniform(-3.0, 11.0)
 *         x = list(range(10)); r.shuffle(x); row['shuffle'] = x
 *         row['after'] = r.random()
 *         rows.append(row)
 *     json.dump(rows, open('test/ostep/cpython-random.json', 'w'), separators=(',', ':'))
 *
 * Each row replays one generator through every call in that order, so a call that draws one output
 * too many or too few shows up in every value after it. The floats are compared exactly (JSON keeps
 * Python's shortest repr, which JavaScript parses to the same double).
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { PyRandom } from '../../src/kernel/reclaim/pyrandom.js';

interface Row {
  seed: string;
  random: number[];
  getrandbits: [number, number][];
  randrange: [number, number][];
  randint: [number, number, number][];
  choice: number;
  uniform: number;
  shuffle: number[];
  after: number;
}

const ROWS = JSON.parse(readFileSync(new URL('./cpython-random.json', import.meta.url), 'utf8')) as Row[];

describe('PyRandom draws what CPython 3.11 draws', () => {
  test('the table covers small, 32-bit-boundary, huge and negative seeds', () => {
    expect(ROWS.length).toBe(120);
    const seeds = ROWS.map((r) => BigInt(r.seed));
    expect(seeds.some((s) => s > 2n ** 64n)).toBe(true);
    expect(seeds.some((s) => s < 0n)).toBe(true);
  });

  test.each(ROWS.map((r) => [r.seed, r] as const))('seed %s', (_seed, row) => {
    const r = new PyRandom(BigInt(row.seed));
    expect(row.random.map(() => r.random())).toEqual(row.random);
    for (const [k, v] of row.getrandbits) expect(r.getrandbits(k), `getrandbits(${k})`).toBe(v);
    for (const [n, v] of row.randrange) expect(r.randrange(0, n), `randrange(${n})`).toBe(v);
    for (const [a, b, v] of row.randint) expect(r.randint(a, b), `randint(${a}, ${b})`).toBe(v);
    expect(r.choice(Array.from({ length: 37 }, (_, i) => i))).toBe(row.choice);
    expect(r.uniform(-3, 11)).toBe(row.uniform);
    const x = Array.from({ length: 10 }, (_, i) => i);
    r.shuffle(x);
    expect(x).toEqual(row.shuffle);
    expect(r.random()).toBe(row.after);
  });
});

describe('PyRandom properties', () => {
  test('a seed and its negation, as a number or a bigint, give one stream', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 80n }), (seed) => {
        const a = new PyRandom(seed);
        const b = new PyRandom(-seed);
        const draws = [a.random(), a.random(), a.random()];
        expect([b.random(), b.random(), b.random()]).toEqual(draws);
        if (seed <= BigInt(Number.MAX_SAFE_INTEGER))
          expect(new PyRandom(Number(seed)).random()).toBe(draws[0]);
      }),
      { numRuns: 200 },
    );
  });

  test('random() is in [0, 1), randbelow(n) in [0, n), and a clone continues the same stream apart', () => {
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 1, max: 2 ** 40 }), (seed, n) => {
        const r = new PyRandom(seed);
        const x = r.random();
        expect(x >= 0 && x < 1).toBe(true);
        const v = r.randbelow(n);
        expect(v >= 0 && v < n && Number.isInteger(v)).toBe(true);
        const c = r.clone();
        const ahead = [r.random(), r.random()];
        expect([c.random(), c.random()]).toEqual(ahead);
      }),
      { numRuns: 200 },
    );
  });
});
