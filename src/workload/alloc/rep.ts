/**
 * CMU malloc-lab traces (`.rep`, as in CS:APP's malloc lab): four header lines — suggested heap size,
 * number of ids, number of operations, weight — then one operation per line:
 *
 *     a ID SIZE      allocate SIZE bytes as block ID
 *     f ID           free block ID
 *     r ID SIZE      reallocate block ID to SIZE bytes
 *
 * The parser streams: feed it chunks of bytes as they arrive (`push`), then `end()`. Each operation
 * goes to an {@link OpSink} as soon as its line is complete, so a trace is never held whole.
 *
 * It checks what a replay relies on, and reports a broken trace as an {@link InputError} with the
 * line and column: syntax, ids outside the declared range, an allocation of a live id, a free or
 * realloc of an id that was never allocated or already freed, and header counts that disagree with
 * the trace. Blocks still live at the end are fine (real programs exit without freeing).
 *
 * With `allowMisuse`, a free or realloc of an id already freed is passed on (the replayer hands
 * the allocator the block's old pointer, and the program dies as it would under glibc): a trace of
 * a buggy program can be replayed to see what each allocator does with it.
 *
 * The sink sees ids numbered densely in the order the trace first uses them, so that what it keeps
 * per id grows with the blocks a trace has, not with the largest id it names (a 30-byte trace whose
 * one block is id 268435455 would otherwise cost gigabytes). A trace whose ids appear in increasing
 * order from 0 — as CS:APP's and the corpus's do — keeps its own ids.
 */
import { InputError } from '../../base/errors.js';
import { OP_FREE, OP_MALLOC, OP_REALLOC, type OpSink } from '../../user/replay.js';
import { LineStream } from './lines.js';

export interface RepHeader {
  /** CS:APP's "suggested heap size" (the corpus puts the peak live payload there). */
  readonly heapSize: number;
  readonly ids: number;
  readonly ops: number;
  readonly weight: number;
}

const HEADER_FIELDS = ['suggested heap size', 'number of ids', 'number of operations', 'weight'] as const;
/** Ids beyond this are refused even when the header declares them (memory for the id table). */
const MAX_IDS = 1 << 28;

export class RepParser extends LineStream {
  readonly file: string;
  private readonly sink: OpSink;
  private line = 0;
  private readonly header: number[] = [];
  private opCount = 0;
  /** Per dense id: +line of the live allocation, -line of the free. */
  private state = new Int32Array(0);
  /** The trace's ids → dense ids, in the order first seen. */
  private readonly dense = new Map<number, number>();
  private maxId = -1;

  private readonly allowMisuse: boolean;

  constructor(file: string, sink: OpSink, options: { readonly allowMisuse?: boolean } = {}) {
    super();
    this.file = file;
    this.sink = sink;
    this.allowMisuse = options.allowMisuse ?? false;
  }

  /** Parses the last line and checks the header's counts. @returns the header. @throws InputError */
  end(): RepHeader {
    const unterminated = this.endLines();
    if (this.header.length < 4) {
      throw this.error(
        'rep-header',
        `the trace ends inside its header: expected the ${HEADER_FIELDS[this.header.length]}`,
        unterminated ? this.line : this.line + 1,
      );
    }
    const [heapSize, ids, ops, weight] = this.header as [number, number, number, number];
    if (this.opCount !== ops)
      throw this.error(
        'rep-count',
        `the header says ${ops} operations but the trace has ${this.opCount}`,
        3,
        1,
      );
    if (this.maxId + 1 !== ids && ops > 0)
      throw this.error('rep-count', `the header says ${ids} ids but the trace uses ${this.maxId + 1}`, 2, 1);
    return { heapSize, ids, ops, weight };
  }

  private error(code: string, message: string, line: number, column?: number): InputError {
    return new InputError(
      code,
      message,
      column === undefined ? { file: this.file, line } : { file: this.file, line, column },
    );
  }

