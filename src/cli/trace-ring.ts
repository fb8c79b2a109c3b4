/**
 * A single-producer, single-consumer ring of page accesses in shared memory, between the worker
 * thread that reads and decodes a trace and the thread that simulates it. Entries are struct of
 * arrays (page id, write flag, next use) in SharedArrayBuffers; positions are 32-bit sequence
 * numbers that wrap (the capacity is a power of two, far below 2^31).
 *
 *   producer: write(batch) ──► [ … published, not yet released … ] ──► consumer: view(n), release(n)
 *
 * The producer publishes a batch by storing the new write position; the consumer releases what it
 * is done with the same way. Each blocks with `Atomics.wait` when the ring is full or empty, and
 * says so first in a word of its own, so that the other side calls `Atomics.notify` only then (a
 * wake on every batch cost the simulating thread a fifth of its time). A full ring's producer waits
 * until half of it is free, not just room for its batch: it wakes once per half ring, not once per
 * batch the consumer releases. A short text area carries what the producer found out (the format,
 * the page size) and, at the end, an error.
 *
 * No wake is lost: each side stores its position and then reads the other's waiting word, while a
 * waiter stores its waiting word and then reads the position again before it blocks (both
 * sequentially consistent), and `Atomics.wait` blocks only while the position is unchanged.
 */
import { invariant } from '../base/errors.js';

const WRITE = 0;
const READ = 1;
const STATE = 2;
const INFO_LENGTH = 3;
const ERROR_LENGTH = 4;
/** The free entries the blocked producer waits for, or 0 (it is not blocked). */
const PRODUCER_WANTS = 5;
/** 1 while the consumer is blocked. */
const CONSUMER_WAITS = 6;
const CONTROL_WORDS = 8;

/** `STATE` values. */
export const RING_RUNNING = 0;
export const RING_DONE = 1;
export const RING_FAILED = 2;

const TEXT_BYTES = 16384;
const INFO_AT = 0;
const ERROR_AT = 4096;

/** The shared memory of one ring (what the worker receives). */
export interface RingMemory {
  readonly capacity: number;
  readonly control: SharedArrayBuffer;
  /** Float64: bytes read from the source, records decoded (for progress; plain stores). */
  readonly stats: SharedArrayBuffer;
  readonly text: SharedArrayBuffer;
  readonly pages: SharedArrayBuffer;
  readonly writes: SharedArrayBuffer;
  /** Next uses; its pages are touched only by traces that carry them. */
  readonly next: SharedArrayBuffer;
}

/** A ring holding at least `minCapacity` entries (rounded up to a power of two). */
export function createRing(minCapacity: number): RingMemory {
  let capacity = 1 << 16;
  while (capacity < minCapacity) capacity *= 2;
  invariant(capacity <= 2 ** 28, 'ring: too large');
  return {
    capacity,
    control: new SharedArrayBuffer(CONTROL_WORDS * 4),
    stats: new SharedArrayBuffer(4 * 8),
    text: new SharedArrayBuffer(TEXT_BYTES),
    pages: new SharedArrayBuffer(capacity * 8),
    writes: new SharedArrayBuffer(capacity),
    next: new SharedArrayBuffer(capacity * 8),
  };
}

class RingViews {
  readonly capacity: number;
  readonly mask: number;
  readonly control: Int32Array;
  readonly stats: Float64Array;
  readonly text: Uint8Array;
  readonly pages: Float64Array;
  readonly writes: Uint8Array;
  readonly next: Float64Array;

  constructor(m: RingMemory) {
    this.capacity = m.capacity;
    this.mask = m.capacity - 1;
    this.control = new Int32Array(m.control);
    this.stats = new Float64Array(m.stats);
    this.text = new Uint8Array(m.text);
    this.pages = new Float64Array(m.pages);
    this.writes = new Uint8Array(m.writes);
    this.next = new Float64Array(m.next);
  }

  protected putText(at: number, lengthWord: number, value: unknown): void {
    let bytes = new TextEncoder().encode(JSON.stringify(value));
    if (bytes.length > 4096) bytes = new TextEncoder().encode(JSON.stringify({ bug: 'message too long' }));
    this.text.set(bytes, at);
    Atomics.store(this.control, lengthWord, bytes.length);
  }

  protected getText(at: number, lengthWord: number): unknown {
    const n = Atomics.load(this.control, lengthWord);
    if (n === 0) return null;
    return JSON.parse(new TextDecoder().decode(this.text.slice(at, at + n)));
  }
}

/** The producer's side (the worker). */
export class RingWriter extends RingViews {
  private write = 0;

