/**
 * The bytes of a trace: from a file, a named pipe, `<(zcat …)`, `/dev/stdin` or `-` (standard
 * input), read in 1 MiB chunks and never whole, decompressed when its first bytes are a gzip or zstd
 * stream — whatever the file is called. A stream that stops in the middle says so.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, createReadStream, openSync, readSync, statSync } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { InputError } from '../base/errors.js';
import { type Compression, detectCompression } from '../workload/trace/detect.js';

const CHUNK = 1 << 18;

/** The argument that means standard input. */
export const STDIN = '-';

let zstdCli: boolean | undefined;
const hasZstdCli = (): boolean => {
  zstdCli ??= spawnSync('zstd', ['--version'], { stdio: 'ignore' }).status === 0;
  return zstdCli;
};

/** How a source is called in messages: `-` is `<stdin>`, as gcc calls it. */
export function sourceName(path: string): string {
  return path === STDIN ? '<stdin>' : path;
}

/** The size of `path` when it is a regular file (for progress), else 0. @throws InputError when it cannot be read. */
export function sourceSize(path: string): number {
  if (path === STDIN) return 0;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw new InputError('trace', 'is a directory, not a trace', { file: path });
    return st.isFile() ? st.size : 0;
  } catch (e) {
    if (e instanceof InputError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError('trace', code === 'ENOENT' ? 'no such file' : `cannot read it (${code})`, {
      file: path,
    });
  }
}

/**
 * True when `path` can be read again as cheaply as a copy of its accesses on disk: a regular file,
 * not empty, not compressed (decompressing it again would cost more than the copy saves).
 */
