/**
 * The character level of strace's output: where an argument list's arguments begin and end, where a
 * quoted string or a `-y` fd path (`3</usr/lib/libc.so.6>`) ends, and what follows the closing
 * parenthesis (` = 0x7ffff7fc0000`, ` = -1 ENOMEM (Cannot allocate memory)`, ` = 3</etc/passwd>`,
 * ` = ?`, and a `-T` time). Nothing here allocates per character; positions are string indices.
 *
 * A problem is reported by throwing a {@link ScanError} with the position; the line parser turns it
 * into an InputError with the line and column.
 */

const SPACE = 0x20;
const TAB = 0x09;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const LPAREN = 0x28;
const RPAREN = 0x29;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LT = 0x3c;
const GT = 0x3e;
const SLASH = 0x2f;
const STAR = 0x2a;
const DOT = 0x2e;

export class ScanError extends Error {
  readonly pos: number;
  constructor(pos: number, message: string) {
    super(message);
    this.pos = pos;
  }
}

const UNFINISHED = '<unfinished ...>';
/** What strace prints after the path of an fd whose file was unlinked (`3</tmp/x>(deleted)`). */
export const DELETED = '(deleted)';

export function isWordChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;
}

export function isSpace(c: number): boolean {
  return c === SPACE || c === TAB;
}

export function skipSpaces(text: string, i: number, to: number): number {
  while (i < to && isSpace(text.charCodeAt(i))) i++;
  return i;
}

/**
 * `i` is at a `"`: the position after the closing quote and strace's `...` truncation mark, if any.
 * @throws ScanError for a string that does not end on the line.
 */
export function skipString(text: string, i: number, to: number): number {
  const open = i;
  i++;
  while (i < to) {
    const c = text.charCodeAt(i);
    if (c === BACKSLASH) i += 2;
    else if (c === QUOTE) {
      i++;
      if (text.startsWith('...', i)) i += 3;
      return i;
    } else i++;
  }
  throw new ScanError(open, 'this string has no closing quote');
}

/**
 * Whether the `<` at `i` opens a `-y` path: it follows an fd number or name directly (`3<`,
 * `AT_FDCWD<`) and is not a shift (`1<<20`).
 */
export function opensPath(text: string, i: number, from: number): boolean {
  if (i <= from) return false;
  const prev = text.charCodeAt(i - 1);
  return isWordChar(prev) && text.charCodeAt(i + 1) !== LT && prev !== LT;
}

/**
 * `i` is at the `<` of a `-y` path: the position after its `>`. Paths nest (`-yy` prints
 * `1</dev/pts/0<char 136:0>>`) and socket details sit in brackets (`TCP:[1.2.3.4:80->5.6.7.8:99]`),
 * where a `>` does not close. @throws ScanError when the path does not end on the line.
 */
export function skipPath(text: string, i: number, to: number): number {
  const open = i;
  let depth = 0;
  let brackets = 0;
  while (i < to) {
    const c = text.charCodeAt(i);
    if (c === BACKSLASH) {
      i += 2;
      continue;
    }
    if (c === LBRACKET) brackets++;
    else if (c === RBRACKET && brackets > 0) brackets--;
    else if (brackets === 0 && c === LT) depth++;
    else if (brackets === 0 && c === GT) {
      depth--;
      if (depth === 0) return i + 1;
    }
    i++;
  }
  throw new ScanError(open, "this fd path has no closing '>'");
}

export interface ArgSplit {
  /** Start and end (exclusive, spaces trimmed) of each argument. */
  readonly starts: number[];
  readonly ends: number[];
  /** The position after the closing `)`, or -1 when the list is cut by `<unfinished ...>`. */
  readonly close: number;
  /** Where `<unfinished ...>` begins, or -1. */
  readonly unfinished: number;
}

/**
 * Splits the argument list that starts at `from` (just after the opening parenthesis) at its
 * top-level commas, up to the closing parenthesis or a top-level `<unfinished ...>`.
 * With `partial`, text that simply ends (the first half of an unfinished call, re-read) is accepted
 * and only the arguments complete by then are kept.
 * @throws ScanError for an unbalanced or unterminated list.
 */
