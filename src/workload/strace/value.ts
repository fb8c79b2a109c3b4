/**
 * Reading one argument of a logged call, on demand: an integer (`4096`, `0x7ffff7fc0000`,
 * `8192*1024`), a flag set (`PROT_READ|PROT_WRITE`, `MAP_PRIVATE|0x40000`), an fd with its `-y` path
 * (`3</etc/ld.so.cache>`, `AT_FDCWD</tmp>`), a quoted string, a struct's field (`st_size=39683`) or
 * an array's items. An argument is a span of its call's text; a reader that cannot make sense of it
 * throws an InputError at the argument's line and column, saying what was expected.
 */
import { InputError } from '../../base/errors.js';
import { MAP_HUGE_SHIFT, type NameTable } from './names.js';
import {
  DELETED,
  isSpace,
  isWordChar,
  opensPath,
  parseNumber,
  skipPath,
  skipString,
  splitArgs,
  unescapeC,
  unescapePath,
} from './scan.js';

/** Maps a position in a call's text to its place in the log. */
export interface Origin {
  place(pos: number): { line: number; column: number };
}

/** The text a call's arguments were read from, with where it sits in the log. */
export class CallText {
  readonly file: string;
  readonly text: string;
  readonly origin: Origin;
  /** The call's name, for messages (`mmap`). */
  readonly call: string;

  constructor(file: string, text: string, origin: Origin, call: string) {
    this.file = file;
    this.text = text;
    this.origin = origin;
    this.call = call;
  }

  error(pos: number, message: string): InputError {
    const { line, column } = this.origin.place(pos);
    return new InputError('strace', message, { file: this.file, line, column });
  }
}

/** An unlimited resource limit (`RLIM64_INFINITY`). */
export const INFINITY_VALUE = Number.POSITIVE_INFINITY;

/** Bitwise or of two non-negative integers up to 2^53 (JavaScript's `|` cuts at 32 bits). */
export function or53(a: number, b: number): number {
  const hiA = Math.floor(a / 2 ** 32);
  const hiB = Math.floor(b / 2 ** 32);
  const lo = ((a % 2 ** 32) | (b % 2 ** 32)) >>> 0;
  return (hiA | hiB) * 2 ** 32 + lo;
}

/** Whether bit set `flags` holds every bit of `bits` (exact up to 2^53). */
export function hasBits(flags: number, bits: number): boolean {
  const lo = ((flags % 2 ** 32) & (bits % 2 ** 32)) >>> 0 === (bits % 2 ** 32) >>> 0;
  const hi = (Math.floor(flags / 2 ** 32) & Math.floor(bits / 2 ** 32)) === Math.floor(bits / 2 ** 32);
  return lo && hi;
}

const flagCache = new WeakMap<NameTable, Map<string, number>>();

export class Value {
  readonly src: CallText;
  readonly from: number;
  readonly to: number;
  /** The argument's position among its siblings (1-based, for messages), 0 inside a struct. */
  readonly index: number;

  constructor(src: CallText, from: number, to: number, index = 0) {
    this.src = src;
    this.from = from;
    this.to = to;
    this.index = index;
  }

  get raw(): string {
    return this.src.text.slice(this.from, this.to);
  }

  /** The value without a trailing `/* comment *\/` or ` => updated` part. */
  private core(): [number, number] {
    const t = this.src.text;
    let end = this.to;
    let i = this.from;
    let depth = 0;
    while (i < end) {
      const c = t.charCodeAt(i);
      if (c === 0x22) {
        i = skipString(t, i, end);
        continue;
      }
      if (c === 0x3c && opensPath(t, i, this.from)) {
        i = skipPath(t, i, end);
        continue;
      }
      if (c === 0x28 || c === 0x5b || c === 0x7b) depth++;
      else if (c === 0x29 || c === 0x5d || c === 0x7d) depth--;
      else if (depth === 0 && c === 0x2f && t.charCodeAt(i + 1) === 0x2a) end = i;
      else if (depth === 0 && c === 0x3d && t.charCodeAt(i + 1) === 0x3e && isSpace(t.charCodeAt(i - 1)))
        end = i;
      i++;
    }
    while (end > this.from && isSpace(t.charCodeAt(end - 1))) end--;
    return [this.from, end];
  }

