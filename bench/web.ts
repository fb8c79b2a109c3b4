/**
 * The browser visualizer's speed, measured in headless Chromium (the same one the e2e tests use):
 *
 * - stepping a scenario on a machine with 64 Ki frames: from the step being asked for to the frame
 *   after it was drawn, at reading pace (the worker has computed the neighbours ahead) and with a
 *   key held down (every step waits for a re-run); and the main thread's share alone (state
 *   arrival to drawn); then the same machine with a fork and a file mapped by three (sharing).
 *   Goal: under 50 ms.
 * - a trace of 10 M page accesses replayed in the worker, against `vmscope replay --policy-only`
 *   on the same file. Goal: at least half the CLI's speed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { type RunningServer, startServer } from '../src/cli/serve.js';
import { CHROMIUM, ensureBuilt, launchChromium, ROOT, WEB_ROOT } from '../test/e2e/browser.js';
import { encodeText } from '../web/src/logic/hash.js';

/** What the page's test hook offers (web/src/main.tsx); used inside the page only. */
interface Hook {
  whenSettled(): Promise<void>;
  goTo(p: number): void;
  last(): number;
  position(): number;
  ready(): boolean;
  frames(): number;
  redrawTimes(): number[];
  engineMs(): number;
  trace(): { accesses: number; ms: number; faults: number } | null;
}
type Global = { vmscope?: Hook };

/** 64 Ki frames of 4 KiB; three processes; 48 steps that each touch a little memory. */
function steppingScenario(): string {
  const lines = [
    '# bench: 64 Ki frames',
    'machine x86_64 ram=256MiB tlb=64/4',
    'spawn A code=64K data=64K bss=8M',
    'spawn B code=64K data=64K bss=8M',
    'spawn C code=64K data=64K bss=1M',
    'A: mmap big 64MiB rw-',
    'B: mmap big 32MiB rw-',
  ];
  for (let i = 0; i < 14; i++) {
    lines.push(`A: write bss+${i * 512}K 256K`);
    lines.push(`B: write big+${i * 2}M 512K`);
    lines.push(`C: read bss+${(i % 8) * 128}K 64K`);
  }
  lines.push('A: write big 8M', 'C: exit 0');
  return `${lines.join('\n')}\n`;
}

/**
 * The same machine with sharing, stepped too: A forks D (every anonymous page shared copy-on-write),
 * D writes part of it, and a 16 MiB file is mapped by three processes — the grid draws shared frames
 * apart and the view lists every mapper of each.
 */
function sharingScenario(): string {
  return `${steppingScenario().replace('# bench: 64 Ki frames', '# bench: 64 Ki frames, with sharing')}${[
    'file data.bin 16M fill=7',
    'A: fork D',
    'D: write big 2M',
    'A: mmap f 16M r-- shared file=data.bin',
    'B: mmap f 16M r-- shared file=data.bin',
    'C: mmap f 16M r-- shared file=data.bin',
    'A: read f 16M',
    'B: read f 16M',
    'D: write bss 1M',
  ].join('\n')}\n`;
}

function stats(xs: readonly number[]): { median: number; p95: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
  return { median: at(0.5), p95: at(0.95), max: s[s.length - 1] ?? Number.NaN };
}

const ms = (x: number) => `${x.toFixed(1)} ms`;

