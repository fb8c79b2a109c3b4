/**
 * What a worker thread sends back: its value, or the input error it hit. An `InputError` thrown in
 * a worker would reach the main thread as a plain `Error` (structured cloning keeps no class), and
 * the CLI would report a bad trace or plug-in as a bug; so workers catch input errors and send
 * them as data, and the main thread throws them again, unchanged.
 */
import { InputError, type SourceSpan } from '../base/errors.js';

export type WorkerResult<T> =
  | { readonly ok: true; readonly value: T }
  | {
      readonly ok: false;
      readonly code: string;
      readonly message: string;
      readonly span: SourceSpan;
      readonly hint: string | null;
    };

/** Runs `work`, turning an InputError into a result (anything else still throws: a bug). */
export async function catchInputError<T>(work: () => Promise<T>): Promise<WorkerResult<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    return { ok: false, code: e.code, message: e.message, span: { ...e.span }, hint: e.hint ?? null };
  }
}

/** The value of a worker's result. @throws the InputError the worker hit. */
export function unwrap<T>(r: WorkerResult<T>): T {
  if (r.ok) return r.value;
  throw new InputError(r.code, r.message, r.span, r.hint ?? undefined);
}
