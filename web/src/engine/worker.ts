/**
 * The engine worker: parses and runs scenarios with the same src/ modules as the CLI, answers
 * requests for the state at any position, fills in the charts' samples when idle, and streams
 * dropped traces. Requests are answered in order; sampling yields to them.
 */
import { describeThrown, InputError, InvariantError } from '../../../src/base/errors.js';
import { detectInputKind, INPUT_KIND_NAMES } from '../../../src/workload/kind.js';
import { detectCompression } from '../../../src/workload/trace/detect.js';
import { AllocTrace } from './alloc.js';
import type { AddressSelection, DroppedFiles, Request, Response, RssSample, StateView } from './protocol.js';
import { checkScenario, inputProblem, ScenarioSession, samplePositions } from './session.js';
import { StraceSession } from './strace.js';
import { TraceReplay } from './trace.js';

interface WorkerScope {
  postMessage(message: Response, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (e: MessageEvent<Request>) => void): void;
}

const scope = self as unknown as WorkerScope;
const post = (r: Response): void => scope.postMessage(r);

/**
 * Posts a state with fresh copies of its frame arrays moved, not cloned: copying 1.6 MB here is a
 * memcpy, while structured cloning it costs the page ~10 ms per step at 64 Ki frames. The cached
 * view keeps its own arrays.
 */
function postState(id: number, state: StateView, select: AddressSelection | null, ms: number): void {
  const f = state.frames;
  const frames = {
    ...f,
    kinds: f.kinds.slice(),
    owners: f.owners.slice(),
    refcount: f.refcount.slice(),
    mapcount: f.mapcount.slice(),
    mapPid: f.mapPid.slice(),
    mapVpn: f.mapVpn.slice(),
    ptLevel: f.ptLevel.slice(),
  };
  const transfer = [
    frames.kinds,
    frames.owners,
    frames.refcount,
    frames.mapcount,
    frames.mapPid,
    frames.mapVpn,
    frames.ptLevel,
  ].map((a) => a.buffer);
  scope.postMessage({ type: 'state', id, state: { ...state, frames }, select, ms }, transfer);
}

let session: ScenarioSession | StraceSession | null = null;

/** Whether the editor's text is an strace log (opened as steps of a replay), not a scenario. */
function isStraceLog(file: string, text: string): boolean {
  return detectInputKind(new TextEncoder().encode(text.slice(0, 65536)), file) === 'strace';
}
/** Positions still to sample for the charts. */
let pending: number[] = [];
/** Views to compute ahead, near where the page is (stepping then costs nothing). */
let prefetch: { position: number; select: AddressSelection | null }[] = [];
let idleTimer: ReturnType<typeof setTimeout> | null = null;
const done: RssSample[] = [];

function bugText(e: unknown): string {
  return describeThrown(e);
}

function scheduleIdle(): void {
  if (idleTimer !== null || (pending.length === 0 && prefetch.length === 0)) return;
  idleTimer = setTimeout(idleTask, 0);
}

/** Positions to compute after the page asked for `p`: the next, the previous, the one after. */
function neighbours(p: number, last: number): number[] {
  return [p + 1, p - 1, p + 2].filter((q) => q >= 0 && q <= last);
}

/** When the page last asked for a state; chart samples wait until it has been quiet a while. */
let lastRequest = 0;
const QUIET_MS = 800;

/**
 * One piece of background work per turn of the event loop, so that a request arriving meanwhile
 * waits for at most one piece: first the views around the current position, then chart samples
 * (taking any sample whose kernel is at hand first).
 */
function idleTask(): void {
  idleTimer = null;
  const s = session;
  if (s === null) return;
  try {
    const next = prefetch.shift();
    if (next !== undefined) {
      if (!s.hasView(next.position, next.select)) s.stateAt(next.position, next.select, true);
    } else if (pending.length > 0) {
      const wait = lastRequest + QUIET_MS - performance.now();
      if (wait > 0) {
        idleTimer = setTimeout(idleTask, wait);
        return;
      }
      const i = pending.findIndex((q) => s.isLive(q));
      const q = pending.splice(Math.max(i, 0), 1)[0]!;
      done.push(s.sample(q));
      if (done.length >= 8 || pending.length === 0) {
        post({ type: 'samples', samples: done.splice(0), done: pending.length === 0 });
      }
    }
  } catch (e) {
    pending = [];
    prefetch = [];
    post({ type: 'error', id: 0, message: `background work failed: ${bugText(e)}` });
  }
  scheduleIdle();
}

