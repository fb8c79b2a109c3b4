/**
 * Counts in the words people read agree with their number ("1 eviction", "2 evictions") and carry
 * thousands separators, in the CLI's narration, its `show` text and the visualizer's event summary.
 */
import { describe, expect, test } from 'vitest';
import { formatStep, processNames } from '../../src/report/scenario-report.js';
import { runScenario } from '../../src/sim/scenario-runner.js';
import { parseScenario } from '../../src/workload/scenario/parse.js';
import { summarizeEvents } from '../../web/src/engine/narration.js';

function run(text: string, readTrace?: (path: string) => Uint8Array) {
  const r = runScenario(parseScenario('t.vms', text), { check: true, ...(readTrace ? { readTrace } : {}) });
  const names = processNames(r);
  return { r, text: r.steps.map((s) => formatStep(r.kernel.machine.arch, s, names)) };
}

describe('words that agree with their count', () => {
  test("show swap after one eviction reads '1 eviction, 1 page written to swap', not '1 evictions'", () => {
    const { text } = run(`machine teach16 swap=1KiB policy=fifo frames=2
spawn A code=64 data=64 bss=256
A: write bss 64
A: write bss+64 1
show swap
A: read bss 1
`);
    expect(text[3]).toContain('swap: 16 slots of 64 B, 1 in use, 15 free; policy fifo');
    expect(text[3]).toContain('since boot: 1 eviction, 1 page written to swap, 0 read back');
    // One TLB hit, no PTE read: the singular, and no "0 PTE reads" clause.
    expect(text[4]).toMatch(/read 1 byte at 0x1080 \(pa 0x[0-9a-f]+\): aa; TLB 1 hit, 0 misses\n/);
  });

  test("a scenario replay's result counts its accesses with thousands separators", () => {
    const pages = `${Array.from({ length: 1234 }, (_, i) => i % 5).join('\n')}\n`;
    const { text } = run('replay R t.pages\n', () => new TextEncoder().encode(pages));
    expect(text[0]).toMatch(/-> pid 1 replayed 1,234 accesses\n/);
  });

  test("the visualizer's summary of a long step says '1 page table allocated', and '8,192 …' with separators", () => {
    const { r } = run(`machine x86_64 ram=64MiB
spawn A
A: mmap big 32MiB rw- private
A: write big 32MiB
A: mmap m 2MiB rw- private
A: write m 2MiB
`);
    const arch = r.kernel.machine.arch;
    const big = summarizeEvents(r.steps[2]!.events, arch);
    expect(big).toContain('8,192 minor page faults (zero-fill)');
    expect(big).toContain('8,192 frames allocated (anon)');
    const small = summarizeEvents(r.steps[4]!.events, arch);
    expect(small).toContain('512 minor page faults (zero-fill)');
    expect(small).toContain('1 page table allocated (PT)');
    for (const line of [...big, ...small]) expect(line).not.toMatch(/events?$|^1 \S+ \S*s\b/);
  });
});