  private describe(): string {
    return this.index > 0 ? `${this.src.call}'s argument ${this.index}` : `${this.src.call}'s argument`;
  }

  error(message: string, pos = this.from): InputError {
    return this.src.error(pos, message);
  }

  get isNull(): boolean {
    const [f, t] = this.core();
    return t - f === 4 && this.src.text.startsWith('NULL', f);
  }

  /**
   * An integer: a literal (`-1`, `0x1000`, `0644`), `NULL` (0), or a product or shift of literals as
   * strace prints limits (`8192*1024`, `21<<MAP_HUGE_SHIFT`); `RLIM_INFINITY` is Infinity.
   * @throws InputError saying `what` was expected.
   */
  int(what: string): number {
    const v = this.tryInt();
    if (v === null) throw this.error(`expected ${what} as ${this.describe()}, got '${this.raw}'`);
    return v;
  }

  /**
   * A resource limit: {@link int}, with 2^64 - 1 as RLIM64_INFINITY too (`-X raw` and `-X verbose`
   * print it as `18446744073709551615`, a number a double cannot hold).
   */
  limit(what: string): number {
    const [f, t] = this.core();
    const text = this.src.text.slice(f, t).toLowerCase();
    if (text === '18446744073709551615' || text === '0xffffffffffffffff') return INFINITY_VALUE;
    return this.int(what);
  }

  /** {@link int}, or null when the value is not an integer. */
  tryInt(): number | null {
    const [f, t] = this.core();
    return intExpression(this.src.text, f, t);
  }

  /**
   * A flag set: names from `table` and numbers joined by `|` (`MAP_PRIVATE|MAP_ANONYMOUS|0x40000`),
   * or a bare number. @throws InputError naming an unknown flag.
   */
  flags(table: NameTable, what: string): number {
    const [f, t] = this.core();
    const text = this.src.text;
    if (t <= f) throw this.error(`expected ${what} as ${this.describe()}`);
    // Logs repeat the same few flag sets millions of times.
    let cache = flagCache.get(table);
    if (cache === undefined) {
      cache = new Map();
      flagCache.set(table, cache);
    }
    const raw = text.slice(f, t);
    const hit = cache.get(raw);
    if (hit !== undefined) return hit;
    const value = this.parseFlags(table, what, f, t);
    if (cache.size < 4096) cache.set(raw, value);
    return value;
  }

  private parseFlags(table: NameTable, what: string, f: number, t: number): number {
    const text = this.src.text;
    let value = 0;
    let start = f;
    for (let i = f; i <= t; i++) {
      if (i < t && text.charCodeAt(i) !== 0x7c /* | */) continue;
      const part = text.slice(start, i).trim();
      const known = table.get(part);
      const bits: number | null = known ?? intExpression(text, start, i, table);
      if (bits === null || bits < 0) {
        throw this.error(
          part === '' ? `expected ${what}: an empty flag` : `expected ${what}: unknown flag '${part}'`,
          start,
        );
      }
      value = or53(value, bits);
      start = i + 1;
    }
    return value;
  }

  /** The names in a flag set (`O_RDWR|O_CREAT` → both), for flags only their names matter. */
  names(): string[] {
    const [f, t] = this.core();
    return this.src.text
      .slice(f, t)
      .split('|')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  }

  /**
   * An fd: a number with an optional `-y` path, or `AT_FDCWD` (-100). @throws InputError.
   */
  fd(): { fd: number; path: string | null } {
    const [f, t] = this.core();
    const text = this.src.text;
    let i = f;
    while (i < t && text.charCodeAt(i) !== 0x3c) i++;
    const head = text.slice(f, i);
    const fd = head === 'AT_FDCWD' ? -100 : parseNumber(text, f, i);
    if (Number.isNaN(fd)) throw this.error(`expected a file descriptor as ${this.describe()}, got '${head}'`);
    if (i >= t) return { fd, path: null };
    const end = skipPath(text, i, t);
    const path = unescapePath(text, i + 1, end - 1);
    // An unlinked file: `3</tmp/x>(deleted)`, which /proc/PID/maps shows as `/tmp/x (deleted)`.
    return { fd, path: text.startsWith(DELETED, end) ? `${path} (deleted)` : path };
  }

