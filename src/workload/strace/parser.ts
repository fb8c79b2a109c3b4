/**
 * A streaming parser for strace logs: bytes arrive in chunks of any size (a file, a gunzip or zstd
 * stream, a dropped file in the browser), lines may straddle chunks, and every line becomes an event
 * as soon as it is complete. The two halves of an interrupted call (`<unfinished ...>` and
 * `<... NAME resumed>`, which `-f` prints when threads or processes interleave) are joined into one
 * call, reported at the line where it completed; its arguments read across both lines, and an error
 * in them names the line and column where the text really is.
 *
 * A line that is not strace output is an InputError with file, line and column. The parser keeps at
 * most one pending half-call per pid and one line of carry; a "line" longer than MAX_LINE_CHARS (a
 * binary file fed as text) fails fast.
 */
import { InputError, invariant } from '../../base/errors.js';
import { type LineBody, NO_PID, parseLine } from './line.js';
import { type ArgSplit, type CallResult, ScanError, scanResult, splitArgs } from './scan.js';
import { CallText, type Origin, Value } from './value.js';

export const MAX_LINE_CHARS = 1 << 22;

/** One completed system call of the log. */
export class LoggedCall {
  readonly kind = 'call' as const;
  readonly pid: number;
  readonly name: string;
  /** The line where the call starts (its name), and where its result is (later when it was resumed). */
  readonly line: number;
  readonly endLine: number;
  readonly result: CallResult;
  readonly src: CallText;
  private readonly split: ArgSplit;
  private readonly resultAt: number;

  constructor(
    pid: number,
    name: string,
    line: number,
    endLine: number,
    src: CallText,
    split: ArgSplit,
    result: CallResult,
    resultAt: number,
  ) {
    this.pid = pid;
    this.name = name;
    this.line = line;
    this.endLine = endLine;
    this.src = src;
    this.split = split;
    this.result = result;
    this.resultAt = resultAt;
  }

  get argc(): number {
    return this.split.starts.length;
  }

  /** Argument `i` (0-based). @throws InputError when the call has fewer. */
  arg(i: number): Value {
    const from = this.split.starts[i];
    if (from === undefined) {
      const at = this.split.close > 0 ? this.split.close - 1 : this.src.text.length;
      throw this.src.error(at, `${this.name} needs at least ${i + 1} arguments, the log shows ${this.argc}`);
    }
    return new Value(this.src, from, this.split.ends[i]!, i + 1);
  }

  /** The text of the call as logged, from its name to its result (for reports). */
  get text(): string {
    const t = this.src.text;
    const end = this.split.close > 0 ? this.split.close : t.length;
    return `${this.name}(${t.slice(this.split.starts[0] ?? end - 1, end - 1)})`;
  }

  /** An input error about the result. */
  resultError(message: string): InputError {
    return this.src.error(this.resultAt, message);
  }
}

export type StraceEvent =
  | LoggedCall
  /** The first half of a call that will complete later (its arguments so far). */
  | {
      readonly kind: 'unfinished';
      readonly pid: number;
      readonly name: string;
      readonly line: number;
      readonly args: readonly Value[];
    }
  /** A call that never completed (its process ended first, or the log did). */
  | { readonly kind: 'lost'; readonly pid: number; readonly name: string; readonly line: number }
  /** A `<... NAME resumed>` whose first half the log does not have. */
  | { readonly kind: 'orphan'; readonly pid: number; readonly name: string; readonly line: number }
  | {
      readonly kind: 'signal';
      readonly pid: number;
      readonly line: number;
      readonly signal: string;
      /** The `{si_signo=…, si_code=…, si_addr=…}` details, or null. */
      readonly info: Value | null;
    }
  | { readonly kind: 'exited'; readonly pid: number; readonly line: number; readonly code: number }
  | {
      readonly kind: 'killed';
      readonly pid: number;
      readonly line: number;
      readonly signal: string;
      readonly core: boolean;
    };

