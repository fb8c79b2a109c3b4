/** `vmscope malloc` as the CLI runs it (in-process, output collected). */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { InputError } from '../../src/base/errors.js';
import { bufferIo } from '../../src/cli/io.js';
import { runMallocCommand } from '../../src/cli/malloc.js';
import { corpusPath, testCorpus } from '../corpus.js';

const dir = mkdtempSync(join(tmpdir(), 'vmscope-malloc-'));
const LS = corpusPath('alloc', 'ls-l', 'ls.rep');
const CC1 = corpusPath('alloc', 'gcc-compile', 'cc1.rep.gz');

describe('vmscope malloc', () => {
  testCorpus('--json: one object per (allocator, trace) with ops and a utilization in (0, 1]', async () => {
    const io = bufferIo();
    const status = await runMallocCommand([LS], { allocator: ['binned', 'tlsf'], json: true }, io);
    expect(status).toBe(0);
    const rows = JSON.parse(io.stdout) as Record<string, unknown>[];
    expect(rows.map((r) => [r['allocator'], r['trace'], r['ops']])).toEqual([
      ['binned', 'ls.rep', 2878],
      ['tlsf', 'ls.rep', 2878],
    ]);
    for (const r of rows) {
      expect(r['utilization']).toBeGreaterThan(0);
      expect(r['utilization']).toBeLessThanOrEqual(1);
      expect(r['mode']).toBe('kernel');
      expect((r['vmPeak'] as { VmRSS: number }).VmRSS).toBeGreaterThan(0);
    }
  });

  testCorpus('a table by default, gzip traces, --check and --mode direct', async () => {
    const io = bufferIo();
    const status = await runMallocCommand(
      [CC1],
      { allocator: ['segregated'], check: false, mode: 'direct' },
      io,
    );
    expect(status).toBe(0);
    expect(io.stdout).toMatch(/segregated\s+cc1\.rep\.gz\s+208,904/);
    expect(io.stdout).toContain('ok');
    const small = bufferIo();
    expect(await runMallocCommand([LS], { allocator: ['first-fit'], check: true }, small)).toBe(0);
  });

  testCorpus('--plot writes an SVG chart of heap extent against live bytes', async () => {
    const svg = join(dir, 'heap.svg');
    await runMallocCommand([LS], { allocator: ['binned', 'buddy'], plot: svg, mode: 'direct' }, bufferIo());
    const text = readFileSync(svg, 'utf8');
    expect(text.startsWith('<svg')).toBe(true);
    expect(text).toContain('live bytes');
    expect(text).toContain('buddy');
  });

  testCorpus("a shim log shows how many of glibc's addresses the allocator matched", async () => {
    const io = bufferIo();
    await runMallocCommand(
      [corpusPath('alloc', 'aligned', 'aligned.log.gz')],
      { allocator: ['binned'], wide: true },
      io,
    );
    expect(io.stdout).toContain('glibc addr');
    expect(io.stdout).toContain('100.0%');
  });

  test('a broken trace is an input error with its file and line, and nothing is printed', async () => {
    const bad = join(dir, 'bad.rep');
    writeFileSync(bad, '10\n2\n2\n1\na 0 10\nf 1\n');
    const io = bufferIo();
    const err = await runMallocCommand([bad], { allocator: ['binned'] }, io).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).format()).toBe(`${bad}:6:3: error: free of id 1, which was never allocated`);
    expect(io.stdout).toBe('');
  });

  test('flag errors name the flag and suggest a fix', async () => {
    const err = (await runMallocCommand([LS], { allocator: ['tlfs'] }, bufferIo()).catch(
      (e: unknown) => e,
    )) as InputError;
    expect(err.format()).toBe(
      "--allocator: error: unknown allocator 'tlfs' (one of first-fit, next-fit, best-fit, worst-fit, segregated, buddy, tlsf, binned) (did you mean 'tlsf'?)",
    );
    const missing = (await runMallocCommand([join(dir, 'nope.rep')], {}, bufferIo()).catch(
      (e: unknown) => e,
    )) as InputError;
    expect(missing.format()).toBe(`${join(dir, 'nope.rep')}: error: no such file`);
    // gzip is told by its magic bytes: a corrupt stream says so, a text file named .gz is read as text.
    const corrupt = join(dir, 'corrupt.rep.gz');
    const gz = gzipSync('0\n1\n1\n1\na 0 10\n');
    gz[2] = 0; // the compression method: 8 (deflate) is the only one
    writeFileSync(corrupt, gz);
    const bad = (await runMallocCommand([corrupt], {}, bufferIo()).catch((e: unknown) => e)) as InputError;
    expect(bad.format()).toBe(`${corrupt}: error: not a valid gzip file (unknown compression method)`);
    const text = join(dir, 'text.rep.gz');
    writeFileSync(text, 'not gzip at all');
    const asText = (await runMallocCommand([text], {}, bufferIo()).catch((e: unknown) => e)) as InputError;
    expect(asText.format()).toMatch(new RegExp(`^${text}:1:1: error: expected the suggested heap size`));
  });
});

