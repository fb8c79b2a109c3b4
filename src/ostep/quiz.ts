/**
 * `vmscope quiz TOPIC -s SEED [-c]`: seeded problems in the style of OSTEP's homework, on topics its
 * scripts lack, answered (with `-c`) by vmscope's real modules rather than by a formula:
 *
 * - `tlb`: TLB hits and misses for a reference string, given the TLB's size and associativity —
 *   answered by the hardware TLB (`hw/tlb.ts`: sets chosen by the low VPN bits, LRU in a set).
 * - `mmap`: where Linux puts anonymous mmaps (top-down from mmap_base, reusing holes) and what
 *   brk returns — answered by the kernel (`kernel/mmap.ts`, `kernel/brk.ts`) on a spawned process.
 *
 * The generator is CPython's (`PyRandom`), so a seed is as portable as the homework's.
 */
import { Machine } from '../hw/machine.js';
import { Tlb } from '../hw/tlb.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../kernel/errno.js';
import { Kernel } from '../kernel/kernel.js';
import { PyRandom } from '../kernel/reclaim/pyrandom.js';

export interface QuizOptions {
  readonly seed: number;
  readonly solve: boolean;
}

export interface QuizTopic {
  readonly name: string;
  readonly summary: string;
  /** @returns the problem (and with `solve` its answers) as text. */
  make(options: QuizOptions): string;
}

const hex = (n: number) => `0x${n.toString(16)}`;

const tlb: QuizTopic = {
  name: 'tlb',
  summary: 'TLB hits and misses for a reference string, for a TLB size and associativity',
  make({ seed, solve }) {
    const rng = new PyRandom(seed);
    const entries = rng.choice([4, 8]);
    const ways = rng.choice([1, 2, entries]);
    const pageSize = rng.choice([256, 1024, 4096]);
    const pages = rng.randint(entries + 1, entries * 2 + 2);
    // A working set of a few pages, walked with some locality.
    const vpns = Array.from({ length: pages }, () => rng.randrange(0, 64));
    const refs: number[] = [];
    let at = 0;
    for (let i = 0; i < 16; i++) {
      at = rng.random() < 0.6 ? (at + 1) % pages : rng.randrange(0, pages);
      refs.push(vpns[at]! * pageSize + rng.randrange(0, pageSize));
    }
    const sets = entries / ways;
    const shape =
      ways === entries ? 'fully associative' : ways === 1 ? 'direct-mapped' : `${ways}-way set-associative`;
    const lines = [
      `ARG seed ${seed}`,
      '',
      `A TLB of ${entries} entries, ${shape} (${sets} set${sets > 1 ? 's' : ''}; a page's set is VPN mod ${sets}),`,
      `replacing the least recently used entry of a set; pages of ${pageSize} bytes; the TLB starts empty.`,
      '',
      'Virtual address trace:',
    ];
    const t = new Tlb(entries, ways, pageSize);
    let hits = 0;
    refs.forEach((va, i) => {
      const vpn = Math.floor(va / pageSize);
      const head = `  ${String(i).padStart(2)}: VA ${hex(va).padStart(7)} (VPN ${String(vpn).padStart(2)})`;
      if (!solve) {
        lines.push(`${head} --> hit or miss?`);
        return;
      }
      const before = new Set(t.entries().map((e) => e.vpn));
      const found = t.find(vpn, 0);
      if (found >= 0) {
        t.touch(found, vpn);
        hits++;
        lines.push(`${head} --> HIT  (set ${vpn % sets})`);
        return;
      }
      t.fill(vpn, 0, vpn, 1);
      const after = new Set(t.entries().map((e) => e.vpn));
      const evicted = [...before].filter((v) => !after.has(v));
      lines.push(
        `${head} --> MISS (set ${vpn % sets})${evicted.length > 0 ? `, replaces VPN ${evicted.join(', ')}` : ''}`,
      );
    });
    lines.push('');
    if (solve) {
      lines.push(
        `Hits ${hits}, misses ${refs.length - hits}, hit rate ${((100 * hits) / refs.length).toFixed(1)}%`,
      );
      const left = t
        .entries()
        .sort((a, b) => a.set - b.set || a.way - b.way)
        .map((e) => `set ${e.set}: VPN ${e.vpn}`);
      lines.push(`TLB at the end: ${left.join('; ')}`);
    } else {
      lines.push('For each access, is it a TLB hit or a miss? Which entry does each miss replace?');
    }
    return `${lines.join('\n')}\n`;
  },
};