interface Pending {
  readonly name: string;
  readonly line: number;
  /** The first half: the line's text up to the `<unfinished ...>` mark. */
  readonly text: string;
  readonly argsFrom: number;
  /** Where each line's part of `text` starts (the first at 0), for columns. */
  readonly parts: readonly { readonly at: number; readonly line: number; readonly column: number }[];
}

class JoinedOrigin implements Origin {
  private readonly parts: Pending['parts'];
  constructor(parts: Pending['parts']) {
    this.parts = parts;
  }
  place(pos: number): { line: number; column: number } {
    let part = this.parts[0]!;
    for (const p of this.parts) if (p.at <= pos) part = p;
    return { line: part.line, column: part.column + (pos - part.at) };
  }
}

class LineOrigin implements Origin {
  private readonly line: number;
  constructor(line: number) {
    this.line = line;
  }
  place(pos: number): { line: number; column: number } {
    return { line: this.line, column: pos + 1 };
  }
}

const STRACE_NOTE = /strace: Process \d+ (attached|detached|resumed.*|suspended.*)$/;

export class StraceParser {
  readonly file: string;
  /** Lines read so far. */
  line = 0;
  private readonly sink: (e: StraceEvent) => void;
  private readonly decoder = new TextDecoder('utf-8');
  private carry = '';
  private readonly pending = new Map<number, Pending>();
  /** A line cut by strace's own note (terminal output): joined with the next one. */
  private cut: { text: string; line: number } | null = null;
  private ended = false;

  constructor(file: string, sink: (e: StraceEvent) => void) {
    this.file = file;
    this.sink = sink;
  }

