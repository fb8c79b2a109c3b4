/**
 * The messages between the page and the engine worker, and the plain-data views of kernel state the
 * worker sends. Everything here is structured-cloneable: numbers, strings, typed arrays, no classes.
 *
 * A *position* is how many statements have run: 0 is the machine just booted, N the end of a
 * scenario of N statements. The state "at position p" is the kernel after statements [0, p).
 */
import type { ArchName } from '../../../src/hw/arch.js';
import type { TlbEntryView } from '../../../src/hw/tlb.js';
import type { MeminfoFields, StatusFields } from '../../../src/kernel/proc.js';
import type { SwapHolder } from '../../../src/sim/snapshot.js';

/** A problem with the user's input (an InputError), placed where the editor can underline it. */
export interface InputProblem {
  readonly code: string;
  readonly message: string;
  readonly file: string;
  /** 1-based line and column, when the input is text. */
  readonly line: number | null;
  readonly column: number | null;
  readonly hint: string | null;
  /** `file:line:col: error: message (hint)`, as the CLI prints it (every problem, one per line). */
  readonly formatted: string;
  /** The problems found after this one in the same file (a scenario reports all its bad lines). */
  readonly more: readonly InputProblem[];
  /** Problems found beyond those listed. */
  readonly omitted: number;
}

/** What the architecture and machine look like, for drawing. */
export interface MachineInfo {
  readonly arch: ArchName;
  readonly description: string;
  readonly pageSize: number;
  readonly frameCount: number;
  readonly ramBytes: number;
  readonly levels: number;
  readonly levelNames: readonly string[];
  readonly indexBits: readonly number[];
  readonly pageShift: number;
  readonly vaBits: number;
  readonly userVaLimit: number;
  readonly addrHexDigits: number;
  readonly tlbEntries: number;
  readonly tlbWays: number;
  /** Width in bytes of one page-table entry. */
  readonly pteBytes: number;
}

/** One kernel event in words, with what it refers to so that the page can link it. */
export interface EventInfo {
  readonly type: string;
  readonly text: string;
  /** True for events too fine-grained for the narrated log (frame allocations, TLB flushes…). */
  readonly detail: boolean;
  readonly pid: number | null;
  readonly va: number | null;
  readonly pfn: number | null;
}

/** One statement as it ran. */
export interface StepInfo {
  /** 0-based statement index; running it moves from position `index` to `index + 1`. */
  readonly index: number;
  readonly line: number;
  readonly column: number;
  readonly text: string;
  readonly kind: string;
  /** The process the statement acts on, if any. */
  readonly proc: string | null;
  /** The result in words (`wrote 4 bytes at …`, `mmap(…) = 0x…`). */
  readonly result: string | null;
  readonly verdict: { readonly ok: boolean; readonly actual: string; readonly expected: string } | null;
  /** `A killed by SIGSEGV: …; 3 frames reclaimed`. */
  readonly killed: string | null;
  /** The first {@link EVENT_LIMIT} events. */
  readonly events: readonly EventInfo[];
  /** All the step's events, and — when there were more than were kept — what they were, counted. */
  readonly eventCount: number;
  readonly eventSummary: readonly string[];
  /** The text of a `show` statement, as `vmscope run` prints it. */
  readonly show: string | null;
  readonly tlb: { readonly hits: number; readonly misses: number; readonly walks: number };
  readonly minorFaults: number;
  readonly majorFaults: number;
  readonly signals: number;
  /** The address the statement is about (the access, the mapping it made, the walk it showed). */
  readonly focus: AddressSelection | null;
}

/**
 * Per-position series for the charts. Event-derived series (faults, TLB) have one value per
 * position (length N + 1). Kernel-derived ones (RSS, free frames) are sampled: `samplePositions`
 * says where, and they fill in as the worker computes them.
 */
export interface Series {
  readonly minorFaults: Float64Array;
  readonly majorFaults: Float64Array;
  readonly tlbHits: Float64Array;
  readonly tlbMisses: Float64Array;
}

export interface RssSample {
  readonly position: number;
  readonly freeFrames: number;
  /** Resident pages per pid (absent when the process does not exist or has ended). */
  readonly rssPages: Readonly<Record<number, number>>;
}

