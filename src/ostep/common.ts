/** Helpers several of the scripts define the same way. */
import { PyRandom } from '../kernel/reclaim/pyrandom.js';
import { num, pyInt, pyRaise } from './python.js';

/**
 * The scripts' `convert(size)`: a decimal integer with an optional k/m/g suffix (KiB, MiB, GiB),
 * raising what Python raises for '' (IndexError) or a bad number (ValueError).
 */
export function convertSize(size: string): bigint {
  if (size.length === 0) pyRaise('IndexError', 'string index out of range');
  const last = size[size.length - 1]!;
  const scale: Record<string, bigint> = { k: 1024n, m: 1024n ** 2n, g: 1024n ** 3n };
  const m = scale[last.toLowerCase()];
  if (m !== undefined) return pyInt(size.slice(0, -1)) * m;
  return pyInt(size);
}

/** `convert(size)` as a JS number (the scripts then do float arithmetic with it). */
export function convertNum(size: string): number {
  return num(convertSize(size));
}

/** `random.seed(seed)` for an int. */
export function seededRandom(seed: bigint): PyRandom {
  return new PyRandom(seed);
}

/** `range(0, n)` bounds for an int from optparse: Python loops zero times for n ≤ 0. */
export function count(n: bigint): number {
  return n <= 0n ? 0 : num(n);
}
