/**
 * Every command's --json writes addresses as exact hex strings: checked on the highest addresses of
 * each architecture, and against the maps text the same run prints.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { VSYSCALL_START } from '../../src/kernel/proc.js';
import { hexAddress, jsonText } from '../../src/report/json.js';
import { run } from '../cli/run-cli.js';
import { corpusPath, testCorpus } from '../corpus.js';

const dir = mkdtempSync(join(tmpdir(), 'vmscope-json-'));

/** Each maps line's start and end, as the text shows them. */
function textRanges(maps: string): [string, string][] {
  return maps
    .trim()
    .split('\n')
    .map((l) => {
      const m = /^([0-9a-f]+)-([0-9a-f]+) /.exec(l)!;
      return [`0x${BigInt(`0x${m[1]}`).toString(16)}`, `0x${BigInt(`0x${m[2]}`).toString(16)}`];
    });
}

describe('addresses in JSON', () => {
  // The highest page of each address space, and x86-64's [vsyscall] (2^64 - 10 MiB).
  const highest: [string, bigint][] = [
    ['x86_64 [vsyscall] start', 0xffffffffff600000n],
    ['x86_64 [vsyscall] end', 0xffffffffff601000n],
    ['x86_64 last page', 0xfffffffffffff000n],
    ['x86_64 user top', 0x7ffffffff000n],
    ['riscv-sv39 user top', 0x4000000000n],
    ['i386 TASK_SIZE', 0xffffe000n],
    ['teach16 top', 0x10000n],
    ['ostep15 top', 0x8000n],
  ];

  test.each(highest)('%s round-trips exactly as a hex string', (_name, exact) => {
    const text = jsonText({ va: Number(exact), end: exact });
    const doc = JSON.parse(text) as { va: string; end: string };
    expect(BigInt(doc.va)).toBe(exact);
    expect(BigInt(doc.end)).toBe(exact);
  });

  test('the [vsyscall] address the engine holds is the real one, not a rounded neighbour', () => {
    expect(BigInt(VSYSCALL_START)).toBe(0xffffffffff600000n);
    // As a JSON number it would read back as 18446744073699066000, which is not the address.
    expect(JSON.stringify(VSYSCALL_START)).toBe('18446744073699066000');
    expect(hexAddress(VSYSCALL_START)).toBe('0xffffffffff600000');
  });

  test('no address is -1: it is null; counts stay numbers; any integer beyond 2^53 becomes hex', () => {
    const doc = JSON.parse(jsonText({ pa: -1, faults: 3, hitRatio: 0.5, huge: 2 ** 60 }));
    expect(doc).toEqual({ pa: null, faults: 3, hitRatio: 0.5, huge: '0x1000000000000000' });
  });

  test('hexAddress refuses what is no address (a bug, not a rounded answer)', () => {
    expect(() => hexAddress(-1)).toThrow(/not an address/);
    expect(() => hexAddress(0.5)).toThrow(/not an address/);
  });

  test.each(['x86_64', 'riscv-sv39', 'i386', 'teach16'])(
    'run --json on %s: every maps address equals the maps text',
    async (arch) => {
      const file = join(dir, `${arch}.vms`);
      writeFileSync(file, `machine ${arch}\nspawn A\nA: mmap m 2 rw-\nA: write m 1\nshow A maps\n`);
      const r = await run('run', '--json', file);
      expect(r.err).toBe('');
      const doc = JSON.parse(r.out);
      const show = doc.steps.at(-1);
      const fromJson = show.show.lines.map((l: { start: string; end: string }) => [l.start, l.end]);
      expect(fromJson.length).toBeGreaterThan(2);
      expect(fromJson).toEqual(textRanges(show.text));
      // The mmap's result and the access are addresses too.
      expect(doc.steps[1].outcome.result).toMatch(/^0x[0-9a-f]+$/);
      expect(doc.steps[2].outcome.va).toBe(doc.steps[1].outcome.result);
    },
  );

  const elf = corpusPath('elf');
  testCorpus.each(['hello-pie', 'hello-m32', 'hello-static'])(
    'exec --json of %s: maps addresses, entry and stack pointer equal the text',
    async (name) => {
      const { gunzipSync } = await import('node:zlib');
      const { readFileSync } = await import('node:fs');
      const prog = join(dir, name);
      writeFileSync(prog, gunzipSync(readFileSync(join(elf, name, 'prog.gz'))));
      const sysroot = join(elf, 'sysroot');
      const text = await run('exec', '--sysroot', sysroot, prog);
      const json = await run(
        'exec',
        '--json',
        '--show',
        'maps',
        '--show',
        'stack',
        '--sysroot',
        sysroot,
        prog,
      );
      expect(json.status).toBe(0);
      const doc = JSON.parse(json.out);
      expect(doc.maps.map((l: { start: string; end: string }) => [l.start, l.end])).toEqual(
        textRanges(text.out),
      );
      expect(doc.sp).toMatch(/^0x[0-9a-f]+$/);
      expect(doc.stack.sp).toBe(doc.sp);
      for (const e of doc.stack.auxv) expect(e.value).toMatch(/^0x[0-9a-f]+$/);
      const stackText = await run('exec', '--show', 'stack', '--sysroot', sysroot, prog);
      expect(stackText.out).toContain(`sp ${doc.sp},`);
    },
  );
  test('every command writes its --json through report/json.ts (policy list and convert did not)', async () => {
    const { readdirSync, readFileSync } = await import('node:fs');
    const pretty = /JSON\.stringify\([^;]*null,\s*2\)/;
    for (const layer of ['cli', 'report']) {
      const folder = new URL(`../../src/${layer}/`, import.meta.url);
      for (const name of readdirSync(folder).filter((f) => f.endsWith('.ts') && f !== 'json.ts'))
        expect(readFileSync(new URL(name, folder), 'utf8'), `src/${layer}/${name}`).not.toMatch(pretty);
    }
    const list = await run('policy', 'list', '--json');
    expect(list.status).toBe(0);
    expect(list.out).toBe(jsonText(JSON.parse(list.out)));
  });
});