/** A VMA, with its residency drawn in at most `RESIDENCY_BUCKETS` buckets. */
export interface VmaView {
  readonly start: number;
  readonly end: number;
  readonly perms: string;
  readonly name: string;
  /** `anon`, `file`, `shmem`, `stack`, `heap`, `special` — for colour. */
  readonly kind: string;
  readonly offset: number;
  readonly pages: number;
  /** Resident pages (present PTEs, and PROT_NONE pages that keep their frame). */
  readonly rssPages: number;
  readonly dirtyPages: number;
  /** Pages whose PTE holds a swap slot. */
  readonly swappedPages: number;
  /** Pages that map the shared zero page (read, never written): in no RSS. */
  readonly zeroPages: number;
  /** Resident pages whose frame is mapped more than once (here and elsewhere, or twice here). */
  readonly sharedPages: number;
  /** Pages per bucket (1 for small VMAs: one bucket per page). */
  readonly bucketPages: number;
  /** Per bucket: resident fraction × 255. */
  readonly resident: Uint8Array;
  /** Per bucket: dirty fraction × 255. */
  readonly dirty: Uint8Array;
  /** Per bucket: swapped-out fraction × 255. */
  readonly swapped: Uint8Array;
  /** Per bucket: fraction × 255 of pages that map the shared zero page. */
  readonly zero: Uint8Array;
  /** Per bucket: fraction × 255 of pages whose frame is mapped more than once. */
  readonly shared: Uint8Array;
  /** The VMA's /proc/PID/smaps counters (null for [vsyscall], which has no VMA). */
  readonly smaps: SmapsView | null;
}

/**
 * A VMA's smaps counters, or a process's sums (smaps_rollup), in bytes — but `pss` and `swapPss` in
 * bytes × 4096 (Linux's PSS_SHIFT: the fraction is cut only when printed, `pss / 4096 / 1024` kB).
 * A page is shared when mapped more than once, whatever MAP_SHARED says.
 */
export interface SmapsView {
  readonly rss: number;
  readonly pss: number;
  readonly sharedClean: number;
  readonly sharedDirty: number;
  readonly privateClean: number;
  readonly privateDirty: number;
  readonly anonymous: number;
  readonly swap: number;
  readonly swapPss: number;
}

export interface ProcView {
  readonly pid: number;
  /**
   * The pid that names its address space (its process's first task): what {@link FramesView}'s
   * mappers say. A thread shows its process's memory under its own pid.
   */
  readonly mmPid: number;
  /** The thread group's pid (the process's; equals `pid` except for a thread). */
  readonly tgid: number;
  readonly name: string;
  readonly state: string;
  /** `SIGSEGV (SEGV_ACCERR): write to …`, for a killed process. */
  readonly signal: string | null;
  readonly exitCode: number;
  readonly rootPfn: number;
  /** The ASID its TLB entries carry now, or null when it has none live. */
  readonly asid: number | null;
  readonly status: StatusFields & { readonly minflt: number; readonly majflt: number };
  readonly vmas: readonly VmaView[];
  /** smaps_rollup: the sums of every VMA's smaps (null once the process has ended). */
  readonly rollup: SmapsView | null;
  readonly brk: number;
  readonly startBrk: number;
}

/** Physical memory, one entry per frame. */
export interface FramesView {
  readonly kinds: Uint8Array;
  readonly owners: Int32Array;
  readonly refcount: Int32Array;
  readonly mapcount: Int32Array;
  /**
   * The first address space mapping the frame (by {@link ProcView.mmPid}), and at which virtual page
   * (-1 when unmapped). For a frame mapped once this is its only mapper.
   */
  readonly mapPid: Int32Array;
  readonly mapVpn: Float64Array;
  /**
   * Frames mapped more than once, with every mapper — compactly, since most frames are mapped once:
   * `sharedPfns` in increasing order, and the mappers of `sharedPfns[i]` at
   * `[sharedStart[i], sharedStart[i + 1])` of `mapperPids` / `mapperVpns` (from the kernel's reverse
   * map). The shared zero page is listed too when anything maps it: its first
   * {@link ZERO_MAPPER_LIMIT} mappers, `zeroMappers` counting them all.
   */
  readonly sharedPfns: Int32Array;
  readonly sharedStart: Int32Array;
  readonly mapperPids: Int32Array;
  readonly mapperVpns: Float64Array;
  /** The shared zero page's frame (-1 when the kernel runs without one). */
  readonly zeroPfn: number;
  /** Page-table entries mapping the zero page, over every address space (Linux counts it nowhere). */
  readonly zeroMappers: number;
  /** For page-table frames: the level of the table (0 = root); -1 otherwise. */
  readonly ptLevel: Int8Array;
  readonly freeFrames: number;
}

/** A TLB entry as the kernel's TLB shows it, its permission bits as `rwxud` text. */
export interface TlbEntryInfo extends Omit<TlbEntryView, 'perm'> {
  readonly perm: string;
}

export interface TlbView {
  readonly entryCount: number;
  readonly ways: number;
  readonly sets: number;
  readonly entries: readonly TlbEntryInfo[];
  readonly hits: number;
  readonly misses: number;
  readonly walks: number;
  readonly pteReads: number;
  /** ASID → pid of the process whose entries carry it now. */
  readonly asidOwner: Readonly<Record<number, number>>;
}

