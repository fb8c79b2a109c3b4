/**
 * One suite for every allocator: what any malloc must guarantee (alignment, no overlap, contents kept
 * by realloc, zeroed calloc, a heap that stays consistent), checked with a heap walk after every step
 * of random programs, and misuse reported in glibc's words with SIGABRT — never a JS exception.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { SIGABRT, SIGSEGV } from '../../src/kernel/errno.js';
import {
  ALLOCATOR_NAMES,
  type Allocator,
  posixMemalign,
  pvalloc,
  valloc,
} from '../../src/user/malloc/api.js';
import { MISUSE_MESSAGES } from '../../src/user/stop.js';
import { type Mode, makeHeap, rng } from './heaps.js';

const GLIBC_WORDS = new Set<string>(Object.values(MISUSE_MESSAGES));

/** Live blocks must not overlap, and each must be at least as large as asked. */
function expectDisjoint(a: Allocator, live: Map<number, number>): void {
  const spans = [...live].map(([p, size]) => {
    const usable = a.usableSize(p);
    expect(usable, `usable size of 0x${p.toString(16)}`).toBeGreaterThanOrEqual(size);
    return [p, p + usable] as const;
  });
  spans.sort((x, y) => x[0] - y[0]);
  for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1]);
}

/** Fills a block with a byte derived from its id, so that any overwrite by the allocator shows. */
function stamp(a: Allocator, p: number, size: number, id: number): void {
  a.mem.fill(p, size, (id * 37 + 11) & 0xff);
}

function expectStamp(a: Allocator, p: number, size: number, id: number): void {
  const bytes = a.mem.readBytes(p, size);
  const want = (id * 37 + 11) & 0xff;
  const bad = bytes.findIndex((b) => b !== want);
  expect(bad, `byte ${bad} of block ${id} at 0x${p.toString(16)} was overwritten`).toBe(-1);
}

