/**
 * Everything that changes the page's state: loading and running scenarios, moving in time,
 * selecting, dropping files, and keeping the URL in step. Views call these; the worker's answers
 * come back through {@link onResponse}.
 */
import { batch } from '@preact/signals';
import { EM_386, EM_RISCV, EM_X86_64, readElf } from '../../../src/kernel/exec/elf.js';
import { detectInputKind } from '../../../src/workload/kind.js';
import type { AddressSelection, Response } from '../engine/protocol.js';
import { findDropped } from '../logic/dropped.js';
import { decodeText, encodeText, formatHash, parseHash } from '../logic/hash.js';
import { startPosition } from '../logic/start.js';
import { classify, contentOf, type Picked } from './drop.js';
import { EngineClient } from './engine.js';
import { DEFAULT_EXAMPLE, type Example, exampleByName, exampleWithText } from './examples.js';
import {
  alloc,
  bug,
  busy,
  chartTab,
  checkProblem,
  type DroppedFile,
  exampleName,
  fileName,
  files,
  heapAt,
  heapChoice,
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
  traceFile,
  traceOptions,
  traceProblem,
} from './store.js';

let engine: EngineClient;
/** Said once the scenario being loaded has run: what became of a dropped file (null: it worked). */
let afterLoad: ((problem: string | null) => void) | null = null;
/** Said once a dropped trace has been replayed (never before: no success toast for a failure). */
let traceSucceeded: ((format: string) => void) | null = null;
/** Milliseconds from each state's arrival to the next frame after it was drawn (the benchmark reads them). */
export const redrawTimes: number[] = [];
/**
 * Where to go once a scenario has run: a position, `start` (after its first statement, or the one
 * a `# start here` comment marks: see logic/start.ts), or `end` (where a line was just added).
 */
type Target = number | 'start' | 'end';
/** Where to go once the scenario being loaded has run. */
let targetPosition: Target = 'start';
/** Play forward from there (what Run does). */
let playAfterLoad = false;
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
      const target =
        targetPosition === 'start'
          ? startPosition(
              sc.steps.map((st) => st.line),
              sentText.value ?? '',
            )
          : targetPosition === 'end'
            ? last
            : Math.min(targetPosition, last);
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
        position.value = target;
      });
      targetPosition = 'start';
      requestState();
      if (playAfterLoad && target < last) startPlaying();
      playAfterLoad = false;
      afterLoad?.(sc.runError?.formatted ?? sc.bug);
      afterLoad = null;
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
      afterLoad?.(r.problem?.formatted ?? r.bug ?? 'the scenario could not be run');
      afterLoad = null;
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
        chartTab.value = 'trace';
      });
      traceSucceeded?.(r.result.format);
      traceSucceeded = null;
      return;
    case 'alloc-done':
      if (r.id !== engine.traceId) return;
      batch(() => {
        busy.value = null;
        alloc.value = r.result;
        traceProblem.value = null;
        chartTab.value = 'trace';
        heapChoice.value = { allocator: heapChoice.value.allocator, op: r.result.ops };
      });
      traceSucceeded?.(r.result.format);
      traceSucceeded = null;
      engine.heapAt(heapChoice.value.allocator, heapChoice.value.op);
      return;
    case 'heap-at':
      if (r.id === engine.heapId) heapAt.value = r.heap;
      return;
    case 'trace-failed':
      if (r.id !== engine.traceId) return;
      batch(() => {
        busy.value = null;
        traceProblem.value = r.problem?.formatted ?? `a bug in vmscope: ${r.bug}`;
        chartTab.value = 'trace';
      });
      traceSucceeded = null;
      return;
    case 'error':
      notify(r.message);
      return;
  }
}

// ---------------------------------------------------------------- scenarios

/**
 * Parses and runs the editor's text; the page then shows position `to` (default: its start, see
 * logic/start.ts), and plays forward from there with `play`.
 */