/** The swap device, when the kernel has one. */
export interface SwapView {
  readonly slotCount: number;
  readonly freeSlots: number;
  /** Users of each slot (0 = free). */
  readonly count: Uint16Array;
  readonly writes: number;
  readonly reads: number;
  /** Who holds the used slots: (pid, va) of each process page, or the shared object (first 64). */
  readonly holders: readonly SwapHolder[];
}

/** One entry of a page table, decoded. */
export interface PteInfo {
  readonly index: number;
  readonly raw: string;
  readonly flags: readonly string[];
  readonly present: boolean;
  readonly leaf: boolean;
  readonly pfn: number;
  /** What the entry allows (meaningful for a present leaf; x86 also ANDs rights on the way). */
  readonly rights: {
    readonly read: boolean;
    readonly write: boolean;
    readonly user: boolean;
    readonly exec: boolean;
  };
  readonly accessed: boolean;
  readonly dirty: boolean;
  /** A non-present leaf holding a swap entry: its slot. */
  readonly swapSlot: number | null;
  /** A PROT_NONE page that keeps its frame (non-present to the MMU). */
  readonly protNone: boolean;
  /** First virtual address the entry covers. */
  readonly vaStart: number;
}

export interface WalkLevel {
  readonly level: number;
  readonly levelName: string;
  readonly tablePfn: number;
  /** The entry the walk read. */
  readonly index: number;
  readonly entryPa: number;
  readonly entry: PteInfo;
  /** Every non-empty entry of this table (at most `TABLE_ENTRY_LIMIT`), for context. */
  readonly table: readonly PteInfo[];
  readonly tableEntries: number;
  readonly tableNonEmpty: number;
}

export interface WalkView {
  readonly pid: number;
  readonly va: number;
  readonly rootPfn: number;
  readonly levels: readonly WalkLevel[];
  readonly pa: number;
  /** `none`, `not-present`, `protection`, `reserved`, `bad-address`. */
  readonly fault: string;
  /** The VMA holding the address, if any. */
  readonly vma: {
    readonly start: number;
    readonly end: number;
    readonly perms: string;
    readonly name: string;
  } | null;
}

/** The kernel at one position. */
export interface StateView {
  readonly position: number;
  readonly procs: readonly ProcView[];
  readonly frames: FramesView;
  readonly tlb: TlbView;
  readonly swap: SwapView | null;
  readonly meminfo: MeminfoFields;
  /**
   * The walk of the selected address, or — when nothing is selected — of the address the last
   * statement was about; null when there is none or its process has no address space.
   */
  readonly walk: WalkView | null;
  /** True when `walk` follows the step rather than a selection. */
  readonly walkFollowsStep: boolean;
}

/** The address the page wants walked. */
export interface AddressSelection {
  readonly pid: number;
  readonly va: number;
}

/** Dropped files the scenario's `exec` lines may name, by name. */
export type DroppedFiles = ReadonlyArray<{ readonly name: string; readonly bytes: Uint8Array }>;

export type TracePolicy = string;

export type Request =
  | { readonly type: 'check'; readonly id: number; readonly file: string; readonly text: string }
  | {
      readonly type: 'load';
      readonly id: number;
      readonly file: string;
      readonly text: string;
      readonly files: DroppedFiles;
    }
  | {
      readonly type: 'state';
      readonly id: number;
      readonly position: number;
      readonly select: AddressSelection | null;
    }
  | {
      readonly type: 'trace';
      readonly id: number;
      readonly name: string;
      readonly blob: Blob;
      readonly frames: number;
      readonly policy: TracePolicy;
      readonly pageSize: number;
      /** Draw miss-ratio curves at all (false: the plain replay alone). */
      readonly mrc: boolean;
      /** The policies whose curves to draw. */
      readonly curves: readonly string[];
    }
  | {
      readonly type: 'heap-at';
      readonly id: number;
      readonly allocator: string;
      readonly op: number;
    };

export interface LoadedScenario {
  readonly file: string;
  readonly machine: MachineInfo;
  readonly steps: readonly StepInfo[];
  /** Statements in the scenario (steps.length is smaller when the run stopped on an error). */
  readonly statementCount: number;
  /** An input error found while running (a statement the scenario could not do), or null. */
  readonly runError: InputProblem | null;
  /** A bug in vmscope (InvariantError) hit while running, or null. */
  readonly bug: string | null;
  /** pid → process name. */
  readonly names: Readonly<Record<number, string>>;
  readonly series: Series;
  readonly passed: number;
  readonly failed: number;
  /** Milliseconds the run took in the worker. */
  readonly runMs: number;
}

