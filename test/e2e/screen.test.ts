/**
 * The visualizer on a laptop's screen (Chromium, 1366×768): a small machine's frames grid draws the
 * part in use large enough to read (and every frame when asked), and the editor's current line is
 * marked in a colour of its own, not the red of a failed expectation. Screenshots go to
 * test-output/e2e/. Skipped only where Chromium is absent and CI is not set.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type RunningServer, startServer } from '../../src/cli/serve.js';
import { canRunBrowser, ensureBuilt, launchChromium, ROOT, WEB_ROOT } from './browser.js';

const SHOTS = join(ROOT, 'test-output/e2e');

let server: RunningServer;
let browser: Browser;
const errors: string[] = [];

/** A scenario in the page's URL, as the Share button writes it (deflate-raw, base64url). */
function hashOf(text: string): string {
  return `#s=${deflateRawSync(Buffer.from(text)).toString('base64url')}`;
}

/** Two processes with some 90 frames between them, on a machine of `ram`. */
function twoProcesses(ram: string): string {
  return [
    `machine x86_64 ram=${ram}`,
    'spawn A code=8K data=4K bss=8K',
    'A: fetch code',
    'A: malloc p 200K',
    'A: write p 200K',
    'spawn B',
    'B: malloc q 64K',
    'B: write q 64K',
    '',
  ].join('\n');
}

async function open(hash: string): Promise<Page> {
  const p = await browser.newPage({ viewport: { width: 1366, height: 768 } });
  p.on('pageerror', (e) => errors.push(e.message));
  p.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await p.goto(`${server.url}${hash}`);
  await p.waitForFunction(() => ((globalThis as { vmscope?: { last(): number } }).vmscope?.last() ?? 0) > 0);
  await settled(p);
  return p;
}

function settled(p: Page): Promise<unknown> {
  return p.evaluate('window.vmscope.whenSettled()');
}

function seen(l: Locator): Promise<string> {
  // biome-ignore lint/performance/useDomNodeTextContent: Playwright's innerText is the rendered text we check
  return l.innerText();
}

/**
 * What the frames grid shows, measured on its pixels: the share of the grid's visible area drawn in
 * a used frame's colour (not the free frames' grey, not the white lines between cells), the share
 * of the frames box the visible grid covers, and how many frames it draws.
 */
function gridMeasure(p: Page): Promise<{ used: number; cover: number; drawn: number; cells: number }> {
  return p.evaluate(`(() => {
    const c = document.querySelector('#frames-canvas');
    const box = document.querySelector('.frames-box');
    const cr = c.getBoundingClientRect(), br = box.getBoundingClientRect();
    const x0 = Math.max(cr.left, br.left), x1 = Math.min(cr.right, br.left + box.clientWidth);
    const y0 = Math.max(cr.top, br.top), y1 = Math.min(cr.bottom, br.top + box.clientHeight);
    const dpr = c.width / cr.width;
    const w = Math.floor((x1 - x0) * dpr), h = Math.floor((y1 - y0) * dpr);
    const d = c.getContext('2d').getImageData(Math.floor((x0 - cr.left) * dpr), Math.floor((y0 - cr.top) * dpr), w, h).data;
    let used = 0;
    for (let i = 0; i < d.length; i += 4) {
      const r = d[i], g = d[i + 1], b = d[i + 2];
      const free = Math.abs(r - 233) + Math.abs(g - 236) + Math.abs(b - 239) < 24;
      const line = r > 240 && g > 240 && b > 240;
      if (d[i + 3] > 0 && !free && !line) used++;
    }
    const content = (box.clientWidth - 16) * (box.clientHeight - 12);
    return { used: used / (w * h), cover: ((x1 - x0) * (y1 - y0)) / content, drawn: Number(c.dataset.drawn),
      cells: Number(c.dataset.cols) * Math.round(cr.height / Number(c.dataset.cell)) };
  })()`);
}

/** An element's computed background colour: its hue in degrees, its saturation (0..1), and the CSS. */
async function backgroundOf(l: Locator): Promise<{ hue: number; sat: number; rgb: string }> {
  // Run in the page, where the DOM is (this file is type-checked without it).
  type InPage = { getComputedStyle(e: unknown): { backgroundColor: string } };
  const css = await l.evaluate((e) => (globalThis as unknown as InPage).getComputedStyle(e).backgroundColor);
  const m = /rgba?\((\d+), (\d+), (\d+)(?:, ([\d.]+))?\)/.exec(css);
  if (m === null || m[4] === '0') return { hue: Number.NaN, sat: 0, rgb: css };
  const [r, g, b] = [m[1], m[2], m[3]].map((v) => Number(v) / 255) as [number, number, number];
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const l2 = (max + min) / 2;
  const sat = max === min ? 0 : (max - min) / (1 - Math.abs(2 * l2 - 1));
  let hue = 0;
  if (max !== min) {
    if (max === r) hue = 60 * (((g - b) / (max - min) + 6) % 6);
    else if (max === g) hue = 60 * ((b - r) / (max - min) + 2);
    else hue = 60 * ((r - g) / (max - min) + 4);
  }
  return { hue, sat, rgb: css };
}