describe.each(ALLOCATOR_NAMES)('%s', (name) => {
  test('every block is 16-byte aligned; memalign, posix_memalign and valloc align as asked', () => {
    const { a } = makeHeap(name);
    for (const size of [0, 1, 8, 15, 16, 17, 24, 100, 1000, 4096, 70000, 200000])
      expect(a.malloc(size) % 16).toBe(0);
    for (let align = 32; align <= 65536; align *= 2) {
      for (const size of [1, 100, 5000, 300000]) {
        const p = a.memalign(align, size);
        expect(p, `memalign(${align}, ${size})`).not.toBe(0);
        expect(p % align).toBe(0);
        expect(a.usableSize(p)).toBeGreaterThanOrEqual(size);
      }
    }
    expect(posixMemalign(a, 64, 10) % 64).toBe(0);
    expect(posixMemalign(a, 24, 10)).toBe(-22); // EINVAL: not a power of two times sizeof(void *)
    expect(valloc(a, 10) % 4096).toBe(0);
    expect(pvalloc(a, 5000) % 4096).toBe(0);
    expect(a.check()).toEqual([]);
  });

  test('realloc keeps the contents when it grows, shrinks or moves the block', () => {
    const { a } = makeHeap(name);
    let p = a.malloc(40);
    let kept = 40; // bytes whose contents realloc must keep
    stamp(a, p, kept, 1);
    const blocker = a.malloc(40); // so that growing in place is not always possible
    for (const size of [100, 3000, 20, 250000, 600, 40]) {
      const q = a.realloc(p, size);
      expect(q).not.toBe(0);
      kept = Math.min(kept, size);
      expectStamp(a, q, kept, 1);
      stamp(a, q, size, 1);
      kept = size;
      p = q;
    }
    a.free(blocker);
    expect(a.realloc(p, 0)).toBe(0); // glibc: realloc(p, 0) frees
    expect(a.check()).toEqual([]);
    expect(a.signal).toBeNull();
  });

  test('calloc hands out zeroed memory, also where a freed block left its bytes', () => {
    const { a } = makeHeap(name);
    const p = a.malloc(500);
    a.mem.fill(p, 500, 0xee);
    a.free(p);
    const q = a.calloc(25, 20);
    expect([...a.mem.readBytes(q, 500)].every((b) => b === 0)).toBe(true);
    expect(a.calloc(2 ** 20, 2 ** 20)).toBe(0); // nmemb * size too large: ENOMEM, no crash
  });

  test('freeing everything in any order leaves a consistent heap with no block in use', () => {
    const { a } = makeHeap(name);
    const next = rng(7);
    const ptrs: number[] = [];
    for (let i = 0; i < 3000; i++) ptrs.push(a.malloc(Math.floor(8 * 2 ** (next() * 10))));
    for (let i = ptrs.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [ptrs[i], ptrs[j]] = [ptrs[j]!, ptrs[i]!];
    }
    for (const p of ptrs) a.free(p);
    expect(a.check()).toEqual([]);
    const s = a.stats();
    expect(s.usedBlocks).toBe(0);
    expect(s.usedBytes).toBe(0);
  });

  test.each<Mode>(['direct', 'kernel'])(
    'random programs keep the heap consistent after every step (%s)',
    (mode) => {
      const op = fc.oneof(
        fc.record({ kind: fc.constant('malloc' as const), size: fc.integer({ min: 0, max: 9000 }) }),
        fc.record({ kind: fc.constant('big' as const), size: fc.integer({ min: 100_000, max: 400_000 }) }),
        fc.record({ kind: fc.constant('calloc' as const), size: fc.integer({ min: 0, max: 3000 }) }),
        fc.record({
          kind: fc.constant('memalign' as const),
          size: fc.integer({ min: 0, max: 3000 }),
          align: fc.constantFrom(32, 64, 256, 4096),
        }),
        fc.record({ kind: fc.constant('free' as const), pick: fc.nat() }),
        fc.record({
          kind: fc.constant('realloc' as const),
          pick: fc.nat(),
          size: fc.integer({ min: 0, max: 9000 }),
        }),
      );
      fc.assert(
        fc.property(fc.array(op, { minLength: 1, maxLength: 50 }), (ops) => {
          const { a, kernel } = makeHeap(name, mode, {
            topPad: 4096,
            trimThreshold: 8192,
            mmapThreshold: 65536,
          });
          const live = new Map<number, number>();
          const ids = new Map<number, number>();
          let nextId = 0;
          const keys = () => [...live.keys()];
          for (const o of ops) {
            let p = 0;
            let size = 0;
            if (o.kind === 'free' || o.kind === 'realloc') {
              const ks = keys();
              if (ks.length === 0) continue;
              const victim = ks[o.pick % ks.length]!;
              expectStamp(a, victim, live.get(victim)!, ids.get(victim)!);
              if (o.kind === 'free') {
                a.free(victim);
                live.delete(victim);
                continue;
              }
              const id = ids.get(victim)!;
              const old = live.get(victim)!;
              p = a.realloc(victim, o.size);
              live.delete(victim);
              if (o.size === 0) continue;
              expect(p).not.toBe(0);
              expectStamp(a, p, Math.min(old, o.size), id);
              size = o.size;
            } else {
              size = o.size;
              if (o.kind === 'calloc') {
                p = a.calloc(1, size);
                expect([...a.mem.readBytes(p, size)].every((b) => b === 0)).toBe(true);
              } else if (o.kind === 'memalign') {
                p = a.memalign(o.align, size);
                expect(p % o.align).toBe(0);
              } else {
                p = a.malloc(size);
              }
            }
            expect(p).not.toBe(0);
            expect(p % 16).toBe(0);
            const id = nextId++;
            ids.set(p, id);
            live.set(p, size);
            stamp(a, p, size, id);
            expect(a.check()).toEqual([]);
          }
          expectDisjoint(a, live);
          for (const [p, size] of live) expectStamp(a, p, size, ids.get(p)!);
          expect(a.signal).toBeNull();
          if (kernel) expect(kernel.check()).toEqual([]);
        }),
        { numRuns: mode === 'direct' ? 25 : 6 },
      );
    },
  );

  test('a double free aborts the program with glibc words, and no exception', () => {
    for (const size of [24, 5000]) {
      const { a } = makeHeap(name);
      const p = a.malloc(size);
      const keep = a.malloc(size); // p is not next to the top
      expect(() => {
        a.free(p);
        a.free(p);
      }).not.toThrow();
      expect(a.misuse?.call).toBe('free');
      expect(GLIBC_WORDS.has(a.misuse!.message)).toBe(true);
      expect(a.signal).toEqual({ signal: SIGABRT, reason: a.misuse!.message, va: 0 });
      // The program is dead: nothing more happens, nothing throws.
      expect(a.malloc(10)).toBe(0);
      expect(() => a.free(keep)).not.toThrow();
    }
  });

  test('freeing a pointer malloc never returned is "free(): invalid pointer"', () => {
    const { a } = makeHeap(name);
    const p = a.malloc(100);
    expect(() => a.free(p + 8)).not.toThrow();
    expect(a.misuse?.message).toBe('free(): invalid pointer');
    expect(a.signal?.signal).toBe(SIGABRT);
  });

  test('an overflow that overwrites the next header is caught when that block is freed', () => {
    const { a } = makeHeap(name);
    const first = a.malloc(24);
    const second = a.malloc(24);
    a.malloc(24);
    // Write 16 bytes past the end of `first`'s block: over `second`'s header.
    a.mem.fill(first, second - first, 0x41);
    expect(() => a.free(second)).not.toThrow();
    expect(a.misuse).not.toBeNull();
    expect(GLIBC_WORDS.has(a.misuse!.message)).toBe(true);
    expect(a.signal?.signal).toBe(SIGABRT);
  });

  test('free of a wild pointer outside the address space dies of SIGSEGV, not an exception', () => {
    const { a } = makeHeap(name);
    a.malloc(10);
    expect(() => a.free(2 ** 40)).not.toThrow();
    expect(a.signal?.signal).toBe(SIGSEGV);
    expect(a.misuse).toBeNull();
  });
});

