/**
 * Python's `optparse`, as far as OSTEP's scripts use it: `store` options of type `int` or `string`
 * and `store_true` flags, each with a short and/or long name; the automatic `-h, --help`. The same
 * command line gives the same values and the same messages: long options abbreviated to any unique
 * prefix, `--opt=value`, `-ovalue`, clustered flags (`-cv`), `--` ending the options, integers in
 * optparse's radixes (`0x1f`, `0b101`, and a leading 0 for octal), and the help text wrapped as
 * `textwrap` does for a terminal of `COLUMNS` (default 80) columns.
 *
 * Errors end the run as optparse does: the usage line and `PROG: error: MESSAGE` on stderr, status 2.
 */
import { PyExit, type PyValue, parsePyInt, pyRepr } from './python.js';

export interface OptionSpec {
  readonly short?: string;
  readonly long?: string;
  readonly dest: string;
  /** `int` and `string` take a value; `true` is `store_true`. */
  readonly type: 'int' | 'string' | 'true';
  readonly default: PyValue;
  readonly help: string;
}

export type Values = Record<string, PyValue>;

/** The parsed command line. */
export interface Parsed {
  readonly values: Values;
  /** Positional arguments (the scripts ignore them). */
  readonly args: string[];
}

const HELP: OptionSpec = {
  short: '-h',
  long: '--help',
  dest: 'help',
  type: 'true',
  default: false,
  help: 'show this help message and exit',
};

/**
 * Parses `argv` as `OptionParser().parse_args()` would for these options.
 * @param prog the program name in messages (`paging-policy.py`).
 * @param columns the terminal width for `-h` (optparse reads `COLUMNS`, else 80).
 * @returns the values; throws {@link PyExit} for `-h` (status 0, help on stdout) and for errors
 *   (status 2, usage and message on stderr).
 */
export function parseArgs(
  prog: string,
  specs: readonly OptionSpec[],
  argv: readonly string[],
  columns = 80,
): Parsed {
  const options = [HELP, ...specs];
  const shorts = new Map<string, OptionSpec>();
  const longs = new Map<string, OptionSpec>();
  for (const o of options) {
    if (o.short) shorts.set(o.short, o);
    if (o.long) longs.set(o.long, o);
  }
  const values: Values = {};
  for (const o of specs) values[o.dest] = o.default;
  const fail = (message: string): never => {
    throw new PyExit(2, { stderr: `Usage: ${prog} [options]\n\n${prog}: error: ${message}\n` });
  };
  const store = (o: OptionSpec, opt: string, value: string | null): void => {
    if (o === HELP) throw new PyExit(0, { stdout: formatHelp(prog, options, columns) });
    if (o.type === 'true') values[o.dest] = true;
    else if (o.type === 'string') values[o.dest] = value!;
    else {
      const v = parseOptparseInt(value!);
      if (v === null) fail(`option ${opt}: invalid integer value: ${pyRepr(value!)}`);
      values[o.dest] = v!;
    }
  };
  const args: string[] = [];
  const rargs = [...argv];
  while (rargs.length > 0) {
    const arg = rargs[0]!;
    if (arg === '--') {
      rargs.shift();
      break;
    }
    if (arg.startsWith('--')) {
      rargs.shift();
      let opt = arg;
      let explicit = false;
      const eq = arg.indexOf('=');
      if (eq >= 0) {
        opt = arg.slice(0, eq);
        rargs.unshift(arg.slice(eq + 1));
        explicit = true;
      }
      opt = matchAbbrev(opt, longs, fail);
      const o = longs.get(opt)!;
      let value: string | null = null;
      if (o.type !== 'true') {
        if (rargs.length < 1) fail(`${opt} option requires 1 argument`);
        value = rargs.shift()!;
      } else if (explicit) fail(`${opt} option does not take a value`);
      store(o, opt, value);
    } else if (arg.startsWith('-') && arg.length > 1) {
      rargs.shift();
      const chars = Array.from(arg.slice(1));
      for (let i = 0; i < chars.length; i++) {
        const opt = `-${chars[i]}`;
        const o = shorts.get(opt);
        if (!o) fail(`no such option: ${opt}`);
        let value: string | null = null;
        if (o!.type !== 'true') {
          const rest = chars.slice(i + 1).join('');
          if (rest !== '') rargs.unshift(rest);
          if (rargs.length < 1) fail(`${opt} option requires 1 argument`);
          value = rargs.shift()!;
          store(o!, opt, value);
          break;
        }
        store(o!, opt, value);
      }
    } else {
      args.push(rargs.shift()!);
    }
  }
  args.push(...rargs);
  return { values, args };
}

