/**
 * The worker thread of a {@link PipedStream} (trace-input.ts): reads, decompresses and decodes one
 * trace into the shared ring, ahead of the thread that simulates, until the trace ends or fails.
 * Its task comes as its `workerData`, or, for a worker started before it had one (early-worker.ts),
 * as the first message.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { InputError } from '../base/errors.js';
import type { FuturePageBatch, PageBatch } from '../workload/trace/batch.js';
import { type StreamInfo, TraceReader, type WorkerError, type WorkerTask } from './trace-input.js';
import { RingWriter } from './trace-ring.js';

const task: WorkerTask =
  (workerData as WorkerTask | null) ??
  (await new Promise<WorkerTask>((res) => parentPort!.once('message', (m: WorkerTask) => res(m))));
const ring = new RingWriter(task.ring);
let infoSent = false;

function sendInfo(): void {
  const info: StreamInfo = reader.info!;
  ring.setInfo(info);
  infoSent = true;
}

const reader: TraceReader = new TraceReader(task.path, task.format, task.options, (b: PageBatch) => {
  if (!infoSent) sendInfo();
  ring.put(b.page, b.write, 'next' in b ? (b as FuturePageBatch).next : null, b.count);
});

try {
  while (await reader.step()) ring.setProgress(reader.progress.bytes, reader.records);
  ring.setProgress(reader.progress.bytes, reader.records);
  if (!infoSent) sendInfo();
  ring.finish();
} catch (e) {
  const error: WorkerError =
    e instanceof InputError
      ? { input: { code: e.code, message: e.message, span: e.span, hint: e.hint } }
      : { bug: e instanceof Error ? (e.stack ?? e.message) : String(e) };
  ring.fail(error);
}
