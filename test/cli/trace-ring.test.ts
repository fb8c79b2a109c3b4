/** The shared ring between the reading thread and the simulating one. */
import { describe, expect, test } from 'vitest';
import { createRing, RING_DONE, RING_FAILED, RingReader, RingWriter } from '../../src/cli/trace-ring.js';

describe('the trace ring', () => {
  test('hands over every entry in order, across the wrap-around, in batches and takes of any size', () => {
    const memory = createRing(1);
    expect(memory.capacity).toBe(65536);
    const w = new RingWriter(memory);
    const r = new RingReader(memory);
    let produced = 0;
    let consumed = 0;
    const total = 400_000;
    const batch = (n: number, from: number) => {
      const pages = new Float64Array(n);
      const writes = new Uint8Array(n);
      const next = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        pages[i] = (from + i) * 3;
        writes[i] = (from + i) % 2;
        next[i] = from + i + 0.5;
      }
      return { pages, writes, next };
    };
    let k = 0;
    while (consumed < total) {
      // Put while there is room (a worker would wait instead), then take an uneven amount.
      for (;;) {
        const n = Math.min(1000 + ((k * 7919) % 9000), total - produced);
        if (n === 0 || memory.capacity - r.available() < n) break;
        const b = batch(n, produced);
        w.put(b.pages, b.writes, b.next, n);
        produced += n;
        k++;
      }
      const want = Math.min(r.available(), 1 + ((k * 104729) % 20000));
      const v = r.view(want);
      for (let i = 0; i < want; i++) {
        const t = consumed + i;
        if (v.pages[i] !== t * 3 || v.writes[i] !== t % 2 || v.next[i] !== t + 0.5)
          throw new Error(`entry ${t} came out wrong`);
      }
      r.release(want);
      consumed += want;
    }
    expect(r.available()).toBe(0);
    w.finish();
    expect(r.state()).toBe(RING_DONE);
    expect(r.waitFor(1, 10)).toBe(true);
  });

  test('carries what the reader learnt and, after the entries, why it failed', () => {
    const memory = createRing(1);
    const w = new RingWriter(memory);
    const r = new RingReader(memory);
    expect(r.info()).toBeNull();
    w.setInfo({ format: 'pages', pageSize: 4096 });
    expect(r.info()).toEqual({ format: 'pages', pageSize: 4096 });
    w.put(Float64Array.of(1, 2), Uint8Array.of(0, 1), null, 2);
    w.fail({ input: { message: 'bad line' } });
    expect(r.state()).toBe(RING_FAILED);
    expect(r.available()).toBe(2);
    expect(Array.from(r.view(2).pages)).toEqual([1, 2]);
    expect(r.error()).toEqual({ input: { message: 'bad line' } });
  });

  test('a consumer waiting on an empty ring returns at its deadline', () => {
    const r = new RingReader(createRing(1));
    const t0 = performance.now();
    expect(r.waitFor(1, 30)).toBe(false);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(25);
  });
});
