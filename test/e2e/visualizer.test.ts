/**
 * The visualizer in headless Chromium, served by `vmscope serve`: load it, run examples, step
 * back and forth, select a frame and an address, and check what each view shows. Screenshots go
 * to test-output/e2e/. Skipped only where Chromium is absent and CI is not set.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type RunningServer, startServer } from '../../src/cli/serve.js';
import { CORPUS, testCorpus } from '../corpus.js';
import { canRunBrowser, ensureBuilt, launchChromium, ROOT, WEB_ROOT } from './browser.js';

const SHOTS = join(ROOT, 'test-output/e2e');

let server: RunningServer;
let browser: Browser;
let page: Page;
const external: string[] = [];
const errors: string[] = [];

async function open(hash = ''): Promise<Page> {
  const p = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  p.on('request', (r) => {
    const url = r.url();
    if (!url.startsWith(server.url) && !url.startsWith('data:') && !url.startsWith('blob:'))
      external.push(url);
  });
  p.on('pageerror', (e) => errors.push(e.message));
  p.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await p.goto(`${server.url}${hash}`);
  await p.waitForFunction(() => (globalThis as unknown as Global).vmscope?.ready() === true);
  await settled(p);
  return p;
}

/** The text a person sees in an element (layout-aware, unlike textContent). */
function seen(l: Locator): Promise<string> {
  // biome-ignore lint/performance/useDomNodeTextContent: Playwright's innerText is the rendered text we check
  return l.innerText();
}

/** The page's test hook (see web/src/main.tsx); runs inside the page, so it must stand alone. */
interface Hook {
  ready(): boolean;
  position(): number;
  last(): number;
}
type Global = { vmscope?: Hook };

function settled(p: Page): Promise<unknown> {
  return p.evaluate('window.vmscope.whenSettled()');
}

async function positionText(p: Page): Promise<string> {
  return (await seen(p.locator('#position-label'))).replace(/\s+/g, ' ');
}

async function shot(p: Page, name: string): Promise<void> {
  await p.screenshot({ path: join(SHOTS, `${name}.png`), animations: 'disabled' });
}

/**
 * Text a person cannot read whole: an element whose text is wider than its box, or that runs out of
 * the box that clips it (screen-reader-only labels aside), and the example menu's chosen label.
 */
function cutText(p: Page): Promise<string[]> {
  return p.evaluate(`(() => {
        const out = [];
        for (const e of document.querySelectorAll('.app *')) {
          if (e.closest('.sr') || e.offsetParent === null) continue;
          if (![...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim() !== '')) continue;
          const cs = getComputedStyle(e);
          if (cs.overflowX === 'auto' || cs.overflowX === 'scroll') continue;
          if (cs.overflowX !== 'visible' && e.scrollWidth > e.clientWidth + 1) {
            out.push(e.className + ': ' + e.textContent.slice(0, 60));
            continue;
          }
          let a = e.parentElement;
          while (a && getComputedStyle(a).overflowX === 'visible' && !getComputedStyle(a).contain.includes('strict')) a = a.parentElement;
          if (!a || ['auto', 'scroll'].includes(getComputedStyle(a).overflowX)) continue;
          const r = e.getBoundingClientRect(), b = a.getBoundingClientRect();
          if (r.width > 0 && r.right > b.right + 1) out.push(e.className + ' (out of ' + a.className + '): ' + e.textContent.slice(0, 60));
        }
        // The example menu: its chosen label must fit the box.
        const sel = document.querySelector('#example-select');
        const g = document.createElement('canvas').getContext('2d');
        g.font = getComputedStyle(sel).font;
        const label = sel.options[sel.selectedIndex].text;
        if (g.measureText(label).width > sel.clientWidth - 20) out.push('example menu: ' + label);
        return out;
      })()`) as Promise<string[]>;
}

/**
 * What runs off the screen sideways: the page scrolling horizontally, a panel or a toolbar item
 * past the viewport's right edge, and a toolbar wrapped to a second row (it moved every panel).
 */
