import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { corpusPath, describeCorpus } from '../corpus.js';
import { caseBinary, caseText } from '../exec/cases.js';
import { run } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'vmscope-exec-'));
const sysroot = corpusPath('elf', 'sysroot');

function binary(name: string, bytes: Uint8Array = caseBinary(name)): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

describeCorpus('vmscope exec', () => {
  test('prints the maps by default, exactly in Linux format (device and inode aside)', async () => {
    const prog = binary('hello-nopie');
    const r = await run('exec', '--sysroot', sysroot, '--env', 'A=1', prog, 'one', 'two');
    expect(r.err).toBe('');
    expect(r.status).toBe(0);
    const strip = (t: string) =>
      t
        .trim()
        .split('\n')
        .map((l) =>
          l.replace(/ [0-9a-f]{2}:[0-9a-f]{2} \d+ +/, ' ').replace(/ \/\S*prog| \/\S*hello-nopie/, ' PROG'),
        );
    expect(strip(r.out)).toEqual(strip(caseText('hello-nopie', 'maps-start.txt')));
  });

  test('options end at the binary, and -- lets arguments start with a dash', async () => {
    const prog = binary('hello-static');
    const r = await run('exec', '--show', 'stack', prog, '--', '-x', '--y');
    expect(r.status).toBe(0);
    expect(r.out).toContain('argv[1] = ');
    expect(r.out).toContain('"-x"');
    expect(r.out).toContain('"--y"');
    expect(r.out).toContain('envp[0] = NULL');
  });

  test('--json gives maps, stack and auxv as data', async () => {
    const prog = binary('hello-static-pie');
    const r = await run('exec', '--json', '--show', 'maps', '--show', 'auxv', prog);
    const doc = JSON.parse(r.out);
    expect(doc.maps[0]).toMatchObject({ start: '0x7ffff7f3f000', name: '[vvar]' });
    expect(doc.auxv.at(-1)).toEqual({ type: 0, value: '0x0' });
  });

  test('a truncated binary is an input error naming the file and offset, exit 2', async () => {
    const prog = binary('truncated', caseBinary('hello-static').subarray(0, 100));
    const r = await run('exec', prog);
    expect(r.status).toBe(2);
    expect(r.err).toMatch(new RegExp(`^${prog}: offset 0x[0-9a-f]+: error: .+\\n$`));
  });

  test('a missing interpreter is an input error naming it', async () => {
    const prog = binary('hello-pie');
    const r = await run('exec', '--sysroot', dir, prog);
    expect(r.status).toBe(2);
    expect(r.err).toContain('no such interpreter /lib64/ld-linux-x86-64.so.2');
  });

  test('a malformed --env is an input error', async () => {
    const r = await run('exec', '--env', 'novalue', binary('hello-static'));
    expect(r.status).toBe(2);
    expect(r.err).toContain("--env expects NAME=VALUE, got 'novalue'");
  });

  test('a scenario can exec a real binary and read its code through the page cache', async () => {
    const prog = binary('hello-static');
    const file = join(dir, 'exec.vms');
    writeFileSync(
      file,
      `exec P ${prog} one\nP: fetch code\nexpect P majflt == 1\nexpect P maps == 10\nP: exit\nexpect meminfo Cached > 0 kB\ndrop_caches\nexpect meminfo MemFree == boot\n`,
    );
    const r = await run('run', '--check', file);
    expect(r.err).toBe('');
    expect(r.status).toBe(0);
  });
});