export function splitArgs(text: string, from: number, to: number, partial = false): ArgSplit {
  const starts: number[] = [];
  const ends: number[] = [];
  let depth = 0;
  let argStart = from;
  let i = from;
  const push = (end: number): void => {
    const s = skipSpaces(text, argStart, end);
    let e = end;
    while (e > s && isSpace(text.charCodeAt(e - 1))) e--;
    starts.push(s);
    ends.push(e);
  };
  while (i < to) {
    const c = text.charCodeAt(i);
    switch (c) {
      case QUOTE:
        i = skipString(text, i, to);
        continue;
      case LPAREN:
      case LBRACKET:
      case LBRACE:
        depth++;
        break;
      case RPAREN:
      case RBRACKET:
      case RBRACE:
        if (depth === 0) {
          if (c !== RPAREN) throw new ScanError(i, `'${String.fromCharCode(c)}' closes nothing`);
          if (starts.length > 0 || skipSpaces(text, argStart, i) < i) push(i);
          return { starts, ends, close: i + 1, unfinished: -1 };
        }
        depth--;
        break;
      case COMMA:
        if (depth === 0) {
          push(i);
          argStart = i + 1;
        }
        break;
      case LT:
        if (opensPath(text, i, from)) {
          i = skipPath(text, i, to);
          continue;
        }
        if (depth === 0 && text.startsWith(UNFINISHED, i)) {
          if (skipSpaces(text, argStart, i) < i) push(i);
          return { starts, ends, close: -1, unfinished: i };
        }
        break;
      case SLASH:
        if (text.charCodeAt(i + 1) === STAR) {
          const end = text.indexOf('*/', i + 2);
          if (end < 0 || end >= to) throw new ScanError(i, "this comment has no closing '*/'");
          i = end + 2;
          continue;
        }
        break;
    }
    i++;
  }
  if (partial) {
    if (depth === 0 && skipSpaces(text, argStart, to) < to) push(to);
    return { starts, ends, close: -1, unfinished: to };
  }
  throw new ScanError(to, "expected ')' to close the argument list");
}

/** What a call returned, as strace printed it after ` = `. */
export type CallResult =
  /** A number or address; `path` is the `-y` path of a returned fd. */
  | { readonly kind: 'value'; readonly value: number; readonly path: string | null }
  /** `-1 ENOMEM (…)`: `value` is what was printed before the name (-1, or ? for ERESTART*). */
  | { readonly kind: 'error'; readonly errno: string; readonly value: number }
  /** `?`: the call did not return (exit, execve in another thread, a process killed mid-call). */
  | { readonly kind: 'none' };

/**
 * Reads the result after the closing parenthesis at `i`: ` = VALUE [ERRNO] [(comment)] [<time>]`.
 * @returns the result and the position where its number starts. @throws ScanError.
 */
export function scanResult(text: string, i: number, to: number): { result: CallResult; at: number } {
  i = skipSpaces(text, i, to);
  if (text.charCodeAt(i) !== 0x3d /* = */)
    throw new ScanError(i, "expected ' = ' and the call's result after ')'");
  i = skipSpaces(text, i + 1, to);
  const at = i;
  let value: number;
  let path: string | null = null;
  if (text.charCodeAt(i) === 0x3f /* ? */) {
    value = Number.NaN;
    i++;
  } else {
    let j = i;
    if (text.charCodeAt(j) === 0x2d /* - */) j++;
    while (j < to && isWordChar(text.charCodeAt(j))) j++;
    value = parseNumber(text, i, j);
    if (Number.isNaN(value)) throw new ScanError(i, 'expected a number, an address or ? as the result');
    i = j;
    if (text.charCodeAt(i) === LT) {
      const end = skipPath(text, i, to);
      path = unescapePath(text, i + 1, end - 1);
      i = end;
      if (text.startsWith(DELETED, i)) {
        path += ' (deleted)';
        i += DELETED.length;
      }
    }
  }
  i = skipSpaces(text, i, to);
  let errno: string | null = null;
  if (text.charCodeAt(i) === 0x45 /* E */) {
    let j = i;
    while (j < to && isWordChar(text.charCodeAt(j))) j++;
    errno = text.slice(i, j);
    i = j;
  }
  if (errno !== null) return { result: { kind: 'error', errno, value }, at };
  if (Number.isNaN(value)) return { result: { kind: 'none' }, at };
  return { result: { kind: 'value', value, path }, at };
}

