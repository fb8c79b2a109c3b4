/**
 * A trace reader worker started before the CLI's own modules load (launch.ts), so that the worker's
 * boot (a thread, an isolate, its bundle compiled) overlaps the main thread's, and a replay's first
 * accesses are decoded by the time the simulation asks for them. The first {@link PipedStream}
 * (trace-input.ts) adopts it by posting its task; a worker nobody adopts is unref'd and ends with
 * the process.
 *
 * The launcher and the CLI are separate bundles, each with its own copy of this module: the spare
 * worker is kept in one process-wide slot (a registered symbol on `globalThis`), not in a module
 * variable.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/** A worker with what happened to it since it started (its listeners are attached at once). */
export interface WatchedWorker {
  readonly worker: Worker;
  exited: boolean;
  error: unknown;
}

const SLOT = Symbol.for('vmscope.earlyTraceWorker');

type Slot = { [SLOT]?: WatchedWorker | undefined };

/** Starts `worker`'s watch: its exit and error are recorded from now on. */
export function watchWorker(worker: Worker): WatchedWorker {
  const w: WatchedWorker = { worker, exited: false, error: null };
  worker.unref();
  worker.on('error', (e) => {
    w.error = e;
  });
  worker.on('exit', () => {
    w.exited = true;
  });
  return w;
}

/** Starts the spare trace worker from its bundle at `url`; it waits for a task message. */
export function startEarlyTraceWorker(url: URL): void {
  (globalThis as Slot)[SLOT] = watchWorker(new Worker(url));
}

/** The spare worker, once (null when none was started, or it is already taken or dead). */
export function takeEarlyTraceWorker(): WatchedWorker | null {
  const slot = globalThis as Slot;
  const w = slot[SLOT];
  slot[SLOT] = undefined;
  return w === undefined || w.exited ? null : w;
}

/**
 * `--threads`' default: 2 or more decodes in a worker thread, 1 on the simulating thread. (Here, so
 * that the launcher decides as replay does without loading the CLI.)
 */
export const DEFAULT_READ_THREADS = Math.min(2, availableParallelism());

/**
 * Whether a command line (without node and script) is a replay that will read a trace in a worker:
 * `replay` with `--threads` (or, without it, {@link DEFAULT_READ_THREADS}) 2 or more, not asking for
 * help. A wrong guess only costs a worker's boot (or, the other way, the time this saves).
 */
export function replayReadsInWorker(argv: readonly string[], defaultThreads = DEFAULT_READ_THREADS): boolean {
  if (argv[0] !== 'replay') return false;
  let threads = defaultThreads;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (a === '--help' || a === '-h') return false;
    if (a === '--threads') threads = Number(argv[i + 1]);
    else if (a.startsWith('--threads=')) threads = Number(a.slice('--threads='.length));
  }
  return threads >= 2;
}
