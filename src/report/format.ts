/**
 * Numbers in the words and tables people read, one way everywhere: counts with thousands
 * separators (`3,013,036`), words that agree with their count (`1 hit`, `2 hits`), percentages with
 * the same decimals, bytes in binary units, and "field: value" blocks aligned in two columns.
 */
import { grouped } from '../base/units.js';

/** A count with thousands separators, rounded half away from zero as ICU does: `3,013,036`. */
export function count(n: number): string {
  return grouped(n < 0 ? -Math.round(-n) : Math.round(n));
}

/** `1 hit`, `2 hits`, `1 process`, `3 processes` (`plural` for irregular words). */
export function counted(n: number, singular: string, plural?: string): string {
  const word =
    n === 1 ? singular : (plural ?? (/(s|x|ch|sh)$/.test(singular) ? `${singular}es` : `${singular}s`));
  return `${count(n)} ${word}`;
}

/**
 * A ratio as a percentage with two decimals: `96.23%`. Never rounded to 100% or 0% unless it is:
 * 2,999,925 hits of 3,000,000 read `>99.99%`, one fault in a million `<0.01%`.
 */
export function percent(ratio: number, digits = 2): string {
  const text = (ratio * 100).toFixed(digits);
  const step = 10 ** -digits;
  if (ratio < 1 && Number(text) >= 100) return `>${(100 - step).toFixed(digits)}%`;
  if (ratio > 0 && Number(text) <= 0) return `<${step.toFixed(digits)}%`;
  return `${text}%`;
}

/** Bytes the way people read them: `812 B`, `13.4 KiB`, `9.46 MiB`, `4 GiB`; `-` for null. */
export function bytes(n: number | null): string {
  if (n === null) return '-';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  const text = Number.isInteger(v)
    ? String(v)
    : v >= 100
      ? v.toFixed(0)
      : v >= 10
        ? v.toFixed(1)
        : v.toFixed(2);
  return `${text} ${units[i]}`;
}

/** Rows of `label  value`, the labels padded to one width (a report, not a one-column table). */
export function fields(rows: readonly (readonly [string, string])[], indent = ''): string {
  const width = Math.max(0, ...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${indent}${label.padEnd(width)}  ${value}\n`).join('');
}