/** From here up, a number stands for itself only by its page offset (see {@link parseNumber}). */
export const HUGE = 2 ** 52;

/**
 * An integer literal as strace prints them: decimal, `0x` hex, `0`-prefixed octal, with a minus.
 * A 64-bit value of 2^52 or more (`0xffffffffffffffff`, far above any user address) cannot be held
 * exactly by a double: it becomes {@link HUGE} plus its offset in a 4 KiB page, so that the kernel
 * refuses it as Linux does — as too large, or as not aligned.
 * @returns NaN when `text[from, to)` is not one.
 */
export function parseNumber(text: string, from: number, to: number): number {
  let i = from;
  let sign = 1;
  if (text.charCodeAt(i) === 0x2d) {
    sign = -1;
    i++;
  }
  if (i >= to) return Number.NaN;
  let value = 0;
  let low = 0; // the value modulo 4096, exact
  if (text.charCodeAt(i) === 0x30 && (text.charCodeAt(i + 1) | 0x20) === 0x78 /* 0x */) {
    i += 2;
    if (i >= to) return Number.NaN;
    for (; i < to; i++) {
      const c = text.charCodeAt(i) | 0x20;
      const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1;
      if (d < 0) return Number.NaN;
      value = value * 16 + d;
      low = ((low << 4) | d) & 0xfff;
    }
    return sign * (value < HUGE ? value : HUGE + low);
  }
  const base = text.charCodeAt(i) === 0x30 && to - i > 1 ? 8 : 10;
  for (; i < to; i++) {
    const d = text.charCodeAt(i) - 0x30;
    if (d < 0 || d >= base) return Number.NaN;
    value = value * base + d;
    low = (low * base + d) % 4096;
  }
  return sign * (value < HUGE ? value : HUGE + low);
}

const DEVICE = /<(?:char|block) \d+:\d+>$/;

/** A `-y` path's text with strace's escapes (`\x3e`, `\76`, `\\`) undone. */
export function unescapePath(text: string, from: number, to: number): string {
  // -yy adds a device's numbers to its path: `/dev/zero<char 1:5>`, `/dev/sda1<block 8:1>`.
  const dev = text.charCodeAt(to - 1) === GT ? DEVICE.exec(text.slice(from, to)) : null;
  const raw = text.slice(from, dev === null ? to : to - dev[0].length);
  return raw.includes('\\') ? unescapeC(raw) : raw;
}

/** Undoes strace's C-style escapes: `\n \t \r \v \f \" \\`, `\xNN`, octal `\NNN`. */
export function unescapeC(raw: string): string {
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c !== '\\' || i + 1 >= raw.length) {
      out += c;
      continue;
    }
    const n = raw[++i]!;
    if (n === 'x') {
      const hex = /^[0-9a-fA-F]{1,2}/.exec(raw.slice(i + 1, i + 3));
      if (hex) {
        out += String.fromCharCode(Number.parseInt(hex[0], 16));
        i += hex[0].length;
      } else out += 'x';
    } else if (n >= '0' && n <= '7') {
      const oct = /^[0-7]{1,3}/.exec(raw.slice(i, i + 3))![0];
      out += String.fromCharCode(Number.parseInt(oct, 8));
      i += oct.length - 1;
    } else {
      out += { n: '\n', t: '\t', r: '\r', v: '\v', f: '\f', a: '\x07', b: '\b' }[n] ?? n;
    }
  }
  return out;
}

/** True when `text[i]` starts a `-r`/`-ttt` style decimal time (digits and one dot). */
export function isDecimalTime(text: string, from: number, to: number): boolean {
  let dots = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c === DOT) dots++;
    else if (c < 0x30 || c > 0x39) return false;
  }
  return dots === 1;
}
