/**
 * `vmscope serve [--port N] [FILE]`: serves the browser visualizer (the built app in dist/web) on
 * the loopback interface. Only files inside the app's folder are served, each with the content
 * type of the file actually resolved; anything else is a 404. A scenario FILE given on the command
 * line is offered to the page as `preload.json`; without one the page opens its bundled tour.
 *
 * The server holds no state and runs no simulation: the page does that in a Web Worker.
 */
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../base/errors.js';
import { parseScenario } from '../workload/scenario/parse.js';
import { EXIT_FAILED, EXIT_INPUT, EXIT_OK, type Io } from './io.js';
import { readTextFile } from './run.js';

export interface ServeOptions {
  /** TCP port; 0 picks a free one. */
  readonly port: number;
  /** A loopback address (default 127.0.0.1); anything else is refused. */
  readonly host?: string;
  /** A scenario file to preload. */
  readonly file?: string;
  /** The built app (default: dist/web next to this module, or the repository's dist/web). */
  readonly root?: string;
}

export interface RunningServer {
  /** `http://127.0.0.1:PORT/` */
  readonly url: string;
  close(): Promise<void>;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.vms': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
};

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/** Where the built app is: dist/web beside dist/cli (installed), or from src/cli (development). */
export function defaultWebRoot(): string {
  const candidates = [
    fileURLToPath(new URL('../web/', import.meta.url)),
    fileURLToPath(new URL('../../dist/web/', import.meta.url)),
  ];
  return candidates.find((d) => existsSync(join(d, 'index.html'))) ?? candidates[0]!;
}

/**
 * The file under `root` that `urlPath` names, or null when it names nothing servable: not a file,
 * outside `root` (by `..`, an encoded separator, a NUL, or a symbolic link leading out), or a dot
 * file. `/` and directories mean their index.html.
 */
export function resolveStatic(root: string, urlPath: string): string | null {
  let path: string;
  try {
    path = decodeURIComponent(urlPath.split('?')[0]!.split('#')[0]!);
  } catch {
    return null;
  }
  if (path.includes('\0') || path.includes('\\') || !path.startsWith('/')) return null;
  const parts = path.split('/').filter((p) => p !== '');
  if (parts.some((p) => p === '..' || p === '.' || p.startsWith('.'))) return null;
  const realRoot = realpathSync(root);
  let file = resolve(realRoot, ...parts);
  if (file !== realRoot && !file.startsWith(realRoot + sep)) return null;
  try {
    if (statSync(file).isDirectory()) file = join(file, 'index.html');
    const real = realpathSync(file);
    if (!real.startsWith(realRoot + sep)) return null;
    return statSync(real).isFile() ? real : null;
  } catch {
    return null;
  }
}

function send(res: ServerResponse, status: number, type: string, body: Buffer | string, head: boolean): void {
  res.writeHead(status, {
    'Content-Type': type,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-cache',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
  });
  res.end(head ? undefined : body);
}

/**
 * Starts the server. @returns its URL and a `close` that stops it (open connections included).
 * @throws InputError for a host that is not loopback, a FILE that cannot be read, or a root without
 * the built app; rejects with the listen error (EADDRINUSE…) otherwise.
 */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  if (!LOOPBACK.has(host))
    throw new InputError('serve', `refusing to serve on ${host}: only the loopback interface (127.0.0.1)`, {
      file: '--host',
    });
  const root = options.root ?? defaultWebRoot();
  if (!existsSync(join(root, 'index.html')))
    throw new InputError('serve', 'the visualizer is not built here (no index.html): run `npm run build`', {
      file: root,
    });
  const preload =
    options.file === undefined
      ? null
      : Buffer.from(JSON.stringify({ file: basename(options.file), text: readTextFile(options.file) }));

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) {
      res.setHeader('Allow', 'GET, HEAD');
      send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n', head);
      return;
    }
    const urlPath = req.url ?? '/';
    if (urlPath.split('?')[0] === '/preload.json') {
      // `null` when no FILE was given: the page then opens its bundled tour.
      send(res, 200, CONTENT_TYPES['.json']!, preload ?? 'null', head);
      return;
    }
    const file = resolveStatic(root, urlPath);
    const type = file === null ? undefined : CONTENT_TYPES[extname(file).toLowerCase()];
    if (file === null || type === undefined) {
      send(res, 404, 'text/plain; charset=utf-8', 'not found\n', head);
      return;
    }
    let body: Buffer;
    try {
      body = readFileSync(file);
    } catch {
      send(res, 404, 'text/plain; charset=utf-8', 'not found\n', head);
      return;
    }
    send(res, 200, type, body, head);
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(options.port, host, () => {
      server.off('error', fail);
      ok();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}/`,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

/**
 * `vmscope serve`: starts the server, prints its URL, and serves until SIGINT or SIGTERM (or
 * `until` resolves, for tests) — or until its parent is gone (`npm start` stopped). @returns the
 * exit status: 0 after a clean stop, 2 for bad input (a FILE that cannot be read or does not parse,
 * a busy port), 1 when the app is not built.
 */
export async function runServe(
  file: string | undefined,
  flags: { port: number; root?: string },
  io: Io,
  until?: Promise<void>,
): Promise<number> {
  // A scenario that does not parse is refused before anything listens: every problem, exit 2.
  if (file !== undefined) {
    try {
      parseScenario(file, readTextFile(file));
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      io.err(`${e.format()}\n`);
      return EXIT_INPUT;
    }
  }
  let server: RunningServer;
  try {
    server = await startServer({
      port: flags.port,
      ...(file !== undefined ? { file } : {}),
      ...(flags.root !== undefined ? { root: flags.root } : {}),
    });
  } catch (e) {
    if (e instanceof InputError) {
      io.err(`${e.format()}\n`);
      return e.code === 'serve' && e.span.file !== '--host' ? EXIT_FAILED : EXIT_INPUT;
    }
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES') {
      const why =
        code === 'EADDRINUSE'
          ? 'it is in use (another vmscope serve, or another program)'
          : 'this user may not listen there (ports below 1024 need privileges)';
      io.err(
        `--port: error: cannot listen on port ${flags.port}: ${why} (pick another: vmscope serve --port N, or npm start -- --port N; --port 0 takes any free one)\n`,
      );
      return EXIT_INPUT;
    }
    throw e;
  }
  io.out(`vmscope visualizer: ${server.url}${file !== undefined ? ` (with ${file})` : ''}\n`);
  io.out('Press Ctrl+C to stop.\n');
  await new Promise<void>((done) => {
    // Started by `npm start`, whose shell does not pass a SIGTERM on: when the parent is gone
    // (this process was handed to init), stop as if told to.
    const parent = process.ppid;
    const orphaned = setInterval(() => {
      if (process.ppid !== parent) stop();
    }, 500);
    orphaned.unref();
    const stop = () => {
      clearInterval(orphaned);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      process.off('SIGHUP', stop);
      done();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    process.on('SIGHUP', stop);
    until?.then(stop);
  });
  await server.close();
  return EXIT_OK;
}
