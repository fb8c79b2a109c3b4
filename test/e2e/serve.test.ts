import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { bufferIo } from '../../src/cli/io.js';
import { type RunningServer, resolveStatic, runServe, startServer } from '../../src/cli/serve.js';

/** A raw GET (fetch would normalise `..` away before it reaches the server). */
function get(
  url: string,
  path: string,
  method = 'GET',
): Promise<{ status: number; type: string; body: string }> {
  const u = new URL(url);
  return new Promise((ok, fail) => {
    const req = request({ host: u.hostname, port: u.port, path, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () =>
        ok({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body }),
      );
    });
    req.on('error', fail);
    req.end();
  });
}

let dir: string;
let root: string;
let server: RunningServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vmscope-serve-'));
  root = join(dir, 'web');
  mkdirSync(join(root, 'assets'), { recursive: true });
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>app</title>');
  writeFileSync(join(root, 'assets', 'app.js'), 'export {};');
  writeFileSync(join(root, 'assets', 'style.css'), 'body{}');
  writeFileSync(join(root, 'assets', 'data.bin'), 'x');
  writeFileSync(join(root, '.secret'), 'hidden');
  writeFileSync(join(dir, 'outside.txt'), 'secret outside the app');
  symlinkSync(join(dir, 'outside.txt'), join(root, 'assets', 'link.js'));
  writeFileSync(join(dir, 'scenario.vms'), 'machine teach16\nspawn A code=128\n');
  server = await startServer({ port: 0, root, file: join(dir, 'scenario.vms') });
});

afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('vmscope serve', () => {
  test('listens on the loopback interface only', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  });

  test('serves the app with the content type of the file it resolved, / as index.html', async () => {
    const index = await get(server.url, '/');
    expect(index).toMatchObject({ status: 200, type: 'text/html; charset=utf-8' });
    expect(index.body).toContain('<title>app</title>');
    expect(await get(server.url, '/assets/app.js')).toMatchObject({
      status: 200,
      type: 'text/javascript; charset=utf-8',
    });
    expect(await get(server.url, '/assets/style.css?v=1')).toMatchObject({
      status: 200,
      type: 'text/css; charset=utf-8',
    });
    expect((await get(server.url, '/assets/')).status).toBe(404);
    const head = await get(server.url, '/index.html', 'HEAD');
    expect(head).toMatchObject({ status: 200, body: '' });
  });

  test('nothing outside the app: .., encoded .., encoded slashes, symbolic links, dot files, unknown types', async () => {
    for (const path of [
      '/../outside.txt',
      '/assets/../../outside.txt',
      '/%2e%2e/outside.txt',
      '/assets%2f..%2f..%2foutside.txt',
      '/..%5coutside.txt',
      '/assets/link.js',
      '/.secret',
      '/assets/data.bin',
      '/%00',
      '/%zz',
      '/nope.js',
    ]) {
      const r = await get(server.url, path);
      expect(r.status, path).toBe(404);
      expect(r.body).not.toContain('secret');
    }
    expect(resolveStatic(root, '/assets/../index.html')).toBeNull();
    expect(resolveStatic(root, '/index.html')).toMatch(/index\.html$/);
  });

  test('only GET and HEAD', async () => {
    expect((await get(server.url, '/', 'POST')).status).toBe(405);
    expect((await get(server.url, '/', 'DELETE')).status).toBe(405);
  });

  test('the FILE given on the command line is offered as preload.json; without one, null', async () => {
    const r = await get(server.url, '/preload.json');
    expect(r.type).toMatch(/^application\/json/);
    expect(JSON.parse(r.body)).toEqual({ file: 'scenario.vms', text: 'machine teach16\nspawn A code=128\n' });
    const bare = await startServer({ port: 0, root });
    try {
      expect(JSON.parse((await get(bare.url, '/preload.json')).body)).toBeNull();
    } finally {
      await bare.close();
    }
  });

  test('refuses a host that is not loopback, a missing FILE, and a root without the app', async () => {
    await expect(startServer({ port: 0, root, host: '0.0.0.0' })).rejects.toThrow(/loopback/);
    await expect(startServer({ port: 0, root, file: join(dir, 'missing.vms') })).rejects.toThrow(
      /no such file/,
    );
    await expect(startServer({ port: 0, root: dir })).rejects.toThrow(/not built/);
  });

  test('runServe prints the URL, serves until stopped, and reports a busy port as bad input', async () => {
    const io = bufferIo();
    let stop!: () => void;
    const until = new Promise<void>((r) => {
      stop = r;
    });
    const status = runServe(undefined, { port: 0, root }, io, until);
    await new Promise((r) => setTimeout(r, 50));
    expect(io.stdout).toMatch(/vmscope visualizer: http:\/\/127\.0\.0\.1:\d+\//);
    stop();
    expect(await status).toBe(0);

    const port = Number(new URL(server.url).port);
    const busy = bufferIo();
    expect(await runServe(undefined, { port, root }, busy)).toBe(2);
    expect(busy.stderr).toMatch(
      /--port: error: cannot listen on port \d+: it is in use .*npm start -- --port N/,
    );

    // serve FILE with a broken scenario fails instead of serving: every error, exit 2, nothing listens.
    writeFileSync(join(dir, 'bad.vms'), 'spawn A\nA: wrte code 1\nshow A mpas\n');
    const bad = bufferIo();
    expect(await runServe(join(dir, 'bad.vms'), { port: 0, root }, bad)).toBe(2);
    expect(bad.stderr).toMatch(
      /bad\.vms:2:4: error: unknown operation 'wrte'.*\n.*bad\.vms:3:8: error: cannot show 'mpas'/,
    );
    expect(bad.stdout).toBe('');

    const missing = bufferIo();
    expect(await runServe(join(dir, 'missing.vms'), { port: 0, root }, missing)).toBe(2);
    expect(missing.stderr).toMatch(/missing\.vms: error: no such file/);
  });
});

describe('npm start', () => {
  test('stopping npm start with SIGTERM stops the server it started (its shell passes no signal on)', async () => {
    const { spawn } = await import('node:child_process');
    const { existsSync } = await import('node:fs');
    const { ROOT, ensureBuilt } = await import('./browser.js');
    ensureBuilt();
    const main = join(ROOT, 'src/cli/main.ts');
    expect(existsSync(main)).toBe(true);
    // As npm runs a script: a shell whose child is the server (`; true` keeps sh from exec-ing it).
    const sh = spawn('sh', ['-c', `"${process.execPath}" --import tsx "${main}" serve --port 0; true`], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    sh.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const deadline = Date.now() + 30_000;
    while (!/http:\/\/127\.0\.0\.1:\d+\//.test(out) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    const url = /http:\/\/127\.0\.0\.1:\d+\//.exec(out)?.[0];
    expect(url).toBeDefined();
    expect((await get(url!, '/')).status).toBe(200);
    // The server's pid, so that a failure here leaves nothing running.
    const { readFileSync } = await import('node:fs');
    const serverPid = Number(
      readFileSync(`/proc/${sh.pid}/task/${sh.pid}/children`, 'utf8').trim().split(' ')[0],
    );
    sh.kill('SIGTERM');
    // The server notices its parent is gone and stops listening.
    let refused = false;
    while (!refused && Date.now() < deadline) {
      refused = await get(url!, '/').then(
        () => false,
        () => true,
      );
      if (!refused) await new Promise((r) => setTimeout(r, 100));
    }
    try {
      expect(refused).toBe(true);
    } finally {
      if (!refused && serverPid > 0) process.kill(serverPid, 'SIGTERM');
    }
  }, 40_000);
});
