/**
 * What every fuzz target shares. A target draws an input (fast-check), feeds it to vmscope the way a
 * user's file would reach it, and throws when vmscope misbehaves. Whatever the input, vmscope must
 * either accept it (and then keep its invariants) or refuse it with an InputError that names the
 * input and a place inside it: another exception, an invariant broken, a message that says
 * `[object Object]`, `undefined` or `NaN`, or a place outside the input is a bug.
 *
 * The same targets run bounded (a fixed seed, a few hundred inputs) in `npm test`
 * (test/fuzz/fuzz.test.ts) and for as long as asked in `npm run fuzz` (scripts/fuzz.ts). They use no
 * test framework, so that a failure found by the long run reads the same as in a test.
 */
import type fc from 'fast-check';
import { InputError } from '../../src/base/errors.js';

/** What became of one input. */
export type Outcome = 'accepted' | 'rejected';

export interface FuzzTarget<T = unknown> {
  /** A short name (`npm run fuzz -- --target NAME`). */
  readonly name: string;
  /** What is checked, in one sentence (printed by `npm run fuzz`). */
  readonly checks: string;
  readonly input: fc.Arbitrary<T>;
  /** Runs one input. @returns its outcome. @throws FuzzFailure (or anything) when vmscope misbehaved. */
  run(input: T): Outcome;
  /** The input as a user would have given it (a file's text), for a failure's report. */
  show?(input: T): string;
  /** Inputs `npm test` tries (a fixed seed). */
  readonly quickRuns: number;
  /** True when the target reads ../shared/corpus (skipped without it). */
  readonly needsCorpus?: boolean;
}

/** vmscope did something it must not do with an input. */
export class FuzzFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FuzzFailure';
  }
}

export function fail(message: string): never {
  throw new FuzzFailure(message);
}

export function check(cond: unknown, message: string): asserts cond {
  if (!cond) fail(message);
}

/** Words no message to a user should contain: they come from a value printed without thought. */
const SLOPPY = /\[object \w+\]|\bundefined\b|\bNaN\b/;

/** Where an input's text lines are: how many there are (a place may be one past the last). */
export interface TextExtent {
  readonly file: string;
  readonly lines: number;
}

/** Lines in `text` as an editor counts them (a last line without a newline counts). */
export function lineCount(text: string | Uint8Array): number {
  let n = 1;
  if (typeof text === 'string') {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) n++;
  } else {
    for (const b of text) if (b === 10) n++;
  }
  return n;
}

/**
 * Turns what a parse or a run threw into an outcome: an InputError placed inside `extent` is a
 * rejection; anything else is rethrown as it is (the fuzz run reports it with its stack).
 * @param where how the input was used (for the failure's message)
 */
export function rejection(
  e: unknown,
  extent: TextExtent | { readonly file: string; readonly bytes: number },
  where: string,
): Outcome {
  if (!(e instanceof InputError)) throw e;
  const errors = 'errors' in e ? (e as { errors: readonly InputError[] }).errors : [e];
  for (const err of errors) checkPlaced(err, extent, where);
  return 'rejected';
}

function checkPlaced(
  e: InputError,
  extent: TextExtent | { readonly file: string; readonly bytes: number },
  where: string,
): void {
  const text = e.format();
  check(e.message.length > 0, `${where}: an input error with no message`);
  // What the message quotes of the input may say anything.
  const own = `${e.message} ${e.hint ?? ''}`.replace(/'[^']*'|"[^"]*"/g, "''");
  check(!SLOPPY.test(own), `${where}: a careless message: ${text}`);
  check(e.span.file === extent.file, `${where}: the error names ${e.span.file}, not ${extent.file}: ${text}`);
  const { line, column, offset } = e.span;
  if ('lines' in extent) {
    if (line === undefined) return; // about the whole input (a header count, an empty file)
    check(
      Number.isInteger(line) && line >= 1 && line <= extent.lines,
      `${where}: line ${line} is outside the input (${extent.lines} lines): ${text}`,
    );
    check(
      column === undefined || (Number.isInteger(column) && column >= 1),
      `${where}: column ${column}: ${text}`,
    );
  } else if (offset !== undefined) {
    check(
      Number.isInteger(offset) && offset >= 0 && offset <= extent.bytes,
      `${where}: offset ${offset} is outside the input (${extent.bytes} bytes): ${text}`,
    );
  }
}

