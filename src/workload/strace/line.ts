/**
 * One line of strace output, read syntactically. A line is
 *
 *   [PID | [pid PID]] [TIME] [[NR]] [[IP]] BODY
 *
 * where PID comes from `-f` (`-o FILE` prints `1234  `, the terminal `[pid  1234] `), TIME from
 * `-t`/`-tt`/`-ttt` (`10:23:45.123456`, `1700000000.123456`) or `-r` (`     0.000123`), NR (the
 * system call's number, `[  59]`) from `-n`, IP from `-i`,
 * and BODY is a call (`mmap(NULL, 8192, …) = 0x7ffff7fc0000`, optionally ` <0.000012>` from `-T`), the
 * first half of an interrupted call (`wait4(13623,  <unfinished ...>`), its second half
 * (`<... wait4 resumed>[…], 0, NULL) = 13623`), a signal (`--- SIGSEGV {si_signo=…} ---`), an exit
 * (`+++ exited with 0 +++`, `+++ killed by SIGKILL +++`) or one of strace's own notes.
 */
import {
  type ArgSplit,
  type CallResult,
  isSpace,
  isWordChar,
  ScanError,
  scanResult,
  splitArgs,
} from './scan.js';

/** No pid prefix: the log of a single process (strace without -f, or before a second process). */
export const NO_PID = 0;

export type LineBody =
  | {
      readonly kind: 'call';
      readonly name: string;
      /** Where the arguments start (after the opening parenthesis). */
      readonly argsFrom: number;
      readonly split: ArgSplit;
      readonly result: CallResult;
      /** Where the result's number starts. */
      readonly resultAt: number;
    }
  | { readonly kind: 'unfinished'; readonly name: string; readonly argsFrom: number; readonly cut: number }
  /** `<... NAME resumed>`: the rest of the call's text starts at `restFrom`. */
  | { readonly kind: 'resumed'; readonly name: string; readonly restFrom: number }
  | {
      readonly kind: 'signal';
      readonly signal: string;
      /** The `{si_signo=…}` struct's span, or from === to when there is none. */
      readonly infoFrom: number;
      readonly infoTo: number;
    }
  | { readonly kind: 'exited'; readonly code: number }
  | { readonly kind: 'killed'; readonly signal: string; readonly core: boolean }
  /** strace's own messages (`strace: Process 12 attached`), `-k` frames, blank lines. */
  | { readonly kind: 'note' };

export interface ParsedLine {
  readonly pid: number;
  /** Where the body starts (after the prefixes). */
  readonly bodyAt: number;
  readonly body: LineBody;
}

const NOTE: LineBody = { kind: 'note' };

function digitsEnd(text: string, i: number, to: number): number {
  while (i < to) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) break;
    i++;
  }
  return i;
}

/** Skips a `-t`/`-tt`/`-ttt`/`-r` time at `i` (digits with `:` and `.`), if there is one. */
function skipTime(text: string, i: number, to: number): number {
  let j = i;
  let sawSep = false;
  while (j < to) {
    const c = text.charCodeAt(j);
    if (c === 0x3a || c === 0x2e) sawSep = true;
    else if (c < 0x30 || c > 0x39) break;
    j++;
  }
  if (j === i || !sawSep || (j < to && !isSpace(text.charCodeAt(j)))) return i;
  while (j < to && isSpace(text.charCodeAt(j))) j++;
  return j;
}

/**
 * Reads one line (`text[from, to)`, no newline). @throws ScanError with the position of what is
 * wrong.
 */
export function parseLine(text: string, from: number, to: number): ParsedLine {
  let i = from;
  while (i < to && isSpace(text.charCodeAt(i))) i++;
  if (i >= to) return { pid: NO_PID, bodyAt: i, body: NOTE };
  let pid = NO_PID;
  if (text.startsWith('[pid', i)) {
    let j = i + 4;
    while (j < to && isSpace(text.charCodeAt(j))) j++;
    const end = digitsEnd(text, j, to);
    if (end === j || text.charCodeAt(end) !== 0x5d) throw new ScanError(i, "expected '[pid N]'");
    pid = Number(text.slice(j, end));
    i = end + 1;
  } else {
    const end = digitsEnd(text, i, to);
    if (end > i && end < to && isSpace(text.charCodeAt(end))) {
      pid = Number(text.slice(i, end));
      i = end;
    } else if (end > i && text.charCodeAt(end) === 0x3c /* -Y: 1234<comm> */) {
      const close = text.indexOf('>', end);
      if (close > 0 && close < to && isSpace(text.charCodeAt(close + 1))) {
        pid = Number(text.slice(i, end));
        i = close + 1;
      }
    }
  }
  while (i < to && isSpace(text.charCodeAt(i))) i++;
  i = skipTime(text, i, to);
  if (text.charCodeAt(i) === 0x5b /* -n: [  59] */) {
    let j = i + 1;
    while (j < to && text.charCodeAt(j) === 0x20) j++;
    const end = digitsEnd(text, j, to);
    if (end > j && text.charCodeAt(end) === 0x5d && isSpace(text.charCodeAt(end + 1))) {
      i = end + 1;
      while (i < to && isSpace(text.charCodeAt(i))) i++;
    }
  }
  if (text.charCodeAt(i) === 0x5b /* -i: [00007f…] */) {
    const close = text.indexOf(']', i);
    if (close > 0 && close < to && /^\[[0-9a-f?]+\]$/.test(text.slice(i, close + 1))) {
      i = close + 1;
      while (i < to && isSpace(text.charCodeAt(i))) i++;
    }
  }
  return { pid, bodyAt: i, body: parseBody(text, i, to) };
}