function overflow(p: Page): Promise<string[]> {
  return p.evaluate(`(() => {
    const out = [];
    const w = window.innerWidth;
    if (document.documentElement.scrollWidth > w) out.push('page scrolls sideways to ' + document.documentElement.scrollWidth);
    const bar = document.querySelector('.toolbar');
    const first = bar.firstElementChild.getBoundingClientRect();
    for (const e of bar.children) {
      const r = e.getBoundingClientRect();
      if (r.width > 0 && r.top >= first.bottom) out.push('toolbar wraps at ' + (e.className || e.tagName));
      if (r.right > w + 1) out.push('toolbar item past the edge: ' + (e.className || e.tagName));
    }
    for (const e of document.querySelectorAll('.panel')) {
      const r = e.getBoundingClientRect();
      if (r.right > w + 1) out.push(e.className + ' ends at ' + Math.round(r.right));
    }
    return out;
  })()`) as Promise<string[]>;
}

/** Steps and waits for the view to catch up. */
async function press(p: Page, key: string, times = 1): Promise<void> {
  for (let i = 0; i < times; i++) await p.keyboard.press(key);
  await settled(p);
}

describe.skipIf(!canRunBrowser)('the visualizer in Chromium', () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    ensureBuilt();
    server = await startServer({ port: 0, root: WEB_ROOT });
    browser = await launchChromium();
    page = await open();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  test('opens on the bundled tour at its first step, not its emptied end, with every view drawn', async () => {
    // Run and choosing an example jumped to the last step: now they open at the first statement.
    expect(await positionText(page)).toMatch(/^step 1\/26 line \d+/);
    await expect.poll(() => page.locator('#example-select').inputValue()).toBe('tour');
    const a = page.locator('.space[data-pid="1"]');
    await expect.poll(() => seen(a.locator('.space-head'))).toMatch(/A\s+pid 1/);
    expect(await a.locator('.vma[data-name="[stack]"]').count()).toBe(1);
    // The walk follows the page the new process's first fault filled: its stack.
    expect(await seen(page.locator('.walk-panel h2'))).toMatch(/following the step/);
    expect(await page.locator('.walk-level').count()).toBe(4);
    expect(await seen(page.locator('#frame-info'))).toMatch(/anonymous · of A/);
    await shot(page, '01-tour-start');
    await press(page, 'End');
    expect(await positionText(page)).toMatch(/^step 26\/26 line \d+/);
    expect(await a.locator('.vma[data-name="[heap]"]').count()).toBe(1);
    // B was killed by its write to a read-only page: its space says so.
    expect(await seen(page.locator('.space[data-pid="2"] .space-head'))).toMatch(/killed: SIGSEGV/);
    expect(await page.locator('.walk-level').count()).toBe(4);
    const box = await page.locator('#frames-canvas').boundingBox();
    expect(box?.width).toBeGreaterThan(100);
    expect(await seen(page.locator('#tlb-stats'))).toMatch(/since boot: [\d,]+ hits?, [\d,]+ miss(es)?/);
    await page.locator('#tab-time').click();
    // The chart draws once its tab is shown and its series have arrived: wait for that, not a moment.
    await expect.poll(() => page.locator('#chart-faults canvas').count()).toBeGreaterThan(0);
    await page.locator('#tab-tlb').click();
    expect(await page.locator('.log .step').count()).toBe(27);
    await shot(page, '01-tour-end');
  });

  test('an example one click away; Home, arrows and End move in time, and every view follows', async () => {
    await page.selectOption('#example-select', '02-paging');
    await page.waitForFunction(() => {
      const h = (globalThis as unknown as Global).vmscope;
      return h !== undefined && h.last() > 1 && h.position() === 1;
    });
    await settled(page);
    const last = Number(await page.evaluate('window.vmscope.last()'));
    expect(await positionText(page)).toContain(`step 1/${last}`);

    await press(page, 'Home');
    expect(await positionText(page)).toMatch(/^step 0\/\d+ boot/);
    expect(await seen(page.locator('.spaces'))).toMatch(/No process yet/);
    expect(await seen(page.locator('.log .step.current'))).toMatch(/boot: teach16, 256 frames of 64 bytes/);

    await press(page, 'ArrowRight'); // spawn A
    expect(await page.locator('.space[data-pid="1"]').count()).toBe(1);
    expect(await seen(page.locator('.log .step.current'))).toContain('spawn A code=128 data=64 bss=256');
    // The walk follows the page the new process's first fault filled (its stack), not nothing.
    expect(await seen(page.locator('.walk-panel h2'))).toMatch(/0xff[0-9a-f]+\s+following the step/);

    await press(page, 'ArrowRight'); // A: write bss 1
    const current = await seen(page.locator('.log .step.current'));
    expect(current).toContain('A: write bss 1');
    expect(current).toMatch(/demand-zero fill/);
    expect(current).toMatch(/new page table: PT at frame/);
    expect(await seen(page.locator('.ln.current'))).toContain('A: write bss 1');
    // The walk shows the address just written, through both levels, to a physical address.
    const walk = await seen(page.locator('.walk'));
    expect(walk).toMatch(/PD\s+table in frame/);
    expect(walk).toMatch(/PT\s+table in frame/);
    expect(walk).toMatch(/⇒ physical address 0x[0-9a-f]+/);
    expect(await page.locator('.va-marker').count()).toBe(1);
    await shot(page, '02-paging-first-fault');

    await press(page, 'ArrowLeft');
    expect(await positionText(page)).toMatch(/^step 1\//);
    await press(page, 'ArrowRight', 3);
    expect(await positionText(page)).toMatch(/^step 4\//);
    await press(page, 'End');
    expect(await positionText(page)).toContain(`step ${last}/${last}`);
    // Clicking a line number goes to the state after that line.
    await page
      .locator('.gutter .stmt', { hasText: /^\s*22$/ })
      .first()
      .click();
    await settled(page);
    expect(await seen(page.locator('.ln.current'))).toContain('A: write bss+64 1');
  });

  test('selecting a frame shows who maps it, the walk that reaches it, and its TLB entry', async () => {
    const canvas = page.locator('#frames-canvas');
    const cols = Number(await canvas.getAttribute('data-cols'));
    const cell = Number(await canvas.getAttribute('data-cell'));
    const walkText = await seen(page.locator('.walk-result'));
    const pa = Number.parseInt(/physical address (0x[0-9a-f]+)/.exec(walkText)![1]!, 16);
    const pfn = Math.floor(pa / 64);
    await canvas.click({
      position: { x: (pfn % cols) * cell + cell / 2, y: Math.floor(pfn / cols) * cell + cell / 2 },
    });
    await settled(page);
    const info = await seen(page.locator('#frame-info'));
    expect(info).toContain(`frame 0x${pfn.toString(16)}`);
    expect(info).toMatch(/anonymous · of A · mapped at A 0x[0-9a-f]+/);
    expect(await seen(page.locator('.walk-panel h2'))).not.toMatch(/following the step/);
    expect(await seen(page.locator('.walk-result'))).toContain(`frame 0x${pfn.toString(16)}`);
    // The TLB table marks the entry once the state for the selection has been drawn.
    await expect.poll(() => page.locator('.tlb-table td.hit').count()).toBe(1);
    await expect.poll(() => page.locator('.events li.hit').count()).toBeGreaterThan(0);
    await shot(page, '03-frame-selected');
  });

  test('typing an address walks it; an unmapped one says why there is no translation', async () => {
    await page.keyboard.press('a');
    await page.keyboard.type('0x4000');
    await page.keyboard.press('Enter');
    await settled(page);
    const walk = await seen(page.locator('.walk'));
    expect(walk).toMatch(/no VMA holds this address/);
    expect(walk).toMatch(/not present/);
    await page.locator('#address-input').fill('0x1100');
    await page.keyboard.press('Enter');
    await settled(page);
    expect(await seen(page.locator('.walk-panel h2'))).toContain('0x1100');
    expect(await seen(page.locator('.walk'))).toMatch(/the address is in/);
    await page.keyboard.press('Escape'); // leave the field
    await page.keyboard.press('Escape'); // clear the selection: the walk follows the step again
    await settled(page);
    expect(await seen(page.locator('.walk-panel h2'))).toMatch(/following the step/);
  });

  test('the URL holds the example, the step and the address; opening it restores them', async () => {
    await page
      .locator('.space[data-pid="1"] .residency-hit')
      .first()
      .click({ position: { x: 5, y: 3 } });
    await settled(page);
    const walked = /A (0x[0-9a-f]+)/.exec(await seen(page.locator('.walk-panel h2')))![1]!;
    await expect.poll(() => page.evaluate('location.hash')).toContain(`a=1:${walked}`);
    const hash = await page.evaluate('location.hash');
    expect(hash).toMatch(/^#ex=02-paging&p=\d+&a=1:0x[0-9a-f]+$/);
    const again = await open(String(hash));
    expect(await positionText(again)).toBe(await positionText(page));
    expect(await seen(again.locator('.walk-panel h2'))).toBe(await seen(page.locator('.walk-panel h2')));
    await again.close();
  });

  test('an error in the editor is underlined at its line and column, with a suggestion', async () => {
    const editor = page.locator('#editor-text');
    const original = await editor.inputValue();
    await editor.click();
    await page.keyboard.press('Control+End');
    await page.keyboard.type('\nA: wrte bss 1');
    await expect
      .poll(() => seen(page.locator('#editor-problem')).catch(() => ''))
      .toMatch(/line 33:4 unknown operation 'wrte'.*did you mean 'write'/);
    expect(await seen(page.locator('.ln.error .err'))).toBe('wrte');
    expect(await seen(page.locator('.editor-panel h2'))).toMatch(/edited/);
    await shot(page, '04-editor-error');
    // A stale run keeps showing; fixing the text and running clears the error.
    await editor.fill(original);
    await page.keyboard.press('Control+Enter');
    await page.locator('#busy').waitFor({ state: 'detached' });
    await settled(page);
    await expect.poll(() => page.locator('#editor-problem').count()).toBe(0);
  });

  test('Run plays forward from the first step', async () => {
    await page.selectOption('#example-select', '03-permissions');
    await page.waitForFunction(() => (globalThis as unknown as Global).vmscope?.position() === 1);
    await page.locator('#run').click();
    await page.waitForFunction(
      () => ((globalThis as unknown as Global).vmscope?.position() ?? 0) > 2,
      undefined,
      { timeout: 15_000 },
    );
    await page.locator('#play').click(); // pause
    const at = Number(await page.evaluate('window.vmscope.position()'));
    await page.waitForTimeout(700);
    expect(Number(await page.evaluate('window.vmscope.position()'))).toBe(at);
  });

  testCorpus(
    'dropping an x86-64 ELF while a teach16 example is open opens a fresh x86-64 scenario for it',
    async () => {
      const bin = join(SHOTS, 'hello');
      writeFileSync(bin, gunzipSync(readFileSync(join(CORPUS, 'elf/hello-static/prog.gz'))));
      await page.selectOption('#example-select', '02-paging');
      await page.waitForFunction(() => (globalThis as unknown as Global).vmscope?.position() === 1);
      await settled(page);
      await page.setInputFiles('#file-input', bin);
      await expect
        .poll(() => page.locator('#editor-text').inputValue())
        .toMatch(
          /^# hello, dropped from your disk: an x86_64 machine of its own.*\nmachine x86_64\nexec P1 hello\nshow P1 maps\n$/,
        );
      await expect
        .poll(() => seen(page.locator('.toast')))
        .toMatch(/^hello needs an x86_64 machine: opened a new scenario for it/);
      await page.locator('.space-head b', { hasText: /^P1$/ }).waitFor();
      const last = Number(await page.evaluate('window.vmscope.last()'));
      expect(await positionText(page)).toContain(`step ${last}/${last}`);
      expect(await page.locator('#editor-problem').count()).toBe(0);
      // Back returns to the teach16 example.
      await page.goBack();
      await expect.poll(() => page.locator('#example-select').inputValue()).toBe('02-paging');
    },
  );

  testCorpus(
    'a real ELF from disk is exec-ed: the scenario gains an exec line and its maps appear',
    async () => {
      const bin = join(SHOTS, 'hello');
      writeFileSync(bin, gunzipSync(readFileSync(join(CORPUS, 'elf/hello-static/prog.gz'))));
      await page.selectOption('#example-select', '01-loading');
      await page.waitForFunction(() => ((globalThis as unknown as Global).vmscope?.last() ?? 0) > 0);
      await settled(page);
      await page.setInputFiles('#file-input', bin);
      await expect
        .poll(() => page.locator('#editor-text').inputValue())
        .toMatch(/exec P1 hello\nshow P1 maps/);
      await page.locator('.space-head b', { hasText: /^P1$/ }).waitFor();
      await settled(page);
      // The view moves to the new step (a second ELF was added as step 30 while it stayed on 28).
      const last = Number(await page.evaluate('window.vmscope.last()'));
      expect(await positionText(page)).toContain(`step ${last}/${last}`);
      await expect.poll(() => seen(page.locator('.toast'))).toBe('hello added as process P1');
      const p1 = page.locator('.space', { has: page.locator('.space-head b', { hasText: /^P1$/ }) });
      const names = await p1
        .locator('.vma')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-name')));
      expect(names).toEqual(
        expect.arrayContaining(['hello', '', '[vdso]', '[vvar]', '[stack]', '[vsyscall]']),
      );
      expect(await cutText(page)).toEqual([]);
      await shot(page, '05-elf');
    },
  );

  testCorpus(
    'a gzip trace from disk is streamed through the worker: counts and the LRU miss-ratio curve',
    async () => {
      await page.locator('#tab-trace').click();
      await page.setInputFiles('#trace-input', join(CORPUS, 'memtrace/memwalk.pages.gz'));
      await page.waitForSelector('#trace-summary', { timeout: 30_000 });
      const summary = await seen(page.locator('#trace-summary'));
      expect(summary).toContain('1,432,569 page accesses');
      expect(summary).toContain('1,186 distinct pages');
      expect(summary).toMatch(/lru with 64 frames: [\d,]+ faults/);
      expect(await page.locator('#chart-mrc canvas').count()).toBeGreaterThan(0);
      await shot(page, '06-trace');
    },
  );

  testCorpus(
    "the trace tab draws any chosen policies' curves, OPT included, computed in the worker",
    async () => {
      await page.locator('.curve-choice input[data-policy="opt"]').check();
      await page.locator('.curve-choice input[data-policy="fifo"]').check();
      await page.locator('#trace-again').click();
      await expect
        .poll(() => seen(page.locator('.chart-title').filter({ hasText: 'Miss ratio' })), { timeout: 60_000 })
        .toMatch(/\(lru, opt, fifo;/);
      const keys = await page.locator('#chart-mrc').locator('..').locator('.chart-key').allInnerTexts();
      expect(keys.map((k) => k.trim())).toEqual(['lru', 'opt', 'fifo']);
      await expect.poll(() => page.locator('#chart-mrc canvas').count()).toBeGreaterThan(0);
      expect(await cutText(page)).toEqual([]);
      await shot(page, '06-trace-curves');
      await page.locator('.curve-choice input[data-policy="opt"]').uncheck();
      await page.locator('.curve-choice input[data-policy="fifo"]').uncheck();
    },
  );

  test('a lackey trace replays with its own 4 KiB pages, whatever scenario is open, and says so', async () => {
    const lackey = join(SHOTS, 'small.lackey');
    const lines = Array.from({ length: 64 }, (_, i) => ` L ${(0x400000 + i * 64).toString(16)},8`);
    writeFileSync(lackey, `${lines.join('\n')}\n`);
    await page.selectOption('#example-select', '02-paging'); // 64-byte pages
    await page.waitForFunction(() => (globalThis as unknown as Global).vmscope?.position() === 1);
    await page.locator('#tab-trace').click();
    await page.setInputFiles('#trace-input', lackey);
    await expect.poll(() => seen(page.locator('#trace-summary')).catch(() => '')).toMatch(/small\.lackey/);
    const summary = await seen(page.locator('#trace-summary'));
    expect(summary).toMatch(/valgrind lackey, split into 4 KiB pages/);
    expect(summary).toMatch(/64 page accesses, 1 distinct pages \(4 KiB\)/);
    expect(summary).toMatch(/64 frames = 256 KiB: 1 fault /);
    // The page size can be changed: with 64-byte pages every access is a new page.
    await page.selectOption('#trace-page-size', '64');
    await page.locator('#trace-again').click();
    await expect
      .poll(() => seen(page.locator('#trace-summary')).catch(() => ''))
      .toMatch(/64 frames = 4 KiB: 64 faults/);
    await page.selectOption('#trace-page-size', '4096');
  });

  testCorpus(
    'dropping a malloc trace (.rep) shows it in a view of its own: extent vs live bytes, fragmentation, free lists',
    async () => {
      await page.setInputFiles('#file-input', join(CORPUS, 'alloc/ls-l/ls.rep'));
      await page.waitForSelector('#alloc-summary', { timeout: 60_000 });
      expect(await seen(page.locator('#alloc-summary'))).toMatch(
        /ls\.rep \(malloc-lab trace\): 2,878 operations/,
      );
      expect(await page.locator('.alloc-table tbody tr').count()).toBe(8);
      // No stale chart of the previous memory trace, no error.
      expect(await page.locator('#trace-summary').count()).toBe(0);
      expect(await page.locator('#trace-problem').count()).toBe(0);
      await expect.poll(() => page.locator('#chart-alloc canvas').count()).toBeGreaterThan(0);
      await expect
        .poll(() => seen(page.locator('#heap-view')).catch(() => ''))
        .toMatch(/binned after 2,878 operations of 2,878/);
      // The heap at a chosen step: its free list, in the allocator's order.
      await page.selectOption('#heap-allocator', 'first-fit');
      await page.locator('#heap-op').fill('1000');
      await expect.poll(() => seen(page.locator('#heap-view'))).toMatch(/first-fit after 1,000 operations/);
      expect(await page.locator('#free-list li').count()).toBeGreaterThan(0);
      await expect
        .poll(() => seen(page.locator('.toast')))
        .toMatch(/an allocation trace, replayed through every allocator/);
      expect(await cutText(page)).toEqual([]);
      await shot(page, '06-alloc');
    },
  );

  test('a file that is no trace is refused in words, with no success toast and no stale result', async () => {
    await page.evaluate("document.querySelector('.toast')?.remove()");
    const bad = join(SHOTS, 'broken.rep');
    writeFileSync(bad, '10\n2\n3\n1\na 0 10\nx 1\nf 0\n');
    await page.setInputFiles('#file-input', bad);
    await expect
      .poll(() => seen(page.locator('#trace-problem')).catch(() => ''))
      .toMatch(/broken\.rep:6:1: error: unknown operation 'x'/);
    expect(await page.locator('#alloc-summary').count()).toBe(0);
    expect(await page.locator('#trace-summary').count()).toBe(0);
    expect(await page.locator('.toast').count()).toBe(0);
    const strace = join(SHOTS, 'prog.strace');
    writeFileSync(
      strace,
      '7801  execve("/p", ["/p"], []) = 0\n7801  brk(NULL)                         = 0x555555559000\n',
    );
    // An strace log opens in the editor as a replay; without its program it says which file to drop.
    await page.setInputFiles('#file-input', strace);
    await expect
      .poll(() => seen(page.locator('#editor-problem')).catch(() => ''))
      .toMatch(
        /cannot load the program \/p: \/p: not among the files dropped on the page: drop p \(or p\.gz\) with the log/,
      );
    await page.locator('#tab-tlb').click();
  });

  test('swap: evicted pages go to swap slots; the strip and the Swap tab show them', async () => {
    await page.selectOption('#example-select', '06-reclaim-and-swap');
    await page.waitForFunction(() => {
      const h = (globalThis as unknown as Global).vmscope;
      return h !== undefined && h.last() > 1 && h.position() === 1;
    });
    await page
      .locator('.gutter .stmt', { hasText: /^\s*15$/ })
      .first()
      .click(); // A: write bss 512
    await settled(page);
    expect(await seen(page.locator('.log .step.current'))).toMatch(/to swap slot \d+/);
    expect(await seen(page.locator('.space[data-pid="1"]'))).toMatch(/in swap/);
    await page.locator('#tab-swap').click();
    expect(await seen(page.locator('#swap-stats'))).toMatch(/32 slots of 64 bytes · [1-9]\d* used/);
    // Each used slot says whose page it holds, and a click walks that page.
    const holder = page.locator('#swap-holders li button').first();
    expect(await seen(holder)).toMatch(/^A 0x[0-9a-f]+$/);
    await holder.click();
    await settled(page);
    expect(await seen(page.locator('.walk-panel h2'))).not.toMatch(/following the step/);
    await shot(page, '07-swap');
  });

  test('a long run keeps the page responsive, and Stop ends it', async () => {
    const editor = page.locator('#editor-text');
    await editor.fill('machine x86_64 ram=1GiB\nspawn A\nA: mmap m 768MiB rw-\nA: write m 768MiB\n');
    await page.locator('#run').click();
    await page.locator('#busy').waitFor();
    // The worker is busy for seconds; the page answers at once.
    const t0 = Date.now();
    await page.keyboard.press('?');
    await page.locator('.help').waitFor();
    expect(Date.now() - t0).toBeLessThan(1000);
    await page.keyboard.press('Escape');
    await page.locator('#busy button').click();
    await expect.poll(() => page.locator('#busy').count()).toBe(0);
  });

  test('a laptop screen (1366 × 768) shows every view', async () => {
    await page.setViewportSize({ width: 1366, height: 768 });
    await page.locator('#tab-time').click();
    for (const sel of [
      '.editor-panel',
      '.log-panel',
      '.space-panel',
      '.frames-panel',
      '.walk-panel',
      '.charts-panel',
    ]) {
      const b = await page.locator(sel).boundingBox();
      expect(b, sel).not.toBeNull();
      expect(b!.y + b!.height, sel).toBeLessThanOrEqual(768 + 1);
      expect(b!.height, sel).toBeGreaterThan(120);
    }
    await shot(page, '08-laptop');
  });

  test.each([
    [1366, 768, 'every example'],
    [1920, 1080, 'three examples'],
  ])(
    'the first screen at %i × %i (%s) shows something, and no text is cut',
    async (width, height, which) => {
      const p = await open();
      await p.setViewportSize({ width, height });
      const names = await p
        .locator('#example-select option')
        .evaluateAll((os) =>
          os.map((o) => (o as unknown as { value: string }).value).filter((v) => v !== ''),
        );
      expect(names.length).toBeGreaterThanOrEqual(8);
      // Every example on a laptop; on a large screen three shapes (x86-64, a teaching machine, swap).
      const chosen = which === 'every example' ? names : ['tour', '02-paging', '06-reclaim-and-swap'];
      for (const name of chosen) {
        await p.selectOption('#example-select', name);
        await p.waitForFunction(
          (n) => {
            const h = (globalThis as unknown as Global).vmscope;
            const hash = (globalThis as unknown as { location: { hash: string } }).location.hash;
            return h !== undefined && h.last() > 0 && h.position() === 1 && hash.includes(`ex=${n}`);
          },
          name,
          { timeout: 20_000 },
        );
        await settled(p);
        // Something on every view: a process, its walk, frames in use.
        expect(await p.locator('.space').count(), name).toBeGreaterThan(0);
        await expect.poll(() => p.locator('.walk-level').count(), { message: name }).toBeGreaterThan(0);
        expect(await seen(p.locator('.frames-panel h2')), name).toMatch(/[1-9]\d* anon|page tables/);
        // No text cut by its box: an element whose text is wider than it is, or that runs out of the
        // box that clips it (screen-reader-only labels aside).
        const cut = await cutText(p);
        expect(cut, `${name} at ${width}×${height}`).toEqual([]);
        await shot(p, `first-${name}-${width}x${height}`);
        if (which === 'every example') {
          // A smaller laptop: the toolbar stays one row and no panel runs off the screen's side.
          await p.setViewportSize({ width: 1280, height: 720 });
          await settled(p);
          expect(await overflow(p), `${name} at 1280×720`).toEqual([]);
          expect(await cutText(p), `${name} at 1280×720`).toEqual([]);
          await shot(p, `first-${name}-1280x720`);
          await p.setViewportSize({ width, height });
        }
      }
      await p.close();
    },
    120_000,
  );

  test('no request left the page for anywhere but its own server, and nothing failed', () => {
    expect(external).toEqual([]);
    expect(errors).toEqual([]);
  });
});
