/**
 * Translation throughput: the MMU's TLB-hit path and its miss path (a 4-level walk in simulated
 * RAM), each as a ratio against a plain typed-array lookup loop run in the same process.
 * Goal (issue 2): the TLB-hit path within 3x of the plain loop, and no allocation per access.
 */
import { Machine } from '../src/hw/machine.js';
import { ACCESS_READ } from '../src/hw/mmu.js';
import { MAP_ANONYMOUS, MAP_PRIVATE } from '../src/kernel/errno.js';
import { Kernel } from '../src/kernel/kernel.js';
import type { Process } from '../src/kernel/process.js';
import { measure, mops, recordGoal, xorshift32 } from './harness.js';

const PAGE = 4096;

/** A process with `pages` pages of anonymous memory, all faulted in. @returns it and their base. */
function setup(pages: number, tlb: { entries: number; ways: number }) {
  const kernel = new Kernel(
    new Machine({ arch: 'x86_64', ramBytes: 256 << 20, tlbEntries: tlb.entries, tlbWays: tlb.ways }),
  );
  const proc = kernel.spawn('bench', { codeBytes: 4096, dataBytes: 0, bssBytes: 0 }) as Process;
  const base = kernel.mmap(proc, { addr: 0, len: pages * PAGE, prot: 3, flags: MAP_PRIVATE | MAP_ANONYMOUS });
  for (let i = 0; i < pages; i++) kernel.access(proc, base + i * PAGE, 1);
  kernel.switchTo(proc.mm!);
  return { kernel, proc, base };
}

/** Addresses: `count` offsets spread over `pages` pages, pseudo-random but fixed. */
function addresses(base: number, pages: number, count: number): Float64Array {
  const out = new Float64Array(count);
  const next = xorshift32(12345);
  for (let i = 0; i < count; i++) {
    const x = next();
    out[i] = base + (x % pages) * PAGE + ((x >>> 20) % PAGE);
  }
  return out;
}

export function benchTranslate(): string[] {
  const lines: string[] = [];
  const hotPages = 32; // fits a 64-entry, 4-way TLB
  const coldPages = 16384; // 64 MiB: far beyond the TLB
  const hot = setup(hotPages, { entries: 64, ways: 4 });
  const cold = setup(coldPages, { entries: 64, ways: 4 });
  const hotVa = addresses(hot.base, hotPages, 1 << 16);
  const coldVa = addresses(cold.base, coldPages, 1 << 16);

  // The ceiling: page number → frame number from a flat typed array, the same arithmetic.
  const flat = new Float64Array(1 << 20);
  for (let i = 0; i < flat.length; i++) flat[i] = (i * 7) & 0xfffff;
  const plain = measure('plain typed-array lookup', (n) => {
    let sum = 0.5;
    for (let i = 0; i < n; i++) {
      const va = hotVa[i & 0xffff]!;
      const vpn = Math.floor(va / PAGE);
      sum += flat[vpn & 0xfffff]! * PAGE + (va - vpn * PAGE);
    }
    return sum;
  });

  const mmu = hot.kernel.machine.mmu;
  hot.kernel.switchTo(hot.proc.mm!);
  const heapBefore = process.memoryUsage().heapUsed;
  const hit = measure('MMU translate, TLB hit', (n) => {
    let sum = 0.5;
    for (let i = 0; i < n; i++) sum += mmu.translate(hotVa[i & 0xffff]!, ACCESS_READ);
    return sum;
  });
  const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
  const hitRatio = mmu.tlbHits / (mmu.tlbHits + mmu.tlbMisses);

  // The batch path the full-system replay takes for runs of hits: translateRun over 8192-access
  // batches (the replay's batch size), the same addresses.
  const BATCH = 8192;
  const kinds = new Uint8Array(BATCH);
  const pfns = new Int32Array(BATCH);
  const batchVpns = hotVa.subarray(0, BATCH).map((va) => Math.floor(va / PAGE));
  let stopped = 0;
  const run = measure('MMU translateRun, TLB hits (8192 a batch)', (n) => {
    let sum = 0.5;
    for (let done = 0; done < n; done += BATCH) {
      const end = mmu.translateRun(batchVpns, kinds, pfns, 0, BATCH);
      if (end !== BATCH) stopped++;
      sum += pfns[done & (BATCH - 1)]!;
    }
    return sum;
  });
  if (stopped !== 0) throw new Error('bench: translateRun stopped short of a batch of TLB hits');

  const cmmu = cold.kernel.machine.mmu;
  cold.kernel.switchTo(cold.proc.mm!);
  cmmu.resetCounters();
  const miss = measure('MMU translate, TLB miss + 4-level walk', (n) => {
    let sum = 0.5;
    for (let i = 0; i < n; i++) sum += cmmu.translate(coldVa[i & 0xffff]!, ACCESS_READ);
    return sum;
  });
  const missRatio = cmmu.tlbMisses / (cmmu.tlbHits + cmmu.tlbMisses);
  const readsPerWalk = cmmu.pteReads / cmmu.walks;

  lines.push('translation (x86-64, 64-entry 4-way TLB)');
  lines.push(`  ${plain.name.padEnd(42)} ${mops(plain.opsPerSec).padStart(12)}   1.00x (baseline)`);
  const r1 = plain.opsPerSec / hit.opsPerSec;
  lines.push(
    `  ${hit.name.padEnd(42)} ${mops(hit.opsPerSec).padStart(12)}   ${r1.toFixed(2)}x slower  (hit ratio ${(hitRatio * 100).toFixed(1)}%; goal: within 3x ${r1 <= 3 ? 'met' : 'NOT met'})`,
  );
  recordGoal(
    'TLB-hit path (translate, one call an access) within 3x of the plain loop',
    `${r1.toFixed(2)}x`,
    r1 <= 3,
  );
  const r3 = plain.opsPerSec / run.opsPerSec;
  lines.push(
    `  ${run.name.padEnd(42)} ${mops(run.opsPerSec).padStart(12)}   ${r3.toFixed(2)}x slower  (the full-system replay's hit path; goal: within 3x ${r3 <= 3 ? 'met' : 'NOT met'})`,
  );
  recordGoal(
    "TLB-hit path (translateRun, the replay's batch path) within 3x of the plain loop",
    `${r3.toFixed(2)}x`,
    r3 <= 3,
  );
  const r2 = plain.opsPerSec / miss.opsPerSec;
  lines.push(
    `  ${miss.name.padEnd(42)} ${mops(miss.opsPerSec).padStart(12)}   ${r2.toFixed(2)}x slower  (miss ratio ${(missRatio * 100).toFixed(1)}%, ${readsPerWalk.toFixed(2)} PTE reads per walk)`,
  );
  lines.push(
    `  heap growth over ${(hit.ops * 6).toExponential(1)} TLB-hit translations: ${(heapGrowth / 1024).toFixed(0)} KiB (no allocation per access)`,
  );
  return lines;
}
