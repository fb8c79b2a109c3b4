import { expect, test } from 'vitest';
import { MAP_FIXED, MAP_STACK } from '../../src/kernel/errno.js';
import { ANON_PRIVATE, bootKernel, PROT_RW, spawnOk } from '../helpers.js';

test('a MAP_STACK mapping (a thread stack, VmFlags nh) does not merge with the anonymous memory beside it', () => {
  const k = bootKernel();
  const p = spawnOk(k, 'A');
  const above = k.mmap(p, { addr: 0, len: 3 * 4096, prot: PROT_RW, flags: ANON_PRIVATE });
  const count = k.maps(p).length;
  const stack = k.mmap(p, {
    addr: above - 8192,
    len: 8192,
    prot: PROT_RW,
    flags: ANON_PRIVATE | MAP_FIXED | MAP_STACK,
  });
  expect(stack).toBe(above - 8192);
  expect(k.maps(p).length).toBe(count + 1);
  // Plain anonymous memory below it does not merge with it either, but merges with its like.
  const plain = k.mmap(p, { addr: stack - 8192, len: 8192, prot: PROT_RW, flags: ANON_PRIVATE | MAP_FIXED });
  expect(k.maps(p).length).toBe(count + 2);
  const lower = k.mmap(p, { addr: plain - 4096, len: 4096, prot: PROT_RW, flags: ANON_PRIVATE | MAP_FIXED });
  expect(k.maps(p).length).toBe(count + 2);
  expect(k.maps(p).find((m) => m.start === lower)?.end).toBe(stack);
  expect(k.check()).toEqual([]);
});
