/**
 * The recorded machine's memory as a log shows it (sysinfo, a read of /proc/meminfo, as strace 6.1
 * printed them here), and the note a divergence gets when vmscope's smaller machine refused a large
 * mapping that Linux made.
 */
import { describe, expect, test } from 'vitest';
import { loggedMemory, MAX_RAM_BYTES, ramFor } from '../../src/sim/strace-machine.js';
import { replayMadeUp } from './made-up-program.js';

const SYSINFO =
  '21383 sysinfo({uptime=51374, loads=[634656, 417152, 333248], totalram=25276182528, freeram=20081762304, sharedram=14311424, bufferram=34058240, totalswap=0, freeswap=0, procs=390, totalhigh=0, freehigh=0, mem_unit=1}) = 0';
const MEMINFO =
  '21383 read(3</proc/meminfo>, "MemTotal:       24683772 kB\\nMemFree:        19611096 kB\\nMemAvailable:   22364624 kB\\n", 4096) = 83';

describe("the recorded machine's memory", () => {
  test('from sysinfo (totalram × mem_unit) or /proc/meminfo (MemTotal in kB), the first one given', () => {
    expect(loggedMemory(`a\n${SYSINFO}\n${MEMINFO}\n`)).toEqual({
      bytes: 25276182528,
      source: 'sysinfo',
      line: 2,
    });
    expect(loggedMemory(`${MEMINFO}\n`)).toEqual({
      bytes: 24683772 * 1024,
      source: '/proc/meminfo',
      line: 1,
    });
    const unit = SYSINFO.replace('totalram=25276182528', 'totalram=1048576').replace(
      'mem_unit=1',
      'mem_unit=4096',
    );
    expect(loggedMemory(unit)?.bytes).toBe(2 ** 32);
    // Other files, and a meminfo read without MemTotal at its start, say nothing.
    expect(loggedMemory('1 read(3</proc/self/status>, "VmSize:  1000 kB\\n", 4096) = 17\n')).toBeNull();
    expect(loggedMemory(MEMINFO.replace('MemTotal', 'MemFree'))).toBeNull();
  });

  test('the machine is as large, in whole MiB, up to the 4 GiB vmscope simulates', () => {
    expect(ramFor({ bytes: 25276182528, source: 'sysinfo', line: 1 })).toBe(MAX_RAM_BYTES);
    expect(ramFor({ bytes: 1000 * 2 ** 20 + 5, source: 'sysinfo', line: 1 })).toBe(1000 * 2 ** 20);
  });

  test('a large mapping Linux made and vmscope refused (ENOMEM) says a larger --ram may be needed', () => {
    const { summary } = replayMadeUp(
      'ram.strace',
      [
        '100 execve("/prog", ["/prog"], ["A=1"]) = 0',
        // 381 MiB of private writable memory: more than the 8 MiB machine plus swap (mode 0's rule).
        '100 mmap(0x10000000, 400000000, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_FIXED|MAP_ANONYMOUS, -1, 0) = 0x10000000',
        // An ENOMEM that is no matter of size (a hole) gets no note.
        '100 mprotect(0x7000000000, 4096, PROT_READ) = 0',
        '100 exit_group(0) = ?',
      ].join('\n'),
    );
    expect(summary.divergences).toEqual([
      {
        line: 2,
        pid: 100,
        call: expect.stringContaining('mmap(0x10000000'),
        linux: '0x10000000',
        vmscope: 'ENOMEM',
        note: "vmscope's machine has 8 MiB of RAM and overcommit refuses a mapping larger than RAM plus swap: a larger --ram may be needed",
      },
      { line: 3, pid: 100, call: expect.stringContaining('mprotect'), linux: '0', vmscope: 'ENOMEM' },
    ]);
  });
});
