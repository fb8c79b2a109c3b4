/**
 * The push side every line-based trace parser shares: bytes arrive in chunks of any size (a file
 * stream, a gunzip stream, a test splitting at random), lines may straddle chunks, and the last
 * line may lack its newline.
 *
 * Complete lines are parsed where they lie in the chunk (no copy). Only a line cut by a chunk
 * boundary is copied, into a small carry buffer, and parsed once its newline arrives. A carried
 * line longer than `MAX_LINE_BYTES` is an input error (a binary file fed as text fails fast instead
 * of buffering without bound).
 *
 * Records go into one reused batch (`batch.ts`), handed to the sink when full and at the end of
 * every `push`; a parser fills it in its own `parseLines`.
 */
import { InputError, invariant } from '../../base/errors.js';

export const MAX_LINE_BYTES = 65536;

const NEWLINE = 10;

export abstract class LineParser<B extends { count: number }> {
  /** The input's name, for errors. */
  readonly file: string;
  /** Lines parsed so far (the 1-based number of the last complete line). */
  line = 0;
  /** Bytes pushed so far. */
  bytes = 0;
  /** Lines that hold no record (blank lines, and whatever else the format skips). */
  skippedLines = 0;
  protected readonly batch: B;
  protected readonly sink: (batch: B) => void;
  private carry = new Uint8Array(256);
  private carryLength = 0;
  private ended = false;

  /** @param file the input's name, for errors; @param sink receives each batch (see batch.ts). */
  constructor(file: string, sink: (batch: B) => void, batch: B) {
    this.file = file;
    this.sink = sink;
    this.batch = batch;
  }

  /**
   * Parses every complete line in `chunk` (with any line carried from earlier chunks) and emits
   * their records before returning. The chunk is not kept.
   * @throws InputError on a malformed line, naming its line and column.
   */
  push(chunk: Uint8Array): void {
    invariant(!this.ended, `${this.file}: push after end`);
    this.bytes += chunk.length;
    const end = chunk.length;
    let start = 0;
    if (this.carryLength > 0) {
      const nl = chunk.indexOf(NEWLINE);
      if (nl < 0) {
        this.append(chunk, 0, end);
        return;
      }
      this.append(chunk, 0, nl + 1);
      this.parseLines(this.carry, 0, this.carryLength);
      this.carryLength = 0;
      start = nl + 1;
    }
    const last = chunk.lastIndexOf(NEWLINE);
    if (last >= start) {
      this.parseLines(chunk, start, last + 1);
      start = last + 1;
    }
    if (start < end) this.append(chunk, start, end);
    this.flush();
  }

  /** Parses a last line that has no newline, and emits what is left. Call once, at the end. */
  end(): void {
    invariant(!this.ended, `${this.file}: end called twice`);
    if (this.carryLength > 0) {
      this.append(Uint8Array.of(NEWLINE), 0, 1);
      this.parseLines(this.carry, 0, this.carryLength);
      this.carryLength = 0;
    }
    this.ended = true;
    this.flush();
  }

  /** Parses `buf[start, end)`: whole lines, the last byte a newline. */
  protected abstract parseLines(buf: Uint8Array, start: number, end: number): void;

  /** Hands any pending records to the sink. */
  protected flush(): void {
    if (this.batch.count > 0) {
      this.sink(this.batch);
      this.batch.count = 0;
    }
  }

  /** An input error at `line`, column `column` (1-based). */
  protected error(message: string, line: number, column: number): InputError {
    return new InputError('trace', message, { file: this.file, line, column });
  }

  /**
   * The error for the line being parsed (number `this.line`, starting at byte `lineStart`), at byte
   * `at`. `line` goes back to the last complete line.
   */
  protected fail(lineStart: number, message: string, at: number): InputError {
    const line = this.line;
    this.line = line - 1;
    return this.error(message, line, at - lineStart + 1);
  }

  private append(chunk: Uint8Array, from: number, to: number): void {
    const n = to - from;
    if (this.carryLength + n > MAX_LINE_BYTES + 2) {
      throw this.error(
        `line is longer than ${MAX_LINE_BYTES} bytes (is this a text trace?)`,
        this.line + 1,
        1,
      );
    }
    if (this.carryLength + n > this.carry.length) {
      let size = this.carry.length;
      while (size < this.carryLength + n) size *= 2;
      const bigger = new Uint8Array(size);
      bigger.set(this.carry.subarray(0, this.carryLength));
      this.carry = bigger;
    }
    this.carry.set(chunk.subarray(from, to), this.carryLength);
    this.carryLength += n;
  }
}

/** How an error message shows the byte it stopped at. */
export function describeByte(c: number | undefined): string {
  if (c === undefined || c === NEWLINE) return 'end of line';
  if (c === 13) return 'a carriage return';
  if (c === 9) return 'a tab';
  if (c >= 0x21 && c < 0x7f) return `'${String.fromCharCode(c)}'`;
  if (c === 0x20) return 'a space';
  return `byte 0x${c.toString(16).padStart(2, '0')}`;
}