const mmap: QuizTopic = {
  name: 'mmap',
  summary: 'where Linux places anonymous mmaps (top-down, reusing holes) and what brk returns',
  make({ seed, solve }) {
    const rng = new PyRandom(seed);
    const kernel = new Kernel(new Machine({ arch: 'x86_64', ramBytes: 16 * 1024 * 1024 }));
    const proc = kernel.spawn('quiz', { codeBytes: 8192, dataBytes: 4096, bssBytes: 4096 });
    if (typeof proc === 'number') return `spawn failed: ${proc}\n`;
    const lines = [
      `ARG seed ${seed}`,
      '',
      'An x86-64 process (ASLR off, RLIMIT_STACK 8 MiB) makes these calls in order. mmap is',
      'anonymous, private, with no address hint; brk and munmap take the addresses the calls returned.',
      '',
      `The heap starts at brk = ${hex(kernel.brk(proc, 0))}.`,
      '',
    ];
    const live: { id: number; addr: number; len: number }[] = [];
    let id = 0;
    for (let i = 0; i < 8; i++) {
      const r = rng.random();
      let question: string;
      let answer: string;
      if (r < 0.2) {
        const delta = rng.randint(1, 40) * 1024;
        const old = kernel.brk(proc, 0);
        const got = kernel.brk(proc, old + delta);
        question = `brk(current + ${delta / 1024} KiB)`;
        const heap = kernel.maps(proc).find((e) => e.name === '[heap]');
        answer = `returns ${hex(got)}${heap ? `; [heap] is now ${hex(heap.start)}-${hex(heap.end)} (whole pages)` : ''}`;
      } else if (r < 0.35 && live.length > 0) {
        const k = rng.randrange(0, live.length);
        const m = live.splice(k, 1)[0]!;
        const got = kernel.munmap(proc, m.addr, m.len);
        question = `munmap(m${m.id}, ${m.len / 1024} KiB)`;
        answer =
          got === 0 ? `returns 0: [${hex(m.addr)}, ${hex(m.addr + m.len)}) is a hole now` : `returns ${got}`;
      } else {
        const len = rng.choice([4, 8, 12, 16, 64, 100]) * 1024;
        const got = kernel.mmap(proc, {
          addr: 0,
          len,
          prot: PROT_READ | PROT_WRITE,
          flags: MAP_PRIVATE | MAP_ANONYMOUS,
        });
        question = `m${id} = mmap(NULL, ${len / 1024} KiB)`;
        answer = `returns ${hex(got)}: the highest free gap below mmap_base that fits it (top-down)`;
        live.push({ id, addr: got, len });
        id++;
      }
      lines.push(`  ${i}: ${question}${solve ? ` --> ${answer}` : ' --> ?'}`);
    }
    lines.push('');
    if (solve) {
      lines.push('The address space at the end (/proc/PID/maps, without the file columns):');
      for (const e of kernel.maps(proc))
        lines.push(`  ${e.start.toString(16)}-${e.end.toString(16)} ${e.perms} ${e.name}`.trimEnd());
    } else lines.push('What does each call return? Draw the address space at the end.');
    kernel.exit(proc, 0);
    return `${lines.join('\n')}\n`;
  },
};

export const QUIZ_TOPICS: readonly QuizTopic[] = [tlb, mmap];

export function findQuizTopic(name: string): QuizTopic | null {
  return QUIZ_TOPICS.find((t) => t.name === name) ?? null;
}