/** One policy's miss-ratio curve over a trace: faults and miss ratio per size (frames). */
export interface TraceCurve {
  readonly policy: string;
  readonly sizes: readonly number[];
  readonly faults: readonly number[];
  readonly missRatio: readonly number[];
}

export interface TraceResult {
  readonly name: string;
  readonly format: string;
  /** Bytes per page the lackey addresses were split by; null for a page list (ids already). */
  readonly pageSize: number | null;
  readonly accesses: number;
  readonly distinctPages: number;
  readonly frames: number;
  readonly policy: string;
  readonly hits: number;
  readonly faults: number;
  readonly evictions: number;
  readonly writebacks: number;
  /** The miss-ratio curves asked for (LRU and OPT exact, the others simulated size by size). */
  readonly curves: readonly TraceCurve[];
  readonly ms: number;
  readonly bytes: number;
}

/** One allocator's replay of an allocation trace (`vmscope malloc`'s figures, in direct mode). */
export interface AllocRun {
  readonly allocator: string;
  readonly ops: number;
  readonly utilization: number;
  readonly internalFragmentation: number;
  readonly externalFragmentation: number;
  readonly largestFreeBytes: number;
  readonly peakLiveBytes: number;
  readonly peakExtentBytes: number;
  readonly brkCalls: number;
  readonly mmapCalls: number;
  /** `ok`, or what went wrong in words (the program's death, NULL allocations). */
  readonly outcome: string;
  /** Heap extent and live bytes over the operations. */
  readonly series: readonly {
    readonly op: number;
    readonly liveBytes: number;
    readonly extentBytes: number;
  }[];
}

/** A dropped allocation trace replayed through every allocator. */
export interface AllocResult {
  readonly name: string;
  /** `rep` (CMU malloc-lab) or `shim-log`. */
  readonly format: string;
  readonly ops: number;
  readonly runs: readonly AllocRun[];
  readonly ms: number;
}

/** An allocator's heap after the first `op` operations of the allocation trace. */
export interface HeapAt {
  readonly allocator: string;
  readonly op: number;
  readonly heapStart: number;
  readonly brk: number;
  readonly usedBlocks: number;
  readonly usedBytes: number;
  readonly freeBlocks: number;
  readonly freeBytes: number;
  readonly topBytes: number;
  readonly largestFree: number;
  /** Free blocks in the order the allocator keeps them (at most {@link FREE_LIST_LIMIT}). */
  readonly freeList: readonly { readonly va: number; readonly sizeBytes: number }[];
  /** The operation in words (`a 7 32: malloc(32)`), null at op 0. */
  readonly opText: string | null;
  /** The program died on the way (a misuse, a fault): glibc's words. */
  readonly died: string | null;
}

/** Free blocks listed per heap view. */
export const FREE_LIST_LIMIT = 400;

export type Response =
  | { readonly type: 'checked'; readonly id: number; readonly problem: InputProblem | null }
  | { readonly type: 'loaded'; readonly id: number; readonly scenario: LoadedScenario }
  | {
      readonly type: 'load-failed';
      readonly id: number;
      readonly problem: InputProblem | null;
      readonly bug: string | null;
    }
  | {
      readonly type: 'state';
      readonly id: number;
      readonly state: StateView;
      /** The selection the request carried (so the page knows which request this answers). */
      readonly select: AddressSelection | null;
      readonly ms: number;
    }
  | { readonly type: 'samples'; readonly samples: readonly RssSample[]; readonly done: boolean }
  | {
      readonly type: 'progress';
      readonly id: number;
      readonly what: string;
      readonly done: number;
      readonly total: number;
    }
  | { readonly type: 'trace-done'; readonly id: number; readonly result: TraceResult }
  | { readonly type: 'alloc-done'; readonly id: number; readonly result: AllocResult }
  | { readonly type: 'heap-at'; readonly id: number; readonly heap: HeapAt }
  | {
      readonly type: 'trace-failed';
      readonly id: number;
      readonly problem: InputProblem | null;
      readonly bug: string | null;
    }
  | { readonly type: 'error'; readonly id: number; readonly message: string };

/** Events kept per step (a statement touching 1 GiB makes 262 144 faults). */
export const EVENT_LIMIT = 200;
/** Mappers of the shared zero page listed in the frames view (they are counted beyond it). */
export const ZERO_MAPPER_LIMIT = 1024;
/** Buckets per VMA in the residency strip. */
export const RESIDENCY_BUCKETS = 256;
/** Non-empty entries listed per table in a walk. */
export const TABLE_ENTRY_LIMIT = 64;
