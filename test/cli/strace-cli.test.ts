import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { expect } from 'vitest';
import { corpusPath, describeCorpus, testCorpus } from '../corpus.js';
import { binaryPath, logPath, normalizeMaps, recordedMaps } from '../sim/strace-cases.js';
import { run } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'vmscope-strace-'));

const base = (name: string) => [
  'strace',
  '--sysroot',
  corpusPath('elf', 'sysroot'),
  '--exe',
  binaryPath(name),
];

/** A copy of a corpus log with `edit` applied to its text. */
function doctored(name: string, edit: (text: string) => string, file = `${name}.log`): string {
  const path = join(dir, file);
  writeFileSync(path, edit(readFileSync(logPath(name), 'utf8')));
  return path;
}

describeCorpus('vmscope strace', () => {
  testCorpus('a corpus log: every call agrees, exit 0, and --show maps prints the maps at exit', async () => {
    const r = await run(...base('mallocs-pie'), '--show', 'maps', logPath('mallocs-pie'));
    expect(r.status).toBe(0);
    expect(r.err).toBe('');
    expect(r.out).toMatch(/^replayed: 88 calls compared with Linux's results: 88 agree, 0 diverge/);
    expect(r.out).toContain('8083 prog: exited with 0');
    const maps = r.out.slice(r.out.indexOf('== pid 8083 prog: maps at exit\n') + 31);
    expect(normalizeMaps(maps)).toEqual(recordedMaps('mallocs-pie'));
  });

  testCorpus('--json: syscalls, agree, divergences and processes with their maps text', async () => {
    const r = await run(...base('hello-static'), '--json', '--show', 'status', logPath('hello-static'));
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc).toMatchObject({ syscalls: 8, agree: 8, divergences: [], stoppedAt: null });
    expect(doc.processes).toHaveLength(1);
    expect(doc.processes[0]).toMatchObject({ pid: 7895, name: 'prog', state: 'exited', exitCode: 0 });
    expect(normalizeMaps(doc.processes[0].maps)).toEqual(recordedMaps('hello-static'));
    expect(doc.processes[0].status.VmSize).toBeGreaterThan(0);
    expect(doc.skipped).toContainEqual({ name: 'write', why: 'not a memory call', count: 1 });
  });

  testCorpus(
    'a divergence is listed with line, call, Linux and vmscope, the replay carries on, exit 1',
    async () => {
      // A log saying Linux refused a mprotect that vmscope (as Linux really did) accepts.
      const log = doctored('hello-pie', (t) =>
        t.replace(
          'mprotect(0x7ffff7ffb000, 8192, PROT_READ) = 0',
          'mprotect(0x7ffff7ffb000, 8192, PROT_READ) = -1 ENOMEM (Cannot allocate memory)',
        ),
      );
      const r = await run(...base('hello-pie'), '--json', log);
      expect(r.status).toBe(1);
      const doc = JSON.parse(r.out);
      expect(doc.divergences).toEqual([
        {
          line: 27,
          pid: 7801,
          call: 'mprotect(0x7ffff7ffb000, 8192, PROT_READ)',
          linux: 'ENOMEM',
          vmscope: '0',
        },
      ]);
      // One divergence does not cascade: every later call agrees.
      expect(doc.syscalls).toBe(17);
      expect(doc.agree).toBe(16);
    },
  );

  testCorpus(
    "after a divergence the replay carries on from Linux's result; --strict stops there",
    async () => {
      const log = doctored('hello-pie', (t) =>
        t.replace(
          'brk(0x55555557a000)               = 0x55555557a000',
          'brk(0x55555557a000) = 0x555555559000',
        ),
      );
      const on = await run(...base('hello-pie'), '--json', log);
      expect(on.status).toBe(1);
      const doc = JSON.parse(on.out);
      expect(doc.divergences).toMatchObject([
        { line: 34, linux: '0x555555559000', vmscope: '0x55555557a000' },
      ]);
      // Linux's break stayed: so does vmscope's, and no [heap] is left at exit.
      expect(doc.processes[0].maps).not.toContain('[heap]');
      const strict = await run(...base('hello-pie'), '--strict', '--show', 'maps', log);
      expect(strict.status).toBe(1);
      expect(strict.out).toContain('stopped after line 34 (--strict: the first divergence, at line 34)');
      expect(strict.out).toContain('linux 0x555555559000, vmscope 0x55555557a000');
      expect(strict.out).toMatch(
        /== pid 7801 prog: maps after line 34\n[\s\S]*555555559000-55555557a000 rw-p 00000000 00:00 0 +\[heap\]/,
      );
    },
  );

  testCorpus('--at N and --at NAME#K stop there; --pid chooses the process shown', async () => {
    const byLine = await run(...base('hello-pie'), '--at', '3', '--json', logPath('hello-pie'));
    const doc = JSON.parse(byLine.out);
    expect(doc.stoppedAt).toEqual({ line: 3, why: '--at 3' });
    expect(doc.syscalls).toBe(3); // execve, brk(NULL), mmap
    expect(doc.processes[0].maps).toContain('7ffff7fc0000-7ffff7fc2000 rw-p');
    expect(doc.processes[0].state).toBe('running');
    const byCall = await run(
      ...base('hello-pie'),
      '--at',
      'mmap#3',
      '--pid',
      '7801',
      '--json',
      logPath('hello-pie'),
    );
    expect(JSON.parse(byCall.out).stoppedAt).toEqual({ line: 14, why: '--at mmap#3' });
    const none = await run(...base('hello-pie'), '--pid', '1', logPath('hello-pie'));
    expect(none.status).toBe(2);
    expect(none.err).toContain('--pid 1: the log has no such process');
  });

  testCorpus('--show smaps and status, --plot writes an SVG chart, a .gz log streams', async () => {
    const gz = join(dir, 'log.txt.gz');
    writeFileSync(gz, gzipSync(readFileSync(logPath('mallocs-nopie'))));
    const svg = join(dir, 'chart.svg');
    const r = await run(...base('mallocs-nopie'), '--show', 'smaps', '--show', 'status', '--plot', svg, gz);
    expect(r.status).toBe(0);
    expect(r.out).toMatch(
      /== pid \d+ prog: smaps at exit\n00400000-00401000 r--p 00000000 fe:00 \d+ +\/tmp\/memsim\/prog\nSize: +4 kB/,
    );
    expect(r.out).toMatch(/VmFlags: rd mr mw me \n/);
    expect(r.out).toMatch(/VmData:\s+\d+ kB/);
    const chart = readFileSync(svg, 'utf8');
    expect(chart).toMatch(/^<svg/);
    expect(chart).toContain('VmSize');
  });

  testCorpus('a relative execve path is made absolute with --cwd, then put right by the log', async () => {
    const log = doctored(
      'hello-pie',
      (t) => t.replace('execve("/tmp/memsim/prog"', 'execve("./prog"'),
      'rel.log',
    );
    for (const cwd of ['/tmp/memsim', '/elsewhere']) {
      const r = await run(...base('hello-pie'), '--cwd', cwd, '--json', log);
      expect(r.status).toBe(0);
      // The log's first openat shows AT_FDCWD</tmp/memsim>: the program was /tmp/memsim/prog.
      expect(JSON.parse(r.out).processes[0].maps).toMatch(
        /^555555554000-555555555000 r--p 00000000 fe:00 \d+ +\/tmp\/memsim\/prog$/m,
      );
    }
  });

  testCorpus('input errors name the file, line and column, exit 2, no stack trace', async () => {
    const bad = doctored(
      'hello-pie',
      (t) =>
        t.replace(
          'mprotect(0x555555557000, 4096, PROT_READ)',
          'mprotect(0x555555557000, 4096, PROT_READ|PROT_NOPE)',
        ),
      'bad.log',
    );
    const r = await run(...base('hello-pie'), bad);
    expect(r.status).toBe(2);
    expect(r.err).toMatch(/bad\.log:26:\d+: error: expected PROT_\* flags: unknown flag 'PROT_NOPE'\n$/);
    const garbage = join(dir, 'garbage.log');
    writeFileSync(garbage, 'this is not strace output\n');
    const g = await run('strace', garbage);
    expect(g.status).toBe(2);
    expect(g.err).toMatch(/garbage\.log:1:5: error: expected '\(' after the call name 'this'/);
    const at = await run('strace', '--at', 'mmap#0', garbage);
    expect(at.status).toBe(2);
    expect(at.err).toContain('--at expects a log line number or NAME#K');
    const missing = await run('strace', '--sysroot', dir, logPath('hello-pie'));
    expect(missing.status).toBe(2);
    expect(missing.err).toMatch(
      /strace\.txt:1:\d+: error: cannot load the program \/tmp\/memsim\/prog: .*no such file/,
    );
    expect(missing.err).not.toMatch(/\n\s+at /);
  });
  testCorpus(
    'a log recorded without -f: the replay runs, stderr says once that the children are missing',
    async () => {
      // The corpus's fork log as strace prints it without -f: the first process's lines, unprefixed.
      const log = doctored(
        'fork-cow-a-pie',
        (text) => {
          const main = text.slice(0, text.indexOf(' '));
          return text
            .split('\n')
            .filter((l) => l.startsWith(`${main} `))
            .map((l) => l.slice(main.length).trimStart())
            .join('\n');
        },
        'no-f.log',
      );
      const r = await run(...base('fork-cow-a-pie'), log);
      expect(r.status).toBe(0);
      expect(r.out).toMatch(/^replayed: \d+ calls compared with Linux's results: (\d+) agree, 0 diverge/);
      // (The corpus's logs show the environment as a count: that warning is the other line.)
      const warnings = r.err.split('\n').filter((l) => l.includes('without -f'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(
        /no-f\.log: warning: 1 task that clones made \(pid \d+\) has no line in the log: it was recorded without -f/,
      );
    },
  );
});