  /** Appends `count` entries, waiting for room. `next` may be null (the trace carries no next uses). */
  put(pages: Float64Array, writes: Uint8Array, next: Float64Array | null, count: number): void {
    invariant(count <= this.capacity / 2, 'ring: batch larger than half the ring');
    const c = this.control;
    if (this.capacity - ((this.write - Atomics.load(c, READ)) | 0) < count) {
      const wants = this.capacity / 2;
      for (;;) {
        Atomics.store(c, PRODUCER_WANTS, wants);
        const read = Atomics.load(c, READ);
        if (this.capacity - ((this.write - read) | 0) >= wants) break;
        Atomics.wait(c, READ, read, 1000);
      }
      Atomics.store(c, PRODUCER_WANTS, 0);
    }
    const at = this.write & this.mask;
    const first = Math.min(count, this.capacity - at);
    this.pages.set(pages.subarray(0, first), at);
    this.writes.set(writes.subarray(0, first), at);
    if (next !== null) this.next.set(next.subarray(0, first), at);
    if (first < count) {
      this.pages.set(pages.subarray(first, count), 0);
      this.writes.set(writes.subarray(first, count), 0);
      if (next !== null) this.next.set(next.subarray(first, count), 0);
    }
    this.write = (this.write + count) | 0;
    Atomics.store(c, WRITE, this.write);
    if (Atomics.load(c, CONSUMER_WAITS) !== 0) Atomics.notify(c, WRITE);
  }

  /** Publishes what the reader found out (before the first entry that depends on it). */
  setInfo(info: unknown): void {
    this.putText(INFO_AT, INFO_LENGTH, info);
    Atomics.notify(this.control, WRITE);
  }

  setProgress(bytes: number, records: number): void {
    this.stats[0] = bytes;
    this.stats[1] = records;
  }

  /** The trace ended after the last entry put. */
  finish(): void {
    Atomics.store(this.control, STATE, RING_DONE);
    Atomics.notify(this.control, WRITE);
  }

  /** Reading failed after the entries put: `error` says why (plain data, JSON). */
  fail(error: unknown): void {
    this.putText(ERROR_AT, ERROR_LENGTH, error);
    Atomics.store(this.control, STATE, RING_FAILED);
    Atomics.notify(this.control, WRITE);
  }
}

/** The consumer's side. Views it returns stay valid until the entries are released. */
export class RingReader extends RingViews {
  private read = 0;
  private scratchPages = new Float64Array(0);
  private scratchWrites = new Uint8Array(0);
  private scratchNext = new Float64Array(0);

  /** Entries published and not yet released. */
  available(): number {
    return (Atomics.load(this.control, WRITE) - this.read) | 0;
  }

  state(): number {
    return Atomics.load(this.control, STATE);
  }

  info(): unknown {
    return this.getText(INFO_AT, INFO_LENGTH);
  }

  error(): unknown {
    return this.getText(ERROR_AT, ERROR_LENGTH);
  }

  get bytesRead(): number {
    return this.stats[0]!;
  }

  get recordsRead(): number {
    return this.stats[1]!;
  }

  /**
   * Blocks until at least `n` entries wait, the producer stopped (finished or failed), or
   * `timeoutMs` passed. @returns false on the timeout.
   */
  waitFor(n: number, timeoutMs: number, until: () => boolean = () => false): boolean {
    const c = this.control;
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const w = Atomics.load(c, WRITE);
      if (((w - this.read) | 0) >= n || Atomics.load(c, STATE) !== RING_RUNNING || until()) return true;
      const left = deadline - performance.now();
      if (left <= 0) return false;
      Atomics.store(c, CONSUMER_WAITS, 1);
      Atomics.wait(c, WRITE, w, left);
      Atomics.store(c, CONSUMER_WAITS, 0);
    }
  }

  /** The next `n` (≤ available) entries, in place or, where they wrap around the ring, copied. */
  view(n: number): { pages: Float64Array; writes: Uint8Array; next: Float64Array; count: number } {
    const at = this.read & this.mask;
    if (at + n <= this.capacity) {
      return {
        pages: this.pages.subarray(at, at + n),
        writes: this.writes.subarray(at, at + n),
        next: this.next.subarray(at, at + n),
        count: n,
      };
    }
    if (this.scratchPages.length < n) {
      this.scratchPages = new Float64Array(n);
      this.scratchWrites = new Uint8Array(n);
      this.scratchNext = new Float64Array(n);
    }
    const first = this.capacity - at;
    this.scratchPages.set(this.pages.subarray(at), 0);
    this.scratchPages.set(this.pages.subarray(0, n - first), first);
    this.scratchWrites.set(this.writes.subarray(at), 0);
    this.scratchWrites.set(this.writes.subarray(0, n - first), first);
    this.scratchNext.set(this.next.subarray(at), 0);
    this.scratchNext.set(this.next.subarray(0, n - first), first);
    return {
      pages: this.scratchPages.subarray(0, n),
      writes: this.scratchWrites.subarray(0, n),
      next: this.scratchNext.subarray(0, n),
      count: n,
    };
  }

  /** Gives `n` entries back to the producer. */
  release(n: number): void {
    if (n === 0) return;
    const c = this.control;
    this.read = (this.read + n) | 0;
    Atomics.store(c, READ, this.read);
    const wants = Atomics.load(c, PRODUCER_WANTS);
    if (wants !== 0 && this.capacity - ((Atomics.load(c, WRITE) - this.read) | 0) >= wants)
      Atomics.notify(c, READ);
  }
}
