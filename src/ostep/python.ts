/**
 * The few pieces of Python's semantics that OSTEP's homework scripts show in their output: `int()`
 * of a string, `repr()` of a string (in error messages), the `%` operator's conversions, `str()` of
 * a list of ints, and Python exceptions, which end a script with status 1 and a line on stderr.
 *
 * Python's ints are unbounded; here an int is a `bigint` where its size may matter (a seed, a
 * printed option value) and a `number` where the scripts only do arithmetic on sizes they bound.
 */

/**
 * A Python exception escaping the script, `sys.exit(status)`, or optparse ending the run (`-h`, a bad
 * flag): how an emulated run stops early. It carries what Python writes on the way out. The
 * emulation throws it and `runScript` turns it into the run's result; it never leaves src/ostep.
 */
export class PyExit extends Error {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;

  constructor(status: number, output: { stdout?: string; stderr?: string } = {}) {
    super(output.stderr || `exit ${status}`);
    this.name = 'PyExit';
    this.status = status;
    this.stdout = output.stdout ?? '';
    this.stderr = output.stderr ?? '';
  }
}

/**
 * An uncaught Python exception: status 1 and, on stderr, the traceback's last line
 * (`ValueError: invalid literal …`); the frames above it (the script's file and line) are left out.
 */
export function pyRaise(type: string, message: string): never {
  throw new PyExit(1, { stderr: `${type}${message === '' ? '' : `: ${message}`}\n` });
}

/** `sys.exit(status)` / `exit(status)`. */
export function pyExit(status: number): never {
  throw new PyExit(status);
}

/** Python's `str.isspace()`: JavaScript's whitespace plus the separators U+001C..U+001F. */
function isPySpace(ch: string): boolean {
  const c = ch.charCodeAt(0);
  return (c >= 0x1c && c <= 0x1f) || /\s/.test(ch);
}

/** `str.strip()`. */
export function pyStrip(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isPySpace(s[a]!)) a++;
  while (b > a && isPySpace(s[b - 1]!)) b--;
  return s.slice(a, b);
}

const DIGITS: Record<number, RegExp> = {
  2: /^[01](_?[01])*$/i,
  8: /^[0-7](_?[0-7])*$/i,
  10: /^[0-9](_?[0-9])*$/,
  16: /^[0-9a-f](_?[0-9a-f])*$/i,
};
const PREFIX: Record<number, string> = { 2: '0b', 8: '0o', 16: '0x' };

/**
 * `int(text, base)` for base 2, 8, 10 or 16, as Python parses it: surrounding whitespace, a sign,
 * for base 2/8/16 an optional matching prefix (`0x`…), single underscores between digits.
 * @returns the value, or null where Python raises ValueError.
 */
export function parsePyInt(text: string, base: 2 | 8 | 10 | 16 = 10): bigint | null {
  let s = pyStrip(text);
  let negative = false;
  if (s.startsWith('-') || s.startsWith('+')) {
    negative = s.startsWith('-');
    s = s.slice(1);
  }
  const prefix = PREFIX[base];
  if (prefix !== undefined && s.toLowerCase().startsWith(prefix)) {
    s = s.slice(2);
    if (s.startsWith('_')) s = s.slice(1);
  }
  if (!DIGITS[base]!.test(s)) return null;
  const digits = s.replaceAll('_', '');
  const value = base === 10 ? BigInt(digits) : BigInt(`${PREFIX[base]}${digits}`);
  return negative ? -value : value;
}

/** `int(text)`, raising Python's ValueError on a bad literal. */
export function pyInt(text: string): bigint {
  const v = parsePyInt(text, 10);
  if (v === null) pyRaise('ValueError', `invalid literal for int() with base 10: ${pyRepr(text)}`);
  return v;
}

/** A bigint as a JS number (exact below 2^53, where the scripts' arithmetic lives). */
export function num(v: bigint): number {
  return Number(v);
}

/** Python's `repr()` of a str. */
export function pyRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || (c >= 0x7f && c < 0xa0)) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out + quote;
}

