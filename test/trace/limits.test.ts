/**
 * Inputs that would amplify: a small trace must not turn into gigabytes of work. A lackey record is
 * one instruction's access, so a size above a page is refused with its line and column (regression:
 * a 4 KB file of ` L 0,4294967295` lines took 3 s and 2.5 GB).
 */
import { expect, test } from 'vitest';
import { MAX_LACKEY_ACCESS } from '../../src/workload/trace/lackey.js';
import { encode, errorOf, parseLackey } from './support.js';

test('a 4 KB file of 4 GiB accesses is an input error at its first line, before any page is touched', () => {
  const text = ' L 0,4294967295\n'.repeat(256);
  expect(text.length).toBe(4096);
  expect(errorOf(() => parseLackey([encode(text)], 'big.lackey'))).toBe(
    'big.lackey:1:6: error: access size 4294967295 is larger than any one instruction makes (at most 4096 bytes in a lackey record)',
  );
});

test('the limit is one page: 4096 bytes are accepted, 4097 are not', () => {
  const records = parseLackey([encode(` S 10,${MAX_LACKEY_ACCESS}\n`)], 'ok.lackey');
  expect(records).toEqual([{ address: 0x10, size: 4096, kind: 2 }]); // kind 2: a store
  expect(errorOf(() => parseLackey([encode(` S 10,${MAX_LACKEY_ACCESS + 1}\n`)], 'x'))).toMatch(
    /^x:1:7: error: access size 4097/,
  );
  // Also through the general path (other spacing) and with a size too long to print whole.
  expect(errorOf(() => parseLackey([encode(`\tS\t10,${'9'.repeat(40)}\r\n`)], 'x'))).toBe(
    'x:1:7: error: access size 999999999999999… is larger than any one instruction makes (at most 4096 bytes in a lackey record)',
  );
});
