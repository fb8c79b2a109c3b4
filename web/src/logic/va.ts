/**
 * Virtual addresses for display: split into the index of each page-table level and the page offset
 * (with arithmetic: a 48-bit address does not survive `>>>`), parsed from what people type, and
 * printed at the width the architecture uses.
 */

export interface VaShape {
  readonly pageShift: number;
  /** Index bits per level, root first. */
  readonly indexBits: readonly number[];
  readonly levelNames: readonly string[];
  readonly addrHexDigits: number;
}

export interface VaField {
  /** `PML4`, `PT`, … or `offset`. */
  readonly name: string;
  readonly bits: number;
  /** Lowest bit of the field in the address. */
  readonly shift: number;
  readonly value: number;
}

/** The fields of `va`, root index first, the page offset last. */
export function vaFields(va: number, shape: VaShape): VaField[] {
  const pageSize = 2 ** shape.pageShift;
  let vpn = Math.floor(va / pageSize);
  const out: VaField[] = [{ name: 'offset', bits: shape.pageShift, shift: 0, value: va % pageSize }];
  let shift = shape.pageShift;
  for (let l = shape.indexBits.length - 1; l >= 0; l--) {
    const bits = shape.indexBits[l]!;
    const span = 2 ** bits;
    out.push({ name: shape.levelNames[l] ?? `L${l}`, bits, shift, value: vpn % span });
    vpn = Math.floor(vpn / span);
    shift += bits;
  }
  return out.reverse();
}

/** `0x00400000`-style hex, at least the architecture's width. */
export function formatVa(va: number, digits: number): string {
  return `0x${va.toString(16).padStart(digits, '0')}`;
}

/** Short hex without padding. */
export function hex(n: number): string {
  return n < 0 ? `-0x${(-n).toString(16)}` : `0x${n.toString(16)}`;
}

/**
 * An address typed by a person: `0x7ffff7eff000`, `7ffff7eff000` (hex digits with a letter),
 * `4096`, with `_` or `'` as separators. @returns null when it is not a non-negative safe integer.
 */
export function parseAddress(text: string): number | null {
  const t = text.trim().replace(/[_']/g, '').toLowerCase();
  let v: number;
  if (/^0x[0-9a-f]{1,14}$/.test(t)) v = Number.parseInt(t.slice(2), 16);
  else if (/^[0-9]{1,16}$/.test(t)) v = Number(t);
  else if (/^[0-9a-f]{1,14}$/.test(t)) v = Number.parseInt(t, 16);
  else return null;
  return Number.isSafeInteger(v) ? v : null;
}

/** A byte count as people read it: `4 KiB`, `1.5 MiB`, `127.9 TiB`. */
export function formatSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  const text = Number.isInteger(v) ? String(v) : String(Number(v.toFixed(v < 10 ? 2 : 1)));
  return `${text} ${units[i]}`;
}
