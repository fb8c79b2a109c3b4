/**
 * Sharing in the visualizer, in headless Chromium at 1366×768: after a fork, a copy-on-write frame
 * is drawn once and marked in both address spaces, and after the child writes its copy is its own;
 * a library mapped by three processes is one set of page-cache frames with three mappers. Screenshots
 * go to test-output/e2e/. Skipped only where Chromium is absent and CI is not set.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type RunningServer, startServer } from '../../src/cli/serve.js';
import { canRunBrowser, ensureBuilt, launchChromium, ROOT, WEB_ROOT } from './browser.js';

const SHOTS = join(ROOT, 'test-output/e2e');

let server: RunningServer;
let browser: Browser;
const errors: string[] = [];

async function open(hash: string): Promise<Page> {
  const p = await browser.newPage({ viewport: { width: 1366, height: 768 } });
  p.on('pageerror', (e) => errors.push(e.message));
  p.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await p.goto(`${server.url}${hash}`);
  await p.waitForFunction(() => (globalThis as { vmscope?: { ready(): boolean } }).vmscope?.ready() === true);
  await settled(p);
  return p;
}

function settled(p: Page): Promise<unknown> {
  return p.evaluate('window.vmscope.whenSettled()');
}

/** The text a person sees in an element (layout-aware, unlike textContent). */
function seen(l: Locator): Promise<string> {
  // biome-ignore lint/performance/useDomNodeTextContent: Playwright's innerText is the rendered text we check
  return l.innerText();
}

/** Goes to the state after the statement `text`, as a person does: by clicking it in the log. */
async function after(p: Page, text: string): Promise<void> {
  await p.locator('.log .step-head', { hasText: text }).first().click();
  await settled(p);
}

/** Clicks frame `pfn` in the physical-memory grid. */
async function clickFrame(p: Page, pfn: number): Promise<void> {
  const canvas = p.locator('#frames-canvas');
  const cols = Number(await canvas.getAttribute('data-cols'));
  const cell = Number(await canvas.getAttribute('data-cell'));
  await canvas.click({
    position: { x: (pfn % cols) * cell + cell / 2, y: Math.floor(pfn / cols) * cell + cell / 2 },
  });
  await settled(p);
}

/** The colour the grid drew frame `pfn` in, as `r,g,b` (run in the page: a string, as it needs the DOM). */
function frameRgb(p: Page, pfn: number): Promise<string> {
  return p.evaluate(`(() => {
    const c = document.querySelector('#frames-canvas');
    const cols = Number(c.dataset.cols), cell = Number(c.dataset.cell);
    const dpr = c.width / Number.parseFloat(c.style.width);
    const x = Math.floor(((${pfn} % cols) * cell + cell / 2) * dpr);
    const y = Math.floor((Math.floor(${pfn} / cols) * cell + cell / 2) * dpr);
    const d = c.getContext('2d').getImageData(x, y, 1, 1).data;
    return d[0] + ',' + d[1] + ',' + d[2];
  })()`) as Promise<string>;
}

/** Walks `va` in process `name` with the address form. */
async function walk(p: Page, name: string, va: string): Promise<void> {
  await p.selectOption('.address-form select', { label: name });
  // Clicking the field also takes the pointer off the grid (the frame line shows a hovered frame).
  await p.locator('#address-input').click();
  await p.locator('#address-input').fill(va);
  await p.locator('#address-input').press('Enter');
  await settled(p);
}

const space = (p: Page, pid: number) => p.locator(`.space[data-pid="${pid}"]`);

