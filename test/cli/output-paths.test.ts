/**
 * Every output path and folder a command takes, given a place it cannot write: under /proc (where
 * Node's recursive mkdir spins forever), a read-only folder, and a file in the way. Each command
 * must fail at once with the path named and exit status 2: no hang, no stack trace, no work done.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { hasBuiltCli, vmscope } from './built-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'vmscope-output-paths-'));
const trace = join(dir, 't.pages');
writeFileSync(trace, `${Array.from({ length: 200 }, (_, i) => i % 13).join('\n')}\n`);
// The check comes before the input is read, so any file will do as malloc's and strace's input.
const log = join(dir, 'any.log');
writeFileSync(log, 'x\n');
const file = join(dir, 'a-file');
writeFileSync(file, 'in the way\n');

/**
 * A folder this process cannot write in: root writes wherever the mode bits say no, so for root
 * sysfs (which refuses new files), otherwise a folder of mode 555.
 */
function readOnlyFolder(): string | null {
  if (process.getuid?.() === 0) return existsSync('/sys/kernel') ? '/sys' : null;
  const ro = join(dir, 'read-only');
  mkdirSync(ro);
  chmodSync(ro, 0o555);
  return ro;
}
const readOnly = readOnlyFolder();

// (Root on a machine without sysfs has no read-only folder to give: that case is left out.)
const PLACES: [string, string][] = [
  ['under /proc', '/proc/x/y'],
  ...(readOnly === null ? [] : [['in a read-only folder', join(readOnly, 'y')] as [string, string]]),
  ['under a file', join(file, 'y')],
];

/** Each command with the path P in place: [name, argv]. */
const commands = (p: string): [string, string[]][] => [
  ['mrc --plot F.svg', ['mrc', '--frames', '4', '--plot', `${p}.svg`, trace]],
  ['mrc --plot F.png', ['mrc', '--frames', '4', '--plot', `${p}.png`, trace]],
  ['mrc --table', ['mrc', '--frames', '4', '--table', `${p}.csv`, trace]],
  ['replay --plot', ['replay', '--policy-only', '--frames', '4', '--plot', `${p}.svg`, trace]],
  ['convert OUT', ['convert', trace, `${p}.vmt`]],
  ['sweep --out', ['sweep', '--traces', trace, '--policies', 'lru', '--frames', '4', '--out', p]],
  [
    'sweep --table',
    ['sweep', '--traces', trace, '--policies', 'lru', '--frames', '4', '--table', `${p}.csv`],
  ],
  ['sweep --plot', ['sweep', '--traces', trace, '--policies', 'lru', '--frames', '4', '--plot', `${p}.png`]],
  ['sweep --merge', ['sweep', '--merge', p]],
  ['malloc --plot', ['malloc', '--plot', `${p}.svg`, log]],
  ['strace --plot', ['strace', '--plot', `${p}.svg`, log]],
];

describe.skipIf(!hasBuiltCli)('output paths that cannot be written', () => {
  test.each(PLACES)('%s: every command fails at once, naming the path, exit status 2', async (_, place) => {
    const runs = await Promise.all(
      commands(place).map(async ([name, argv]) => ({ name, r: await vmscope(argv, { timeoutMs: 20_000 }) })),
    );
    for (const { name, r } of runs) {
      expect(r.status, `${name}: ${r.err}`).toBe(2);
      expect(r.err, name).toContain(place);
      expect(r.err, name).not.toMatch(/internal error|\n\s+at /);
      expect(r.out, `${name} did no work`).toBe('');
    }
  });

  test("a TMPDIR that cannot be written: OPT's next uses have nowhere to go, said as an input error (exit 2)", async () => {
    const env = { TMPDIR: '/proc/x' };
    for (const argv of [
      ['mrc', '--policies', 'lru,opt', '--frames', '4', trace],
      ['replay', '--policy-only', '--policy', 'opt', '--frames', '4', trace],
    ]) {
      const r = await vmscope(argv, { env, timeoutMs: 20_000 });
      expect(r.status, r.err).toBe(2);
      expect(r.err).toBe(
        "/proc/x: error: cannot make a temporary folder here for the trace's next uses (ENOENT): set TMPDIR to a folder that can be written\n",
      );
    }
  });
});
