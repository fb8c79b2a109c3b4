import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { run } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'vmscope-cli-'));

function scenario(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('vmscope run', () => {
  test('exit 0 when every expectation holds, with a narrated log', async () => {
    const file = scenario('ok.vms', 'spawn A code=8K data=4K bss=8K\nA: write bss 1\nexpect A minflt == 1\n');
    const r = await run('run', file);
    expect(r.status).toBe(0);
    expect(r.err).toBe('');
    expect(r.out).toContain(
      'page fault: write at 0x403000 in the mapping 0x403000-0x405000: demand-zero fill',
    );
    expect(r.out).toContain('[3] expect A minflt == 1  ok');
    expect(r.out).toMatch(/1 of 1 expectations hold\n$/);
  });

  test('exit 1 when an expectation fails, naming its line and the value seen', async () => {
    const file = scenario('fail.vms', 'spawn A\nA: write stack-8 1\nexpect A VmRSS == 8 kB\n');
    const r = await run('run', file);
    expect(r.status).toBe(1);
    expect(r.out).toContain(`${file}:3: expectation failed: expect A VmRSS == 8 kB (is 4 kB)`);
  });

  test('exit 2 and file:line:col on a syntax error, with nothing run', async () => {
    const file = scenario('bad.vms', 'spawn A\nA: write heap 4\nA: wrte heap\n');
    const r = await run('run', file);
    expect(r.status).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toBe(`${file}:3:4: error: unknown operation 'wrte' (did you mean 'write'?)\n`);
  });

  test('exit 2 with every bad line of the file on stderr, one per line, and nothing run', async () => {
    const file = scenario('three.vms', 'spwan A\nA: wrte heap 4\nshow A mpas\n');
    const r = await run('run', file);
    expect(r.status).toBe(2);
    expect(r.out).toBe('');
    expect(r.err.trim().split('\n')).toEqual([
      `${file}:1:1: error: unknown statement 'spwan' (expected machine, spawn, exec, replay, strace, file, truncate, kill, sync, drop_caches, show, expect, or 'NAME: operation') (did you mean 'spawn'?)`,
      `${file}:2:4: error: unknown operation 'wrte' (did you mean 'write'?)`,
      `${file}:3:8: error: cannot show 'mpas' of a process (one of maps, status, smaps, smaps_rollup, pagetable, tlb) (did you mean 'maps'?)`,
    ]);
  });

  test('exit 2 when a line uses a process that died, naming the line where it died', async () => {
    const file = scenario(
      'dead.vms',
      'spawn A\nA: write 0x10000 1\nexpect A signal == SIGSEGV\nshow A maps\nA: read code\n',
    );
    const r = await run('run', file);
    expect(r.status).toBe(2);
    expect(r.err).toBe(
      `${file}:5:1: error: process A was killed by SIGSEGV at line 2; it can do nothing more (show and expect still work)\n`,
    );
    expect(r.out).toContain('[3] expect A signal == SIGSEGV  ok');
  });

  test('exit 2 for a missing file, without a stack trace', async () => {
    const r = await run('run', join(dir, 'nope.vms'));
    expect(r.status).toBe(2);
    expect(r.err).toBe(`${join(dir, 'nope.vms')}: error: no such file\n`);
  });

  test('exit 2 for an unknown command or option', async () => {
    expect((await run('frobnicate')).status).toBe(2);
    const r = await run('run', '--jsn', 'x.vms');
    expect(r.status).toBe(2);
    expect(r.err).toContain("unknown option '--jsn'");
  });

  test('--json prints one document with steps, outcomes and verdicts', async () => {
    const file = scenario(
      'json.vms',
      'spawn A\nA: mmap m 1MiB rw-\nexpect A @m == 0x7ffff7eff000\nshow A maps\n',
    );
    const r = await run('run', '--json', file);
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc).toMatchObject({ passed: 1, failed: 0, ok: true });
    expect(doc.steps[1].outcome).toMatchObject({
      kind: 'syscall',
      name: 'mmap',
      result: '0x7ffff7eff000',
      label: 'm',
    });
    expect(doc.steps[2].expect).toEqual({
      ok: true,
      actual: '0x7ffff7eff000',
      expected: '== 0x7ffff7eff000',
    });
    expect(doc.steps[3].text).toContain('7ffff7eff000-7ffff7fff000 rw-p 00000000 00:00 0 \n');
  });

  test('--help lists the commands', async () => {
    const r = await run('--help');
    expect(r.status).toBe(0);
    expect(r.out).toContain('run [options] <file>');
    expect(r.out).toContain('tour');
  });
});

describe('what a new user meets in run', () => {
  test('run of an ELF program suggests exec instead of printing its bytes as errors', async () => {
    const elf = scenario('prog', '\x7fELF\x02\x01\x01\0\0\0');
    const r = await run('run', elf);
    expect(r.status).toBe(2);
    expect(r.err).toBe(
      `${elf}: error: this is an ELF program, not a scenario (to load it as Linux's execve does: vmscope exec ${elf}; in a scenario: exec P ${elf})\n`,
    );
  });

  test("a refused access's fault event names the place, and the sentence goes in reason", async () => {
    const file = scenario(
      'segv.vms',
      'machine teach16\nspawn A\nA: write 0x8000 1\nA: exit\n'.replace('A: exit\n', ''),
    );
    const doc = JSON.parse((await run('run', '--json', file)).out);
    const fault = doc.steps[1].events.find(
      (e: { type: string; result: string }) => e.type === 'fault' && e.result === 'segv',
    );
    expect(fault.where).toBe('');
    expect(fault.reason).toMatch(/^write at 0x8000: no mapping there/);
    const ro = scenario('ro.vms', 'spawn A\nA: write code 1\n');
    const doc2 = JSON.parse((await run('run', '--json', ro)).out);
    const f2 = doc2.steps[1].events.find(
      (e: { type: string; result: string }) => e.type === 'fault' && e.result === 'segv',
    );
    expect(f2.where).toBe('/bin/A');
    expect(f2.reason).toBe('write at 0x400000: /bin/A is not writable');
  });

  test('a shared anonymous page is a shmem page, not the zero page', async () => {
    const file = scenario('shm.vms', 'spawn A\nA: mmap s 4K rw- shared\nA: write s 1\n');
    const r = await run('run', file);
    expect(r.out).toContain('new zeroed page of the shared memory object (shmem)');
    expect(r.out).not.toContain('zero page created');
  });
});

describe('vmscope tour', () => {
  test("prints each example's comments above the statements they explain; --brief leaves out the events", async () => {
    const full = await run('tour');
    expect(full.out).toContain(
      '  Touching bss for the first time: no page-table entry yet, so the MMU faults; the kernel',
    );
    expect(full.out).toMatch(/the access is retried\.\n\[14\] A: write bss 1\n/);
    const brief = await run('tour', '--brief');
    expect(brief.status).toBe(0);
    expect(brief.out).toContain('  Touching bss for the first time');
    expect(brief.out).not.toContain('demand-zero fill');
    expect(brief.out.length).toBeLessThan(full.out.length / 2);
  });

  test('runs every bundled example with every expectation holding and every invariant checked', async () => {
    const r = await run('tour', '--check');
    expect(r.err).toBe('');
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/Tour done: (\d+) of \1 examples ran with every expectation holding/);
  });
});