/** The bytes of a dropped file, gunzipped when its first bytes are gzip's magic (not by its name). */
async function* fileBytes(blob: Blob): AsyncGenerator<Uint8Array> {
  const magic = new Uint8Array(await blob.slice(0, 2).arrayBuffer());
  let stream = blob.stream() as ReadableStream<Uint8Array>;
  if (magic[0] === 0x1f && magic[1] === 0x8b)
    stream = stream.pipeThrough(
      new DecompressionStream('gzip') as unknown as TransformStream<Uint8Array, Uint8Array>,
    );
  const reader = stream.getReader();
  for (;;) {
    let r: ReadableStreamReadResult<Uint8Array>;
    try {
      r = await reader.read();
    } catch {
      throw new InputError('trace', 'the gzip data is corrupt or ends early', {
        file: blob instanceof File ? blob.name : 'trace',
      });
    }
    if (r.done) return;
    yield r.value;
  }
}

/** The allocation trace last dropped (for views of its heap at any operation). */
let allocTrace: AllocTrace | null = null;

/**
 * A dropped file for the Trace tab: what it is, from its first bytes, decides what reads it — a
 * memory trace (replay and curves), an allocation trace (every allocator), or a refusal in words.
 */
async function replay(req: Extract<Request, { type: 'trace' }>): Promise<void> {
  try {
    const total = req.blob.size;
    let read = 0;
    let lastReport = performance.now();
    const progress = (what: string) => {
      if (performance.now() - lastReport < 200) return;
      lastReport = performance.now();
      post({ type: 'progress', id: req.id, what, done: read, total });
    };
    const it = fileBytes(req.blob);
    // Enough of the head to tell what it is.
    const head: Uint8Array[] = [];
    let headBytes = 0;
    for (let r = await it.next(); ; r = await it.next()) {
      if (r.done) break;
      head.push(r.value);
      headBytes += r.value.length;
      if (headBytes >= 8192) break;
    }
    const joined = new Uint8Array(headBytes);
    let off = 0;
    for (const c of head) {
      joined.set(c, off);
      off += c.length;
    }
    const kind = detectInputKind(joined, req.name);
    const rest = async (push: (c: Uint8Array) => void, what: string) => {
      for (const c of head) push(c);
      for (let r = await it.next(); !r.done; r = await it.next()) {
        push(r.value);
        read += r.value.length;
        progress(what);
      }
    };
    if (kind === 'rep' || kind === 'shim-log') {
      const t = new AllocTrace(req.name, kind);
      await rest((c) => t.push(c), 'trace');
      t.end();
      allocTrace = t;
      const result = t.replayAll((done, n) =>
        post({ type: 'progress', id: req.id, what: 'allocators', done, total: n }),
      );
      post({ type: 'alloc-done', id: req.id, result });
      return;
    }
    const traceKinds: readonly string[] = [
      'lackey',
      'pages',
      'vmscope',
      'oracleGeneral',
      'din',
      'msr',
      'txt',
    ];
    if (!traceKinds.includes(kind)) {
      const what = INPUT_KIND_NAMES[kind];
      const hint =
        kind === 'strace'
          ? 'drop it on the page, not in the Trace tab: it opens as a replay, one step per call (with its program and interpreter dropped too)'
          : kind === 'elf' || kind === 'scenario'
            ? 'drop it on the page, not in the Trace tab: it opens in the editor'
            : 'expected valgrind lackey lines, one page number per line, a vmscope .vmt or oracleGeneral trace, a .rep or a shim log';
      throw new InputError(
        'trace',
        `this is ${what}, not a trace the Trace tab replays`,
        { file: req.name },
        hint,
      );
    }
    const options = {
      frames: req.frames,
      policy: req.policy,
      pageSize: req.pageSize,
      mrc: req.mrc,
      curves: req.curves,
    };
    const r = new TraceReplay(req.name, options);
    await rest((c) => r.push(c), 'trace');
    const first = r.end();
    if (first.second === null) {
      const { second: _none, ...result } = first;
      post({ type: 'trace-done', id: req.id, result });
      return;
    }
    // The second pass reads the file again (OPT and the simulated curves need the whole trace).
    const second = first.second;
    read = 0;
    for await (const c of fileBytes(req.blob)) {
      second.push(c);
      read += c.length;
      progress('curves');
    }
    post({ type: 'trace-done', id: req.id, result: second.end() });
  } catch (e) {
    if (e instanceof InputError)
      post({ type: 'trace-failed', id: req.id, problem: inputProblem(e), bug: null });
    else post({ type: 'trace-failed', id: req.id, problem: null, bug: bugText(e) });
  }
}

