/**
 * What a new user types: mistyped choices, sizes with units, policy names in capitals, output files
 * in folders that do not exist, options that do nothing. Each answer is an error in words naming
 * its flag (exit 2, before any work) or a warning, never a stack trace.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { bufferIo } from '../../src/cli/io.js';
import { countArg, sizeArg } from '../../src/cli/options.js';
import { writeOutput } from '../../src/cli/output.js';
import { corpusPath, describeCorpus } from '../corpus.js';
import { run } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'vmscope-flags-'));
const belady = join(dir, 'belady.txt');
writeFileSync(belady, '1\n2\n3\n4\n1\n2\n5\n1\n2\n3\n4\n5\n');
const rep = join(dir, 'small.rep');
writeFileSync(rep, '64\n2\n3\n1\na 0 16\na 1 32\nf 0\n');

describe('mistyped choices are checked before anything runs', () => {
  test('exec --show mpas: exit 2 with the choices and a suggestion, not a crash', async () => {
    const r = await run('exec', '--show', 'mpas', '/no/such/binary');
    expect(r.status).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toContain(
      "option '--show <what>' argument 'mpas' is invalid. expected one of maps, stack, status, auxv, got 'mpas' (did you mean 'maps'?)",
    );
    expect(r.err).not.toMatch(/internal error|at .*\.js/);
  });

  test('exec --show bogus --show maps: the bad one is named', async () => {
    const r = await run('exec', '--show', 'bogus', '--show', 'maps', '/no/such/binary');
    expect(r.status).toBe(2);
    expect(r.err).toContain("argument 'bogus' is invalid");
  });

  test('serve --port 99999: a port is 0..65535', async () => {
    const r = await run('serve', '--port', '99999');
    expect(r.status).toBe(2);
    expect(r.err).toContain("expected a port from 0 to 65535, got '99999'");
  });

  test('mrc --policies with a bad name: the error names --policies, not --policy', async () => {
    const r = await run('mrc', '--policies', 'lru,fifio', belady);
    expect(r.status).toBe(2);
    expect(r.err).toMatch(/^--policies: error: unknown policy 'fifio' .*\(did you mean 'fifo'\?\)/);
  });

  test('mrc --threads 0 is an error (there would be nobody to do the work)', async () => {
    const r = await run('mrc', '--threads', '0', belady);
    expect(r.status).toBe(2);
    expect(r.err).toContain('--threads: error: --threads must be at least 1, got 0');
  });
});

describe('sizes and counts take units, the same in every command', () => {
  test('sizes: 4096, 4K, 4KiB, 64MiB, 4GiB', () => {
    expect([sizeArg('4096'), sizeArg('4K'), sizeArg('4KiB'), sizeArg('64MiB'), sizeArg('4GiB')]).toEqual([
      4096,
      4096,
      4096,
      64 * 2 ** 20,
      4 * 2 ** 30,
    ]);
    expect(() => sizeArg('4 furlongs')).toThrow(/expected a size such as 4096, 64MiB or 4GiB/);
  });

  test('counts: --frames 32k is 32768 frames; a byte size says what it would be in frames', () => {
    expect([countArg('32k'), countArg('1M'), countArg('0x400'), countArg('10_000')]).toEqual([
      32768,
      2 ** 20,
      1024,
      10_000,
    ]);
    expect(() => countArg('64MiB')).toThrow(/a count, not bytes: 64MiB is 16,384 frames of 4 KiB/);
  });

  test('replay --frames 32k --swap 4GiB, exec --ram 64MiB, malloc --ram 16MiB are accepted', async () => {
    const r = await run('replay', '--json', '--frames', '32k', '--swap', '4GiB', belady);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ frames: 32768, faults: 5 });
    const m = await run('malloc', '--ram', '16MiB', '--allocator', 'binned', '--json', rep);
    expect(m.status).toBe(0);
    expect((await run('exec', '--ram', '64MiB', '/no/such/binary')).err).toMatch(/no such program/);
  });

  test('--help shows defaults in units', async () => {
    const r = await run('replay', '--help');
    expect(r.out).toContain('(default: 4GiB)');
    expect(r.out).toContain('(default: 4KiB)');
  });
});

describe('policy names in any case', () => {
  test('--policy LRU, as OSTEP users type it', async () => {
    const r = await run('replay', '--policy-only', '--policy', 'LRU', '--frames', '3', '--json', belady);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ policy: 'lru', faults: 10 });
    const m = await run('mrc', '--policies', 'FIFO,Opt', '--frames', '3,4', '--json', belady);
    expect(m.status).toBe(0);
    expect(JSON.parse(m.out).curves.map((c: { policy: string }) => c.policy)).toEqual(['fifo', 'opt']);
  });
});

describe('options that do nothing in the combination given are warned about', () => {
  test('--allocation without --scope local, --fault-cost without --sweep-mpl, --quantum with one trace', async () => {
    const r = await run('replay', '--allocation', 'pff', '--fault-cost', '5', '--quantum', '8', belady);
    expect(r.status).toBe(0);
    expect(r.err).toContain('vmscope replay: warning: --allocation does nothing without --scope local');
    expect(r.err).toContain('vmscope replay: warning: --fault-cost does nothing without --sweep-mpl');
    expect(r.err).toContain('vmscope replay: warning: --quantum does nothing with one trace');
  });

  test('--seed with a policy that draws no random numbers; exec --seed without --aslr', async () => {
    const r = await run('replay', '--policy', 'fifo', '--seed', '3', belady);
    expect(r.err).toContain('warning: --seed does nothing with fifo');
    const e = await run('exec', '--seed', '3', '/no/such/binary');
    expect(e.err).toContain('vmscope exec: warning: --seed does nothing without --aslr');
  });

  test('the replay table says which scope and allocation it used', async () => {
    const g = await run('replay', belady);
    expect(g.out).toMatch(/lru, 1,024 frames, global replacement/);
    const l = await run('replay', '--scope', 'local', '--allocation', 'proportional', belady);
    expect(l.out).toMatch(/local replacement \(proportional allocation\)/);
  });
});

describe('output files in a folder that does not exist', () => {
  const missing = join(dir, 'no-such-folder', 'out');
  test.each([
    ['replay', ['replay', '--plot', `${missing}.svg`, belady], '--plot'],
    ['mrc --table', ['mrc', '--table', `${missing}.csv`, belady], '--table'],
    ['mrc --plot', ['mrc', '--plot', `${missing}.svg`, belady], '--plot'],
    ['malloc', ['malloc', '--plot', `${missing}.svg`, rep], '--plot'],
  ])('%s: exit 2 before any work, naming the flag and the folder', async (_name, argv, flag) => {
    const r = await run(...(argv as string[]));
    expect(r.status).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(
      new RegExp(`^${flag}: error: cannot write .*: the folder .*no-such-folder does not exist`),
    );
  });

  test('a file that cannot be written after the work loses only itself: the results are printed', () => {
    const io = bufferIo();
    // A path whose folder is a file: refused by the kernel at write time.
    const notDir = join(dir, 'plain-file');
    writeFileSync(notDir, 'x');
    expect(writeOutput('--csv', join(notDir, 'out.csv'), 'a,b\n', io)).toBe(false);
    expect(io.stderr).toMatch(/^--csv: error: cannot write .*plain-file\/out\.csv \(ENOTDIR\)\n$/);
  });

  test('the files are written after the results are printed, when they can be', async () => {
    const csv = join(dir, 'ok.csv');
    const r = await run('mrc', '--table', csv, '--policies', 'fifo', '--frames', '3,4', belady);
    expect(r.status).toBe(0);
    expect(r.out).toContain('belady.txt (pages): 12 accesses');
    expect(existsSync(csv)).toBe(true);
    expect(readFileSync(csv, 'utf8')).toBe(
      'policy,frames,faults,miss_ratio\nfifo,3,9,0.75\nfifo,4,10,0.8333333333333334\n',
    );
  });
});

describeCorpus('on the corpus', () => {
  test('replay --page-size 4KiB is the same as 4096', async () => {
    const trace = corpusPath('memtrace', 'gzip.pages.gz');
    const a = await run('replay', '--policy-only', '--page-size', '4KiB', '--frames', '8', '--json', trace);
    expect(JSON.parse(a.out)).toMatchObject({ pageSize: 4096 });
  });
});
