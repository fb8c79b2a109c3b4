/**
 * Whatever access kills the program — the first store of the allocator's set-up, a load in the
 * middle of realloc, a load of a heap walk — the allocator's public methods turn the stop into the
 * program's death (or a problem in words, for check): nothing thrown leaves them, so nothing reaches
 * the CLI as an internal error (regression: `machine x86_64 frames=1` gave `[object Object]`).
 */
import { describe, expect, test } from 'vitest';
import { SIGKILL } from '../../src/kernel/errno.js';
import { ALLOCATOR_NAMES, type Allocator } from '../../src/user/malloc/api.js';
import { createAllocator } from '../../src/user/malloc/registry.js';
import { DirectMemory } from '../../src/user/memory.js';
import { OP_MALLOC, OpColumns, replay } from '../../src/user/replay.js';
import { FAULT_STOP } from '../../src/user/stop.js';

/** Direct memory whose `dieAt`-th access kills the program, as an OOM kill on a fault would. */
class DyingMemory extends DirectMemory {
  accesses = 0;
  dieAt = Number.POSITIVE_INFINITY;
  private tick(): void {
    if (++this.accesses >= this.dieAt) {
      this.signal = { signal: SIGKILL, reason: 'out of memory', va: 0 };
      throw FAULT_STOP;
    }
  }
  override read16(va: number) {
    this.tick();
    return super.read16(va);
  }
  override write16(va: number, v: number) {
    this.tick();
    super.write16(va, v);
  }
  override read32(va: number) {
    this.tick();
    return super.read32(va);
  }
  override write32(va: number, v: number) {
    this.tick();
    super.write32(va, v);
  }
  override read64(va: number) {
    this.tick();
    return super.read64(va);
  }
  override write64(va: number, v: number) {
    this.tick();
    super.write64(va, v);
  }
  override readBytes(va: number, len: number) {
    this.tick();
    return super.readBytes(va, len);
  }
  override writeBytes(va: number, d: Uint8Array) {
    this.tick();
    super.writeBytes(va, d);
  }
  override fill(va: number, len: number, b: number) {
    this.tick();
    super.fill(va, len, b);
  }
}

/** A small program touching every public call. */
function program(a: Allocator): void {
  const p = a.malloc(100);
  const q = a.calloc(10, 30);
  const r = a.realloc(p, 5000);
  a.memalign(64, 200);
  a.usableSize(q);
  a.free(q);
  a.realloc(r, 40);
  a.malloc(200_000);
  a.check();
  a.stats();
  a.freeList();
}

describe.each(ALLOCATOR_NAMES)('%s', (name) => {
  test('a program that dies at any access ends with the signal recorded and nothing thrown', () => {
    const probe = new DyingMemory({ sizeBytes: 2 << 20 });
    program(createAllocator(name, probe));
    const total = probe.accesses;
    expect(total).toBeGreaterThan(10);
    for (let k = 1; k <= total; k += Math.max(1, Math.floor(total / 40))) {
      const mem = new DyingMemory({ sizeBytes: 2 << 20 });
      mem.dieAt = k;
      const a = createAllocator(name, mem);
      expect(() => program(a), `death at access ${k}`).not.toThrow();
      expect(a.signal?.reason, `death at access ${k}`).toBe('out of memory');
      expect(a.malloc(10)).toBe(0); // a dead program allocates nothing more
    }
  });
});

describe('a trace replay whose program dies initialising a new block', () => {
  test.each(ALLOCATOR_NAMES)(
    "%s: the death is the replay's result, not an internal error (regression: a HeapStop escaped `vmscope malloc`)",
    (name) => {
      const ops = new OpColumns();
      ops.op(OP_MALLOC, 0, 100, 0, 0, 5);
      ops.op(OP_MALLOC, 1, 9000, 0, 0, 6);
      // How many accesses the two mallocs make, so that the next one is the touch of the second block.
      const probe = new DyingMemory({ sizeBytes: 2 << 20 });
      const a0 = createAllocator(name, probe);
      a0.malloc(100);
      probe.writeBytes(0, new Uint8Array(0)); // the touch of the first block's one page, as replay does
      a0.malloc(9000);
      const mem = new DyingMemory({ sizeBytes: 2 << 20 });
      mem.dieAt = probe.accesses + 1;
      const r = replay(createAllocator(name, mem), 't.rep', ops, { touch: true });
      expect(r.died).toMatchObject({ op: 2, line: 6, signal: SIGKILL, reason: 'out of memory' });
    },
  );
});
