/**
 * The fuzz targets (test/fuzz/targets.ts), each on a bounded number of inputs from a fixed seed, so
 * that `npm test` stays quick and repeatable; `npm run fuzz` runs the same targets for longer, from
 * fresh seeds. Each target must both accept and refuse some of its inputs: a generator that only
 * ever produces garbage (or only clean input) would test one path.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { hasCorpus } from '../corpus-path.js';
import { TARGETS } from './targets.js';

describe.each(TARGETS.map((t) => [t.name, t] as const))('fuzz: %s', (_name, target) => {
  test.skipIf(target.needsCorpus === true && !hasCorpus)(target.checks, () => {
    const seen = { accepted: 0, rejected: 0 };
    fc.assert(
      fc.property(target.input, (input) => {
        seen[target.run(input)]++;
      }),
      { seed: 0x14, numRuns: target.quickRuns },
    );
    expect(seen.accepted, 'inputs accepted').toBeGreaterThan(0);
    expect(seen.rejected, 'inputs refused').toBeGreaterThan(0);
  });
});