  /** A quoted string (escapes undone), or null for NULL, an address, or anything that is not one. */
  str(): { value: string; truncated: boolean } | null {
    const [f, t] = this.core();
    const text = this.src.text;
    if (text.charCodeAt(f) !== 0x22) return null;
    const end = skipString(text, f, t);
    const truncated = text.startsWith('...', end - 3) && text.charCodeAt(end - 4) === 0x22;
    const close = truncated ? end - 4 : end - 1;
    return { value: unescapeC(text.slice(f + 1, close)), truncated };
  }

  /** The items of a `[…]` array or `{…}` struct, or null when the value is neither. */
  items(): Value[] | null {
    const [f, t] = this.core();
    const text = this.src.text;
    const open = text.charCodeAt(f);
    const close = text.charCodeAt(t - 1);
    if (!((open === 0x5b && close === 0x5d) || (open === 0x7b && close === 0x7d))) return null;
    try {
      const split = splitArgs(text, f + 1, t - 1, true);
      return split.starts
        .map((s, i) => new Value(this.src, s, split.ends[i]!, 0))
        .filter((v) => v.to > v.from);
    } catch {
      throw this.error(`${this.describe()} is not a well-formed ${open === 0x5b ? 'array' : 'struct'}`);
    }
  }

  /** The value of field `name` of a `{name=value, …}` struct, or null when it has none. */
  field(name: string): Value | null {
    for (const item of this.items() ?? []) {
      const text = this.src.text;
      let i = item.from;
      while (i < item.to && isWordChar(text.charCodeAt(i))) i++;
      if (i === item.from || text.charCodeAt(i) !== 0x3d || text.charCodeAt(i + 1) === 0x3d) continue;
      if (text.slice(item.from, i) === name) return new Value(this.src, i + 1, item.to, 0);
    }
    return null;
  }

  /** Whether the struct ends with `...` (strace left fields out: no -v). */
  get abbreviated(): boolean {
    const items = this.items();
    return items !== null && items.length > 0 && items[items.length - 1]!.raw === '...';
  }
}

/**
 * `a*b`, `a<<b`, a literal, `NULL`, RLIM*_INFINITY, or a flag name of `table` inside such a product.
 * @returns null when the text is none of these.
 */
function intExpression(text: string, from: number, to: number, table?: NameTable): number | null {
  while (from < to && isSpace(text.charCodeAt(from))) from++;
  while (to > from && isSpace(text.charCodeAt(to - 1))) to--;
  if (to <= from) return null;
  const whole = text.slice(from, to);
  if (whole === 'NULL') return 0;
  if (whole === 'RLIM_INFINITY' || whole === 'RLIM64_INFINITY') return INFINITY_VALUE;
  const star = whole.indexOf('*');
  if (star > 0) {
    const a = intExpression(text, from, from + star, table);
    const b = intExpression(text, from + star + 1, to, table);
    return a === null || b === null ? null : a * b;
  }
  const shift = whole.indexOf('<<');
  if (shift > 0) {
    const a = intExpression(text, from, from + shift, table);
    const b =
      // shmget's SHM_HUGE_SHIFT and memfd_create's MFD_HUGE_SHIFT are mmap's bit 26 too.
      /^(MAP|SHM|MFD)_HUGE_SHIFT$/.test(whole.slice(shift + 2).trim())
        ? MAP_HUGE_SHIFT
        : intExpression(text, from + shift + 2, to, table);
    return a === null || b === null || b > 52 ? null : a * 2 ** b;
  }
  const n = parseNumber(text, from, to);
  if (!Number.isNaN(n)) return n;
  return table?.get(whole) ?? null;
}
