/**
 * The OSTEP page in Chromium: `vmscope ostep … --open` gives a URL whose page shows the problem as
 * the CLI prints it and steps through the answers with the explanation and a picture of the state.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { bufferIo } from '../../src/cli/io.js';
import { nodeHost, ostepPagePath, parseOstepCommand, runOstep } from '../../src/cli/ostep.js';
import { type RunningServer, startServer } from '../../src/cli/serve.js';
import { canRunBrowser, ensureBuilt, launchChromium, ROOT, WEB_ROOT } from './browser.js';

const SHOTS = join(ROOT, 'test-output', 'screenshots');
let server: RunningServer;
let browser: Browser;

async function cli(args: string[]): Promise<string> {
  const io = bufferIo();
  await runOstep(args, io, { ...nodeHost(), columns: 80 });
  return io.stdout;
}

async function openPage(args: string[]): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(server.url + ostepPagePath(parseOstepCommand(args)!));
  await page.locator('pre.out').first().waitFor();
  return page;
}

describe.skipIf(!canRunBrowser)('the OSTEP page in Chromium', () => {
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

  test('paging-policy: the problem as the CLI prints it, then one access per step with its frames', async () => {
    const args = ['paging-policy', '-s', '0', '-n', '6', '-p', 'FIFO', '-C', '2'];
    const page = await openPage(args);
    expect(await page.locator('pre.out').first().textContent()).toBe(await cli(args));
    for (let i = 0; i < 4; i++) await page.keyboard.press('ArrowRight');
    expect(await page.evaluate('window.vmscopeOstep.step()')).toBe(4);
    const solved = (await cli([...args, '-c'])).split('\n').filter((l) => l.startsWith('Access: '));
    expect(String(await page.evaluate('window.vmscopeOstep.answer()')).trim()).toBe(solved[3]);
    expect(await page.locator('[data-view="memory"] .frame').count()).toBe(2);
    expect(await page.locator('.why li').count()).toBeGreaterThan(0);
    await page.screenshot({ path: join(SHOTS, 'ostep-paging-policy.png') });
    await page.close();
  });

  test('paging-multilevel-translate: the walk, level by level, and End jumps to the last answer', async () => {
    const page = await openPage(['paging-multilevel-translate', '-s', '1', '-n', '4']);
    await page.keyboard.press('End');
    expect(await page.evaluate('window.vmscopeOstep.step()')).toBe(4);
    expect(await page.locator('[data-view="walk"] li').count()).toBeGreaterThanOrEqual(1);
    await page.screenshot({ path: join(SHOTS, 'ostep-multilevel.png') });
    await page.close();
  });

  test('a command typed in the box runs; an unknown script is named', async () => {
    const page = await openPage(['malloc', '-n', '4']);
    await page.locator('input[aria-label="command"]').fill('nosuch -s 1');
    await page.locator('button[type="submit"]').click();
    await expect.poll(() => page.locator('.error').textContent()).toContain("unknown script 'nosuch'");
    await page.locator('input[aria-label="command"]').fill('malloc -s 2 -n 3');
    await page.locator('button[type="submit"]').click();
    // The key handler counts the steps of the session it was made with: press only once the new
    // session is drawn (the error's had none), and count blocks once the step is shown.
    await page.locator('pre.out').first().waitFor();
    await expect.poll(() => page.evaluate('window.vmscopeOstep.steps()')).toBeGreaterThan(0);
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => page.evaluate('window.vmscopeOstep.step()')).toBe(1);
    await expect.poll(() => page.locator('[data-view="heap"] .block').count()).toBeGreaterThan(0);
    await page.close();
  });
});
