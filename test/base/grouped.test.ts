/**
 * Counts with thousands separators are made without ICU (its first use costs a command 12-17 ms of
 * start-up), so they are held to ICU's own output: `grouped` to `toLocaleString('en-US')`, and
 * `count` to it with no fraction digits (rounding half away from zero).
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { grouped } from '../../src/base/units.js';
import { count } from '../../src/report/format.js';

const SPECIAL = [
  0,
  -0,
  1,
  -1,
  999,
  1000,
  -1000,
  999_999,
  1_000_000,
  2 ** 53 - 1,
  -(2 ** 53 - 1),
  2 ** 53,
  2 ** 53 + 2,
  1e21,
  0.5,
  1.5,
  2.5,
  -2.5,
  -0.4,
  0.4,
  123_456_789.5,
  1234.5678,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  Number.MIN_VALUE,
];

describe('counts with thousands separators, as ICU writes them', () => {
  test('edge values: signs, -0, group boundaries, 2^53, halves, fractions, NaN and infinities', () => {
    for (const n of SPECIAL) {
      expect(grouped(n), String(n)).toBe(n.toLocaleString('en-US'));
      expect(count(n), String(n)).toBe(n.toLocaleString('en-US', { maximumFractionDigits: 0 }));
    }
  });

  test('any integer and any double of any magnitude', () => {
    const magnitudes = fc
      .integer({ min: 0, max: 22 })
      .chain((digits) =>
        fc
          .tuple(fc.double({ min: 0, max: 10, noNaN: true }), fc.boolean())
          .map(([m, neg]) => (neg ? -1 : 1) * m * 10 ** digits),
      );
    fc.assert(
      fc.property(fc.oneof(fc.maxSafeInteger(), magnitudes, magnitudes.map(Math.round), fc.double()), (n) => {
        expect(grouped(n)).toBe(n.toLocaleString('en-US'));
        expect(count(n)).toBe(n.toLocaleString('en-US', { maximumFractionDigits: 0 }));
      }),
      { numRuns: 20_000 },
    );
  });
});