/** Gunzips the dropped files that are gzip streams (traces for `replay` lines; the runner reads them whole). */
async function decompressed(files: DroppedFiles): Promise<DroppedFiles> {
  return Promise.all(
    files.map(async (f) => {
      if (detectCompression(f.bytes) !== 'gzip') return f;
      const stream = new Blob([f.bytes as Uint8Array<ArrayBuffer>])
        .stream()
        .pipeThrough(new DecompressionStream('gzip') as unknown as TransformStream<Uint8Array, Uint8Array>);
      try {
        return { name: f.name, bytes: new Uint8Array(await new Response(stream).arrayBuffer()) };
      } catch {
        throw new InputError('trace', 'not a valid gzip file', { file: f.name });
      }
    }),
  );
}

async function handle(req: Request): Promise<void> {
  switch (req.type) {
    case 'check':
      // An strace log is checked by its replay (run on load), not as a scenario.
      post({
        type: 'checked',
        id: req.id,
        problem: isStraceLog(req.file, req.text) ? null : checkScenario(req.file, req.text),
      });
      return;
    case 'load': {
      session = null;
      pending = [];
      prefetch = [];
      done.length = 0;
      let s: ScenarioSession | StraceSession;
      try {
        const files = await decompressed(req.files);
        s = isStraceLog(req.file, req.text)
          ? new StraceSession(req.file, req.text, files)
          : new ScenarioSession(req.file, req.text, files);
      } catch (e) {
        if (e instanceof InputError)
          post({ type: 'load-failed', id: req.id, problem: inputProblem(e), bug: null });
        else post({ type: 'load-failed', id: req.id, problem: null, bug: bugText(e) });
        return;
      }
      let last = performance.now();
      const scenario = s.run((done, total) => {
        if (performance.now() - last < 100) return;
        last = performance.now();
        post({ type: 'progress', id: req.id, what: 'run', done, total });
      });
      session = s;
      post({ type: 'loaded', id: req.id, scenario });
      pending = samplePositions(s.lastPosition);
      scheduleIdle();
      return;
    }
    case 'state': {
      if (session === null) {
        post({ type: 'error', id: req.id, message: 'no scenario is loaded' });
        return;
      }
      const t0 = performance.now();
      const state = session.stateAt(req.position, req.select);
      postState(req.id, state, req.select, performance.now() - t0);
      lastRequest = performance.now();
      prefetch = neighbours(state.position, session.lastPosition).map((position) => ({
        position,
        select: req.select,
      }));
      scheduleIdle();
      return;
    }
    case 'trace':
      void replay(req);
      return;
    case 'heap-at':
      if (allocTrace === null) {
        post({ type: 'error', id: req.id, message: 'no allocation trace is loaded' });
        return;
      }
      post({ type: 'heap-at', id: req.id, heap: allocTrace.heapAt(req.allocator, req.op) });
      return;
  }
}

function fail(req: Request, err: unknown): void {
  const message = err instanceof InvariantError ? `a bug in vmscope: ${err.message}` : bugText(err);
  if (req.type === 'load') post({ type: 'load-failed', id: req.id, problem: null, bug: message });
  else post({ type: 'error', id: req.id, message });
}

/** Loads and states are answered in order (a load may wait for decompression); the rest at once. */
let queue: Promise<void> = Promise.resolve();

scope.addEventListener('message', (e) => {
  const req = e.data;
  if (req.type === 'load' || req.type === 'state') {
    queue = queue.then(() => handle(req)).catch((err: unknown) => fail(req, err));
    return;
  }
  handle(req).catch((err: unknown) => fail(req, err));
});
