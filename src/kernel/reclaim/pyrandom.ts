/**
 * CPython's `random` generator, bit for bit: MT19937 seeded as `random.seed(n)` seeds it for an
 * integer n (the 32-bit words of |n|, least significant first, fed to `init_by_array`), and
 * `random()` as CPython builds a double from two outputs (27 + 26 bits).
 *
 * vmscope's randomized policies draw from it, so a seed means the same thing here as in Python, and
 * the OSTEP-compatible policies (`ostep.ts`) reproduce paging-policy.py's RAND and CLOCK exactly.
 */
import { invariant } from '../../base/errors.js';

const N = 624;
const M = 397;

export class PyRandom {
  private readonly mt = new Uint32Array(N);
  private mti = N + 1;

  /** @param seed an integer, as Python's `random.seed(seed)` (its sign is ignored, as there). */
  constructor(seed: number | bigint) {
    this.seed(seed);
  }

  /** Re-seeds, as `random.seed(seed)` does for an int: the 32-bit words of |seed|, low first. */
  seed(seed: number | bigint): void {
    invariant(
      typeof seed === 'bigint' || Number.isSafeInteger(seed),
      'pyrandom: the seed must be a safe integer or a bigint',
    );
    let v = BigInt(seed);
    if (v < 0n) v = -v;
    const key: number[] = [];
    do {
      key.push(Number(v & 0xffffffffn));
      v >>= 32n;
    } while (v > 0n);
    this.initByArray(key);
  }

  /** A generator in the same state that draws independently from now on. */
  clone(): PyRandom {
    const copy = new PyRandom(0);
    copy.mt.set(this.mt);
    copy.mti = this.mti;
    return copy;
  }

  /** The next 32-bit output (`genrand_uint32`). */
  nextUint32(): number {
    const mt = this.mt;
    if (this.mti >= N) {
      let kk = 0;
      for (; kk < N - M; kk++) {
        const y = (mt[kk]! & 0x80000000) | (mt[kk + 1]! & 0x7fffffff);
        mt[kk] = mt[kk + M]! ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      for (; kk < N - 1; kk++) {
        const y = (mt[kk]! & 0x80000000) | (mt[kk + 1]! & 0x7fffffff);
        mt[kk] = mt[kk + (M - N)]! ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      const y = (mt[N - 1]! & 0x80000000) | (mt[0]! & 0x7fffffff);
      mt[N - 1] = mt[M - 1]! ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      this.mti = 0;
    }
    let y = mt[this.mti++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** A double in [0, 1), exactly Python's `random.random()`. */
  random(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** An integer in [0, n): `int(random() * n)`, as OSTEP's scripts draw indices. */
  below(n: number): number {
    return Math.floor(this.random() * n);
  }

  /**
   * `getrandbits(k)` for 0 ≤ k ≤ 53. CPython fills 32-bit words from the least significant one up,
   * one output each; the last (most significant) word keeps the top bits of its output.
   */
  getrandbits(k: number): number {
    invariant(Number.isInteger(k) && k >= 0 && k <= 53, 'pyrandom: getrandbits takes 0..53 bits here');
    if (k === 0) return 0;
    if (k <= 32) return this.nextUint32() >>> (32 - k);
    const low = this.nextUint32();
    const high = this.nextUint32() >>> (64 - k);
    return high * 4294967296 + low;
  }

  /**
   * `_randbelow(n)` for 0 < n < 2^53: getrandbits(n.bit_length()) until the draw is below n, as
   * CPython 3 does for `randrange`, `randint`, `choice` and `shuffle`.
   */
  randbelow(n: number): number {
    invariant(Number.isSafeInteger(n) && n > 0, 'pyrandom: randbelow of 1..2^53-1');
    const k = n.toString(2).length;
    let r = this.getrandbits(k);
    while (r >= n) r = this.getrandbits(k);
    return r;
  }

  /** `randrange(start, stop)` (step 1), start < stop. */
  randrange(start: number, stop: number): number {
    invariant(stop > start, 'pyrandom: empty range for randrange');
    return start + this.randbelow(stop - start);
  }

  /** `randint(a, b)`: a ≤ result ≤ b. */
  randint(a: number, b: number): number {
    return this.randrange(a, b + 1);
  }

  /** `choice(seq)` of a non-empty sequence. */
  choice<T>(seq: readonly T[]): T {
    invariant(seq.length > 0, 'pyrandom: choice from an empty sequence');
    return seq[this.randbelow(seq.length)]!;
  }

  /** `uniform(a, b)`: `a + (b - a) * random()`. */
  uniform(a: number, b: number): number {
    return a + (b - a) * this.random();
  }

  /** `shuffle(x)` in place: Fisher-Yates from the end, j = randbelow(i + 1). */
  shuffle<T>(x: T[]): void {
    for (let i = x.length - 1; i > 0; i--) {
      const j = this.randbelow(i + 1);
      const t = x[i]!;
      x[i] = x[j]!;
      x[j] = t;
    }
  }

  private initGenrand(s: number): void {
    const mt = this.mt;
    mt[0] = s >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1]!;
      mt[i] = (Math.imul(1812433253, prev ^ (prev >>> 30)) + i) >>> 0;
    }
    this.mti = N;
  }

  private initByArray(key: readonly number[]): void {
    const mt = this.mt;
    this.initGenrand(19650218);
    let i = 1;
    let j = 0;
    for (let k = Math.max(N, key.length); k > 0; k--) {
      const prev = mt[i - 1]!;
      mt[i] = ((mt[i]! ^ Math.imul(prev ^ (prev >>> 30), 1664525)) >>> 0) + key[j]! + j;
      i++;
      j++;
      if (i >= N) {
        mt[0] = mt[N - 1]!;
        i = 1;
      }
      if (j >= key.length) j = 0;
    }
    for (let k = N - 1; k > 0; k--) {
      const prev = mt[i - 1]!;
      mt[i] = ((mt[i]! ^ Math.imul(prev ^ (prev >>> 30), 1566083941)) >>> 0) - i;
      i++;
      if (i >= N) {
        mt[0] = mt[N - 1]!;
        i = 1;
      }
    }
    mt[0] = 0x80000000;
  }
}
