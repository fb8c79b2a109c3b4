/**
 * The visualizer's state view, built in Node (the worker's share of a step): what it costs to turn a
 * 64 Ki-frame kernel into the plain data the page draws — residency, every frame's mappers, smaps —
 * against a baseline run on the same kernel in the same process: one walk of every leaf entry of
 * every address space (`forEachLeaf`), the least any view of residency must do.
 *
 * Two machines: the stepping benchmark's (three processes, private memory only), and the same with
 * sharing — A forked (every anonymous page COW-shared), the child writing part of it, and a 16 MiB
 * file mapped by three processes.
 */
import type { Kernel } from '../src/kernel/kernel.js';
import { runScenario } from '../src/sim/scenario-runner.js';
import { parseScenario } from '../src/workload/scenario/parse.js';
import { stateView } from '../web/src/engine/view-state.js';

/** The stepping benchmark's machine (bench/web.ts), run to its end. */
export function privateScenario(): string {
  const lines = [
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
  lines.push('A: write big 8M');
  return `${lines.join('\n')}\n`;
}

/** The same, with a fork whose child writes a quarter of what it shares, and one file mapped thrice. */
export function sharedScenario(): string {
  return `${privateScenario()}${[
    'file data.bin 16M fill=7',
    'A: fork D',
    'D: write big 2M',
    'A: mmap f 16M r-- shared file=data.bin',
    'B: mmap f 16M r-- shared file=data.bin',
    'C: mmap f 16M r-- shared file=data.bin',
    'A: read f 16M',
    'B: read f 16M',
    'C: read f 8M',
  ].join('\n')}\n`;
}

function kernelOf(text: string): Kernel {
  return runScenario(parseScenario('bench.vms', text)).kernel;
}

/** Best of `rounds` timings of `fn`, in ms. */
function best(rounds: number, fn: () => unknown): number {
  let min = Number.POSITIVE_INFINITY;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    fn();
    min = Math.min(min, performance.now() - t0);
  }
  return min;
}

/** The baseline: every leaf entry of every address space visited once. */
function leafWalk(k: Kernel): number {
  const ps = k.pageSize;
  let n = 0;
  const seen = new Set<object>();
  for (const p of k.processes.values()) {
    const mm = p.mm;
    if (mm === null || seen.has(mm)) continue;
    seen.add(mm);
    for (const v of mm.vmas)
      k.pageTables.forEachLeaf(mm, v.start / ps, v.end / ps, (_vpn, _ea, lo) => {
        n += lo & 1;
      });
  }
  return n;
}

export function benchWebView(): string[] {
  const lines = ["web state view (the worker's share of a step), 64 Ki frames, best of 40:"];
  for (const [name, text] of [
    ['private memory', privateScenario()],
    ['with sharing  ', sharedScenario()],
  ] as const) {
    const k = kernelOf(text);
    best(3, () => leafWalk(k) + stateView(k, 0, null).procs.length); // warm up
    const base = best(40, () => leafWalk(k));
    const view = best(40, () => stateView(k, 0, null));
    const leaves = leafWalk(k);
    lines.push(
      `  ${name}  view ${view.toFixed(1)} ms = ${(view / base).toFixed(1)} × one walk of every leaf (${base.toFixed(2)} ms, ${leaves} present)`,
    );
  }
  return lines;
}

// `node --import tsx bench/webview.ts` runs it alone.
if (process.argv[1]?.endsWith('bench/webview.ts')) {
  for (const line of benchWebView()) console.log(line);
}
