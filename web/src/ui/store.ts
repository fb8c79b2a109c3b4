/**
 * The page's state, as signals: what the editor holds, what the worker ran, where in time we are,
 * and what is selected. Views read these; only actions.ts writes them.
 */
import { computed, signal } from '@preact/signals';
import type {
  AllocResult,
  HeapAt,
  InputProblem,
  LoadedScenario,
  RssSample,
  StateView,
  TraceResult,
  VmaView,
} from '../engine/protocol.js';
import { rangeAt } from '../logic/layout.js';
import { type Mapper, mapperCount, mappersOf } from '../logic/sharing.js';

export interface DroppedFile {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly kind: 'elf' | 'trace' | 'scenario' | 'other';
}

/**
 * What the user picked. An address (pid + va) is walked; a VMA highlights its pages and frames; a
 * frame highlights where it is mapped. Picking one sets the others that follow from it.
 */
export interface Selection {
  readonly pid: number | null;
  readonly va: number | null;
  readonly vma: { readonly start: number; readonly end: number } | null;
  readonly pfn: number | null;
}

export const NO_SELECTION: Selection = { pid: null, va: null, vma: null, pfn: null };

export const text = signal('');
export const fileName = signal('scenario.vms');
/** The bundled example the editor holds unchanged, or null. */
export const exampleName = signal<string | null>(null);
/** A parse problem found while typing. */
export const checkProblem = signal<InputProblem | null>(null);
/** The scenario the worker ran last, and the text it ran. */
export const loaded = signal<LoadedScenario | null>(null);
export const loadedText = signal<string | null>(null);
/** The text sent to the worker last (it may still be running). */
export const sentText = signal<string | null>(null);
export const loadProblem = signal<InputProblem | null>(null);
export const bug = signal<string | null>(null);
/** Where in time we want to be, and the state the worker last sent. */
export const position = signal(0);
export const state = signal<StateView | null>(null);
export const stateMs = signal(0);
/** The selection the state on screen was computed for. */
export const stateSelect = signal<{ readonly pid: number; readonly va: number } | null>(null);
export const selection = signal<Selection>(NO_SELECTION);
export const samples = signal<readonly RssSample[]>([]);
export const samplesDone = signal(false);
export const files = signal<readonly DroppedFile[]>([]);
export const trace = signal<TraceResult | null>(null);
export const traceProblem = signal<string | null>(null);
/**
 * How a dropped memory trace is replayed: the policy at a size, the page size lackey addresses are
 * split by (the trace's own: valgrind records x86-64's 4 KiB pages, whatever scenario is open), and
 * the policies whose miss-ratio curves to draw (`mrc` false: none).
 */
export const traceOptions = signal<{
  readonly frames: number;
  readonly policy: string;
  readonly pageSize: number;
  readonly mrc: boolean;
  readonly curves: readonly string[];
}>({ frames: 64, policy: 'lru', pageSize: 4096, mrc: true, curves: ['lru'] });
/** The trace file last dropped, to replay again with other options. */
export const traceFile = signal<(Blob & { readonly name?: string }) | null>(null);
/** A dropped allocation trace, replayed through every allocator, and one heap at a chosen step. */
export const alloc = signal<AllocResult | null>(null);
export const heapAt = signal<HeapAt | null>(null);
export const heapChoice = signal<{ readonly allocator: string; readonly op: number }>({
  allocator: 'binned',
  op: 0,
});
/** The tab the TLB/charts panel shows. */
export const chartTab = signal<'tlb' | 'time' | 'trace' | 'swap'>('tlb');
export const busy = signal<{ readonly what: string; readonly done: number; readonly total: number } | null>(
  null,
);
export const playing = signal(false);
export const showDetails = signal(false);
export const helpOpen = signal(false);
export const toast = signal<string | null>(null);

/** The text in the editor differs from what ran. */
export const dirty = computed(() => loadedText.value !== null && loadedText.value !== text.value);

/** The last position that can be reached. */
export const lastPosition = computed(() => loaded.value?.steps.length ?? 0);

/** The page the walked address maps to, if any. */
export const walkPfn = computed(() => {
  const w = state.value?.walk;
  const pageSize = loaded.value?.machine.pageSize ?? 4096;
  return w && w.pa >= 0 ? Math.floor(w.pa / pageSize) : null;
});

/** Nothing is selected: the views follow the address of the current step. */
export const following = computed(() => {
  const s = selection.value;
  return s.pid === null && s.va === null && s.vma === null && s.pfn === null;
});

/** The address every view marks: the selected one, or the one the walk follows. */
export const focusAddress = computed((): { pid: number; va: number } | null => {
  const sel = selection.value;
  if (sel.pid !== null && sel.va !== null) return { pid: sel.pid, va: sel.va };
  const st = state.value;
  const w = st?.walk;
  if (w && st?.walkFollowsStep && following.value) return { pid: w.pid, va: w.va };
  return null;
});

/** The selected VMA, found in the current state (by range, or as the one holding the address). */
export const selectedVma = computed((): { pid: number; vma: VmaView } | null => {
  const sel = selection.value;
  const st = state.value;
  const at = focusAddress.value;
  const pid = sel.pid ?? at?.pid ?? null;
  if (st === null || pid === null) return null;
  const proc = st.procs.find((p) => p.pid === pid);
  if (!proc) return null;
  if (sel.vma !== null) {
    const v = proc.vmas.find((x) => x.start === sel.vma!.start && x.end === sel.vma!.end);
    if (v) return { pid: proc.pid, vma: v };
    const i = rangeAt(proc.vmas, sel.vma.start);
    return i >= 0 ? { pid: proc.pid, vma: proc.vmas[i]! } : null;
  }
  if (at !== null) {
    const i = rangeAt(proc.vmas, at.va);
    return i >= 0 ? { pid: proc.pid, vma: proc.vmas[i]! } : null;
  }
  return null;
});

/** The frame to outline: the selected one, or the one the selected address maps to. */
export const focusPfn = computed(() => selection.value.pfn ?? walkPfn.value);

/**
 * Where the frame in focus is mapped: every (address space, page) the reverse map lists for it, and
 * how many there are in all (the zero page's list is cut). Each address-space view marks its own.
 */
export const focusMappers = computed(
  (): { readonly pfn: number; readonly mappers: readonly Mapper[]; readonly total: number } | null => {
    const pfn = focusPfn.value;
    const f = state.value?.frames;
    if (pfn === null || f === undefined || pfn < 0 || pfn >= f.kinds.length) return null;
    return { pfn, mappers: mappersOf(f, pfn), total: mapperCount(f, pfn) };
  },
);
