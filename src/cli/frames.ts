/**
 * `--frames` of `mrc` and `sweep`: the memory sizes of a curve, in one syntax.
 *
 *   LO..HI        every size from LO to HI (`1..6` shows Belady's anomaly)
 *   LO..HI/x2     the powers of two between, and both ends
 *   LO..HI/+STEP  every STEP-th size from LO, and HI
 *   16,24,32      exactly those (sorted, each once)
 *   log-spaced    the default: powers of two from 1 up to each trace's footprint, and the footprint
 *
 * Counts take the multipliers of every count flag (`64k`). Sweep's first spellings, `LO:HI`,
 * `LO:HI:STEP` and `LO:HI:x2`, are still read (as `LO..HI`, `/+STEP`, `/x2`); errors name only these.
 */
import { InputError } from '../base/errors.js';
import { count } from '../report/format.js';
import { MAX_CURVE_SIZE, powerOfTwoSizes } from '../sim/mrc.js';
import { countArg } from './options.js';

/** What errors say --frames takes. */
export const FRAMES_SYNTAX = 'LO..HI, LO..HI/x2, LO..HI/+STEP, a list such as 16,24,32, or log-spaced';

/** More sizes than this is a mistake (a range without a step): refused. */
const MAX_SIZES = 100_000;

/**
 * The sizes `text` names, or null for `log-spaced` (each trace's own powers of two).
 * @throws InputError naming `--frames`, the canonical syntax, what was given and what is wrong.
 */
export function parseFrames(text: string): number[] | null {
  const t = text.trim();
  const fail = (why: string): never => {
    throw new InputError(
      'flag',
      `expected --frames ${FRAMES_SYNTAX} (sizes 1..${count(MAX_CURVE_SIZE)}), got '${text}'${why ? `: ${why}` : ''}`,
      { file: '--frames' },
    );
  };
  if (t === 'log-spaced') return null;
  if (t === '') return fail('');
  const num = (s: string): number => {
    try {
      return countArg(s);
    } catch {
      return fail(`'${s}' is not a number`);
    }
  };
  const range =
    /^([^.,/:]+)\.\.([^.,/:]+)(?:\/(x2|\+[^.,/:]+))?$/.exec(t) ??
    // sweep's first spelling, LO:HI[:STEP|:x2]
    /^([^.,/:]+):([^.,/:]+)(?::(x2|[^.,/:]+))?$/.exec(t);
  if (range) {
    const lo = num(range[1]!);
    const hi = num(range[2]!);
    if (lo < 1 || hi < lo) fail('LO must be at least 1 and at most HI');
    if (hi > MAX_CURVE_SIZE) fail(`HI is more than ${count(MAX_CURVE_SIZE)}`);
    const step = range[3];
    if (step === 'x2') return powerOfTwoSizes(lo, hi);
    const by = step === undefined ? 1 : num(step.startsWith('+') ? step.slice(1) : step);
    if (by < 1) fail('the step must be at least 1');
    if ((hi - lo) / by + 1 > MAX_SIZES) fail(`more than ${count(MAX_SIZES)} sizes: give a step (LO..HI/x2)`);
    const sizes: number[] = [];
    for (let s = lo; s <= hi; s += by) sizes.push(s);
    if (sizes.at(-1) !== hi) sizes.push(hi);
    return sizes;
  }
  const parts = t.split(',').map((s) => s.trim());
  if (parts.some((s) => s === '')) fail('an empty size in the list');
  const sizes = [...new Set(parts.map(num))].sort((a, b) => a - b);
  if (sizes.some((s) => s < 1 || s > MAX_CURVE_SIZE))
    fail(`every size must be from 1 to ${count(MAX_CURVE_SIZE)}`);
  if (sizes.length > MAX_SIZES) fail(`more than ${count(MAX_SIZES)} sizes`);
  return sizes;
}