  /** Parses every complete line in `chunk`; events reach the sink before it returns. @throws InputError */
  push(chunk: Uint8Array): void {
    invariant(!this.ended, `${this.file}: push after end`);
    const text = this.carry + this.decoder.decode(chunk, { stream: true });
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      this.take(text, start, nl);
      start = nl + 1;
    }
    this.carry = start === 0 ? text : text.slice(start);
    if (this.carry.length > MAX_LINE_CHARS) {
      throw new InputError(
        'strace',
        `line is longer than ${MAX_LINE_CHARS} characters (is this a text log?)`,
        {
          file: this.file,
          line: this.line + 1,
          column: 1,
        },
      );
    }
  }

  /** Parses the last line (if it had no newline) and reports calls that never completed. */
  end(): void {
    invariant(!this.ended, `${this.file}: end called twice`);
    const rest = this.carry + this.decoder.decode();
    this.carry = '';
    if (rest.length > 0) this.take(rest, 0, rest.length);
    if (this.cut !== null) {
      const { text, line } = this.cut;
      this.cut = null;
      this.parse(text, line);
    }
    this.ended = true;
    for (const [pid, p] of this.pending) this.sink({ kind: 'lost', pid, name: p.name, line: p.line });
    this.pending.clear();
  }

  private take(text: string, from: number, to: number): void {
    this.line++;
    if (to > from && text.charCodeAt(to - 1) === 0x0d) to--; // CRLF
    let lineText = text.slice(from, to);
    let line = this.line;
    if (this.cut !== null) {
      lineText = this.cut.text + lineText;
      line = this.cut.line;
      this.cut = null;
    }
    try {
      this.parse(lineText, line);
    } catch (e) {
      // On a terminal, strace's "Process N attached" can land in the middle of a call's line, whose
      // rest follows on the next line: join the two.
      const m = e instanceof InputError ? STRACE_NOTE.exec(lineText) : null;
      if (m === null || m.index === 0) throw e;
      this.cut = { text: lineText.slice(0, m.index), line };
    }
  }

  private error(e: ScanError, line: number, column: number): InputError {
    return new InputError('strace', e.message, { file: this.file, line, column });
  }

  /** Parses one whole line, `text`, which is line `line` of the log. */
  private parse(text: string, line: number): void {
    let parsed: ReturnType<typeof parseLine>;
    try {
      parsed = parseLine(text, 0, text.length);
    } catch (e) {
      if (e instanceof ScanError) throw this.error(e, line, e.pos + 1);
      throw e;
    }
    const { pid, body } = parsed;
    switch (body.kind) {
      case 'note':
        return;
      case 'call': {
        this.drop(pid);
        const src = new CallText(this.file, text, new LineOrigin(line), body.name);
        this.sink(new LoggedCall(pid, body.name, line, line, src, body.split, body.result, body.resultAt));
        return;
      }
      case 'unfinished': {
        this.drop(pid);
        const head = text.slice(0, body.cut);
        const argsFrom = body.argsFrom;
        this.pending.set(pid, {
          name: body.name,
          line,
          text: head,
          argsFrom,
          parts: [{ at: 0, line, column: 1 }],
        });
        this.sink({
          kind: 'unfinished',
          pid,
          name: body.name,
          line,
          args: partialArgs(this.file, head, argsFrom, body.name, line),
        });
        return;
      }
      case 'resumed':
        this.resume(pid, body, text, line);
        return;
      case 'signal': {
        const info =
          body.infoTo > body.infoFrom
            ? new Value(
                new CallText(this.file, text, new LineOrigin(line), body.signal),
                body.infoFrom,
                body.infoTo,
              )
            : null;
        this.sink({ kind: 'signal', pid, line, signal: body.signal, info });
        return;
      }
      case 'exited':
        this.drop(pid);
        this.sink({ kind: 'exited', pid, line, code: body.code });
        return;
      case 'killed':
        this.drop(pid);
        this.sink({ kind: 'killed', pid, line, signal: body.signal, core: body.core });
        return;
    }
  }

  /** A pid's half-call that will never complete. */
  private drop(pid: number): void {
    const p = this.pending.get(pid);
    if (p === undefined) return;
    this.pending.delete(pid);
    this.sink({ kind: 'lost', pid, name: p.name, line: p.line });
  }

  private resume(
    pid: number,
    body: Extract<LineBody, { kind: 'resumed' }>,
    text: string,
    line: number,
  ): void {
    const p = this.pending.get(pid);
    if (p === undefined || p.name !== body.name) {
      this.drop(pid);
      this.sink({ kind: 'orphan', pid, name: body.name, line });
      return;
    }
    this.pending.delete(pid);
    const joined = p.text + text.slice(body.restFrom);
    const parts = [...p.parts, { at: p.text.length, line, column: body.restFrom + 1 }];
    const origin = new JoinedOrigin(parts);
    const src = new CallText(this.file, joined, origin, p.name);
    let split: ArgSplit;
    try {
      split = splitArgs(joined, p.argsFrom, joined.length);
    } catch (e) {
      if (e instanceof ScanError) throw src.error(e.pos, e.message);
      throw e;
    }
    if (split.close < 0) {
      // Resumed and cut again (`<... x resumed> <unfinished ...>`): still pending.
      this.pending.set(pid, { ...p, text: joined.slice(0, split.unfinished), parts });
      return;
    }
    let scanned: { result: CallResult; at: number };
    try {
      scanned = scanResult(joined, split.close, joined.length);
    } catch (e) {
      if (e instanceof ScanError) throw src.error(e.pos, e.message);
      throw e;
    }
    this.sink(new LoggedCall(pid, p.name, p.line, line, src, split, scanned.result, scanned.at));
  }
}

/** The arguments complete in the first half of an unfinished call. */
function partialArgs(file: string, head: string, argsFrom: number, name: string, line: number): Value[] {
  const src = new CallText(file, head, new LineOrigin(line), name);
  try {
    const s = splitArgs(head, argsFrom, head.length, true);
    return s.starts.map((from, i) => new Value(src, from, s.ends[i]!, i + 1));
  } catch {
    return []; // the second half will tell (or the call is lost)
  }
}

/** Parses a whole log held in memory. @returns its events in order. @throws InputError */
export function parseStrace(file: string, bytes: Uint8Array): StraceEvent[] {
  const out: StraceEvent[] = [];
  const p = new StraceParser(file, (e) => out.push(e));
  p.push(bytes);
  p.end();
  return out;
}

export { NO_PID };
