/** Byte sizes, hex and grouped decimal formatting, and the small arithmetic helpers every layer shares. */
import { invariant } from './errors.js';

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

/**
 * `n` with thousands separators, exactly as `n.toLocaleString('en-US')` writes it. Integers are
 * grouped here: the first toLocaleString of a process loads ICU's number formats, 12-17 ms of every
 * command's start-up. Anything else (fractions, -0, beyond 2^53, NaN, infinities) goes to ICU.
 */
export function grouped(n: number): string {
  if (!Number.isSafeInteger(n) || Object.is(n, -0)) return n.toLocaleString('en-US');
  const digits = String(n < 0 ? -n : n);
  let out = digits.slice(0, ((digits.length - 1) % 3) + 1);
  for (let i = out.length; i < digits.length; i += 3) out += `,${digits.slice(i, i + 3)}`;
  return n < 0 ? `-${out}` : out;
}

/** Lower-case hex without a prefix, at least `width` digits (zero-padded). */
export function hex(value: number | bigint, width = 0): string {
  return value.toString(16).padStart(width, '0');
}

/** `0x`-prefixed lower-case hex. */
export function hex0x(value: number | bigint): string {
  return value < 0 ? `-0x${(-value).toString(16)}` : `0x${value.toString(16)}`;
}

/** True when `n` is a positive power of two (exact for any safe integer). */
export function isPowerOfTwo(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}

/** Rounds `value` down to a multiple of `align` (a power of two); exact above 2^32, unlike `&`. */
export function alignDown(value: number, align: number): number {
  return value - (value % align);
}

/** Rounds `value` up to a multiple of `align` (a power of two); exact above 2^32, unlike `&`. */
export function alignUp(value: number, align: number): number {
  const rem = value % align;
  return rem === 0 ? value : value + (align - rem);
}

/**
 * A 64-bit constant as a number, checked to be held exactly. Above 2^53 a double holds only
 * multiples of a power of two (2048 near 2^64): a page-aligned kernel address such as
 * 0xffffffffff600000 is exact, 0xffffffffff600123 would silently become a neighbour.
 */
export function exactNumber(value: bigint): number {
  const n = Number(value);
  invariant(BigInt(n) === value, `0x${value.toString(16)} is not exact as a double`);
  return n;
}
