/** Where the CLI writes, so that tests can run commands in-process and read what they printed. */
import { createColors } from 'picocolors';

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Colours only for a terminal, and never with NO_COLOR. */
  readonly color: boolean;
  readonly isTTY: boolean;
}

export function processIo(): Io {
  const isTTY = Boolean(process.stdout.isTTY);
  return {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    color: isTTY && !process.env['NO_COLOR'],
    isTTY: Boolean(process.stderr.isTTY) && !process.env['CI'],
  };
}

/** An Io that collects output in strings. */
export function bufferIo(): Io & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    color: false,
    isTTY: false,
    out(t: string) {
      io.stdout += t;
    },
    err(t: string) {
      io.stderr += t;
    },
  };
  return io;
}

export function colors(io: Io): ReturnType<typeof createColors> {
  return createColors(io.color);
}

/** Exit statuses, the same for every command. */
export const EXIT_OK = 0;
/** The run worked, but what it checked did not hold (a failed expectation). */
export const EXIT_FAILED = 1;
/** Bad input: a file, a flag, a scenario line. */
export const EXIT_INPUT = 2;
/** A bug in vmscope (an invariant broke). */
export const EXIT_BUG = 3;
