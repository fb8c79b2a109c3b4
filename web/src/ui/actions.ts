/**
 * Everything that changes the page's state: loading and running scenarios, moving in time,
 * selecting, dropping files, and keeping the URL in step. Views call these; the worker's answers
 * come back through {@link onResponse}.
 */
import { batch } from '@preact/signals';
import { readElf } from '../../../src/kernel/exec/elf.js';
import type { AddressSelection, Response } from '../engine/protocol.js';
import { decodeText, encodeText, formatHash, parseHash } from '../logic/hash.js';
import { EngineClient } from './engine.js';
import { DEFAULT_EXAMPLE, type Example, exampleByName, exampleWithText } from './examples.js';
import {
  bug,
  busy,
  checkProblem,
  exampleName,
  fileName,
  files,
  helpOpen,
  lastPosition,
  loaded,
  loadedText,
  loadProblem,
  NO_SELECTION,
  playing,
  position,
  type Selection,
  samples,
  samplesDone,
  selection,
  sentText,
  state,
  stateMs,
  stateSelect,
  text,
  toast,
  trace,
  traceOptions,
  traceProblem,
} from './store.js';

let engine: EngineClient;
/** Milliseconds from each state's arrival to the next frame after it was drawn (the benchmark reads them). */
export const redrawTimes: number[] = [];
/** Where to go once the scenario being loaded has run (null: to its end). */
let targetPosition: number | null = null;
let encoded: string | null = null;
let hashTimer: ReturnType<typeof setTimeout> | undefined;
let checkTimer: ReturnType<typeof setTimeout> | undefined;
let playTimer: ReturnType<typeof setInterval> | undefined;
let toastTimer: ReturnType<typeof setTimeout> | undefined;
/** Resolves when a state for the current position and selection has arrived (tests, the bench). */
let settledWaiters: (() => void)[] = [];

export function notify(message: string): void {
  toast.value = message;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    toast.value = null;
  }, 4000);
}

/** The address to walk for a selection: the address, or a selected VMA's first page. */
function addressOf(sel: Selection): AddressSelection | null {
  if (sel.pid === null) return null;
  if (sel.va !== null) return { pid: sel.pid, va: sel.va };
  return sel.vma !== null ? { pid: sel.pid, va: sel.vma.start } : null;
}

function requestState(): void {
  if (loaded.value === null) return;
  engine.requestState(position.value, addressOf(selection.value));
}

/** True when the state on screen is the one asked for. */
export function isSettled(): boolean {
  const st = state.value;
  const sel = addressOf(selection.value);
  const shown = stateSelect.value;
  if (loaded.value === null || busy.value !== null) return false;
  if (st === null || st.position !== position.value) return false;
  return sel === null ? shown === null : shown !== null && shown.pid === sel.pid && shown.va === sel.va;
}

/** Waits until the state on screen matches the position and selection (and has been painted). */
export function whenSettled(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => requestAnimationFrame(() => resolve());
    if (isSettled()) done();
    else settledWaiters.push(done);
  });
}

function wakeSettled(): void {
  if (!isSettled()) return;
  const w = settledWaiters;
  settledWaiters = [];
  for (const f of w) f();
}

export function onResponse(r: Response): void {
  switch (r.type) {
    case 'checked':
      if (r.id === engine.checkId) checkProblem.value = r.problem;
      return;
    case 'progress':
      if (r.what === 'run' && r.id !== engine.loadId) return;
      busy.value = { what: r.what, done: r.done, total: r.total };
      return;
    case 'loaded': {
      if (r.id !== engine.loadId) return;
      const sc = r.scenario;
      const last = sc.steps.length;
      batch(() => {
        busy.value = null;
        loaded.value = sc;
        loadedText.value = sentText.value;
        loadProblem.value = sc.runError;
        checkProblem.value = sc.runError;
        bug.value = sc.bug;
        samples.value = [];
        samplesDone.value = false;
        state.value = null;
        position.value = Math.min(targetPosition ?? last, last);
      });
      targetPosition = null;
      requestState();
      return;
    }
    case 'load-failed':
      if (r.id !== engine.loadId) return;
      batch(() => {
        busy.value = null;
        loadProblem.value = r.problem;
        checkProblem.value = r.problem;
        bug.value = r.bug;
      });
      return;
    case 'state': {
      const arrived = performance.now();
      requestAnimationFrame(() =>
        setTimeout(() => {
          redrawTimes.push(performance.now() - arrived);
          if (redrawTimes.length > 500) redrawTimes.shift();
        }, 0),
      );
      batch(() => {
        state.value = r.state;
        stateSelect.value = r.select;
        stateMs.value = r.ms;
      });
      wakeSettled();
      return;
    }
    case 'samples':
      batch(() => {
        samples.value = [...samples.value, ...r.samples];
        samplesDone.value = r.done;
      });
      return;
    case 'trace-done':
      if (r.id !== engine.traceId) return;
      batch(() => {
        busy.value = null;
        trace.value = r.result;
        traceProblem.value = null;
      });
      return;
    case 'trace-failed':
      if (r.id !== engine.traceId) return;
      batch(() => {
        busy.value = null;
        traceProblem.value = r.problem?.formatted ?? `a bug in vmscope: ${r.bug}`;
      });
      return;
    case 'error':
      notify(r.message);
      return;
  }
}

