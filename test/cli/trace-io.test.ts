/**
 * How vmscope reads traces: the pipelined reader against the single-threaded one, standard input and
 * pipes, compression told by content, truncated streams, `vmscope convert` and its binary formats,
 * OPT's next uses from disk, and libCacheSim's oracleGeneral files.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { NextUseBuilder, replayPages } from '../../src/sim/cachesim.js';
import { LruStackDistance, OptStackDistance } from '../../src/sim/mrc.js';
import { checkoutRoot, corpusPath, testCorpus } from '../corpus.js';
import { run } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'vmscope-trace-io-'));
const hasZstd = spawnSync('zstd', ['--version']).status === 0;

async function json(...argv: string[]) {
  const r = await run(...argv, '--json');
  expect(r.err).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.out);
}

/** The CLI in a child process, through a shell (for pipes and `<(…)`): stdout, stderr, status. */
function shell(command: string): Promise<{ status: number | null; out: string; err: string }> {
  const cli = `"${process.execPath}" --import tsx src/cli/main.ts`;
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', command.replaceAll('VMSCOPE', cli)], { cwd: checkoutRoot() });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('close', (status) => resolve({ status, out, err }));
  });
}

/**
 * A lackey trace like a program's: fetches walking a few code pages, loads and stores over a data
 * region with a hot part, now and then an access that straddles a page. Fixed (xorshift), ~14 bytes a line.
 */
function lackeyText(lines: number, seed = 7): string {
  let x = seed;
  const rand = () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
  const out: string[] = [];
  let pc = 0x108000;
  for (let i = 0; i < lines; i++) {
    const r = rand();
    if (r < 0.65) {
      pc = rand() < 0.02 ? 0x108000 + Math.floor(rand() * 24) * 4096 : pc + 3;
      out.push(`I  ${pc.toString(16).padStart(8, '0')},3`);
    } else {
      const hot = rand() < 0.7;
      const page = hot ? 0x1ffeff0 + Math.floor(rand() * 8) : 0x4000 + Math.floor(rand() * 900);
      const offset = rand() < 0.01 ? 4092 : Math.floor(rand() * 4000);
      const kind = r < 0.85 ? 'L' : r < 0.97 ? 'S' : 'M';
      out.push(` ${kind} ${(page * 4096 + offset).toString(16)},8`);
    }
  }
  return `${out.join('\n')}\n`;
}

const lackey = join(dir, 'prog.lackey');
writeFileSync(lackey, lackeyText(40_000));
const lackeyGz = join(dir, 'prog.lackey.gz');
writeFileSync(lackeyGz, gzipSync(readFileSync(lackey)));
const second = join(dir, 'second.lackey');
writeFileSync(second, lackeyText(25_000, 99));
const pagesFile = join(dir, 'prog.pages');
{
  const ids: number[] = [];
  let x = 5;
  for (let i = 0; i < 30_000; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    ids.push(i % 3 === 0 ? x % 40 : x % 300);
  }
  writeFileSync(pagesFile, `${ids.join('\n')}\n`);
}

/** The page ids a pages file holds. */
const pageIds = (file: string) => readFileSync(file, 'utf8').trim().split('\n').map(Number);

