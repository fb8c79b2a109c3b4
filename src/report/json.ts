/**
 * The one JSON writer every command's `--json` goes through, so that an address reads the same
 * everywhere and is never wrong.
 *
 * A JSON number is a double to most readers (JavaScript, jq) and an exact integer to others
 * (Python). Above 2^53 the two disagree: `0xffffffffff600000` printed as a number comes out as
 * `18446744073699066000`. So addresses are written as `0x`-prefixed lower-case hex strings — exact
 * for any 64-bit value and the way people read addresses — and, as a guard, so is any other integer
 * at or above 2^53. Counts, sizes in bytes, frame numbers and ratios stay numbers.
 *
 * A value is an address when its key is one of {@link ADDRESS_KEYS}, wherever it sits in the
 * document. Commands added later add their keys there (or call {@link hexAddress} themselves).
 */
import { invariant } from '../base/errors.js';

/** Keys whose number values are virtual or physical addresses. */
export const ADDRESS_KEYS: ReadonlySet<string> = new Set([
  'va',
  'pa',
  'start',
  'end',
  'entry',
  'sp',
  'stackTop',
  'loadBias',
  'interpBase',
  'vaStart',
  'vaEnd',
  'entryPa',
  'oldStart',
  'newStart',
  'brk',
  'startBrk',
  'address',
  'addr',
  'ours',
  'glibc',
]);

/** System calls whose non-negative result is an address (the others return 0 or a count). */
const RETURNS_ADDRESS: ReadonlySet<string> = new Set([
  'mmap',
  'mremap',
  'brk',
  'sbrk',
  'malloc',
  'calloc',
  'realloc',
  'memalign',
  'aligned_alloc',
  'valloc',
  'pvalloc',
]);

/**
 * `0x`-prefixed lower-case hex, exact for any non-negative integer up to 2^64 (a double above 2^53
 * is an integer; BigInt prints the very value it holds).
 */
export function hexAddress(value: number | bigint): string {
  if (typeof value === 'bigint') {
    invariant(value >= 0n, `hexAddress: negative ${value}`);
    return `0x${value.toString(16)}`;
  }
  invariant(Number.isInteger(value) && value >= 0, `hexAddress: not an address: ${value}`);
  return `0x${BigInt(value).toString(16)}`;
}

/** A system call's result for JSON: an address as hex, else the number (0, a count, or -errno). */
export function syscallResultJson(name: string, result: number): string | number {
  return result >= 0 && RETURNS_ADDRESS.has(name) && !(result === 0 && name !== 'brk')
    ? hexAddress(result)
    : result;
}

function replacer(key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value < 0n ? `-${hexAddress(-value)}` : hexAddress(value);
  if (ArrayBuffer.isView(value) && !(value instanceof DataView))
    return Array.from(value as unknown as ArrayLike<number>);
  if (typeof value !== 'number') return value;
  if (ADDRESS_KEYS.has(key)) return value < 0 ? null : hexAddress(value);
  if (Number.isInteger(value) && Math.abs(value) > Number.MAX_SAFE_INTEGER)
    return value < 0 ? `-${hexAddress(-value)}` : hexAddress(value);
  return value;
}

/**
 * The document as pretty-printed JSON text with a final newline: numbers under an address key as
 * hex strings (a negative one, the "no address" -1, as null), any other integer beyond 2^53 as hex
 * too, bigints as hex, typed arrays as arrays.
 */
export function jsonText(value: unknown): string {
  return `${JSON.stringify(value, replacer, 2)}\n`;
}
