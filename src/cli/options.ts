/**
 * Option values as people type them, the same for every command: sizes with binary units
 * (`--ram 64MiB`, `--swap 4GiB`, `--page-size 4KiB`), counts with binary multipliers (`--frames 32k`
 * is 32768 frames), ports. Commander calls these while it parses, so a bad
 * value is an error naming its flag (exit 2) before anything runs.
 */
import { InvalidArgumentError } from '@commander-js/extra-typings';
import { InputError } from '../base/errors.js';
import { grouped } from '../base/units.js';
import { parseInteger, parseSize } from '../workload/values.js';
import type { Io } from './io.js';

/** A size in bytes: `4096`, `0x1000`, `4K`, `4KiB`, `64MiB`, `4GiB` (binary units, as in /proc). */
export function sizeArg(text: string): number {
  const v = parseSize(text);
  if (v === null)
    throw new InvalidArgumentError(`expected a size such as 4096, 64MiB or 4GiB, got '${text}'`);
  return v;
}

const COUNT_MULTIPLIERS: Readonly<Record<string, number>> = {
  '': 1,
  k: 2 ** 10,
  ki: 2 ** 10,
  m: 2 ** 20,
  mi: 2 ** 20,
  g: 2 ** 30,
  gi: 2 ** 30,
};

/**
 * A count: `1024`, `0x400`, `32k` (= 32768: binary, like the sizes), `1M`, with `_` separators.
 * A byte size (`64MiB`) is refused with what it would be in 4 KiB frames, since frames are counted.
 */
export function countArg(text: string): number {
  const m = /^(0x[0-9a-f_]+|[0-9][0-9_]*)([a-z]*)$/i.exec(text.trim());
  const n = m ? parseInteger(m[1]!) : null;
  const mult = m ? COUNT_MULTIPLIERS[m[2]!.toLowerCase()] : undefined;
  if (n === null || mult === undefined || !Number.isSafeInteger(n * mult)) {
    const bytes = parseSize(text);
    const hint =
      bytes !== null && bytes % 4096 === 0
        ? ` (a count, not bytes: ${text} is ${grouped(bytes / 4096)} frames of 4 KiB)`
        : '';
    throw new InvalidArgumentError(`expected a number such as 1024, 0x400 or 32k, got '${text}'${hint}`);
  }
  return n * mult;
}

/** A sampling rate in (0, 1]: `0.01`, `1e-3` or `1%`. */
export function rateArg(text: string): number {
  const t = text.trim();
  const n = t.endsWith('%') ? Number(t.slice(0, -1)) / 100 : Number(t);
  if (t === '' || !(n > 0 && n <= 1))
    throw new InvalidArgumentError(`expected a rate in (0, 1] such as 0.01 or 1%, got '${text}'`);
  return n;
}

/** A TCP port, 0 (any free one) to 65535. */
export function portArg(text: string): number {
  const n = /^[0-9]+$/.test(text) ? Number(text) : Number.NaN;
  if (!(n >= 0 && n <= 65535))
    throw new InvalidArgumentError(`expected a port from 0 to 65535, got '${text}'`);
  return n;
}

/**
 * A machine's `--ram` that vmscope can build: whole 4 KiB pages, at most 4 GiB (physical addresses
 * stay below 2^32). Checked once the command knows its value (some default it from their input).
 */
export function checkRam(bytes: number): void {
  if (!(bytes > 0) || bytes % 4096 !== 0 || bytes > 2 ** 32)
    throw new InputError('flag', `--ram must be whole pages up to 4 GiB, not ${bytes} bytes`, {
      file: '--ram',
    });
}

/** A warning on stderr, in the form errors take: `vmscope replay: warning: …`. */
export function warn(io: Io, command: string, message: string): void {
  io.err(`vmscope ${command}: warning: ${message}\n`);
}