describe('the pipelined reader (--threads 2) against the single-threaded one (--threads 1)', () => {
  const cases: [string, string[]][] = [
    ['full system, CLOCK, a gzip lackey trace', ['--policy', 'clock', '--frames', '64', lackeyGz]],
    ['policy only, LRU, lackey', ['--policy-only', '--policy', 'lru', '--frames', '32', lackey]],
    [
      'policy only, ARC, two traces interleaved',
      ['--policy-only', '--policy', 'arc', '--frames', '48', lackey, pagesFile],
    ],
    [
      'full system, OPT (next uses from disk), two traces',
      ['--policy', 'opt', '--frames', '40', lackey, second],
    ],
    ['policy only, OPT, a page list', ['--policy-only', '--policy', 'opt', '--frames', '30', pagesFile]],
    [
      'full system, local scope, PFF',
      ['--scope', 'local', '--allocation', 'pff', '--frames', '80', lackey, second],
    ],
  ];
  test.each(cases)('%s: the same JSON, byte for byte, and the same chart', async (_name, args) => {
    const one = await run('replay', '--threads', '1', '--json', ...args);
    const two = await run('replay', '--threads', '2', '--json', ...args);
    expect(one.err).toBe('');
    expect(one.status).toBe(0);
    expect(two.out).toBe(one.out);
    if (!args.includes('opt') && !args.includes('clock')) return;
    const svg1 = join(dir, 'one.svg');
    const svg2 = join(dir, 'two.svg');
    await run('replay', '--threads', '1', '--plot', svg1, ...args);
    await run('replay', '--threads', '2', '--plot', svg2, ...args);
    // Plot numbers its markers across the process (plot-marker-1, -2, …): only that may differ.
    const chart = (f: string) => readFileSync(f, 'utf8').replace(/plot-marker-[0-9]+/g, 'plot-marker');
    expect(chart(svg2)).toBe(chart(svg1));
  });

  test('a malformed line is the same error, with its line and column, from either reader', async () => {
    const bad = join(dir, 'bad.lackey');
    writeFileSync(bad, `${lackeyText(30_000)} L 1234,8\n Q 5,1\n`);
    const one = await run('replay', '--threads', '1', bad);
    const two = await run('replay', '--threads', '2', bad);
    expect(one.status).toBe(2);
    expect(two.status).toBe(2);
    expect(one.err).toBe(
      `${bad}:30002:2: error: expected a lackey record ('I', 'L', 'S' or 'M', then an address and a size), found 'Q'\n`,
    );
    expect(two.err).toBe(one.err);
  });
});

