/**
 * An strace log dropped on the visualizer in headless Chromium, with the files it needs: the corpus's
 * `prog.gz` (recognised as an ELF after gunzipping, not sent to the Traces tab) and the interpreter
 * as a loose file, or the corpus's sysroot as a dropped folder (its links resolved as a chroot would).
 * Checked against the CLI's replay of the same log: the steps, the calls that agree with Linux, and
 * the maps at a step and at the end. Skipped with a notice where the corpus or Chromium is absent.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { type RunningServer, startServer } from '../../src/cli/serve.js';
import { formatMapsLine } from '../../src/report/procfs.js';
import { StraceSession } from '../../web/src/engine/strace.js';
import { corpusPath, hasCorpus, testCorpus } from '../corpus.js';
import { binaryPath, logPath, normalizeMaps, recordedMaps, replayCase } from '../sim/strace-cases.js';
import { canRunBrowser, ensureBuilt, launchChromium, ROOT, WEB_ROOT } from './browser.js';

const SHOTS = join(ROOT, 'test-output/e2e');

let server: RunningServer;
let browser: Browser;
const errors: string[] = [];

if (!canRunBrowser)
  console.warn('chromium not found at /usr/bin/chromium: the strace drop tests are skipped');

async function open(): Promise<Page> {
  const p = await browser.newPage({ viewport: { width: 1366, height: 768 } });
  p.on('pageerror', (e) => errors.push(e.message));
  p.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await p.goto(server.url);
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

function last(p: Page): Promise<number> {
  return p.evaluate('window.vmscope.last()') as Promise<number>;
}

/** The first process's VMAs as the page draws them: start-end perms name, lowest first. */
async function shownMaps(p: Page): Promise<string[]> {
  const rows = await p.locator('.space[data-pid="1"] .vma').evaluateAll((els) =>
    els.map((e) => {
      const range = e.querySelector('.vma-line2')?.textContent ?? '';
      const perms = e.querySelector('.perms')?.textContent ?? '';
      return `${range} ${perms} ${e.getAttribute('data-name') ?? ''}`.trim();
    }),
  );
  return rows.sort((a, b) => Number.parseInt(a, 16) - Number.parseInt(b, 16));
}

/** Recorded maps lines (start-end perms offset name) as the page shows them: without the offset. */
const withoutOffset = (lines: readonly string[]) =>
  lines.map((l) => {
    const [range, perms, , ...name] = l.split(' ');
    return [range, perms, ...name].join(' ').trim();
  });

/** The interpreter named as asked (a loose file carries no directory to resolve links in). */
const interpNameless = (lines: readonly string[]) =>
  lines.map((l) => l.replace(/ \S*ld-linux\S*$/, ' ld.so'));

