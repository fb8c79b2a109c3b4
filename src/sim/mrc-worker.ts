/**
 * The worker side of a parallel miss-ratio curve: a message protocol over {@link SizeSweep}, with
 * no transport of its own, so the same code serves Node's `worker_threads` (the CLI passes its
 * `parentPort`) and a browser's Web Worker (wrap `self`). It imports nothing from Node.
 *
 * The main thread reads and parses the trace once and sends each worker its share of the sizes,
 * then every batch (copies, or views of a SharedArrayBuffer), then `finish`:
 *
 *   main ──init{policy, sizes, options}──► worker
 *   main ──future{distance, far}─────────► worker        (only for OPT)
 *   main ──batch{pages, writes, count}───► worker        (many)
 *   main ──finish────────────────────────► worker ──curve{curve} | error{message}──► main
 *
 * A worker answers only `finish` (with the curve) and any request that fails (with `error`, after
 * which it ignores everything but a new `init`).
 */
import { describeThrown, InputError } from '../base/errors.js';
import { PageIdMap } from '../kernel/reclaim/idmap.js';
import type { PolicyOptions } from '../kernel/reclaim/policy.js';
import { NextUses } from './cachesim.js';
import { type MissRatioCurve, SizeSweep } from './mrc.js';

export type MrcRequest =
  | {
      readonly type: 'init';
      readonly policy: string;
      readonly sizes: readonly number[];
      readonly options?: PolicyOptions;
    }
  | {
      readonly type: 'future';
      /** `NextUses.distance` of the whole stream. */
      readonly distance: Uint16Array;
      /** The far distances as [access index, distance] pairs. */
      readonly far: readonly (readonly [number, number])[];
    }
  | {
      readonly type: 'batch';
      readonly pages: Float64Array;
      readonly writes: Uint8Array | null;
      readonly count: number;
    }
  | { readonly type: 'finish' };

export type MrcReply =
  | { readonly type: 'curve'; readonly curve: MissRatioCurve }
  | { readonly type: 'error'; readonly message: string };

/** The state of one worker: a sweep between `init` and `finish`. */
export class MrcWorker {
  private sweep: SizeSweep | null = null;
  private failed = false;

  /** Handles one request. @returns the reply to send, if any. */
  handle(msg: MrcRequest): MrcReply | null {
    try {
      if (msg.type === 'init') {
        this.failed = false;
        this.sweep = new SizeSweep(msg.policy, msg.sizes, msg.options ?? {});
        return null;
      }
      if (this.failed) return null;
      const sweep = this.sweep;
      if (sweep === null) return this.fail(`'${msg.type}' before 'init'`);
      switch (msg.type) {
        case 'future': {
          const far = new PageIdMap(Math.max(16, msg.far.length));
          for (const [t, d] of msg.far) far.set(t, d);
          sweep.setFuture(new NextUses(msg.distance.length, msg.distance, far));
          return null;
        }
        case 'batch':
          sweep.push(msg.pages, msg.writes, msg.count);
          return null;
        case 'finish':
          this.sweep = null;
          return { type: 'curve', curve: sweep.curve() };
      }
    } catch (e) {
      return this.fail(e instanceof InputError ? e.format() : describeThrown(e));
    }
  }

  private fail(message: string): MrcReply {
    this.failed = true;
    this.sweep = null;
    return { type: 'error', message };
  }
}

/** What a worker's end of the channel must offer (Node's `parentPort` has exactly this shape). */
export interface MrcPort {
  on(event: 'message', listener: (msg: MrcRequest) => void): unknown;
  postMessage(msg: MrcReply): void;
}

/** Serves requests arriving on `port` until the worker is terminated. */
export function serveMrc(port: MrcPort): void {
  const worker = new MrcWorker();
  port.on('message', (msg) => {
    const reply = worker.handle(msg);
    if (reply !== null) port.postMessage(reply);
  });
}