describe('where a trace comes from', () => {
  test('a named pipe, as /dev/stdin and <(zcat …) are, reads as the file does', async () => {
    const want = await json('replay', '--policy-only', '--frames', '16', lackeyGz);
    for (const threads of ['1', '2']) {
      const fifo = join(dir, `fifo${threads}`);
      expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
      const writer = spawn('bash', ['-c', `gzip -dc ${lackeyGz} > ${fifo}`]);
      const closed = new Promise((res) => writer.on('close', res));
      const got = await json('replay', '--threads', threads, '--policy-only', '--frames', '16', fifo);
      expect([got.accesses, got.faults]).toEqual([want.accesses, want.faults]);
      await closed;
    }
  });

  test('standard input as -, /dev/stdin and <(zcat …), plain or gzip told by its bytes, on either reader', async () => {
    const want = await json('replay', '--policy-only', '--frames', '16', lackeyGz);
    const replay = 'VMSCOPE replay --json --policy-only --frames 16';
    const commands = [
      `${replay} --threads 1 - < ${lackeyGz}`, // gzip on standard input: no name to go by
      `${replay} --threads 2 - < ${lackeyGz}`,
      `gzip -dc ${lackeyGz} | ${replay} --threads 2 /dev/stdin`,
      `${replay} --threads 1 <(zcat ${lackeyGz})`,
      `cat ${lackeyGz} | ${replay} --threads 2 -`,
    ];
    const runs = await Promise.all(commands.map((c) => shell(c)));
    for (const [i, r] of runs.entries()) {
      expect([commands[i], r.err, r.status]).toEqual([commands[i], '', 0]);
      const got = JSON.parse(r.out);
      expect([got.accesses, got.faults]).toEqual([want.accesses, want.faults]);
    }
    // A truncated gzip stream on standard input says so, named as standard input.
    const cut = await shell(`head -c 20000 ${lackeyGz} | ${replay} -`);
    expect(cut.status).toBe(2);
    expect(cut.err).toBe('<stdin>: error: the gzip stream ended early (the file is truncated)\n');
  });

  test('mrc of a pipe gives every policy its curve (it was read once: the simulated ones found it empty)', async () => {
    const belady = join(dir, 'belady.pages');
    writeFileSync(belady, '1\n2\n3\n4\n1\n2\n5\n1\n2\n3\n4\n5\n');
    const want = await json('mrc', '--policies', 'fifo,opt,lru', '--frames', '1..6', belady);
    expect(want.curves[0].faults).toEqual([12, 12, 9, 10, 5, 5]);
    for (const threads of ['1', '2']) {
      const fifo = join(dir, `mrc-fifo${threads}`);
      expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
      const writer = spawn('bash', ['-c', `cat ${belady} > ${fifo}`]);
      const closed = new Promise((res) => writer.on('close', res));
      const got = await json(
        'mrc',
        '--threads',
        threads,
        '--policies',
        'fifo,opt,lru',
        '--frames',
        '1..6',
        fifo,
      );
      expect(got.curves).toEqual(want.curves);
      await closed;
    }
  });

  test('gzip and zstd are told by their first bytes, whatever the file is called', async () => {
    const want = await json('replay', '--policy-only', '--frames', '16', lackey);
    const gzNamedTxt = join(dir, 'gz-inside.txt');
    writeFileSync(gzNamedTxt, gzipSync(readFileSync(lackey)));
    const plainNamedGz = join(dir, 'plain.gz');
    writeFileSync(plainNamedGz, readFileSync(lackey));
    const files = [gzNamedTxt, plainNamedGz];
    if (hasZstd) {
      const zstNamedGz = join(dir, 'zst-inside.gz');
      const r = await shell(`zstd -q -c ${lackey} > ${zstNamedGz}`);
      expect(r.status).toBe(0);
      files.push(zstNamedGz);
    }
    for (const f of files) {
      const got = await json('replay', '--policy-only', '--frames', '16', f);
      expect([got.accesses, got.faults]).toEqual([want.accesses, want.faults]);
    }
  });

  test('a truncated .gz or .zst says the compressed stream ended early', async () => {
    const whole = readFileSync(lackeyGz);
    const cut = join(dir, 'cut.lackey.gz');
    writeFileSync(cut, whole.subarray(0, Math.floor(whole.length / 2)));
    for (const threads of ['1', '2']) {
      const r = await run('replay', '--threads', threads, cut);
      expect(r.status).toBe(2);
      expect(r.err).toBe(`${cut}: error: the gzip stream ended early (the file is truncated)\n`);
    }
    if (hasZstd) {
      const zst = join(dir, 'cut.zst');
      await shell(`zstd -q -c ${lackey} | head -c 20000 > ${zst}`);
      const r = await run('replay', zst);
      expect(r.status).toBe(2);
      expect(r.err).toBe(`${zst}: error: the zstd stream ended early (the file is truncated)\n`);
    }
  });

  test('a missing file, a directory and an empty trace are input errors', async () => {
    expect((await run('replay', join(dir, 'nope'))).err).toBe(`${join(dir, 'nope')}: error: no such file\n`);
    expect((await run('replay', dir)).err).toBe(`${dir}: error: is a directory, not a trace\n`);
    const empty = join(dir, 'empty');
    writeFileSync(empty, '');
    const r = await run('replay', empty);
    expect(r.status).toBe(2);
    expect(r.err).toMatch(new RegExp(`^${empty}: error: the trace is empty: expected valgrind lackey lines`));
  });
});

