import fc from 'fast-check';
import { expect, test } from 'vitest';
import { joinArgs, splitArgs } from '../../src/ostep/argv.js';

test('a command line splits as a shell reads it', () => {
  expect(splitArgs(`paging-policy -a '1, 2' -s "3"  -c`)).toEqual([
    'paging-policy',
    '-a',
    '1, 2',
    '-s',
    '3',
    '-c',
  ]);
  expect(splitArgs('malloc -A +1\\ 0')).toEqual(['malloc', '-A', '+1 0']);
  expect(splitArgs("x 'open")).toBeNull();
});

test('joinArgs and splitArgs round-trip any words', () => {
  fc.assert(
    fc.property(fc.array(fc.string({ minLength: 1 }), { maxLength: 6 }), (words) => {
      expect(splitArgs(joinArgs(words))).toEqual(words);
    }),
  );
});
