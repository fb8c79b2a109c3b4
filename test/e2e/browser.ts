/**
 * What the end-to-end tests and the browser benchmark share: building the app when dist/web is
 * missing or older than its sources, and launching Debian's Chromium through playwright-core.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { checkoutRoot } from '../corpus-path.js';

export const ROOT = checkoutRoot();
export const CHROMIUM = '/usr/bin/chromium';
export const WEB_ROOT = join(ROOT, 'dist/web');

/** Chromium is here, or CI demands the tests run (and fail loudly without it). */
export const canRunBrowser = existsSync(CHROMIUM) || Boolean(process.env['CI']);

function newest(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let t = st.mtimeMs;
  for (const name of readdirSync(path)) t = Math.max(t, newest(join(path, name)));
  return t;
}

/** Builds dist/web with Vite unless it is newer than everything it is built from (~2 s). */
export function ensureBuilt(): void {
  const built = join(WEB_ROOT, 'index.html');
  const sources = ['web', 'src', 'examples', 'vite.config.ts', 'package.json'].map((p) =>
    newest(join(ROOT, p)),
  );
  if (existsSync(built) && statSync(built).mtimeMs >= Math.max(...sources)) return;
  execFileSync(
    process.execPath,
    [join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn'],
    {
      cwd: ROOT,
      stdio: 'inherit',
    },
  );
}

/** Headless Chromium as ECOSYSTEM.md §3.4 launches it (offline, no sandbox, no GPU). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