describe.skipIf(!canRunBrowser)('an strace log dropped on the visualizer in Chromium', () => {
  beforeAll(async () => {
    if (!hasCorpus) return; // every test here reads it, and is skipped with the corpus notice
    mkdirSync(SHOTS, { recursive: true });
    ensureBuilt();
    server = await startServer({ port: 0, root: WEB_ROOT });
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  testCorpus(
    'hello-pie: the log alone says which files it needs; with prog.gz and the interpreter every call agrees',
    async () => {
      const p = await open();
      const log = logPath('hello-pie');
      await p.setInputFiles('#file-input', log);
      await expect
        .poll(() => seen(p.locator('#editor-problem')).catch(() => ''), { timeout: 30_000 })
        .toMatch(
          /drop prog \(or prog\.gz\) with the log, and for a dynamically linked program its interpreter/,
        );
      // The program gzipped as the corpus ships it, and the interpreter as a loose file.
      const interp = corpusPath('elf', 'sysroot', 'usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2');
      await p.setInputFiles('#file-input', [log, binaryPath('hello-pie'), interp]);
      // The page opened on the tour, which has steps of its own: wait for the log's verdict.
      await expect
        .poll(() => seen(p.locator('.toolbar')).catch(() => ''), { timeout: 60_000 })
        .toMatch(/agree with Linux/);
      await settled(p);
      expect(await p.locator('#editor-problem').count()).toBe(0);
      // prog.gz is a program, not a trace the Traces tab refuses.
      expect(await p.locator('#trace-problem').count()).toBe(0);
      // The steps the engine makes of this log in Node, and the calls the CLI's replay agrees on.
      const prog = new Uint8Array(gunzipSync(readFileSync(binaryPath('hello-pie'))));
      const dropped = [
        { name: 'prog', bytes: prog },
        { name: 'ld-linux-x86-64.so.2', bytes: new Uint8Array(readFileSync(interp)) },
      ];
      const run = new StraceSession('strace.txt', readFileSync(log, 'utf8'), dropped).run();
      const { summary } = replayCase('hello-pie');
      const steps = await last(p);
      expect(steps).toBe(run.steps.length);
      expect(await seen(p.locator('.toolbar'))).toContain(
        `${summary.agree}/${summary.agree} agree with Linux`,
      );
      // At the end: the maps Linux recorded at exit_group.
      await p.evaluate(`window.vmscope.goTo(${steps})`);
      await settled(p);
      expect(interpNameless(await shownMaps(p))).toEqual(
        interpNameless(withoutOffset(recordedMaps('hello-pie'))),
      );
      // At a step midway (the loader's first mprotect): what the CLI's replay has, stopped before
      // the next step's call.
      const k = run.steps.findIndex((st) => st.text.startsWith('mprotect('));
      expect(k).toBeGreaterThan(0);
      await p.evaluate(`window.vmscope.goTo(${k + 1})`);
      await settled(p);
      expect(await seen(p.locator(`#step-${k + 1}.current code`))).toMatch(/^mprotect\(/);
      const cli = replayCase('hello-pie', { stop: { line: run.steps[k + 1]!.line - 1 } });
      const expected = normalizeMaps((cli.summary.processes[0]!.maps ?? []).map(formatMapsLine).join('\n'));
      expect(expected.length).toBeGreaterThan(3);
      expect(expected).not.toEqual(recordedMaps('hello-pie'));
      expect(interpNameless(await shownMaps(p))).toEqual(interpNameless(withoutOffset(expected)));
      await p.screenshot({ path: join(SHOTS, 'strace-hello-pie.png') });
      await p.close();
    },
  );

  testCorpus(
    "mallocs-m32: the corpus's sysroot dropped as a folder resolves /lib/ld-linux.so.2 to Linux's name",
    async () => {
      const p = await open();
      await p.setInputFiles('#folder-input', corpusPath('elf', 'sysroot'));
      await expect.poll(() => seen(p.locator('.toast')).catch(() => '')).toMatch(/the folder sysroot kept/);
      await p.setInputFiles('#file-input', [logPath('mallocs-m32'), binaryPath('mallocs-m32')]);
      // The page opened on the tour, which has steps of its own: wait for the log's verdict.
      await expect
        .poll(() => seen(p.locator('.toolbar')).catch(() => ''), { timeout: 60_000 })
        .toMatch(/agree with Linux/);
      await settled(p);
      expect(await p.locator('#editor-problem').count()).toBe(0);
      const { summary } = replayCase('mallocs-m32');
      expect(await seen(p.locator('.toolbar'))).toContain(
        `${summary.agree}/${summary.agree} agree with Linux`,
      );
      await p.evaluate(`window.vmscope.goTo(${await last(p)})`);
      await settled(p);
      // Exactly the recorded maps, the interpreter under its resolved path /usr/lib32/ld-linux.so.2.
      expect(await shownMaps(p)).toEqual(withoutOffset(recordedMaps('mallocs-m32')));
      expect(errors).toEqual([]);
      await p.close();
    },
  );
});