export function run(to: Target = 'start', options: { readonly play?: boolean } = {}): void {
  stopPlaying();
  targetPosition = to;
  playAfterLoad = options.play ?? false;
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

/**
 * The Run button (and Ctrl+Enter): from the start, playing forward — unless the page is past the
 * start of what it shows (the user is looking at a step): then it stays there.
 */
export function runEditor(): void {
  const sc = loaded.value;
  const start =
    sc === null
      ? 0
      : startPosition(
          sc.steps.map((st) => st.line),
          loadedText.value ?? '',
        );
  if (sc !== null && sc.file === fileName.value && position.value > start) run(position.value);
  else run('start', { play: true });
}

export function setText(t: string): void {
  text.value = t;
  exampleName.value = exampleWithText(t)?.name ?? null;
  clearTimeout(checkTimer);
  checkTimer = setTimeout(() => engine.check(fileName.value, text.value), 250);
  scheduleHash();
}

export function openExample(ex: Example, to: Target = 'start'): void {
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
  startPlaying();
}

function startPlaying(): void {
  clearInterval(playTimer);
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

/** Files of a dropped folder larger than this are left out (what a replay needs of them is their size). */
const FOLDER_KEEP_BYTES = 64 << 20;

/**
 * Files from a drop or the file picker: what each is (from its first bytes, gunzipped) decides where
 * it goes (see src/workload/kind.ts). The programs and folders of one drop are kept first, so that a
 * log or scenario dropped with them finds them on its first run.
 */
export async function addFiles(list: readonly (File | Picked)[]): Promise<void> {
  const picked = list.map((x) => (x instanceof File ? { file: x, path: x.name } : x));
  const all = await Promise.all(picked.map(classify));
  const folders = new Set(all.filter((c) => c.inFolder).map((c) => c.path.split('/')[0]!));
  const kept: DroppedFile[] = [];
  let left = 0;
  for (const c of all) {
    if (c.inFolder) {
      // A folder is a sysroot: its programs, libraries and link files; other files for their sizes.
      if (c.file.size > FOLDER_KEEP_BYTES && c.kind !== 'elf') left++;
      else kept.push({ name: c.name, bytes: await contentOf(c), kind: c.kind === 'elf' ? 'elf' : 'other' });
    } else if (c.kind === 'elf') kept.push({ name: c.name, bytes: await contentOf(c), kind: 'elf' });
  }
  if (kept.length > 0) {
    const names = new Set(kept.map((f) => f.name));
    files.value = [...files.value.filter((x) => !names.has(x.name)), ...kept];
  }
  const docs = all.filter((c) => !c.inFolder && (c.kind === 'scenario' || c.kind === 'strace'));
  const elfs = all.filter((c) => !c.inFolder && c.kind === 'elf');
  const keptWords = [
    ...elfs.map((c) => c.name),
    ...[...folders].map((d) => `the folder ${d}${left > 0 ? ` (${left} files over 64 MiB left out)` : ''}`),
  ].join(', ');
  const doc = docs.at(-1);
  if (doc !== undefined) {
    // An strace log opens like a scenario: the log in the editor, each call a step (engine/strace.ts).
    fileName.value = doc.name;
    setText(new TextDecoder().decode(await contentOf(doc)));
    const withFiles = keptWords === '' ? '' : ` with ${keptWords}`;
    if (doc.kind === 'strace')
      afterLoad = (problem) =>
        notify(
          problem === null
            ? `${doc.name}: the log's life replayed${withFiles}, each call a step with Linux's result and vmscope's`
            : problem.startsWith(doc.name)
              ? problem
              : `${doc.name}: ${problem}`,
        );
    run();
  } else if (keptWords !== '') {
    if (detectInputKind(new TextEncoder().encode(text.value.slice(0, 65536)), fileName.value) === 'strace') {
      // The open strace log's program, interpreter or sysroot: its execve finds them.
      afterLoad = (problem) =>
        notify(problem === null ? `${keptWords} kept: the log's life replayed with them` : problem);
      run(loaded.value === null ? 'start' : position.value);
    } else if (folders.size > 0 && elfs.length === 0) {
      notify(`${keptWords} kept: exec and strace logs find files in it as in a sysroot`);
      if (loaded.value !== null) run(position.value);
    } else
      for (const c of elfs) {
        if (/^ld-|\.so(\.|$)/.test(c.name)) {
          // An interpreter or a library: kept for the programs that name it.
          notify(`${c.name} kept: programs whose PT_INTERP names it will find it`);
          if (loaded.value !== null) run(position.value);
          continue;
        }
        addExecLine(c.name, files.value.find((f) => f.name === c.name)!.bytes);
      }
  }
  // Anything else goes to the Traces tab, which tells memory traces, allocation traces and the
  // rest apart (after gunzipping) — and says what it could not replay.
  for (const c of all) {
    if (c.inFolder || c.kind === 'elf' || c.kind === 'scenario' || c.kind === 'strace') continue;
    const f = c.file;
    const bytes = f.size <= TRACE_KEEP_BYTES ? new Uint8Array(await f.arrayBuffer()) : null;
    runTrace(f, (format) => {
      const memory =
        format === 'lackey' || format === 'pages' || format === 'vmscope' || format === 'oracleGeneral';
      if (memory && bytes !== null) {
        files.value = [
          ...files.value.filter((x) => x.name !== f.name),
          { name: f.name, bytes, kind: 'trace' },
        ];
        notify(
          `${f.name}: replayed in the Traces tab; a scenario line 'replay T ${f.name}' runs it as a process`,
        );
      } else if (memory) notify(`${f.name}: replayed in the Traces tab`);
      else notify(`${f.name}: an allocation trace, replayed through every allocator (Traces tab)`);
    });
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

/** The scenario machine a binary runs on, and whether `arch` can run it (x86-64 runs i386 too). */
function machineOf(
  bytes: Uint8Array,
  name: string,
): { readonly arch: string; readonly runsOn: readonly string[] } {
  let em = EM_X86_64;
  try {
    em = readElf(bytes, name, { sections: 'skip' }).header.machine;
  } catch {
    // exec will say what is wrong with it, at its line
  }
  if (em === EM_RISCV) return { arch: 'riscv-sv39', runsOn: ['riscv-sv39'] };
  if (em === EM_386) return { arch: 'x86_64', runsOn: ['x86_64', 'i386'] };
  return { arch: 'x86_64', runsOn: ['x86_64'] };
}

/**
 * Adds `exec Pn NAME` and `show Pn maps` to the scenario (unless it already execs NAME) and runs it,
 * showing the new step. When the open scenario's machine cannot run the binary (a teach16 example,
 * an x86-64 program), a fresh scenario on the binary's own machine is opened instead; the previous
 * one stays one step back in the browser's history. What happened is said once it has run.
 */
function addExecLine(name: string, bytes: Uint8Array): void {
  const interp = interpreterOf(name, bytes);
  const machine = machineOf(bytes, name);
  const openArch = loaded.value?.machine.arch ?? 'x86_64';
  const have = (path: string) => findDropped(files.value, path).kind === 'found';
  const needs =
    interp !== null && !have(interp) ? `; it needs its interpreter ${interp}: drop that file too` : '';
  const said = (what: string) => (problem: string | null) =>
    notify(problem === null ? `${what}${needs}` : `${name} could not be run: ${problem}`);
  if (!machine.runsOn.includes(openArch)) {
    void writeHash().then(() => {
      history.pushState(null, '', location.href);
      batch(() => {
        fileName.value = `${name}.vms`;
        selection.value = NO_SELECTION;
      });
      setText(
        `# ${name}, dropped from your disk: ${machine.arch === 'x86_64' ? 'an' : 'a'} ${machine.arch} machine of its own (the scenario that was open, on ${openArch}, cannot run it; Back returns to it)\nmachine ${machine.arch}\nexec P1 ${name}\nshow P1 maps\n`,
      );
      afterLoad = said(
        `${name} needs ${machine.arch === 'x86_64' ? 'an' : 'a'} ${machine.arch} machine: opened a new scenario for it (Back returns to the previous one)`,
      );
      run('end');
      void writeHash(); // at once: Back must find the previous scenario one entry back
    });
    return;
  }
  const t = text.value;
  const named = new RegExp(`^\\s*exec\\s+\\w+\\s+\\S*${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`, 'm');
  if (named.test(t)) {
    afterLoad = said(`${name} replaced: the scenario runs the new file`);
    run('end');
    return;
  }
  let n = 1;
  while (new RegExp(`\\bP${n}\\b`).test(t)) n++;
  const proc = `P${n}`;
  setText(
    `${t.replace(/\n*$/, '\n')}\n# ${name}, dropped from your disk\nexec ${proc} ${name}\nshow ${proc} maps\n`,
  );
  afterLoad = said(`${name} added as process ${proc}`);
  run('end');
}

/**
 * Replays a trace file in the worker with the Traces tab's options (again, with no file: the last
 * one). The previous result is cleared first, so no stale chart stands beside a new error.
 * `onDone` runs only when it worked, with the format found.
 */
export function runTrace(f?: Blob & { name?: string }, onDone?: (format: string) => void): void {
  const file = f ?? traceFile.value;
  if (!file) return;
  traceFile.value = file;
  const name = file.name ?? 'trace';
  batch(() => {
    traceProblem.value = null;
    trace.value = null;
    alloc.value = null;
    heapAt.value = null;
    busy.value = { what: 'trace', done: 0, total: file.size };
  });
  traceSucceeded = onDone ?? null;
  engine.trace(name, file, traceOptions.value);
}

/** Shows an allocator's heap after the first `op` operations of the dropped allocation trace. */
export function showHeapAt(allocator: string, op: number): void {
  heapChoice.value = { allocator, op };
  engine.heapAt(allocator, op);
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
  // A hash typed or pasted into the open tab (or reached with Back) is loaded like a link.
  window.addEventListener('hashchange', () => void openHash({ fallback: false }));
  await openHash({ fallback: true });
}

/**
 * Opens what the URL's hash names: a bundled example, or a scenario carried in the link, at its
 * position and address. When it is the scenario already open, only the position and selection
 * move. With `fallback`, no scenario in it opens `vmscope serve FILE`'s, or the tour.
 */
async function openHash(o: { readonly fallback: boolean }): Promise<void> {
  const h = parseHash(location.hash);
  const address = h.address ? { pid: h.address.pid, va: h.address.va, vma: null, pfn: null } : NO_SELECTION;
  const ex = h.example !== null ? exampleByName(h.example) : undefined;
  const t = ex ? ex.text : h.encoded !== null ? await decodeText(h.encoded) : null;
  if (t !== null && t === loadedText.value && loaded.value !== null) {
    selection.value = address;
    goTo(h.position ?? position.value);
    requestState();
    return;
  }
  if (ex) {
    openExample(ex, h.position ?? 'start');
    selection.value = address;
    return;
  }
  if (t !== null) {
    batch(() => {
      fileName.value = 'shared.vms';
      selection.value = address;
    });
    setText(t);
    run(h.position ?? 'start');
    return;
  }
  if (h.encoded !== null) notify('the link holds no scenario vmscope can read');
  if (!o.fallback) return;
  const pre = await fetchPreload();
  if (pre !== null) {
    fileName.value = pre.file;
    setText(pre.text);
    run(h.position ?? 'start');
    return;
  }
  openExample(DEFAULT_EXAMPLE, h.position ?? 'start');
}

export function toggleHelp(): void {
  helpOpen.value = !helpOpen.value;
}