// ---------------------------------------------------------------- scenarios

/** Parses and runs the editor's text; the page then shows position `to` (default: the end). */
export function run(to: number | null = null): void {
  stopPlaying();
  targetPosition = to;
  const t = text.value;
  sentText.value = t;
  busy.value = { what: 'run', done: 0, total: 0 };
  engine.load(
    fileName.value,
    t,
    files.value.map((f) => ({ name: f.name, bytes: f.bytes })),
  );
}

/** Stops a long run by restarting the worker. */
export function cancel(): void {
  engine.restart();
  busy.value = null;
  notify('stopped; the worker was restarted');
  // The worker forgot what it had: run the scenario on screen again (not the one that was stopped).
  const shown = loadedText.value;
  if (shown !== null && loaded.value !== null) {
    const edited = text.value;
    text.value = shown;
    run(position.value);
    text.value = edited;
  }
}

export function setText(t: string): void {
  text.value = t;
  exampleName.value = exampleWithText(t)?.name ?? null;
  clearTimeout(checkTimer);
  checkTimer = setTimeout(() => engine.check(fileName.value, text.value), 250);
  scheduleHash();
}

export function openExample(ex: Example, to: number | null = null): void {
  batch(() => {
    fileName.value = `${ex.name}.vms`;
    text.value = ex.text;
    exampleName.value = ex.name;
    selection.value = NO_SELECTION;
    checkProblem.value = null;
  });
  run(to);
  scheduleHash();
}

// ---------------------------------------------------------------- time travel

export function goTo(p: number): void {
  const last = lastPosition.value;
  const next = Math.max(0, Math.min(last, Math.round(p)));
  if (next === position.value && state.value?.position === next) return;
  position.value = next;
  requestState();
  scheduleHash();
}

export function step(by: number): void {
  goTo(position.value + by);
}

export function stopPlaying(): void {
  clearInterval(playTimer);
  playing.value = false;
}

export function togglePlay(): void {
  if (playing.value) {
    stopPlaying();
    return;
  }
  if (position.value >= lastPosition.value) goTo(0);
  playing.value = true;
  playTimer = setInterval(() => {
    if (position.value >= lastPosition.value) stopPlaying();
    else step(1);
  }, 450);
}

// ---------------------------------------------------------------- selection

export function select(sel: Selection): void {
  selection.value = sel;
  requestState();
  scheduleHash();
}

export function selectAddress(pid: number, va: number): void {
  select({ pid, va, vma: null, pfn: null });
}

export function selectVma(pid: number, start: number, end: number): void {
  select({ pid, va: null, vma: { start, end }, pfn: null });
}

/** A frame, and where it is mapped (so that the walk shows how it is reached). */
export function selectFrame(pfn: number): void {
  const st = state.value;
  const ps = loaded.value?.machine.pageSize ?? 4096;
  const pid = st?.frames.mapPid[pfn] ?? -1;
  if (st !== undefined && st !== null && pid >= 0) {
    select({ pid, va: st.frames.mapVpn[pfn]! * ps, vma: null, pfn });
    return;
  }
  const owner = st?.frames.owners[pfn] ?? -1;
  select({ pid: owner > 0 ? owner : null, va: null, vma: null, pfn });
}

export function clearSelection(): void {
  select(NO_SELECTION);
}

// ---------------------------------------------------------------- files

function isElf(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46
  );
}

/** Files from a drop or the file picker: scenarios open, ELF binaries become exec-able, traces replay. */
export async function addFiles(list: readonly File[]): Promise<void> {
  for (const f of list) {
    if (f.name.endsWith('.vms')) {
      fileName.value = f.name;
      setText(await f.text());
      run();
      continue;
    }
    const head = new Uint8Array(await f.slice(0, 4).arrayBuffer());
    if (isElf(head)) {
      const bytes = new Uint8Array(await f.arrayBuffer());
      files.value = [...files.value.filter((x) => x.name !== f.name), { name: f.name, bytes, kind: 'elf' }];
      if (/^ld-|\.so(\.|$)/.test(f.name)) {
        // An interpreter or a library: kept for the programs that name it.
        notify(`${f.name} kept: programs whose PT_INTERP names it will find it`);
        if (loaded.value !== null) run(position.value);
        continue;
      }
      addExecLine(f.name, interpreterOf(f.name, bytes));
      continue;
    }
    // A trace: replayed through a policy at once, and kept (when not huge) for `replay NAME FILE`.
    if (f.size <= TRACE_KEEP_BYTES) {
      const bytes = new Uint8Array(await f.arrayBuffer());
      files.value = [...files.value.filter((x) => x.name !== f.name), { name: f.name, bytes, kind: 'trace' }];
      notify(
        `${f.name}: replayed in the Trace tab; a scenario line 'replay T ${f.name}' runs it as a process`,
      );
    }
    runTrace(f);
  }
}