function parseBody(text: string, i: number, to: number): LineBody {
  const c = text.charCodeAt(i);
  if (text.startsWith('<... ', i)) {
    let j = i + 5;
    const nameStart = j;
    while (j < to && isWordChar(text.charCodeAt(j))) j++;
    const name = text.slice(nameStart, j);
    if (name === '' || !text.startsWith(' resumed>', j))
      throw new ScanError(i, "expected '<... NAME resumed>'");
    return { kind: 'resumed', name, restFrom: j + 9 };
  }
  if (text.startsWith('--- ', i)) return parseSignal(text, i, to);
  if (text.startsWith('+++ ', i)) return parseExit(text, i, to);
  if (text.startsWith('strace: ', i) || text.startsWith('[ Process PID=', i) || text.startsWith('> ', i))
    return NOTE;
  if (isWordChar(c) && !(c >= 0x30 && c <= 0x39)) {
    let j = i;
    while (j < to && isWordChar(text.charCodeAt(j))) j++;
    if (text.charCodeAt(j) !== 0x28) {
      throw new ScanError(
        j,
        `expected '(' after the call name '${text.slice(i, j)}' (is this strace output?)`,
      );
    }
    const name = text.slice(i, j);
    const split = splitArgs(text, j + 1, to);
    if (split.close < 0) return { kind: 'unfinished', name, argsFrom: j + 1, cut: split.unfinished };
    const { result, at } = scanResult(text, split.close, to);
    return { kind: 'call', name, argsFrom: j + 1, split, result, resultAt: at };
  }
  throw new ScanError(
    i,
    'expected a system call (NAME(…) = RESULT), a signal (--- SIG… ---) or an exit (+++ … +++) (is this strace output?)',
  );
}

function parseSignal(text: string, i: number, to: number): LineBody {
  let end = to;
  while (end > i && isSpace(text.charCodeAt(end - 1))) end--;
  if (!text.startsWith(' ---', end - 4) || end - 4 <= i + 3)
    throw new ScanError(end, "expected ' ---' to end the signal line");
  let j = i + 4;
  const nameStart = j;
  while (j < end && isWordChar(text.charCodeAt(j))) j++;
  const signal = text.slice(nameStart, j);
  if (signal === 'stopped') return NOTE; // --- stopped by SIGSTOP ---
  if (!/^SIG[A-Z0-9_]+$/.test(signal)) throw new ScanError(nameStart, 'expected a signal name after ---');
  while (j < end && isSpace(text.charCodeAt(j))) j++;
  const infoTo = end - 4;
  if (j < infoTo && text.charCodeAt(j) !== 0x7b)
    throw new ScanError(j, "expected the signal's {si_signo=…} details or ' ---'");
  return { kind: 'signal', signal, infoFrom: j, infoTo: Math.max(j, infoTo) };
}

function parseExit(text: string, i: number, to: number): LineBody {
  const body = text.slice(i, to).trimEnd();
  let m = /^\+\+\+ exited with (\d+) \+\+\+$/.exec(body);
  if (m) return { kind: 'exited', code: Number(m[1]) };
  m = /^\+\+\+ killed by (SIG[A-Z0-9_]+)( \(core dumped\))? \+\+\+$/.exec(body);
  if (m) return { kind: 'killed', signal: m[1]!, core: m[2] !== undefined };
  if (/^\+\+\+ superseded by execve in pid \d+ \+\+\+$/.test(body)) return NOTE;
  throw new ScanError(i, "expected '+++ exited with N +++' or '+++ killed by SIG… +++'");
}