export function cheapToReadAgain(path: string): boolean {
  if (path === STDIN) return false;
  let fd: number | null = null;
  try {
    if (!statSync(path).isFile()) return false;
    fd = openSync(path, 'r');
    const head = new Uint8Array(4);
    const n = readSync(fd, head, 0, head.length, 0);
    return n > 0 && detectCompression(head.subarray(0, n)) === null;
  } catch {
    return false;
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

/**
 * The raw bytes of `path` (`-`: standard input). `reuse()` tells whether a chunk may be overwritten
 * once the next is asked for (only the chunks of a regular file are: read into one buffer).
 */
function rawStream(path: string, reuse: () => boolean): AsyncIterable<Uint8Array> {
  if (path === STDIN) return createReadStream('', { fd: 0, highWaterMark: CHUNK, autoClose: false });
  if (sourceSize(path) > 0) return fileChunks(path, reuse);
  return createReadStream(path, { highWaterMark: CHUNK });
}

/**
 * A regular file by plain reads: faster than a stream (no buffering between threads, no event per
 * chunk), and, when `reuse()` allows, into one buffer, whose pages are touched once.
 */
async function* fileChunks(path: string, reuse: () => boolean): AsyncGenerator<Uint8Array> {
  const fd = openSync(path, 'r');
  try {
    let buffer: Uint8Array | null = null;
    for (;;) {
      const chunk: Uint8Array = buffer !== null && reuse() ? buffer : new Uint8Array(CHUNK);
      const n = readSync(fd, chunk, 0, CHUNK, null);
      if (n === 0) return;
      buffer = buffer === null ? new Uint8Array(CHUNK) : buffer; // the first chunk is kept (as the head)
      yield n === CHUNK ? chunk : chunk.subarray(0, n);
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * The decompressed bytes of a trace, in chunks; a chunk may be overwritten once the next one is
 * asked for (copy what must be kept). Counts the bytes read from the source in `progress.bytes`
 * (compressed bytes, for a compressed trace), and tells what the compression was.
 * @throws InputError for a missing or unreadable source, a corrupt or truncated compressed stream.
 */
export async function* openTrace(
  path: string,
  progress: { bytes: number; compression?: Compression | null },
): AsyncGenerator<Uint8Array> {
  sourceSize(path); // fails early on a missing file or a directory
  const file = sourceName(path);
  try {
    let compression: Compression | null = null;
    // Chunks go to zlib or zstd asynchronously: only uncompressed ones are read into one buffer.
    const raw = rawStream(path, () => compression === null)[Symbol.asyncIterator]();
    // Enough bytes to see a magic number (a pipe may deliver fewer at first).
    let head: Uint8Array = new Uint8Array(0);
    let ended = false;
    while (head.length < 4 && !ended) {
      const r = await raw.next();
      if (r.done) ended = true;
      else head = join(head, r.value);
    }
    progress.bytes += head.length;
    compression = detectCompression(head);
    progress.compression = compression;
    async function* all(): AsyncGenerator<Uint8Array> {
      if (head.length > 0) yield head;
      if (ended) return;
      for (;;) {
        const r = await raw.next();
        if (r.done) return;
        progress.bytes += r.value.length;
        yield r.value;
      }
    }
    if (compression === 'gzip') yield* gunzip(all(), file);
    else if (compression === 'zstd') yield* unzstd(all(), file);
    else yield* all();
  } catch (e) {
    if (e instanceof InputError) throw e;
    const { code, message } = e as NodeJS.ErrnoException;
    throw new InputError('trace', `cannot read it (${code ?? message})`, { file });
  }
}

function join(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

async function* gunzip(input: AsyncIterable<Uint8Array>, file: string): AsyncGenerator<Uint8Array> {
  const z = createGunzip({ chunkSize: 1 << 18 });
  const closed = new Promise((res) => z.once('close', res));
  const feeding = (async () => {
    for await (const c of input) {
      if (z.destroyed) return;
      if (!z.write(c)) await Promise.race([new Promise((res) => z.once('drain', res)), closed]);
    }
    z.end();
  })();
  feeding.catch((e) => z.destroy(e as Error));
  try {
    yield* z as AsyncIterable<Uint8Array>;
    await feeding;
  } catch (e) {
    if (e instanceof InputError) throw e;
    const { code, message } = e as NodeJS.ErrnoException;
    // zlib's Z_BUF_ERROR "unexpected end of file": the input stopped inside the compressed stream.
    if (code === 'Z_BUF_ERROR')
      throw new InputError('trace', 'the gzip stream ended early (the file is truncated)', { file });
    if (code?.startsWith('Z_')) throw new InputError('trace', `not a valid gzip file (${message})`, { file });
    throw e;
  }
}

async function* unzstd(input: AsyncIterable<Uint8Array>, file: string): AsyncGenerator<Uint8Array> {
  if (!hasZstdCli())
    throw new InputError('trace', 'zstd-compressed traces need the zstd program (apt-get install zstd)', {
      file,
    });
  const child = spawn('zstd', ['-dcq'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<number | null>((res) => child.on('close', res));
  child.stdin.on('error', () => {}); // zstd stopping early (a corrupt stream) closes the pipe; its status tells why
  let feedError: unknown = null;
  const feeding = (async () => {
    for await (const c of input) {
      if (child.stdin.destroyed || child.exitCode !== null) break;
      if (!child.stdin.write(c))
        await Promise.race([new Promise((res) => child.stdin.once('drain', res)), exited]);
    }
    child.stdin.end();
  })().catch((e: unknown) => {
    feedError = e;
    child.kill();
  });
  let finished = false;
  try {
    yield* child.stdout as AsyncIterable<Uint8Array>;
    await feeding;
    finished = true;
  } finally {
    if (!finished) child.kill(); // the reader stopped early, or reading the source failed
  }
  if (feedError !== null) throw feedError;
  if ((await exited) !== 0) {
    if (/premature end|truncated/i.test(err))
      throw new InputError('trace', 'the zstd stream ended early (the file is truncated)', { file });
    throw new InputError(
      'trace',
      `zstd could not decompress it: ${err.replace(/^zstd: [^:]*: ?/, '').trim()}`,
      {
        file,
      },
    );
  }
}
