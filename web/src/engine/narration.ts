/**
 * Steps in words for the event log: the CLI's narration (src/report/narrate.ts) for what it
 * narrates, a sentence of our own for copy-on-write breaks (with both frames), and a short one for
 * the finer events it leaves out (frame allocations, TLB flushes, syscalls), marked `detail` so the
 * page can hide them.
 */
import { hex0x } from '../../../src/base/units.js';
import type { Arch } from '../../../src/hw/arch.js';
import { ACCESS_NAMES } from '../../../src/hw/mmu.js';
import { SIGNAL_NAMES } from '../../../src/kernel/errno.js';
import type { KernelEvent } from '../../../src/kernel/events.js';
import { FRAME_KIND_NAMES } from '../../../src/kernel/frames.js';
import { counted } from '../../../src/report/format.js';
import { narrateEvent, narrateOutcome } from '../../../src/report/narrate.js';
import { formatSnapshot } from '../../../src/report/show.js';
import type { StepRecord } from '../../../src/sim/scenario-runner.js';
import { type AddressSelection, EVENT_LIMIT, type EventInfo, type StepInfo } from './protocol.js';

function num(e: KernelEvent, key: string): number | null {
  const v = (e as unknown as Record<string, unknown>)[key];
  return typeof v === 'number' ? v : null;
}

/**
 * A copy-on-write break in words. The CLI leaves it to the fault it resolved (`copy-on-write: private
 * copy made`); the log says it too, with the frame that was copied, which it links.
 */
function cowText(e: Extract<KernelEvent, { type: 'cow' }>, who: (pid: number) => string): string {
  return `copy-on-write: ${who(e.pid)}'s page ${hex0x(e.va)} now has its own frame ${hex0x(e.to)}, a copy of frame ${hex0x(e.from)}`;
}

/** Events the CLI leaves out that the log shows among the narrated ones (not as detail). */
const NARRATED_HERE = new Set<KernelEvent['type']>(['cow']);

/** A sentence for an event the CLI's narration skips. */
function detailText(e: KernelEvent, names: ReadonlyMap<number, string>, arch: Arch): string {
  const who = (pid: number): string => (pid >= 0 ? (names.get(pid) ?? `pid ${pid}`) : 'the page cache');
  switch (e.type) {
    case 'frame-alloc':
      return `frame ${hex0x(e.pfn)} allocated: ${FRAME_KIND_NAMES[e.kind]} for ${who(e.pid)}`;
    case 'frame-free':
      return `frame ${hex0x(e.pfn)} freed (was ${FRAME_KIND_NAMES[e.kind]} of ${who(e.pid)})`;
    case 'pt-alloc':
      return `root page table (${arch.levelNames[0]}) at frame ${hex0x(e.pfn)} for ${who(e.pid)}`;
    case 'pt-free':
      return `root page table (${arch.levelNames[0]}) at frame ${hex0x(e.pfn)} freed`;
    case 'tlb-flush': {
      const pages = e.endVpn - e.startVpn;
      return `TLB shootdown: ASID ${e.asid}, ${pages} page${pages === 1 ? '' : 's'} from ${hex0x(e.startVpn * arch.pageSize)}`;
    }
    case 'syscall':
      return `${who(e.pid)}: ${e.name}(${e.args.map((a) => (typeof a === 'number' ? hex0x(a) : a)).join(', ')}) = ${e.result < 0 ? e.result : hex0x(e.result)}`;
    case 'spawn':
      return `process ${e.name} created with pid ${e.pid}`;
    case 'fault':
      return `page fault: ${ACCESS_NAMES[e.access]} at ${hex0x(e.va)} ${e.where === '' ? 'where nothing is mapped' : `in ${e.where}`}: refused (${e.reason ?? 'not allowed'})`;
    case 'exit':
      return `${who(e.pid)} ended (exit status ${e.code}${e.killed ? `, killed by ${SIGNAL_NAMES[e.code - 128] ?? 'a signal'}` : ''})`;
    case 'cow':
      return cowText(e, who);
    default:
      return e.type;
  }
}

/** One event with its links (pid, address, frame). */
export function eventInfo(e: KernelEvent, names: ReadonlyMap<number, string>, arch: Arch): EventInfo {
  const text = narrateEvent(e, names, arch);
  let va = num(e, 'va');
  if (e.type === 'vma-map' || e.type === 'vma-unmap' || e.type === 'vma-protect') va = e.start;
  if (e.type === 'stack-grow') va = e.newStart;
  if (e.type === 'signal' && e.va === 0) va = null;
  // A copy-on-write break is about the writer's new frame.
  const pfn = e.type === 'cow' ? e.to : num(e, 'pfn');
  return {
    type: e.type,
    text: text ?? detailText(e, names, arch),
    detail: text === null && !NARRATED_HERE.has(e.type),
    pid: num(e, 'pid'),
    va,
    pfn: pfn !== null && pfn >= 0 ? pfn : null,
  };
}

function procOf(step: StepRecord): string | null {
  const st = step.statement;
  switch (st.kind) {
    case 'op':
    case 'kill':
      return st.proc;
    case 'spawn':
    case 'exec':
    case 'replay':
      return st.name;
    case 'show':
    case 'expect':
      return st.proc;
    default:
      return null;
  }
}