function matchAbbrev(s: string, words: Map<string, OptionSpec>, fail: (m: string) => never): string {
  if (words.has(s)) return s;
  const possible = [...words.keys()].filter((w) => w.startsWith(s));
  if (possible.length === 1) return possible[0]!;
  if (possible.length === 0) fail(`no such option: ${s}`);
  possible.sort();
  return fail(`ambiguous option: ${s} (${possible.join(', ')}?)`);
}

/** optparse's `_parse_int`: `0x`/`0b` prefixes, a leading `0` for octal, else decimal. */
export function parseOptparseInt(text: string): bigint | null {
  const head = text.slice(0, 2).toLowerCase();
  if (head === '0x') return parsePyInt(text, 16);
  if (head === '0b') return parsePyInt(text.slice(2) || '0', 2);
  if (text.startsWith('0')) return parsePyInt(text, 8);
  return parsePyInt(text, 10);
}

/** `parser.format_help()` with IndentedHelpFormatter, as `-h` prints it. */
export function formatHelp(prog: string, options: readonly OptionSpec[], columns: number): string {
  const width = columns - 2;
  const maxHelpPosition = Math.min(24, Math.max(width - 20, 4));
  const indent = 2;
  const strings = options.map((o) => {
    const meta = o.dest.toUpperCase();
    const parts: string[] = [];
    if (o.short) parts.push(o.type === 'true' ? o.short : `${o.short} ${meta}`);
    if (o.long) parts.push(o.type === 'true' ? o.long : `${o.long}=${meta}`);
    return parts.join(', ');
  });
  const maxLen = Math.max(...strings.map((s) => s.length + indent));
  const helpPosition = Math.min(maxLen + 2, maxHelpPosition);
  const helpWidth = Math.max(width - helpPosition, 11);
  let out = `Usage: ${prog} [options]\n\nOptions:\n`;
  options.forEach((o, i) => {
    let opts = strings[i]!;
    const optWidth = helpPosition - indent - 2;
    let indentFirst: number;
    if (opts.length > optWidth) {
      opts = `${' '.repeat(indent)}${opts}\n`;
      indentFirst = helpPosition;
    } else {
      opts = `${' '.repeat(indent)}${opts.padEnd(optWidth)}  `;
      indentFirst = 0;
    }
    out += opts;
    const lines = wrap(o.help, helpWidth);
    out += `${' '.repeat(indentFirst)}${lines[0]}\n`;
    for (const line of lines.slice(1)) out += `${' '.repeat(helpPosition)}${line}\n`;
  });
  return out;
}

// textwrap's chunking with break_on_hyphens (TextWrapper.wordsep_re), ASCII letters and digits.
const WP = `[\\w!"'&.,?]`;
const LT = '[^\\d\\W]';
const WS = '[\\t\\n\\x0b\\x0c\\r ]';
const NWS = '[^\\t\\n\\x0b\\x0c\\r ]';
const WORDSEP = new RegExp(
  `(${WS}+|(?<=${WP})-{2,}(?=\\w)|${NWS}+?(?:-(?:(?<=${LT}{2}-)|(?<=${LT}-${LT}-))(?=${LT}-?${LT})|(?=${WS}|$)|(?<=${WP})(?=-{2,}\\w)))`,
);

/** `textwrap.wrap(text, width)` with textwrap's defaults. */
export function wrap(text: string, width: number): string[] {
  const chunks = text
    .replace(/\t/g, '        ')
    .replace(/[\n\v\f\r]/g, ' ')
    .split(WORDSEP)
    .filter((c) => c !== '');
  chunks.reverse();
  const lines: string[] = [];
  while (chunks.length > 0) {
    const line: string[] = [];
    let len = 0;
    if (chunks[chunks.length - 1]!.trim() === '' && lines.length > 0) chunks.pop();
    while (chunks.length > 0) {
      const l = chunks[chunks.length - 1]!.length;
      if (len + l <= width) {
        line.push(chunks.pop()!);
        len += l;
      } else break;
    }
    if (chunks.length > 0 && chunks[chunks.length - 1]!.length > width) {
      const spaceLeft = width < 1 ? 1 : width - len;
      const chunk = chunks[chunks.length - 1]!;
      let end = spaceLeft;
      if (chunk.length > spaceLeft) {
        const hyphen = chunk.lastIndexOf('-', spaceLeft - 1);
        if (hyphen > 0 && /[^-]/.test(chunk.slice(0, hyphen))) end = hyphen + 1;
      }
      line.push(chunk.slice(0, end));
      chunks[chunks.length - 1] = chunk.slice(end);
    }
    if (line.length > 0 && line[line.length - 1]!.trim() === '') line.pop();
    if (line.length > 0) lines.push(line.join(''));
  }
  return lines;
}