/** CPU milliseconds of the renderer's main thread in a trace (thread time of its top-level tasks). */
function mainThreadCpu(trace: Buffer): number {
  interface TraceEvent {
    ph: string;
    name: string;
    pid: number;
    tid: number;
    tdur?: number;
    args?: { name?: string };
  }
  const events = (JSON.parse(trace.toString()) as { traceEvents: TraceEvent[] }).traceEvents;
  const main = events.find(
    (e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain',
  );
  if (!main) return Number.NaN;
  let us = 0;
  for (const e of events) {
    if (
      e.ph === 'X' &&
      e.name === 'ThreadControllerImpl::RunTask' &&
      e.pid === main.pid &&
      e.tid === main.tid
    )
      us += e.tdur ?? 0;
  }
  return us / 1000;
}

/** Steps from 0 to the end; `pause` ms between steps. @returns per-step latencies. */
function stepAll(page: Page, pause: number): Promise<number[]> {
  return page.evaluate(async (pauseMs) => {
    const v = (globalThis as unknown as Global).vmscope!;
    const out: number[] = [];
    const last = v.last();
    v.goTo(0);
    await v.whenSettled();
    for (let p = 1; p <= last; p++) {
      if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
      const t0 = performance.now();
      v.goTo(p);
      await v.whenSettled();
      await new Promise((r) => setTimeout(r, 0));
      out.push(performance.now() - t0);
    }
    return out;
  }, pause);
}

async function benchStepping(browser: Browser, url: string, sharing = false): Promise<string[]> {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await page.goto(`${url}#s=${await encodeText(sharing ? sharingScenario() : steppingScenario())}`);
  await page.waitForFunction(() => (globalThis as unknown as Global).vmscope?.ready() === true, undefined, {
    timeout: 120_000,
  });
  const frames = await page.evaluate(() => (globalThis as unknown as Global).vmscope!.frames());
  const steps = await page.evaluate(() => (globalThis as unknown as Global).vmscope!.last());
  // The main thread's CPU time (not wall time: the machine may be shared) while stepping.
  await browser.startTracing(page, { categories: ['toplevel'] });
  const reading = stats(await stepAll(page, 300));
  const cpu = mainThreadCpu(await browser.stopTracing()) / steps;
  const redraw = stats(await page.evaluate(() => (globalThis as unknown as Global).vmscope!.redrawTimes()));
  const held = stats(await stepAll(page, 0));
  await page.close();
  const verdict = cpu < 50 && redraw.median < 50 ? 'ok' : 'SLOW';
  return [
    `web stepping${sharing ? ' with sharing' : ''}, ${frames} frames, ${steps} steps (${verdict}: goal < 50 ms; load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} CPUs):`,
    `  main-thread CPU per step (all work)   ${ms(cpu)}`,
    `  main thread, state arrival to drawn   median ${ms(redraw.median)}, p95 ${ms(redraw.p95)}, max ${ms(redraw.max)} (wall)`,
    `  step at reading pace (prefetched)     median ${ms(reading.median)}, p95 ${ms(reading.p95)} (wall)`,
    `  step with a key held (re-run each)    median ${ms(held.median)}, p95 ${ms(held.p95)} (wall)`,
  ];
}

/** A pages trace of `n` accesses with locality: loops over working sets that drift. */
function writePagesTrace(path: string, n: number): void {
  const chunks: string[] = [];
  let seed = 12345;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  let buf: string[] = [];
  let base = 0;
  for (let i = 0; i < n; i++) {
    if (i % 100_000 === 0) base = Math.floor(rand() * 4000);
    const r = rand();
    const page =
      r < 0.7 ? base + (i % 48) : r < 0.95 ? base + Math.floor(rand() * 512) : Math.floor(rand() * 20000);
    buf.push(String(page));
    if (buf.length === 65536) {
      chunks.push(`${buf.join('\n')}\n`);
      buf = [];
    }
  }
  if (buf.length) chunks.push(`${buf.join('\n')}\n`);
  writeFileSync(path, chunks.join(''));
}

async function replayInWorker(browser: Browser, url: string, file: string, mrc: boolean) {
  const page = await browser.newPage();
  await page.goto(url);
  await page.waitForFunction(() => (globalThis as unknown as Global).vmscope?.ready() === true);
  await page.locator('#tab-trace').click();
  if (!mrc) await page.locator('#trace-mrc').uncheck();
  const t0 = Date.now();
  await page.setInputFiles('#trace-input', file);
  await page.waitForFunction(() => (globalThis as unknown as Global).vmscope?.trace() != null, undefined, {
    timeout: 300_000,
    polling: 100,
  });
  const wall = Date.now() - t0;
  const t = await page.evaluate(() => (globalThis as unknown as Global).vmscope!.trace()!);
  await page.close();
  return { ...t, wall };
}

async function benchTrace(browser: Browser, url: string): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'vmscope-bench-'));
  try {
    const n = 10_000_000;
    const file = join(dir, 'bench.pages');
    writePagesTrace(file, n);
    const cli = (): { ms: number; faults: number } => {
      const t0 = performance.now();
      // The built CLI when there is one (no TypeScript to compile at start-up), else the sources.
      const built = join(ROOT, 'dist/cli/main.js');
      const entry = existsSync(built) ? [built] : ['--import', 'tsx', join(ROOT, 'src/cli/main.ts')];
      const args = ['replay', '--policy-only', '--policy', 'lru', '--frames', '64', '--json', file];
      const r = spawnSync(process.execPath, [...entry, ...args], {
        cwd: ROOT,
        encoding: 'utf8',
        maxBuffer: 1 << 24,
      });
      const elapsed = performance.now() - t0;
      if (r.status !== 0) throw new Error(`vmscope replay failed: ${r.stderr}`);
      return { ms: elapsed, faults: (JSON.parse(r.stdout) as { faults: number }).faults };
    };
    const c = cli();
    const plain = await replayInWorker(browser, url, file, false);
    const withMrc = await replayInWorker(browser, url, file, true);
    const rate = (count: number, t: number) => count / t / 1000;
    const cliRate = rate(n, c.ms);
    const wRate = rate(plain.accesses, plain.ms);
    const ratio = wRate / cliRate;
    if (plain.faults !== c.faults)
      throw new Error(`worker and CLI disagree: ${plain.faults} vs ${c.faults} faults`);
    return [
      `web trace replay, ${(n / 1e6).toFixed(0)} M page accesses, LRU with 64 frames (${ratio >= 0.5 ? 'ok' : 'SLOW'}: goal ≥ 0.5 × CLI):`,
      `  CLI  vmscope replay --policy-only     ${cliRate.toFixed(1)} M/s (${ms(c.ms)} including start-up)`,
      `  worker, policy only                   ${wRate.toFixed(1)} M/s (${ms(plain.ms)}; ${ratio.toFixed(2)} × CLI)`,
      `  worker, policy + exact LRU curve      ${rate(withMrc.accesses, withMrc.ms).toFixed(1)} M/s (${ms(withMrc.ms)})`,
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The browser benchmarks, as report lines (skipped without Chromium). */
export async function benchWeb(): Promise<string[]> {
  if (!existsSync(CHROMIUM)) return ['web: skipped (no /usr/bin/chromium; apt-get install chromium)'];
  ensureBuilt();
  let server: RunningServer | null = null;
  let browser: Browser | null = null;
  try {
    server = await startServer({ port: 0, root: WEB_ROOT });
    browser = await launchChromium();
    return [
      ...(await benchStepping(browser, server.url)),
      ...(await benchStepping(browser, server.url, true)),
      ...(await benchTrace(browser, server.url)),
    ];
  } finally {
    await browser?.close();
    await server?.close();
  }
}

// `node --import tsx bench/web.ts` runs it alone.
if (process.argv[1]?.endsWith('bench/web.ts')) {
  for (const line of await benchWeb()) console.log(line);
}
