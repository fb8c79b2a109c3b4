/**
 * fork with copy-on-write: 1,000 forks of a process with 4 MiB of written private memory, each child
 * writing 64 of its pages (64 copies) and exiting. Reported as forks per second and against the
 * plain-JS ceiling of copying the 4 MiB eagerly with TypedArray.set (what fork would cost without
 * copy-on-write), run in the same process.
 */
import { Machine } from '../src/hw/machine.js';
import { MAP_ANONYMOUS, MAP_PRIVATE } from '../src/kernel/errno.js';
import { Kernel } from '../src/kernel/kernel.js';
import type { Process } from '../src/kernel/process.js';

const PAGE = 4096;
const PAGES = 1024; // 4 MiB
const FORKS = 1000;
const WRITES = 64;

export function benchFork(): string[] {
  const kernel = new Kernel(new Machine({ arch: 'x86_64', ramBytes: 64 << 20 }));
  const parent = kernel.spawn('parent', { codeBytes: 4096, dataBytes: 0, bssBytes: 0 }) as Process;
  const base = kernel.mmap(parent, {
    addr: 0,
    len: PAGES * PAGE,
    prot: 3,
    flags: MAP_PRIVATE | MAP_ANONYMOUS,
  });
  const one = new Uint8Array([1]);
  for (let i = 0; i < PAGES; i++) kernel.writeUser(parent, base + i * PAGE, one);
  const freeBefore = kernel.frames.freeFrames;
  let cows = 0;
  const t0 = performance.now();
  for (let f = 0; f < FORKS; f++) {
    const child = kernel.fork(parent);
    if (typeof child === 'number') throw new Error(`fork failed: ${child}`);
    const minBefore = kernel.status(child).minflt;
    for (let w = 0; w < WRITES; w++) kernel.writeUser(child, base + ((w * 17) % PAGES) * PAGE, one);
    cows += kernel.status(child).minflt - minBefore;
    kernel.exit(child, 0);
  }
  const dt = (performance.now() - t0) / 1000;
  if (kernel.frames.freeFrames !== freeBefore) throw new Error('fork bench: frames leaked');
  if (cows !== FORKS * WRITES) throw new Error(`fork bench: ${cows} COW faults, expected ${FORKS * WRITES}`);
  const forksPerSec = FORKS / dt;

  // The ceiling of an eager fork: copying the 4 MiB, FORKS times.
  const src = new Uint8Array(PAGES * PAGE).fill(1);
  const dst = new Uint8Array(PAGES * PAGE);
  const c0 = performance.now();
  for (let f = 0; f < FORKS; f++) dst.set(src);
  const copyDt = (performance.now() - c0) / 1000;
  return [
    'fork with copy-on-write (a 4 MiB process, 1,000 forks, 64 COW writes each)',
    `  fork + 64 COW copies + exit   ${forksPerSec.toFixed(0).padStart(8)} forks/s   ${((FORKS * WRITES) / dt / 1e3).toFixed(1)} k COW faults/s`,
    `  eager 4 MiB copy (plain JS)   ${(FORKS / copyDt).toFixed(0).padStart(8)} copies/s  ratio ${(FORKS / copyDt / forksPerSec).toFixed(2)}x the fork rate`,
  ];
}
