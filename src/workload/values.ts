/**
 * Numbers as people write them in scenarios and on the command line: decimal or hex integers, and
 * sizes with binary suffixes (`4K`, `4KiB`, `16MiB`, `1G`). Returns null for anything else, so callers
 * can report the place.
 */

const SIZE_UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
};

/** A non-negative integer: `123`, `0x7b`, `0b1111011`, with optional `_` separators. */
export function parseInteger(text: string): number | null {
  const t = text.replace(/_/g, '');
  let value: number;
  if (/^0x[0-9a-f]+$/i.test(t)) value = Number.parseInt(t.slice(2), 16);
  else if (/^0b[01]+$/i.test(t)) value = Number.parseInt(t.slice(2), 2);
  else if (/^[0-9]+$/.test(t)) value = Number.parseInt(t, 10);
  else return null;
  return Number.isSafeInteger(value) ? value : null;
}

/**
 * A size in bytes: an integer with an optional unit (`B`, `K`/`KB`/`KiB`, `M`…, `G`…; case-insensitive;
 * the units are binary, as in /proc). `unitless` is the multiplier for a bare number.
 */
export function parseSize(text: string, unitless = 1): number | null {
  const m = /^(0x[0-9a-f_]+|[0-9][0-9_]*)\s*([a-z]*)$/i.exec(text.trim());
  if (!m) return null;
  const n = parseInteger(m[1]!);
  if (n === null) return null;
  const unit = m[2]!.toLowerCase();
  if (unit === '') return n * unitless;
  const mult = SIZE_UNITS[unit];
  if (mult === undefined) return null;
  const v = n * mult;
  return Number.isSafeInteger(v) ? v : null;
}

/** A size with an optional leading sign (`-4K`, `+8192`). */
export function parseSignedSize(text: string): number | null {
  if (text.startsWith('-')) {
    const v = parseSize(text.slice(1));
    return v === null ? null : -v;
  }
  return parseSize(text.startsWith('+') ? text.slice(1) : text);
}