describe('vmscope convert and the binary formats', () => {
  test("a vmscope trace replays exactly as its source, smaller, and the converter's summary says what it did", async () => {
    const vmt = join(dir, 'prog.vmt');
    const c = await run('convert', second, vmt);
    expect(c.status).toBe(0);
    expect(c.out).toMatch(/\(lackey\) → .*prog\.vmt \(vmscope\): [0-9,]+ accesses\n$/);
    expect(readFileSync(vmt).length).toBeLessThan(readFileSync(second).length / 8);
    for (const args of [
      ['--policy', 'clock', '--frames', '64'],
      ['--policy-only', '--policy', 'lru', '--frames', '20'],
      ['--policy', 'opt', '--frames', '50'],
    ]) {
      const a = await json('replay', ...args, second);
      const b = await json('replay', ...args, vmt);
      // Everything but the file's name and format.
      const strip = (r: { processes: Record<string, unknown>[] }) =>
        JSON.stringify({ ...r, processes: r.processes.map(({ name, file, format, ...p }) => p) });
      expect(strip(b)).toBe(strip(a));
      expect(b.processes[0].format).toBe('vmscope');
    }
  });

  test('its page size is its own: another --page-size is an error that says what to do', async () => {
    const vmt = join(dir, 'p8k.vmt');
    await run('convert', '--page-size', '8192', lackey, vmt);
    const own = await json('replay', '--policy-only', vmt);
    const text = await json('replay', '--policy-only', '--page-size', '8192', lackey);
    expect([own.accesses, own.faults, own.pageSize]).toEqual([text.accesses, text.faults, 8192]);
    const r = await run('replay', '--policy-only', '--page-size', '4096', vmt);
    expect(r.status).toBe(2);
    expect(r.err).toBe(
      `${vmt}: offset 0xc: error: the trace was converted with 8192-byte pages, not 4096 (convert it again with --page-size 4096)\n`,
    );
    expect((await run('replay', vmt)).err).toMatch(
      /its pages are 8192 bytes; the full system replays x86-64's 4096-byte pages/,
    );
  });

  test('oracleGeneral out carries next uses: OPT reads them instead of computing its own, and counts the same', async () => {
    const og = join(dir, 'prog.oracleGeneral');
    expect((await run('convert', '--to', 'oracleGeneral', pagesFile, og)).status).toBe(0);
    expect(readFileSync(og).length).toBe(30_000 * 24);
    const fromText = await json('replay', '--policy-only', '--policy', 'opt', '--frames', '25', pagesFile);
    const fromOracle = await json('replay', '--policy-only', '--policy', 'opt', '--frames', '25', og);
    expect(fromOracle.faults).toBe(fromText.faults);
    expect(fromText.faults).toBe(replayPages(pageIds(pagesFile), { policy: 'opt', frames: 25 }).faults);
    // And back: oracleGeneral → page list gives the ids again.
    const back = join(dir, 'back.pages');
    await run('convert', '--to', 'pages', og, back);
    expect(readFileSync(back, 'utf8')).toBe(readFileSync(pagesFile, 'utf8'));
  });

  test("reads what libCacheSim's traceConv wrote, and counts the misses libCacheSim's cachesim counted", async () => {
    const og = join(checkoutRoot(), 'test', 'trace', 'fixtures', 'mixed3000.oracleGeneral');
    const recorded = { lru: [1437, 711], opt: [889, 393], fifo: [1675, 841] };
    for (const [policy, misses] of Object.entries(recorded)) {
      for (const [i, frames] of ['16', '64'].entries()) {
        const r = await json('replay', '--policy-only', '--policy', policy, '--frames', frames, og);
        expect(r.accesses).toBe(2999);
        expect(r.faults).toBe(misses[i]);
      }
    }
    // vmscope's own conversion of the same 2999 ids writes the same next accesses libCacheSim did.
    const ids = pageIds(join(checkoutRoot(), 'test', 'trace', 'fixtures', 'mixed3000.pages')).slice(0, 2999);
    const txt = join(dir, 'mixed2999.pages');
    writeFileSync(txt, `${ids.join('\n')}\n`);
    const mine = join(dir, 'mixed2999.oracleGeneral');
    await run('convert', '--to', 'oracleGeneral', txt, mine);
    const a = new DataView(readFileSync(og).buffer.slice(0));
    const b = new DataView(readFileSync(mine).buffer.slice(0));
    for (let r = 0; r < 2999; r++)
      expect(b.getBigInt64(r * 24 + 16, true)).toBe(a.getBigInt64(r * 24 + 16, true));
  });

  test('a failed conversion leaves no output behind; - writes the trace to standard output', async () => {
    const bad = join(dir, 'half-bad.pages');
    writeFileSync(bad, `${'1\n2\n'.repeat(100_000)}x\n`);
    const out = join(dir, 'never.vmt');
    const r = await run('convert', bad, out);
    expect(r.status).toBe(2);
    expect(r.err).toBe(`${bad}:200001:1: error: expected a decimal page number, found 'x'\n`);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes('.part'))).toEqual([]);
    // Standard input and output: `-`, through a shell's pipes.
    const piped = await shell(
      `VMSCOPE convert ${pagesFile} - | VMSCOPE replay --json --policy-only --frames 30 -`,
    );
    expect(piped.status).toBe(0);
    expect(JSON.parse(piped.out).faults).toBe(
      (await json('replay', '--policy-only', '--frames', '30', pagesFile)).faults,
    );
    expect(piped.err).toMatch(/→ <stdout> \(vmscope\): 30,000 accesses/);
  });
});