/** What kind of event, as [one, many], for counting (`page faults: demand-zero fill`). */
function eventKind(e: KernelEvent, arch: Arch): readonly [string, string] {
  switch (e.type) {
    case 'fault': {
      if (e.result === 'segv') return ['fault refused', 'faults refused'];
      const how = e.how ? ` (${e.how})` : '';
      return [`${e.result} page fault${how}`, `${e.result} page faults${how}`];
    }
    case 'pt-alloc': {
      const level = ` (${arch.levelNames[e.level] ?? e.level})`;
      return [`page table allocated${level}`, `page tables allocated${level}`];
    }
    case 'pt-free': {
      const level = ` (${arch.levelNames[e.level] ?? e.level})`;
      return [`page table freed${level}`, `page tables freed${level}`];
    }
    case 'frame-alloc':
      return [
        `frame allocated (${FRAME_KIND_NAMES[e.kind]})`,
        `frames allocated (${FRAME_KIND_NAMES[e.kind]})`,
      ];
    case 'frame-free':
      return [`frame freed (${FRAME_KIND_NAMES[e.kind]})`, `frames freed (${FRAME_KIND_NAMES[e.kind]})`];
    default:
      return KIND_WORDS[e.type] ?? [`${e.type} event`, `${e.type} events`];
  }
}

/** The other kinds of event, as [one, many]. */
const KIND_WORDS: Partial<Record<KernelEvent['type'], readonly [string, string]>> = {
  'tlb-flush': ['TLB flush', 'TLB flushes'],
  'swap-out': ['page swapped out', 'pages swapped out'],
  'swap-in': ['page swapped in', 'pages swapped in'],
  'page-out': ['page evicted', 'pages evicted'],
  writeback: ['page written back', 'pages written back'],
  cow: ['copy-on-write copy', 'copy-on-write copies'],
  'vma-map': ['mapping created', 'mappings created'],
  'vma-unmap': ['mapping removed', 'mappings removed'],
  'vma-protect': ['mapping reprotected', 'mappings reprotected'],
  'stack-grow': ['stack growth', 'stack growths'],
  syscall: ['system call', 'system calls'],
  signal: ['signal', 'signals'],
};

/** Counts of each kind of event, most frequent first: `8,192 minor page faults (zero-fill)`. */
export function summarizeEvents(events: readonly KernelEvent[], arch: Arch): string[] {
  const counts = new Map<string, { n: number; words: readonly [string, string] }>();
  for (const e of events) {
    const words = eventKind(e, arch);
    const c = counts.get(words[1]);
    if (c) c.n++;
    else counts.set(words[1], { n: 1, words });
  }
  return [...counts.values()].sort((a, b) => b.n - a.n).map(({ n, words }) => counted(n, words[0], words[1]));
}

/** The address a step is about, in the process it acts on. */
function focusOf(step: StepRecord, pid: number | undefined): AddressSelection | null {
  if (pid === undefined) return null;
  const o = step.outcome;
  if (o.kind === 'access') return { pid, va: o.va };
  if (o.kind === 'syscall') {
    if (o.name === 'mmap' && o.result >= 0) return { pid, va: o.result };
    const first = o.args[0];
    if ((o.name === 'munmap' || o.name === 'mprotect' || o.name === 'brk') && first !== undefined) {
      const va = Number.parseInt(first, 16);
      return Number.isSafeInteger(va) ? { pid, va } : null;
    }
    if (o.name === 'sbrk' && o.result >= 0) return { pid, va: o.result };
  }
  const snap = step.snapshot;
  if (snap?.what === 'pagetable' && snap.probe !== null) return { pid, va: snap.probe.va };
  // A new process: the page its first fault filled (the stack the kernel wrote argv into).
  if (o.kind === 'spawn' || o.kind === 'replay') {
    const fault = step.events.find((e) => e.type === 'fault' && e.result !== 'segv' && e.pid === pid);
    if (fault?.type === 'fault') return { pid, va: fault.va };
  }
  return null;
}

/** A step as the page shows it; `pids` gives each process name's pid. */
export function stepInfo(
  index: number,
  step: StepRecord,
  names: ReadonlyMap<number, string>,
  pids: ReadonlyMap<string, number>,
  arch: Arch,
): StepInfo {
  const st = step.statement;
  let minor = 0;
  let major = 0;
  let signals = 0;
  for (const e of step.events) {
    if (e.type === 'fault' && e.result === 'minor') minor++;
    if (e.type === 'fault' && e.result === 'major') major++;
    if (e.type === 'signal') signals++;
  }
  const k = step.killed;
  return {
    index,
    line: st.place.line,
    column: st.place.column,
    text: st.text,
    kind: st.kind,
    proc: procOf(step),
    result: narrateOutcome(step.outcome, step),
    verdict: step.verdict,
    killed: k
      ? `${k.proc} killed by ${SIGNAL_NAMES[k.signal.signal] ?? 'a signal'}: ${k.signal.reason}; ${counted(k.reclaimedFrames, 'frame')} reclaimed`
      : null,
    events: step.events.slice(0, EVENT_LIMIT).map((e) => eventInfo(e, names, arch)),
    eventCount: step.events.length,
    eventSummary: step.events.length > EVENT_LIMIT ? summarizeEvents(step.events, arch) : [],
    show: step.snapshot ? formatSnapshot(arch, step.snapshot) : null,
    tlb: { hits: step.tlb.hits, misses: step.tlb.misses, walks: step.tlb.walks },
    minorFaults: minor,
    majorFaults: major,
    signals,
    focus: focusOf(step, procOf(step) === null ? undefined : pids.get(procOf(step)!)),
  };
}