describe('a trace the allocator cannot follow is not reported ok', () => {
  test('a NULL from malloc on a trace: counted, its line named, outcome not ok, exit 1', async () => {
    // 48 MiB asked for on a 16 MiB machine: mmap fails, malloc returns NULL.
    const big = join(dir, 'big.rep');
    writeFileSync(big, '50331664\n3\n4\n1\na 0 16\na 1 50331648\nf 1\na 2 32\n');
    const io = bufferIo();
    const status = await runMallocCommand([big], { allocator: ['binned'], ramBytes: 16 * 2 ** 20 }, io);
    expect(status).toBe(1);
    expect(io.stdout).toMatch(/binned +big\.rep .* NULL ×1 \[1\]/);
    expect(io.stdout).toContain(
      '[1] binned on big.rep: an allocation returned NULL (the first at line 6, op 2: 48 MiB)',
    );
    const json = bufferIo();
    await runMallocCommand([big], { allocator: ['binned'], ramBytes: 16 * 2 ** 20, json: true }, json);
    const [row] = JSON.parse(json.stdout);
    expect(row.failedAllocations).toEqual({ count: 1, first: { op: 2, line: 6, size: 50331648 } });
    expect(row.outcome).not.toBe('ok');
  });

  testCorpus('the table fits 100 columns and says what its columns mean', async () => {
    const io = bufferIo();
    await runMallocCommand([LS], {}, io);
    for (const line of io.stdout.split('\n')) expect(line.length, line).toBeLessThanOrEqual(100);
    expect(io.stdout).toContain('util');
    expect(io.stdout).toMatch(/ext frag +1 - largest free block \/ free bytes/);
    expect(io.stdout).toContain('--wide adds');
  });
});

describe('--allow-misuse: a double free in a trace is replayed, and the program dies as under glibc', () => {
  const twice = join(dir, 'twice.rep');
  writeFileSync(twice, '64\n2\n4\n1\na 0 24\na 1 24\nf 0\nf 0\n');

  test('without it, the trace is refused with a hint', async () => {
    const err = (await runMallocCommand([twice], { allocator: ['binned'] }, bufferIo()).catch(
      (e: unknown) => e,
    )) as InputError;
    expect(err.format()).toBe(
      `${twice}:8:3: error: free of id 0, which was freed at line 7 (vmscope malloc --allow-misuse replays it: the allocator gets the freed pointer, as the program gave it)`,
    );
  });

  test.each(['first-fit', 'next-fit', 'best-fit', 'worst-fit', 'segregated', 'buddy', 'tlsf', 'binned'])(
    '%s: SIGABRT at the second free, in glibc words',
    async (allocator) => {
      const io = bufferIo();
      const status = await runMallocCommand(
        [twice],
        { allocator: [allocator], allowMisuse: true, json: true },
        io,
      );
      expect(status).toBe(1);
      const [row] = JSON.parse(io.stdout);
      expect(row.died).toMatchObject({ op: 4, line: 8, signal: 6 });
      expect(row.died.reason).toMatch(/double free|invalid pointer/);
    },
  );

  test('binned says exactly what glibc 2.36 says', async () => {
    const io = bufferIo();
    await runMallocCommand([twice], { allocator: ['binned'], allowMisuse: true }, io);
    expect(io.stdout).toContain('SIGABRT at line 8, op 4: free(): double free detected in tcache 2');
  });
});