/** Cuts `bytes` into chunks at the given fractions of its length (for streaming parsers). */
export function chunked(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = cuts.map((f) => Math.floor(f * bytes.length)).sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let at = 0;
  for (const p of points) {
    out.push(bytes.subarray(at, p));
    at = p;
  }
  out.push(bytes.subarray(at));
  return out;
}

/**
 * A fraction in [0, 1), uniformly: fast-check's own numbers lean towards 0 and the extremes, which
 * would make every choice made from a fraction the first one.
 */
export function unitArb(fcm: typeof fc): fc.Arbitrary<number> {
  return fcm.noBias(fcm.integer({ min: 0, max: 65535 })).map((x) => x / 65536);
}

/** Where to cut an input: up to 6 places, as fractions of its length. */
export function cutsArb(fcm: typeof fc): fc.Arbitrary<number[]> {
  return fcm.array(unitArb(fcm), { maxLength: 6 });
}

export const encode = (text: string): Uint8Array => new TextEncoder().encode(text);

/** Damage to a text: characters deleted, inserted or replaced, lines cut, doubled or swapped. */
export type Edit =
  | { readonly kind: 'delete'; readonly at: number; readonly len: number }
  | { readonly kind: 'insert'; readonly at: number; readonly text: string }
  | { readonly kind: 'cut'; readonly at: number }
  | { readonly kind: 'dupLine'; readonly at: number }
  | { readonly kind: 'swapLines'; readonly at: number; readonly with: number };

/** Edits in the text's own terms: positions are fractions, inserted text from `pieces`. */
export function editsArb(fcm: typeof fc, pieces: readonly string[]): fc.Arbitrary<Edit[]> {
  const at = unitArb(fcm);
  const edit: fc.Arbitrary<Edit> = fcm.oneof(
    fcm.record({ kind: fcm.constant('delete' as const), at, len: fcm.integer({ min: 1, max: 12 }) }),
    fcm.record({
      kind: fcm.constant('insert' as const),
      at,
      text: fcm.oneof(
        fcm.constantFrom(...pieces),
        fcm.string({ maxLength: 6 }),
        fcm.string({ unit: 'binary', maxLength: 3 }),
      ),
    }),
    fcm.record({ kind: fcm.constant('cut' as const), at }),
    fcm.record({ kind: fcm.constant('dupLine' as const), at }),
    fcm.record({ kind: fcm.constant('swapLines' as const), at, with: at }),
  );
  return fcm.array(edit, { maxLength: 4 });
}

/** `text` with `edits` applied in order. */
export function applyEdits(text: string, edits: readonly Edit[]): string {
  for (const e of edits) {
    const pos = Math.floor(e.at * (text.length + 1));
    if (e.kind === 'delete') text = text.slice(0, pos) + text.slice(pos + e.len);
    else if (e.kind === 'insert') text = text.slice(0, pos) + e.text + text.slice(pos);
    else if (e.kind === 'cut') text = text.slice(0, pos);
    else {
      const lines = text.split('\n');
      const i = Math.floor(e.at * lines.length);
      if (e.kind === 'dupLine') lines.splice(i, 0, lines[i] ?? '');
      else {
        const j = Math.floor(e.with * lines.length);
        [lines[i], lines[j]] = [lines[j] ?? '', lines[i] ?? ''];
      }
      text = lines.join('\n');
    }
  }
  return text;
}
