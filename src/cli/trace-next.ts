/** The reading side of a {@link FutureSpill}'s next-use file (trace-future.ts). */
import { closeSync, openSync, readSync } from 'node:fs';
import { invariant } from '../base/errors.js';
import { NEVER } from '../kernel/reclaim/policy.js';
import { MAX_BLOCK_RECORDS } from '../workload/trace/vmtrace.js';

/**
 * Reads a spill's next-use file in step with its stream: `read(count, out)` fills `out[0..count)`
 * with the next use (absolute time, or `NEVER`) of the next `count` accesses.
 */
export class NextFileReader {
  private readonly fd: number;
  private at = 0;
  private buf = new Uint32Array(MAX_BLOCK_RECORDS);

  constructor(path: string) {
    this.fd = openSync(path, 'r');
  }

  read(count: number, out: Float64Array): void {
    if (this.buf.length < count) this.buf = new Uint32Array(count);
    const bytes = count * 4;
    const got = readSync(this.fd, new Uint8Array(this.buf.buffer, 0, bytes), 0, bytes, this.at * 4);
    invariant(got === bytes, 'spill: the next-use file is short');
    const buf = this.buf;
    const t = this.at;
    for (let i = 0; i < count; i++) {
      const d = buf[i]!;
      out[i] = d === 0 ? NEVER : t + i + d;
    }
    this.at += count;
  }

  close(): void {
    closeSync(this.fd);
  }
}