describe('OPT with memory flat in the trace length', () => {
  test('two interleaved traces: the same faults as next uses computed in memory', async () => {
    const a = pageIds(pagesFile);
    const b = a.map((p) => (p * 7) % 211);
    const fileB = join(dir, 'b.pages');
    writeFileSync(fileB, `${b.join('\n')}\n`);
    // The round robin of 10,000-access turns, with the second trace's ids kept apart.
    const stream: number[] = [];
    for (let t = 0; t < Math.max(a.length, b.length); t += 10_000) {
      stream.push(...a.slice(t, t + 10_000), ...b.slice(t, t + 10_000).map((p) => p + 2 ** 36));
    }
    const r = await json('replay', '--policy-only', '--policy', 'opt', '--frames', '60', pagesFile, fileB);
    expect(r.faults).toBe(replayPages(stream, { policy: 'opt', frames: 60 }).faults);
  });

  test('one plain file is read again instead of copied: the same results as from its gzip copy (copied)', async () => {
    const gz = join(dir, 'prog.pages.gz');
    writeFileSync(gz, gzipSync(readFileSync(pagesFile)));
    const counts = (r: Record<string, unknown>) => {
      const { processes: _p, ...rest } = r;
      return rest;
    };
    for (const threads of ['1', '2']) {
      const args = ['--threads', threads, '--policy', 'opt', '--policy-only', '--frames', '30'];
      const plain = await json('replay', ...args, pagesFile);
      expect(counts(plain)).toEqual(counts(await json('replay', ...args, gz)));
      expect(plain.faults).toBe(replayPages(pageIds(pagesFile), { policy: 'opt', frames: 30 }).faults);
    }
    // The full system too (its pages from the lackey text, twice).
    const full = await json('replay', '--policy', 'opt', '--frames', '40', lackey);
    expect(counts(full)).toEqual(counts(await json('replay', '--policy', 'opt', '--frames', '40', lackeyGz)));
    expect(full.faults).toBeGreaterThan(0);
  });

  test('next uses 65,535 accesses away or more (kept apart on disk): the same faults as in memory', async () => {
    // A cycle of 30,000 pages every third access (each back 90,000 accesses later), hot pages between.
    const ids: number[] = [];
    let x = 11;
    for (let i = 0; i < 200_000; i++) {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      ids.push(i % 3 === 0 ? 1000 + ((i / 3) % 30_000) : x % 50);
    }
    const file = join(dir, 'far.pages');
    writeFileSync(file, `${ids.join('\n')}\n`);
    const gz = join(dir, 'far.pages.gz');
    writeFileSync(gz, gzipSync(readFileSync(file)));
    const expected = replayPages(ids, { policy: 'opt', frames: 40 }).faults;
    for (const f of [file, gz]) {
      expect((await json('replay', '--policy-only', '--policy', 'opt', '--frames', '40', f)).faults).toBe(
        expected,
      );
    }
  });

  test('mrc: the OPT curve from next uses on disk equals the one from next uses in memory', async () => {
    const ids = Float64Array.from(pageIds(pagesFile));
    const builder = new NextUseBuilder(ids.length);
    builder.push(ids, ids.length);
    const inMemory = new OptStackDistance(builder.finish());
    inMemory.push(ids, ids.length);
    const lru = new LruStackDistance();
    lru.push(ids, ids.length);
    const r = await json('mrc', '--policies', 'opt,lru', '--frames', '4,16,64,256', pagesFile);
    expect(r.curves[0].faults).toEqual(inMemory.curve([4, 16, 64, 256]).faults);
    expect(r.curves[1].faults).toEqual(lru.curve([4, 16, 64, 256]).faults);
  });

  testCorpus('on a real trace, OPT from disk equals OPT in memory', async () => {
    const file = corpusPath('memtrace', 'memwalk.pages.gz');
    const r = await json('replay', '--policy-only', '--policy', 'opt', '--frames', '64', file);
    const { gunzipSync } = await import('node:zlib');
    const ids = gunzipSync(readFileSync(file)).toString().trim().split('\n').map(Number);
    expect(r.faults).toBe(replayPages(ids, { policy: 'opt', frames: 64 }).faults);
  });
});