/** `str()` of a list of ints: `[1, 2, 3]`. */
export function pyList(values: ArrayLike<number | bigint | string>): string {
  return `[${Array.from(values).join(', ')}]`;
}

/** `str()` of a bool. */
export function pyBool(b: boolean): string {
  return b ? 'True' : 'False';
}

/** A value the `%` operator formats. */
export type PyValue = number | bigint | string | boolean;

const SPEC = /%([-+ 0#]*)(\*|\d+)?(?:\.(\d+))?([dixXsfr%])/g;

/**
 * Python's `fmt % args` for the conversions the scripts use: `%d %i %x %X %s %f %%` with the flags
 * `-` and `0`, a width (or `*`) and a precision. Negative hex is `-` then the magnitude, as in Python.
 */
export function pyFormat(fmt: string, ...args: PyValue[]): string {
  let next = 0;
  const take = (): PyValue => {
    if (next >= args.length) pyRaise('TypeError', 'not enough arguments for format string');
    return args[next++]!;
  };
  const out = fmt.replace(SPEC, (_m, flags: string, width: string | undefined, prec, conv: string) => {
    if (conv === '%') return '%';
    let w = 0;
    if (width === '*') w = Number(take());
    else if (width !== undefined) w = Number(width);
    const v = take();
    let body: string;
    let sign = '';
    switch (conv) {
      case 'd':
      case 'i':
      case 'x':
      case 'X': {
        let n: bigint;
        if (typeof v === 'bigint') n = v;
        else if (typeof v === 'boolean') n = v ? 1n : 0n;
        else if (typeof v === 'number') n = BigInt(Math.trunc(v));
        else pyRaise('TypeError', `%${conv} format: a real number is required, not str`);
        if (n < 0n) {
          sign = '-';
          n = -n;
        } else if (flags.includes('+')) sign = '+';
        else if (flags.includes(' ')) sign = ' ';
        body = conv === 'x' ? n.toString(16) : conv === 'X' ? n.toString(16).toUpperCase() : n.toString();
        break;
      }
      case 'f': {
        const x = Number(v);
        body = formatFixed(Math.abs(x), prec === undefined ? 6 : Number(prec));
        if (x < 0 || Object.is(x, -0)) sign = '-';
        break;
      }
      default:
        body = pyStr(v);
    }
    const len = sign.length + body.length;
    if (len >= w) return sign + body;
    if (flags.includes('-')) return sign + body + ' '.repeat(w - len);
    if (flags.includes('0') && conv !== 's' && conv !== 'r') return sign + '0'.repeat(w - len) + body;
    return ' '.repeat(w - len) + sign + body;
  });
  return out;
}

/** `str(v)`. */
export function pyStr(v: PyValue): string {
  if (typeof v === 'boolean') return pyBool(v);
  return String(v);
}

/**
 * `'%.Nf' % x` for x ≥ 0: the exact binary value rounded half to even, as CPython does (JavaScript's
 * `toFixed` rounds an exact tie up, so 0.125 would print 0.13 instead of Python's 0.12).
 */
export function formatFixed(x: number, digits: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'nan' : 'inf';
  const quick = x.toFixed(digits);
  // A tie needs the value to be exactly representable at digits + 1 decimals: check it exactly.
  const [mant, exp] = exactBinary(x);
  // x = mant * 2^exp; scaled = x * 10^digits = mant * 10^digits * 2^exp.
  let numer = mant * 10n ** BigInt(digits);
  let denom = 1n;
  if (exp >= 0) numer <<= BigInt(exp);
  else denom <<= BigInt(-exp);
  const q = numer / denom;
  const r = numer % denom;
  if (r * 2n !== denom) return quick;
  const rounded = q % 2n === 0n ? q : q + 1n;
  const s = rounded.toString().padStart(digits + 1, '0');
  return digits === 0 ? s : `${s.slice(0, s.length - digits)}.${s.slice(s.length - digits)}`;
}

/** x ≥ 0 finite as mantissa * 2^exponent. */
function exactBinary(x: number): [bigint, number] {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const e = (hi >>> 20) & 0x7ff;
  const frac = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  if (e === 0) return [frac, -1074];
  return [frac | (1n << 52n), e - 1075];
}
