/**
 * Replays a memory-access trace pushed in chunks (a file the user dropped, streamed by the worker):
 * the format is detected from the first bytes, lackey records are split into page accesses as the
 * CLI splits them, each batch goes through one replacement policy (`CacheSim`) and through the
 * exact LRU stack-distance pass that gives the whole miss-ratio curve.
 *
 * The same class runs in Node for the benchmark that compares it with the CLI's speed.
 */
import { InputError } from '../../../src/base/errors.js';
import { createPolicy } from '../../../src/kernel/reclaim/registry.js';
import { CacheSim } from '../../../src/sim/cachesim.js';
import { LruStackDistance, powerOfTwoSizes } from '../../../src/sim/mrc.js';
import type { PageBatch } from '../../../src/workload/trace/batch.js';
import { detectTraceFormat, type TraceFormat } from '../../../src/workload/trace/detect.js';
import { LackeyParser } from '../../../src/workload/trace/lackey.js';
import { PagesParser } from '../../../src/workload/trace/pages.js';
import { LackeyPageSplitter } from '../../../src/workload/trace/split.js';
import type { TraceResult } from './protocol.js';

export interface TraceOptions {
  readonly frames: number;
  readonly policy: string;
  readonly pageSize: number;
  /** Also compute the LRU miss-ratio curve (one extra pass over each batch; default true). */
  readonly mrc?: boolean;
}

/** Bytes to look at before deciding the format. */
const HEAD_BYTES = 4096;

export class TraceReplay {
  readonly name: string;
  private readonly options: TraceOptions;
  private readonly sim: CacheSim;
  private readonly lru: LruStackDistance | null;
  private parser: { push(chunk: Uint8Array): void; end(): void } | null = null;
  private splitter: LackeyPageSplitter | null = null;
  private format: TraceFormat | null = null;
  private head: Uint8Array[] = [];
  private headBytes = 0;
  private bytes = 0;
  private readonly started = performance.now();

  /** @throws InputError for an unknown policy or a bad frame count. */
  constructor(name: string, options: TraceOptions) {
    this.name = name;
    this.options = options;
    const policy = createPolicy(options.policy, options.frames, {}, { file: 'policy' });
    if (policy.needsFuture) {
      throw new InputError(
        'policy',
        `${options.policy} needs the whole trace in advance; in the browser pick a policy that does not`,
        { file: 'policy' },
      );
    }
    this.sim = new CacheSim(policy);
    this.lru = options.mrc === false ? null : new LruStackDistance();
  }

  /** Accesses replayed so far. */
  get accesses(): number {
    return this.sim.accesses;
  }

  /** Feeds the next bytes of the trace. @throws InputError on a malformed line. */
  push(chunk: Uint8Array): void {
    this.bytes += chunk.length;
    if (this.parser === null) {
      this.head.push(chunk);
      this.headBytes += chunk.length;
      if (this.headBytes < HEAD_BYTES) return;
      this.start(false);
      return;
    }
    this.parser.push(chunk);
  }

  /** Ends the trace. @returns what the replay counted. @throws InputError on a malformed last line. */
  end(): TraceResult {
    if (this.parser === null) this.start(true);
    this.parser!.end();
    this.splitter?.flush();
    const s = this.sim.stats();
    const lru = this.lru;
    let mrc: TraceResult['mrc'] = null;
    if (lru !== null && lru.accesses > 0) {
      const sizes = powerOfTwoSizes(1, Math.max(2, lru.distinctPages));
      const curve = lru.curve(sizes);
      mrc = { sizes, missRatio: curve.faults.map((f) => f / curve.accesses) };
    }
    return {
      name: this.name,
      format: this.format ?? 'unknown',
      accesses: s.accesses,
      distinctPages: s.distinctPages,
      frames: s.frames,
      policy: s.policy,
      hits: s.hits,
      faults: s.faults,
      evictions: s.evictions,
      writebacks: s.writebacks,
      mrc,
      ms: performance.now() - this.started,
      bytes: this.bytes,
    };
  }

  private start(whole: boolean): void {
    const head = new Uint8Array(this.headBytes);
    let off = 0;
    for (const c of this.head) {
      head.set(c, off);
      off += c.length;
    }
    this.head = [];
    const format = detectTraceFormat(head);
    if (format === null) {
      throw new InputError(
        'trace',
        whole && this.headBytes === 0
          ? 'the trace is empty'
          : 'not a trace vmscope reads: expected valgrind lackey lines (` L 04010173,8`) or one page number per line',
        { file: this.name, line: 1, column: 1 },
      );
    }
    this.format = format;
    const replay = (b: PageBatch): void => {
      this.sim.run(b.page, b.write, b.count);
      this.lru?.push(b.page, b.count);
    };
    if (format === 'pages') {
      this.parser = new PagesParser(this.name, replay);
    } else {
      const splitter = new LackeyPageSplitter(this.options.pageSize, replay);
      this.splitter = splitter;
      this.parser = new LackeyParser(this.name, (b) => splitter.push(b));
    }
    this.parser.push(head);
  }
}
