/**
 * The built command (dist/cli/main.js, as `npm ci` leaves it) in child processes, for the tests of
 * what only whole processes show: shards running at once, files left between runs, exit statuses.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { checkoutRoot } from '../corpus.js';

export const BUILT_CLI = join(checkoutRoot(), 'dist', 'cli', 'main.js');
export const hasBuiltCli = existsSync(BUILT_CLI);

export interface Ran {
  readonly status: number | null;
  readonly out: string;
  readonly err: string;
}

/**
 * Starts `vmscope ARGV…` (no shell, no terminal; `env` added to this process's) and resolves when
 * it has exited, or after `timeoutMs` with the child killed and status null (a hang is a result,
 * not a stuck test).
 */
export function vmscope(
  argv: readonly string[],
  options: { cwd?: string; timeoutMs?: number; env?: Record<string, string> } = {},
): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BUILT_CLI, ...argv], {
      cwd: options.cwd ?? checkoutRoot(),
      env: { ...process.env, NO_COLOR: '1', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.timeoutMs === undefined
        ? {}
        : { timeout: options.timeoutMs, killSignal: 'SIGKILL' as const }),
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
    });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, out, err }));
  });
}

/** What a PNG file says of itself: its IHDR size and the distinct colours of its decoded pixels. */
export function readPng(file: string): {
  signature: boolean;
  width: number;
  height: number;
  colours: number;
} {
  const bytes = readFileSync(file);
  const signature = bytes
    .subarray(0, 8)
    .equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  // IHDR is the first chunk: length (4), type (4), then width and height, big-endian.
  const ihdr = bytes.subarray(12, 16).toString('latin1') === 'IHDR';
  const width = ihdr ? bytes.readUInt32BE(16) : -1;
  const height = ihdr ? bytes.readUInt32BE(20) : -1;
  const png = PNG.sync.read(bytes);
  const seen = new Set<number>();
  for (let i = 0; i < png.data.length; i += 4) seen.add(png.data.readUInt32BE(i));
  return {
    signature,
    width: png.width === width ? width : -1,
    height: png.height === height ? height : -1,
    colours: seen.size,
  };
}