describe.skipIf(!canRunBrowser)('the visualizer on a laptop screen (Chromium, 1366×768)', () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    ensureBuilt();
    server = await startServer({ port: 0, root: WEB_ROOT });
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  test('a 16 MiB machine: the frames in use fill a good share of the grid, not a strip atop grey', async () => {
    const p = await open(hashOf(twoProcesses('16MiB')));
    await p.evaluate('window.vmscope.goTo(window.vmscope.last())');
    await settled(p);
    const m = await gridMeasure(p);
    // All 4,096 frames drawn at once gave the ~90 used ones 2% of the grid.
    expect(m.drawn).toBe(256);
    expect(m.used).toBeGreaterThan(0.25);
    expect(m.cover).toBeGreaterThan(0.6);
    expect(await seen(p.locator('#frames-extent'))).toMatch(
      /^frames 0–0xff drawn; the 3,840 past them are free show all 4,096 frames$/,
    );
    await p.screenshot({ path: join(SHOTS, 'screen-16mib.png'), animations: 'disabled' });
    await p.close();
  });

  test('a 256 MiB machine: "show all" draws every one of its 65,536 frames, and the used part comes back', async () => {
    const p = await open(hashOf(twoProcesses('256MiB')));
    await p.evaluate('window.vmscope.goTo(window.vmscope.last())');
    await settled(p);
    expect((await gridMeasure(p)).drawn).toBe(256);
    await p.getByRole('button', { name: 'show all 65,536 frames' }).click();
    // The canvas is resized after the render that changes the count: on a loaded machine the first
    // measure can fall between the two.
    await expect.poll(async () => (await gridMeasure(p)).cells).toBeGreaterThanOrEqual(65536);
    const all = await gridMeasure(p);
    expect(all.drawn).toBe(65536);
    expect(await seen(p.locator('#frames-extent'))).toMatch(
      /^all 65,536 frames drawn; those past 0xff are free/,
    );
    await p.screenshot({ path: join(SHOTS, 'screen-256mib-all.png'), animations: 'disabled' });
    await p.getByRole('button', { name: 'show the used part' }).click();
    expect((await gridMeasure(p)).drawn).toBe(256);
    await p.close();
  });

  test("the editor's current line is blue, not the red of the failed expectation beside it", async () => {
    const text = [
      'machine x86_64 ram=16MiB',
      'spawn A',
      'A: malloc p 8K',
      'expect A VmRSS == 999 kB',
      'A: write p 8K',
      '',
    ].join('\n');
    const p = await open(`${hashOf(text)}&p=2`);
    await expect.poll(() => p.evaluate('window.vmscope.position()')).toBe(2);
    const current = p.locator('.ln.current');
    const failed = p.locator('.ln.failed');
    expect(await current.count()).toBe(1);
    expect(await seen(current)).toMatch(/^A: malloc p 8K/);
    expect(await seen(failed)).toMatch(/^expect A VmRSS == 999 kB/);
    const now = await backgroundOf(current);
    const bad = await backgroundOf(failed);
    // Blue-ish (hue between cyan and blue), and far from red (hues 330..30) and from the failure's colour.
    expect(now.hue, now.rgb).toBeGreaterThanOrEqual(180);
    expect(now.hue, now.rgb).toBeLessThanOrEqual(250);
    expect(now.sat, now.rgb).toBeGreaterThan(0.3);
    expect(bad.hue < 30 || bad.hue > 330, bad.rgb).toBe(true);
    expect(now.rgb).not.toBe(bad.rgb);
    // The current line's number is drawn on time's colour (it was white on nothing: invisible).
    const gutter = await backgroundOf(p.locator('.gl.current'));
    expect(gutter.hue, gutter.rgb).toBeGreaterThanOrEqual(180);
    expect(gutter.hue, gutter.rgb).toBeLessThanOrEqual(250);
    // The log says the same: the current step in blue, the failed expectation apart.
    const step = await backgroundOf(p.locator('.log .step.current'));
    expect(step.hue, step.rgb).toBeGreaterThanOrEqual(180);
    expect(step.hue, step.rgb).toBeLessThanOrEqual(250);
    expect(await p.locator('.log .step.failed').count()).toBe(1);
    await p.screenshot({ path: join(SHOTS, 'screen-current-line.png'), animations: 'disabled' });
    await p.close();
  });

  test('a link to a scenario with a bad line says nothing ran and where, not "Loading…" for ever', async () => {
    const p = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    await p.goto(`${server.url}${hashOf('machine x86_64 ram=16MiB\nspawn A\nA: wrte p 8K\n')}`);
    await expect.poll(() => p.locator('#spaces-problem').count(), { timeout: 10_000 }).toBe(1);
    expect(await seen(p.locator('#spaces-problem'))).toMatch(
      /^Nothing to show: the scenario did not run \(line 3, said under the editor\)\. Fix it and press Run/,
    );
    expect(await seen(p.locator('#editor-problem'))).toMatch(/^line 3:4 unknown operation 'wrte'/);
    await p.close();
  });

  test('nothing failed in the page', () => {
    expect(errors).toEqual([]);
  });
});
