/**
 * The raw logs of the corpus's allocation shim (`<exe>.log.gz`): one call per line, pointers and
 * sizes in hex, with the address glibc returned.
 *
 *     0 0 x PID PPID EXE                  the process (first line)
 *     SEQ TID m SIZE RET                  malloc          SEQ TID f PTR                 free
 *     SEQ TID c NMEMB SIZE RET            calloc          SEQ TID r OLD SIZE RET        realloc
 *     SEQ TID R OLD NMEMB SIZE RET        reallocarray    SEQ TID p ALIGN SIZE RET RC   posix_memalign
 *     SEQ TID a ALIGN SIZE RET            aligned_alloc   SEQ TID A ALIGN SIZE RET      memalign
 *     SEQ TID v SIZE RET                  valloc          SEQ TID V SIZE RET            pvalloc
 *
 * Calls become operations on block ids as the corpus's log2rep.py numbers them, but keep what the .rep
 * conversion drops: calloc stays calloc (glibc serves it without the tcache), the aligned calls keep
 * their alignment, and every allocation carries glibc's address so a replay can compare. Failed calls,
 * free(NULL) and frees of pointers the log never returned produce nothing. A second process section
 * (an exec) ends the trace.
 */
import { InputError } from '../../base/errors.js';
import {
  OP_ALIGNED_ALLOC,
  OP_CALLOC,
  OP_FREE,
  OP_MALLOC,
  OP_MEMALIGN,
  OP_POSIX_MEMALIGN,
  OP_PVALLOC,
  OP_REALLOC,
  OP_VALLOC,
  type OpKind,
  type OpSink,
} from '../../user/replay.js';
import { LineStream } from './lines.js';

/** Fields after SEQ TID OP, per op letter. */
const ARITY: Readonly<Record<string, number>> = {
  m: 2,
  c: 3,
  r: 3,
  R: 4,
  f: 1,
  p: 4,
  a: 3,
  A: 3,
  v: 2,
  V: 2,
};

export interface ShimLogSummary {
  readonly process: { readonly pid: number; readonly ppid: number; readonly exe: string } | null;
  readonly records: number;
  readonly ops: number;
}

export class ShimLogParser extends LineStream {
  readonly file: string;
  private readonly sink: OpSink;
  private line = 0;
  private records = 0;
  private ops = 0;
  private nextId = 0;
  private done = false;
  private process: ShimLogSummary['process'] = null;
  /** Live address -> id. */
  private readonly live = new Map<number, number>();

  constructor(file: string, sink: OpSink) {
    super();
    this.file = file;
    this.sink = sink;
  }

  end(): ShimLogSummary {
    this.endLines();
    return { process: this.process, records: this.records, ops: this.ops };
  }

  protected parseLine(text: string, from: number, to: number): void {
    const raw = text.slice(from, to);
    this.line++;
    if (this.done) return;
    const f = raw.trim().split(/\s+/);
    if (f.length === 1 && f[0] === '') return;
    if (f[2] === 'x') {
      if (this.process !== null) {
        this.done = true; // an exec: the next program's calls are not this trace
        return;
      }
      if (f.length < 6) throw this.err('expected `0 0 x PID PPID EXE`');
      this.process = { pid: Number(f[3]), ppid: Number(f[4]), exe: f.slice(5).join(' ') };
      return;
    }
    const op = f[2] ?? '';
    const arity = ARITY[op];
    if (arity === undefined)
      throw this.err(`unknown call '${op}' (expected one of ${Object.keys(ARITY).join(' ')})`, 3);
    if (f.length !== 3 + arity) throw this.err(`'${op}' takes ${arity} fields, found ${f.length - 3}`);
    const a = f.slice(3).map((h, i) => {
      if (!/^[0-9a-f]+$/i.test(h)) throw this.err(`'${h}' is not a hex number`, 4 + i);
      const v = Number.parseInt(h, 16);
      if (!Number.isSafeInteger(v)) throw this.err(`'${h}' is too large`, 4 + i);
      return v;
    });
    this.records++;
    switch (op) {
      case 'm':
        this.alloc(OP_MALLOC, a[0]!, 0, a[1]!);
        return;
      case 'c':
        this.alloc(OP_CALLOC, a[0]! * a[1]!, 0, a[2]!);
        return;
      case 'p':
        this.alloc(OP_POSIX_MEMALIGN, a[1]!, a[0]!, a[3] === 0 ? a[2]! : 0);
        return;
      case 'a':
        this.alloc(OP_ALIGNED_ALLOC, a[1]!, a[0]!, a[2]!);
        return;
      case 'A':
        this.alloc(OP_MEMALIGN, a[1]!, a[0]!, a[2]!);
        return;
      case 'v':
        this.alloc(OP_VALLOC, a[0]!, 0, a[1]!);
        return;
      case 'V':
        this.alloc(OP_PVALLOC, a[0]!, 0, a[1]!);
        return;
      case 'f': {
        const id = this.live.get(a[0]!);
        if (a[0] === 0 || id === undefined) return;
        this.live.delete(a[0]!);
        this.emit(OP_FREE, id, 0, 0, 0);
        return;
      }
      default: {
        const [old, size, ret] = op === 'r' ? [a[0]!, a[1]!, a[2]!] : [a[0]!, a[1]! * a[2]!, a[3]!];
        const id = this.live.get(old);
        if (old === 0 || id === undefined) {
          this.alloc(OP_MALLOC, size, 0, ret);
          return;
        }
        if (size === 0 && ret === 0) {
          this.live.delete(old);
          this.emit(OP_REALLOC, id, 0, 0, 0); // realloc(p, 0) frees
          return;
        }
        if (ret === 0) return; // failed: the old block stays
        this.live.delete(old);
        this.live.set(ret, id);
        this.emit(OP_REALLOC, id, size, 0, ret);
      }
    }
  }

  private alloc(kind: OpKind, size: number, align: number, ret: number): void {
    if (ret === 0) return;
    const id = this.nextId++;
    this.live.set(ret, id);
    this.emit(kind, id, size, align, ret);
  }

  private emit(kind: OpKind, id: number, size: number, align: number, expect: number): void {
    this.ops++;
    this.sink.op(kind, id, size, align, expect, this.line);
  }

  private err(message: string, field?: number): InputError {
    return new InputError('shimlog-syntax', field === undefined ? message : `field ${field}: ${message}`, {
      file: this.file,
      line: this.line,
    });
  }
}
