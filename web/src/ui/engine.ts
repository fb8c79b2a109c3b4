/**
 * The page's side of the engine worker: one request at a time per kind, the latest wins. State
 * requests are coalesced — while one is being computed, only the most recent position asked for
 * waits — so holding an arrow key never queues up work. A long run can be cancelled by replacing
 * the worker.
 */
import type { AddressSelection, DroppedFiles, Request, Response } from '../engine/protocol.js';

export interface EngineHandlers {
  onResponse(r: Response): void;
}

type StateWant = { readonly position: number; readonly select: AddressSelection | null };

export class EngineClient {
  private worker: Worker;
  private nextId = 1;
  private readonly handlers: EngineHandlers;
  private stateInFlight: number | null = null;
  private stateWanted: StateWant | null = null;
  /** Id of the load whose responses count; older ones are ignored. */
  loadId = 0;
  checkId = 0;
  traceId = 0;
  heapId = 0;

  constructor(handlers: EngineHandlers) {
    this.handlers = handlers;
    this.worker = this.spawn();
  }

  private spawn(): Worker {
    const w = new Worker(new URL('../engine/worker.ts', import.meta.url), {
      type: 'module',
      name: 'vmscope-engine',
    });
    w.addEventListener('message', (e: MessageEvent<Response>) => this.receive(e.data));
    w.addEventListener('error', (e) => {
      this.handlers.onResponse({ type: 'error', id: 0, message: `the engine worker failed: ${e.message}` });
    });
    return w;
  }

  private send(r: Request): void {
    this.worker.postMessage(r);
  }

  private receive(r: Response): void {
    if (r.type === 'state' || (r.type === 'error' && r.id === this.stateInFlight)) {
      this.stateInFlight = null;
      const want = this.stateWanted;
      this.stateWanted = null;
      if (want) this.requestState(want.position, want.select);
    }
    this.handlers.onResponse(r);
  }

  /** Parses `text` (no run) to place errors while the user types. */
  check(file: string, textValue: string): number {
    this.checkId = this.nextId++;
    this.send({ type: 'check', id: this.checkId, file, text: textValue });
    return this.checkId;
  }

  /** Parses and runs a scenario, replacing the one loaded. */
  load(file: string, textValue: string, files: DroppedFiles): number {
    this.loadId = this.nextId++;
    this.stateInFlight = null;
    this.stateWanted = null;
    this.send({ type: 'load', id: this.loadId, file, text: textValue, files });
    return this.loadId;
  }

  /** Asks for the state at `position`; superseded requests are dropped before they are sent. */
  requestState(position: number, select: AddressSelection | null): void {
    if (this.stateInFlight !== null) {
      this.stateWanted = { position, select };
      return;
    }
    this.stateInFlight = this.nextId++;
    this.send({ type: 'state', id: this.stateInFlight, position, select });
  }

  /** Streams a trace file through the worker. */
  trace(
    name: string,
    blob: Blob,
    o: {
      readonly frames: number;
      readonly policy: string;
      readonly pageSize: number;
      readonly mrc: boolean;
      readonly curves: readonly string[];
    },
  ): number {
    this.traceId = this.nextId++;
    this.send({ type: 'trace', id: this.traceId, name, blob, ...o });
    return this.traceId;
  }

  /** Asks for an allocator's heap after the first `op` operations of the allocation trace. */
  heapAt(allocator: string, op: number): number {
    this.heapId = this.nextId++;
    this.send({ type: 'heap-at', id: this.heapId, allocator, op });
    return this.heapId;
  }

  /** Stops whatever the worker is doing by replacing it (the scenario must be loaded again). */
  restart(): void {
    this.worker.terminate();
    this.stateInFlight = null;
    this.stateWanted = null;
    this.loadId = 0;
    this.worker = this.spawn();
  }
}
