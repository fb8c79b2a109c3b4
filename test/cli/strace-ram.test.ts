/**
 * `vmscope strace` sizes its machine from the log when the program asked the machine's memory
 * (sysinfo here): a JVM-like reservation of 381 MiB agrees then, and diverges, with the hint, on a
 * 256 MiB --ram. --ram above what vmscope simulates is an input error, for exec and malloc too.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { MADE_UP_PROGRAM } from '../sim/made-up-program.js';
import { run } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'vmscope-strace-ram-'));
const prog = join(dir, 'prog');
writeFileSync(prog, MADE_UP_PROGRAM);
const log = join(dir, 'jvm.strace');
writeFileSync(
  log,
  [
    '100 execve("/prog", ["/prog"], ["A=1"]) = 0',
    '100 sysinfo({uptime=51374, loads=[634656, 417152, 333248], totalram=25276182528, freeram=20081762304, sharedram=14311424, bufferram=34058240, totalswap=0, freeswap=0, procs=390, totalhigh=0, freehigh=0, mem_unit=1}) = 0',
    '100 mmap(0x10000000, 400000000, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_FIXED|MAP_ANONYMOUS, -1, 0) = 0x10000000',
    '100 exit_group(0) = ?',
    '100 +++ exited with 0 +++',
    '',
  ].join('\n'),
);

describe('vmscope strace --ram', () => {
  test("without --ram the machine is the log's (capped at 4 GiB), said once on stderr", async () => {
    const r = await run('strace', '--exe', prog, log);
    expect(r.err).toBe(
      `${log}: note: line 2: the recorded machine had 24,105 MiB of RAM (sysinfo): replaying on 4,096 MiB (vmscope's largest: 4,096 MiB); --ram sets another size\n`,
    );
    expect(r.out).toMatch(/^replayed: 2 calls compared with Linux's results: 2 agree, 0 diverge/);
    expect(r.status).toBe(0);
  });

  test('--ram 256MiB: the reservation is refused, and the divergence says why', async () => {
    const r = await run('strace', '--exe', prog, '--ram', '256MiB', log);
    expect(r.err).toBe('');
    expect(r.status).toBe(1);
    expect(r.out).toContain(
      "    linux 0x10000000, vmscope ENOMEM\n    (vmscope's machine has 256 MiB of RAM and overcommit refuses a mapping larger than RAM plus swap: a larger --ram may be needed)\n",
    );
  });

  test('strace, exec and malloc refuse --ram above 4 GiB the same way (exec was an internal error)', async () => {
    for (const argv of [
      ['strace', '--exe', prog, '--ram', '8GiB', log],
      ['exec', '--ram', '8GiB', prog],
      ['malloc', '--ram', '8GiB', log],
    ]) {
      const r = await run(...argv);
      expect(r.status, argv[0]).toBe(2);
      expect(r.err).toMatch(/^--ram: error: --ram must be whole pages up to 4 GiB, not 8589934592 bytes\n/);
      expect(r.err).not.toMatch(/internal error|\n\s+at /);
    }
  });

  test('--ram of part of a page is an input error for strace, exec and malloc alike (strace was an internal error)', async () => {
    for (const argv of [
      ['strace', '--exe', prog, '--ram', '1000', log],
      ['exec', '--ram', '1000', prog],
      ['malloc', '--ram', '1000', log],
    ]) {
      const r = await run(...argv);
      expect(r.status, argv[0]).toBe(2);
      expect(r.err).toMatch(/^--ram: error: --ram must be whole pages up to 4 GiB, not 1000 bytes\n/);
      expect(r.err).not.toMatch(/internal error|\n\s+at /);
    }
  });
});