  protected parseLine(text: string, from: number, to: number): void {
    this.line++;
    if (to > from && text.charCodeAt(to - 1) === 13) to--; // CRLF
    let i = from;
    while (i < to && isSpace(text.charCodeAt(i))) i++;
    if (i === to) return; // a blank line
    if (this.header.length < 4) {
      this.parseHeaderLine(text, i, to);
      return;
    }
    const opChar = text[i]!;
    const opColumn = i - from + 1;
    i++;
    if (i < to && !isSpace(text.charCodeAt(i))) {
      let j = i;
      while (j < to && !isSpace(text.charCodeAt(j))) j++;
      throw this.unknownOp(text.slice(i - 1, j), opColumn);
    }
    const fields: number[] = [];
    const columns: number[] = [];
    while (i < to) {
      while (i < to && isSpace(text.charCodeAt(i))) i++;
      if (i === to) break;
      const start = i;
      let v = 0;
      while (i < to && !isSpace(text.charCodeAt(i))) {
        const d = text.charCodeAt(i) - 48;
        if (d < 0 || d > 9) {
          let j = i;
          while (j < to && !isSpace(text.charCodeAt(j))) j++;
          throw this.error(
            'rep-syntax',
            `'${text.slice(start, j)}' is not a non-negative integer`,
            this.line,
            start - from + 1,
          );
        }
        v = v * 10 + d;
        i++;
      }
      if (!Number.isSafeInteger(v))
        throw this.error('rep-syntax', `${text.slice(start, i)} is too large`, this.line, start - from + 1);
      fields.push(v);
      columns.push(start - from + 1);
    }
    const want = opChar === 'f' ? 1 : opChar === 'a' || opChar === 'r' ? 2 : -1;
    if (want < 0) throw this.unknownOp(opChar, opColumn);
    if (fields.length !== want) {
      const what = opChar === 'f' ? "'f ID'" : `'${opChar} ID SIZE'`;
      const col = fields.length > want ? columns[want]! : to - from + 1;
      throw this.error(
        'rep-syntax',
        `expected ${what}, found ${fields.length} number${fields.length === 1 ? '' : 's'} after '${opChar}'`,
        this.line,
        col,
      );
    }
    const id = fields[0]!;
    const ids = this.header[1]!;
    if (id >= ids)
      throw this.error(
        'rep-id',
        `id ${id} is out of range: the header declares ${ids} ids (0..${ids - 1})`,
        this.line,
        columns[0],
      );
    let slot = this.dense.get(id);
    if (slot === undefined) {
      slot = this.dense.size;
      this.dense.set(id, slot);
      if (slot >= this.state.length) this.growState(slot);
    }
    if (id > this.maxId) this.maxId = id;
    const seen = this.state[slot]!;
    this.opCount++;
    if (this.opCount > this.header[2]!)
      throw this.error(
        'rep-count',
        `more operations than the ${this.header[2]} the header declares`,
        this.line,
        opColumn,
      );
    switch (opChar) {
      case 'a':
        if (seen > 0)
          throw this.error(
            'rep-id',
            `id ${id} is already allocated (at line ${seen})`,
            this.line,
            columns[0],
          );
        this.state[slot] = this.line;
        this.sink.op(OP_MALLOC, slot, fields[1]!, 0, 0, this.line);
        return;
      case 'f':
        this.checkLive('free', id, seen, columns[0]!);
        this.state[slot] = -this.line;
        this.sink.op(OP_FREE, slot, 0, 0, 0, this.line);
        return;
      default:
        this.checkLive('realloc', id, seen, columns[0]!);
        if (fields[1] === 0) this.state[slot] = -this.line; // realloc(p, 0) frees
        this.sink.op(OP_REALLOC, slot, fields[1]!, 0, 0, this.line);
    }
  }

  /** A free or realloc needs a live id; a freed one passes with `allowMisuse`. @throws InputError */
  private checkLive(what: string, id: number, seen: number, column: number): void {
    if (seen > 0 || (seen < 0 && this.allowMisuse)) return;
    throw new InputError(
      'rep-id',
      deadId(what, id, seen),
      { file: this.file, line: this.line, column },
      seen < 0
        ? 'vmscope malloc --allow-misuse replays it: the allocator gets the freed pointer, as the program gave it'
        : undefined,
    );
  }

  private parseHeaderLine(text: string, from: number, to: number): void {
    const t = text.slice(from, to).trim();
    const which = HEADER_FIELDS[this.header.length]!;
    const v = Number(t);
    const integral = which !== 'weight';
    if (t === '' || !Number.isFinite(v) || v < 0 || (integral && !Number.isSafeInteger(v)) || /\s/.test(t))
      throw this.error(
        'rep-header',
        `expected the ${which} (a non-negative ${integral ? 'integer' : 'number'}), found '${t}'`,
        this.line,
        1,
      );
    if (which === 'number of ids' && v > MAX_IDS)
      throw this.error('rep-header', `${v} ids is more than vmscope replays (${MAX_IDS})`, this.line, 1);
    this.header.push(v);
  }

  private unknownOp(word: string, column: number): InputError {
    return this.error('rep-syntax', `unknown operation '${word}' (expected a, f or r)`, this.line, column);
  }

  private growState(slot: number): void {
    let n = Math.max(1024, this.state.length);
    while (n <= slot) n *= 2;
    const s = new Int32Array(n);
    s.set(this.state);
    this.state = s;
  }
}

function deadId(what: string, id: number, seen: number): string {
  return seen === 0
    ? `${what} of id ${id}, which was never allocated`
    : `${what} of id ${id}, which was freed at line ${-seen}`;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 13;
}

/** Parses a whole trace given as text (for tests and small inputs). @throws InputError */
export function parseRep(file: string, text: string, sink: OpSink): RepHeader {
  const p = new RepParser(file, sink);
  p.push(new TextEncoder().encode(text));
  return p.end();
}
