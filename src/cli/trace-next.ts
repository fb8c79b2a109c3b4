/** The reading side of a {@link FutureSpill}'s next-use files (trace-future.ts). */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { invariant } from '../base/errors.js';
import { FAR, NEVER } from '../kernel/reclaim/policy.js';
import { MAX_BLOCK_RECORDS } from '../workload/trace/vmtrace.js';

/** Far pairs read at a time. */
const FAR_READ = 1 << 14;

/**
 * The file beside a next-use file that holds its far distances: (access, distance) pairs of
 * little-endian u32, in descending order of access (pass B writes them going backwards).
 */
export function farFile(nextFile: string): string {
  return `${nextFile}.far`;
}

/**
 * Reads a spill's next uses in step with its stream: `read(count, out)` fills `out[0..count)`
 * with the next use (absolute time, or `NEVER`) of the next `count` accesses.
 */
export class NextFileReader {
  private readonly fd: number;
  private readonly farFd: number;
  private at = 0;
  private buf = new Uint16Array(MAX_BLOCK_RECORDS);
  /** Far pairs in the file not yet read (the next one wanted is the last of those). */
  private farLeft: number;
  private readonly far = new Uint32Array(2 * FAR_READ);
  /** Pairs of `far` not yet used: the next is at index farNext - 1. */
  private farNext = 0;

  constructor(path: string) {
    this.fd = openSync(path, 'r');
    this.farFd = openSync(farFile(path), 'r');
    this.farLeft = fstatSync(this.farFd).size / 8;
  }

  read(count: number, out: Float64Array): void {
    if (this.buf.length < count) this.buf = new Uint16Array(count);
    const bytes = count * 2;
    const got = readSync(this.fd, new Uint8Array(this.buf.buffer, 0, bytes), 0, bytes, this.at * 2);
    invariant(got === bytes, 'spill: the next-use file is short');
    const buf = this.buf;
    const t = this.at;
    for (let i = 0; i < count; i++) {
      const d = buf[i]!;
      out[i] = d === 0 ? NEVER : d !== FAR ? t + i + d : t + i + this.farDistance(t + i);
    }
    this.at += count;
  }

  /** The far distance of access `t` (far accesses are asked for in increasing order). */
  private farDistance(t: number): number {
    if (this.farNext === 0) {
      const n = Math.min(FAR_READ, this.farLeft);
      invariant(n > 0, 'spill: the far next-use file is short');
      this.farLeft -= n;
      const got = readSync(this.farFd, new Uint8Array(this.far.buffer, 0, n * 8), 0, n * 8, this.farLeft * 8);
      invariant(got === n * 8, 'spill: short read of the far next uses');
      this.farNext = n;
    }
    const i = --this.farNext;
    invariant(this.far[2 * i] === t, 'spill: the far next uses are out of step');
    return this.far[2 * i + 1]!;
  }

  close(): void {
    closeSync(this.fd);
    closeSync(this.farFd);
  }
}