/** Dropped traces up to this size are kept for `replay` lines (the runner reads them whole). */
const TRACE_KEEP_BYTES = 32 << 20;

/** The interpreter an ELF asks for (PT_INTERP), or null: static, or not readable as ELF. */
function interpreterOf(name: string, bytes: Uint8Array): string | null {
  try {
    return readElf(bytes, name).interp;
  } catch {
    return null; // exec will say what is wrong with it, at its line
  }
}

/** Adds `exec Pn NAME` and `show Pn maps` to the scenario unless it already execs NAME, and runs it. */
function addExecLine(name: string, interp: string | null): void {
  const t = text.value;
  const named = new RegExp(`^\\s*exec\\s+\\w+\\s+\\S*${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`, 'm');
  if (named.test(t)) {
    run();
    return;
  }
  let n = 1;
  while (new RegExp(`\\bP${n}\\b`).test(t)) n++;
  const proc = `P${n}`;
  setText(
    `${t.replace(/\n*$/, '\n')}\n# ${name}, dropped from your disk\nexec ${proc} ${name}\nshow ${proc} maps\n`,
  );
  const have = (path: string) => files.value.some((f) => f.name === path || path.endsWith(`/${f.name}`));
  notify(
    interp !== null && !have(interp)
      ? `${name} added as process ${proc}; it needs its interpreter ${interp}: drop that file too`
      : `${name} added as process ${proc}`,
  );
  run();
}

export function runTrace(f: Blob & { name?: string }): void {
  const name = f.name ?? 'trace';
  const o = traceOptions.value;
  traceProblem.value = null;
  busy.value = { what: 'trace', done: 0, total: f.size };
  engine.trace(name, f, { ...o, pageSize: loaded.value?.machine.pageSize ?? 4096 });
}

// ---------------------------------------------------------------- the URL

function scheduleHash(): void {
  clearTimeout(hashTimer);
  // Not on every step: replaceState costs a few milliseconds.
  hashTimer = setTimeout(() => void writeHash(), 500);
}

let encodedFor: string | null = null;

async function writeHash(): Promise<void> {
  const ex = exampleName.value;
  if (ex === null && encodedFor !== text.value) {
    const t = text.value;
    encoded = await encodeText(t);
    encodedFor = t;
  }
  const sel = selection.value;
  const hash = formatHash({
    example: ex,
    encoded,
    position: loaded.value ? position.value : null,
    address: sel.pid !== null && sel.va !== null ? { pid: sel.pid, va: sel.va } : null,
  });
  if (location.hash.slice(1) !== hash) history.replaceState(null, '', `#${hash}`);
}

/** Copies a link to this very state. */
export async function share(): Promise<void> {
  await writeHash();
  try {
    await navigator.clipboard.writeText(location.href);
    notify('link copied: it holds the scenario, the step and the selected address');
  } catch {
    notify('copy the address bar: it holds the scenario, the step and the selected address');
  }
}

// ---------------------------------------------------------------- start

/** What `vmscope serve FILE` preloads. */
interface Preload {
  readonly file: string;
  readonly text: string;
}

async function fetchPreload(): Promise<Preload | null> {
  try {
    const r = await fetch('./preload.json', { cache: 'no-store' });
    if (!r.ok) return null;
    const p = (await r.json()) as Preload | null;
    return p !== null && typeof p.text === 'string' && typeof p.file === 'string' ? p : null;
  } catch {
    return null;
  }
}

export async function boot(): Promise<void> {
  engine = new EngineClient({ onResponse });
  const h = parseHash(location.hash);
  if (h.address) selection.value = { pid: h.address.pid, va: h.address.va, vma: null, pfn: null };
  const ex = h.example !== null ? exampleByName(h.example) : undefined;
  if (ex) {
    openExample(ex, h.position);
    if (h.address) selection.value = { pid: h.address.pid, va: h.address.va, vma: null, pfn: null };
    return;
  }
  if (h.encoded !== null) {
    const t = await decodeText(h.encoded);
    if (t !== null) {
      fileName.value = 'shared.vms';
      setText(t);
      run(h.position);
      return;
    }
    notify('the link holds no scenario vmscope can read; here is the tour instead');
  }
  const pre = await fetchPreload();
  if (pre !== null) {
    fileName.value = pre.file;
    setText(pre.text);
    run(h.position);
    return;
  }
  openExample(DEFAULT_EXAMPLE, h.position);
}

export function toggleHelp(): void {
  helpOpen.value = !helpOpen.value;
}
