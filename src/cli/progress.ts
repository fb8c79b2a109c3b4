/** Progress bars on stderr, drawn only for a terminal (and never in CI or when piped). */
import { createRequire } from 'node:module';
import type cliProgress from 'cli-progress';
import type { Io } from './io.js';

/**
 * cli-progress, loaded with the first bar: at start-up it cost every command some 15 ms, and a
 * bar is drawn only on a terminal.
 */
const load = createRequire(import.meta.url);

/**
 * A bar in vmscope's style, started at 0 of `total`, or null when it should not be drawn (not a
 * terminal, or nothing to count). `format` is cli-progress's, with `payload`'s keys as tokens.
 */
export function terminalBar(
  io: Io,
  format: string,
  total: number,
  payload: Record<string, unknown>,
): cliProgress.SingleBar | null {
  if (!io.isTTY || total === 0) return null;
  const cli = load('cli-progress') as typeof cliProgress;
  const bar = new cli.SingleBar(
    { format, hideCursor: true, stream: process.stderr },
    cli.Presets.shades_classic,
  );
  bar.start(total, 0, payload);
  return bar;
}