describe.skipIf(!canRunBrowser)('sharing in the visualizer (Chromium, 1366×768)', () => {
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

  test('fork: a copy-on-write frame is marked in both processes; after the child writes, its copy is its own', async () => {
    const page = await open('#ex=08-fork-and-cow');
    await after(page, 'A: fork B');
    // The log says what fork did.
    expect(await seen(page.locator('.log .step.current'))).toMatch(
      /A forked B \(pid 2\): its pages are now shared, read-only in both, until one writes/,
    );
    // buf's 64 pages are frames 0x7..0x46, written by A before the fork: now shared, in the COW colour
    // (frames away from the ringed one in focus).
    expect(await frameRgb(page, 0x20)).toBe('192,38,211');
    await expect
      .poll(() => seen(page.locator('.legend-share[data-share="cow"]')))
      .toMatch(/COW-shared \(65\)/);

    await clickFrame(page, 0x7);
    expect(await seen(page.locator('#frame-info'))).toMatch(
      /^frame 0x7 .* anonymous, shared copy-on-write · of A · mapped 2 times: A 0x7ffff7fbf000, B 0x7ffff7fbf000 · refcount 2, mapcount 2/,
    );
    for (const [pid, other] of [
      [1, 'B'],
      [2, 'A'],
    ] as const) {
      const s = space(page, pid);
      expect(await s.locator('.vma.maps-frame').count()).toBe(1);
      expect(await s.locator('.vma.maps-frame').getAttribute('data-start')).toBe('0x7ffff7fbf000');
      expect(await s.locator('.frame-marker').count()).toBe(1);
      expect(await s.locator('.frame-marker').getAttribute('data-va')).toBe('0x7ffff7fbf000');
      expect(await seen(s.locator('.maps-frame-line'))).toBe(`frame 0x7 at 0x7ffff7fbf000, also in ${other}`);
    }
    // smaps in the process panel: right after fork every page of buf is shared, half of it each.
    await space(page, 2).locator('.smaps-toggle').click();
    const bBuf = space(page, 2).locator('.smaps-table tr[data-start="0x7ffff7fbf000"] td');
    expect(await bBuf.allInnerTexts()).toEqual(['256', '128', '256', '0', '256']);
    await page.screenshot({ path: join(SHOTS, 'sharing-08-fork-cow-frame.png') });

    await after(page, 'B: write buf 128K fill=238');
    const log = await seen(page.locator('.log .step.current'));
    expect(log).toContain(
      "copy-on-write: B's page 0x7ffff7fbf000 now has its own frame 0x4c, a copy of frame 0x7",
    );
    // The child's page: its own frame, mapped once, marked in B alone.
    await walk(page, 'B', '0x7ffff7fbf000');
    expect(await seen(page.locator('#frame-info'))).toMatch(
      /^frame 0x4c .* anonymous · of B · mapped at B 0x7ffff7fbf000 · refcount 1, mapcount 1$/,
    );
    expect(await space(page, 2).locator('.frame-marker').count()).toBe(1);
    expect(await space(page, 1).locator('.frame-marker').count()).toBe(0);
    expect(await seen(space(page, 2).locator('.maps-frame-line'))).toBe(
      'frame 0x4c at 0x7ffff7fbf000, here only',
    );
    // The parent's page stayed in frame 0x7, which is A's alone now: A's colour again, not the COW one.
    await clickFrame(page, 0x7);
    expect(await seen(page.locator('#frame-info'))).toMatch(
      /· anonymous · of A · mapped at A 0x7ffff7fbf000 · refcount 1, mapcount 1$/,
    );
    expect(await space(page, 1).locator('.frame-marker').count()).toBe(1);
    expect(await space(page, 2).locator('.frame-marker').count()).toBe(0);
    expect(await frameRgb(page, 0x20)).toBe('78,121,167');
    // The half B did not write is still shared (pages 32..63: frames 0x27..0x46).
    expect(await frameRgb(page, 0x30)).toBe('192,38,211');
    expect(await bBuf.allInnerTexts()).toEqual(['256', '192', '128', '128', '256']);
    await page.screenshot({ path: join(SHOTS, 'sharing-08-after-cow-break.png') });
    await page.close();
  });

  test('a shared library: one set of page-cache frames, each marked in the three processes that map it', async () => {
    const page = await open('#ex=09-shared-library');
    await after(page, 'C: fetch lib+32K');
    // The page C read: walked in C, it names its frame; selecting that frame in the grid marks it in all three.
    await walk(page, 'C', '0x7ffff7ff7000');
    const hexPfn = /^frame (0x[0-9a-f]+)/.exec(await seen(page.locator('#frame-info')))![1]!;
    await clickFrame(page, Number.parseInt(hexPfn, 16));
    expect(await seen(page.locator('#frame-info'))).toMatch(
      new RegExp(
        `^frame ${hexPfn} .* file \\(page cache\\), mapped by several · mapped 3 times: A 0x7ffff7ff7000, B 0x7ffff7ff7000, C 0x7ffff7ff7000 · refcount 4, mapcount 3$`,
      ),
    );
    for (const pid of [1, 2, 3]) {
      const s = space(page, pid);
      expect(await s.locator('.vma.maps-frame').getAttribute('data-name')).toBe('/libdemo.so');
      expect(await s.locator('.frame-marker[data-va="0x7ffff7ff7000"]').count()).toBe(1);
    }
    expect(await seen(space(page, 3).locator('.maps-frame-line'))).toBe(
      `frame ${hexPfn} at 0x7ffff7ff7000, also in A, B`,
    );
    // The 16 cached pages are drawn darker than a file page mapped once (the selected one too: its
    // ring is drawn around the cell).
    expect(await seen(page.locator('.legend-share[data-share="cache"]'))).toMatch(/mapped by several \(16\)/);
    expect(await frameRgb(page, Number.parseInt(hexPfn, 16))).toBe('111,89,21');
    await page.screenshot({ path: join(SHOTS, 'sharing-09-library-frame.png') });
    // One set of frames: another page of the library, walked in each process, is one frame.
    const frames = new Set<string>();
    for (const name of ['A', 'B', 'C']) {
      await walk(page, name, '0x7ffff7ffa000');
      const info = await seen(page.locator('#frame-info'));
      expect(info).toMatch(/mapped 3 times: A 0x7ffff7ffa000, B 0x7ffff7ffa000, C 0x7ffff7ffa000/);
      frames.add(/^frame (0x[0-9a-f]+)/.exec(info)![1]!);
    }
    expect(frames.size).toBe(1);
    await page.close();
    expect(errors).toEqual([]);
  });
});
