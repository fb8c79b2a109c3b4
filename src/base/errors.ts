/**
 * The three kinds of failure, never mixed (see STYLE.md):
 *  1. bad input (a scenario, an ELF, a trace, a flag) is an {@link InputError} value carrying its place;
 *  2. what the simulated program did wrong is simulation output (a fault verdict, a signal, -errno);
 *  3. a bug in vmscope is an {@link invariant} failure, a thrown {@link InvariantError}.
 */

/** Where in an input a problem is: a file plus a line/column (text) or a byte offset (binary). */
export interface SourceSpan {
  readonly file: string;
  /** 1-based line, for text inputs. */
  readonly line?: number;
  /** 1-based column, for text inputs. */
  readonly column?: number;
  /** Byte offset, for binary inputs. */
  readonly offset?: number;
}

/** A problem with something the user gave us. The CLI prints it as `file:line:col: error: message`. */
export class InputError extends Error {
  readonly code: string;
  readonly span: SourceSpan;
  readonly hint: string | undefined;

  constructor(code: string, message: string, span: SourceSpan, hint?: string) {
    super(message);
    this.name = 'InputError';
    this.code = code;
    this.span = span;
    this.hint = hint;
  }

  /** `file:line:col: error: message`, `file: offset 0x40: error: message`, plus the hint if any. */
  format(): string {
    const { file, line, column, offset } = this.span;
    let where = shownName(file);
    if (line !== undefined) where += `:${line}${column !== undefined ? `:${column}` : ''}`;
    else if (offset !== undefined) where += `: offset 0x${offset.toString(16)}`;
    const hint = this.hint ? ` (${this.hint})` : '';
    return `${where}: error: ${this.message}${hint}`;
  }
}

/**
 * A file's name as an error shows it: control characters escaped (`\x01`), an empty name as `''`,
 * since a name read from a damaged input (an ELF's PT_INTERP, a `#!` line) can hold anything.
 */
function shownName(file: string): string {
  if (file === '') return "''";
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what it finds
  return file.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/**
 * Every problem found in one input, reported together as a compiler reports them: the first is this
 * error's own code, message and place (so code that handles one InputError still works), and
 * {@link format} gives one line per problem.
 */
export class InputErrors extends InputError {
  readonly errors: readonly InputError[];
  /** Problems found beyond the ones kept. */
  readonly omitted: number;

  /** @param errors at least one; @param omitted how many more were found and not kept. */
  constructor(errors: readonly InputError[], omitted = 0) {
    const first = errors[0];
    if (first === undefined) throw new InvariantError('InputErrors: no errors');
    super(first.code, first.message, first.span, first.hint);
    this.name = 'InputErrors';
    this.errors = errors;
    this.omitted = omitted;
  }

  override format(): string {
    const lines = this.errors.map((e) => e.format());
    const total = this.errors.length + this.omitted;
    if (this.omitted > 0)
      lines.push(`${this.span.file}: ${this.omitted} more errors not shown (${total} in all)`);
    return lines.join('\n');
  }
}

/** A broken internal rule of vmscope: always a bug, never the user's fault. */
export class InvariantError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvariantError';
  }
}

/** Throws an {@link InvariantError} when `cond` is false. For vmscope's own bugs only. */
export function invariant(cond: unknown, message: string): asserts cond {
  if (!cond) throw new InvariantError(message);
}

/**
 * Words for anything that was thrown, for the "a bug in vmscope" message: an Error's stack (or
 * message), a string as it is, any other value by its class and its fields — never `[object Object]`,
 * which tells the reader nothing.
 */
export function describeThrown(e: unknown): string {
  if (e instanceof Error) return e.stack ?? `${e.name}: ${e.message}`;
  if (typeof e === 'string') return e;
  if (typeof e !== 'object' || e === null) return `a thrown ${e === null ? 'null' : typeof e}: ${String(e)}`;
  const kind = (e as object).constructor?.name || 'object';
  let fields: string;
  try {
    fields = JSON.stringify(e) ?? '';
  } catch {
    fields = Object.keys(e).join(', ');
  }
  return `a thrown ${kind} (not an Error)${fields && fields !== '{}' ? `: ${fields}` : ''}`;
}