describe('binned reports the exact glibc checks', () => {
  test('a second free of a tcache chunk: "free(): double free detected in tcache 2"', () => {
    const { a } = makeHeap('binned');
    const p = a.malloc(24);
    a.free(p);
    a.free(p);
    expect(a.misuse?.message).toBe('free(): double free detected in tcache 2');
  });

  test('a fastbin chunk freed twice in a row: "double free or corruption (fasttop)"', () => {
    const { a } = makeHeap('binned', 'direct', { tcacheCount: 0 });
    const p = a.malloc(24);
    a.malloc(24);
    a.free(p);
    a.free(p);
    expect(a.misuse?.message).toBe('double free or corruption (fasttop)');
  });

  test('a zeroed next size, found when the tcache is full: "free(): invalid next size (fast)"', () => {
    const { a } = makeHeap('binned');
    const victims = Array.from({ length: 8 }, () => a.malloc(24));
    const next = a.malloc(24);
    a.mem.write64(next - 8, 0); // the overflow of the last victim cleared its neighbour's size
    for (const v of victims) a.free(v); // 7 fill the tcache; the 8th goes to a fastbin
    expect(a.misuse?.message).toBe('free(): invalid next size (fast)');
  });

  test('a top size overwritten with all ones: "malloc(): corrupted top size" (house of force)', () => {
    const { a } = makeHeap('binned');
    const p = a.malloc(24);
    a.mem.write64(p + 24, 0x1fffffffffffff); // the top chunk's size word, just past p's block
    a.malloc(5000);
    expect(a.misuse?.message).toBe('malloc(): corrupted top size');
  });

  test('a freed chunk whose size disagrees with the footer: "corrupted size vs. prev_size"', () => {
    const { a } = makeHeap('binned', 'direct', { tcacheCount: 0 });
    const p = a.malloc(2000);
    const q = a.malloc(2000);
    a.malloc(2000);
    a.free(q); // q goes to the unsorted bin; its footer is the next chunk's prev_size
    a.malloc(3000); // sorts q into a large bin
    a.mem.write64(q - 8, 0x3f1); // q's size word grows: size no longer matches the footer
    a.free(p); // consolidating forward unlinks q
    expect(a.misuse?.message).toBe('corrupted size vs. prev_size');
  });
});
