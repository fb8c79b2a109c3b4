/**
 * Runs a parsed scenario on a fresh machine and kernel, statement by statement, recording what each
 * one did (its events, its result, `show` snapshots, `expect` verdicts). Reports turn the records
 * into text or JSON.
 */
import { InputError, InvariantError } from '../base/errors.js';
import { hex0x } from '../base/units.js';
import { Machine } from '../hw/machine.js';
import { ACCESS_EXEC, ACCESS_READ, ACCESS_WRITE, type AccessKind } from '../hw/mmu.js';
import {
  ERRNO_NAMES,
  errnoByName,
  MADV_COLD,
  MADV_DODUMP,
  MADV_DOFORK,
  MADV_DONTDUMP,
  MADV_DONTFORK,
  MADV_DONTNEED,
  MADV_FREE,
  MADV_HUGEPAGE,
  MADV_KEEPONFORK,
  MADV_NOHUGEPAGE,
  MADV_NORMAL,
  MADV_PAGEOUT,
  MADV_POPULATE_READ,
  MADV_POPULATE_WRITE,
  MADV_RANDOM,
  MADV_REMOVE,
  MADV_SEQUENTIAL,
  MADV_WILLNEED,
  MADV_WIPEONFORK,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_FIXED_NOREPLACE,
  MAP_GROWSDOWN,
  MAP_LOCKED,
  MAP_NORESERVE,
  MAP_POPULATE,
  MAP_PRIVATE,
  MAP_SHARED,
  MAP_STACK,
  MLOCK_ONFAULT,
  MREMAP_DONTUNMAP,
  MREMAP_FIXED,
  MREMAP_MAYMOVE,
  MS_ASYNC,
  MS_INVALIDATE,
  MS_SYNC,
  SIGNAL_NAMES,
} from '../kernel/errno.js';
import { EventLog, type KernelEvent } from '../kernel/events.js';
import { execve } from '../kernel/exec/load.js';
import type { ExecFileSource } from '../kernel/exec/vfs.js';
import { Kernel } from '../kernel/kernel.js';
import type { MeminfoFields, StatusFields } from '../kernel/proc.js';
import type { Process, SignalInfo } from '../kernel/process.js';
import { PSS_SHIFT, type SmapsFields } from '../kernel/smaps.js';
import { KernelMemory } from '../user/kernel-memory.js';
import type { Allocator, AllocatorName } from '../user/malloc/api.js';
import { createAllocator } from '../user/malloc/registry.js';
import type { AddrExpr, CompareOp, Scenario, Statement } from '../workload/scenario/ast.js';
import { IdPlacement } from './page-ids.js';
import { addReplayProcess, replayRegions } from './replay.js';
import {
  type Snapshot,
  snapshotFrames,
  snapshotMaps,
  snapshotPageTable,
  snapshotSmaps,
  snapshotSmapsRollup,
  snapshotStatus,
  snapshotSwap,
  snapshotTlb,
  type TlbStats,
  tlbStats,
} from './snapshot.js';
import { replayStraceStatement } from './strace-scenario.js';
import { loadTrace } from './trace-load.js';

/** What one statement did. */
export type Outcome =
  | { readonly kind: 'none' }
  | { readonly kind: 'spawn'; readonly pid: number; readonly error: number }
  | {
      readonly kind: 'access';
      readonly access: AccessKind;
      readonly va: number;
      readonly len: number;
      /** Physical address of the first byte, or -1 when the process was killed. */
      readonly pa: number;
      /** Bytes read (reads and fetches, at most 16 shown). */
      readonly bytes: readonly number[];
    }
  | {
      readonly kind: 'syscall';
      readonly name: string;
      readonly args: readonly string[];
      readonly result: number;
      readonly label?: string;
    }
  | { readonly kind: 'exit'; readonly code: number; readonly reclaimedFrames: number }
  | { readonly kind: 'replay'; readonly pid: number; readonly accesses: number }
  | {
      readonly kind: 'strace';
      readonly pid: number;
      /** Calls compared with Linux's results, how many agreed, and the skipped ones. */
      readonly calls: number;
      readonly agree: number;
      readonly skipped: number;
    }
  | { readonly kind: 'kill'; readonly reclaimedFrames: number }
  | { readonly kind: 'drop_caches'; readonly droppedPages: number }
  | { readonly kind: 'sync'; readonly writtenPages: number };

export interface ExpectVerdict {
  readonly ok: boolean;
  /** The value seen, as text (`20 kB`, `SIGSEGV`, `0x7ffff7eff000`). */
  readonly actual: string;
  readonly expected: string;
}

export interface StepRecord {
  readonly statement: Statement;
  readonly events: readonly KernelEvent[];
  readonly outcome: Outcome;
  readonly snapshot: Snapshot | null;
  readonly verdict: ExpectVerdict | null;
  /** The process killed during this step, if any, with its signal. */
  readonly killed: {
    readonly proc: string;
    readonly signal: SignalInfo;
    readonly reclaimedFrames: number;
  } | null;
  readonly tlb: TlbStats;
}

export interface RunResult {
  readonly scenario: Scenario;
  readonly kernel: Kernel;
  readonly steps: readonly StepRecord[];
  readonly passed: number;
  readonly failed: number;
}

export interface RunOptions {
  /** Where `exec` statements find binaries and interpreters; without it, `exec` is an input error. */
  readonly files?: ExecFileSource;
  /** Reads a trace file for `replay` statements (decompressed); without it, `replay` is an input error. */
  readonly readTrace?: (path: string) => Uint8Array;
  /** Run `kernel.check()` after every statement; a problem is a bug in vmscope (InvariantError). */
  readonly check?: boolean;
  /** Called after each statement (for streaming output). */
  readonly onStep?: (step: StepRecord) => void;
}

const ACCESS_OF = { read: ACCESS_READ, write: ACCESS_WRITE, fetch: ACCESS_EXEC } as const;

class Runner {
  readonly kernel: Kernel;
  private readonly sc: Scenario;
  private readonly log = new EventLog();
  private readonly procs = new Map<string, Process>();
  /** Per process: label → address (or -errno), the line that set it, the mapping's length. */
  private readonly labels = new Map<string, Map<string, { value: number; line: number; len: number }>>();
  /** Line at which each process ended, for the error on later use. */
  private readonly diedAt = new Map<string, number>();
  private readonly bootMeminfo: MeminfoFields;

  private readonly files: ExecFileSource | null;
  private readonly heaps = new Map<string, Allocator>();
  private readonly readTrace: ((path: string) => Uint8Array) | null;
  /** Divergences of each `strace` process's replay, for `expect NAME divergences`. */
  private readonly straceDivergences = new Map<string, number>();

  constructor(sc: Scenario, files: ExecFileSource | null, readTrace: ((path: string) => Uint8Array) | null) {
    this.sc = sc;
    this.files = files;
    this.readTrace = readTrace;
    const machine = new Machine(sc.machine);
    this.kernel = new Kernel(machine, {
      ...(sc.rlimitStack !== null ? { rlimits: { stack: sc.rlimitStack } } : {}),
      overcommit: { mode: sc.overcommit, ratio: sc.overcommitRatio },
      swapBytes: sc.swapBytes,
      reclaim: {
        policy: sc.policy,
        userFrameLimit: sc.userFrames,
        scope: sc.scope,
        allocation: sc.allocation,
      },
    });
    this.kernel.sink = this.log;
    this.bootMeminfo = this.kernel.meminfo();
  }

  private error(st: Statement, message: string, column?: number): InputError {
    return new InputError('scenario', message, {
      file: this.sc.file,
      line: st.place.line,
      column: column ?? st.place.column,
    });
  }

  /** A process that must still be running for `st`. */
  private running(st: Statement, name: string): Process {
    const proc = this.procs.get(name)!;
    if (!proc.alive) {
      const how =
        proc.state === 'killed'
          ? `was killed by ${SIGNAL_NAMES[proc.signal!.signal] ?? 'a signal'}`
          : 'exited';
      throw this.error(
        st,
        `process ${name} ${how} at line ${this.diedAt.get(name)}; it can do nothing more (show and expect still work)`,
      );
    }
    return proc;
  }

  private resolve(st: Statement, proc: Process, expr: AddrExpr): number {
    const mm = proc.mm!;
    let sum = 0;
    for (const t of expr.terms) {
      let v: number;
      if (t.kind === 'number') v = t.value;
      else if (t.kind === 'label') {
        const l = this.labels.get(proc.name)?.get(t.name);
        if (!l) throw this.error(st, `no label '${t.name}'`, t.place.column);
        if (l.value < 0) {
          throw this.error(
            st,
            `label '${t.name}' has no address: its mmap at line ${l.line} failed with ${errnoText(l.value)}`,
            t.place.column,
          );
        }
        v = l.value;
      } else {
        switch (t.name) {
          case 'code':
            v = mm.startCode;
            break;
          case 'data':
            v = mm.startData;
            break;
          case 'bss':
            v = mm.endData;
            break;
          case 'heap':
            v = mm.startBrk;
            break;
          case 'brk':
            v = mm.brk;
            break;
          default:
            v = mm.layout.stackTop;
        }
      }
      sum += t.sign * v;
    }
    if (sum < 0) throw this.error(st, `address ${expr.text} is negative (${sum})`, expr.place.column);
    return sum;
  }

  step(st: Statement): StepRecord {
    const k = this.kernel;
    const tlbBefore = tlbStats(k);
    let outcome: Outcome = { kind: 'none' };
    let snapshot: Snapshot | null = null;
    let verdict: ExpectVerdict | null = null;
    const aliveBefore = new Set([...this.procs.values()].filter((p) => p.alive));
    switch (st.kind) {
      case 'spawn': {
        const r = k.spawn(st.name, {
          codeBytes: st.code,
          dataBytes: st.data,
          bssBytes: st.bss,
          ...(st.stack !== null ? { stackBytes: st.stack } : {}),
        });
        if (typeof r === 'number')
          throw this.error(st, `cannot spawn ${st.name}: ${errnoText(r)} (the machine is out of memory)`);
        this.procs.set(st.name, r);
        this.labels.set(st.name, new Map());
        outcome = { kind: 'spawn', pid: r.pid, error: 0 };
        break;
      }
      case 'strace': {
        if (!this.files || !this.readTrace)
          throw this.error(st, 'strace needs access to files: run the scenario with vmscope run');
        let r: ReturnType<typeof replayStraceStatement>;
        try {
          r = replayStraceStatement(k, this.files, this.readTrace(st.path), st);
        } catch (e) {
          if (e instanceof InputError)
            throw this.error(st, `cannot replay the log: ${e.format().replace(': error: ', ': ')}`);
          throw e;
        }
        if (r.proc === null)
          throw this.error(
            st,
            `${st.path}: the log's first process never runs a program (no execve, or it ended)`,
          );
        this.procs.set(st.name, r.proc);
        this.labels.set(st.name, new Map());
        this.straceDivergences.set(st.name, r.summary.divergences.length);
        const skipped = r.summary.skipped.reduce((n, x) => n + x.count, 0);
        outcome = {
          kind: 'strace',
          pid: r.proc.pid,
          calls: r.summary.syscalls,
          agree: r.summary.agree,
          skipped,
        };
        break;
      }
      case 'replay': {
        if (!this.readTrace)
          throw this.error(st, 'replay needs access to files: run the scenario with vmscope run');
        let trace: { pages: Float64Array; writes: Uint8Array; addressing: 'addresses' | 'ids' };
        try {
          trace = loadTrace(st.path, this.readTrace(st.path), k.pageSize);
        } catch (e) {
          if (e instanceof InputError)
            throw this.error(st, `cannot replay the log: ${e.format().replace(': error: ', ': ')}`);
          throw e;
        }
        // Every access is checked before anything runs. Opaque ids are placed in the process's space
        // as a full-system replay places them.
        const taskSize = k.layout.taskSize;
        const placement = trace.addressing === 'ids' ? IdPlacement.forSpace(k.layout, k.machine.arch) : null;
        const vpns = new Float64Array(trace.pages.length);
        for (let i = 0; i < vpns.length; i++) {
          const page = trace.pages[i]!;
          const vpn = placement === null ? page : placement.vpn(page);
          if (vpn < 0 || vpn * k.pageSize >= taskSize)
            throw this.error(st, `${st.path}: access ${i + 1} is beyond user space`);
          vpns[i] = vpn;
        }
        // Mapped where the trace goes, so VmSize and maps show its extent, not all of user space.
        const proc = addReplayProcess(k, st.name, replayRegions(vpns));
        if (proc === null) throw this.error(st, `cannot replay ${st.path}: the machine is out of memory`);
        this.procs.set(st.name, proc);
        this.labels.set(st.name, new Map());
        let done = 0;
        for (; done < vpns.length && proc.alive; done++)
          k.access(proc, vpns[done]! * k.pageSize, trace.writes[done] ? ACCESS_WRITE : ACCESS_READ);
        outcome = { kind: 'replay', pid: proc.pid, accesses: done };
        break;
      }
      case 'exec': {
        if (!this.files)
          throw this.error(st, 'exec needs access to files: run the scenario with vmscope run');
        let r: ReturnType<typeof execve>;
        try {
          r = execve(k, {
            path: st.path,
            argv: [st.path, ...st.args],
            envp: [],
            files: this.files,
            name: st.name,
          });
        } catch (e) {
          if (e instanceof InputError) throw this.error(st, `cannot exec ${st.path}: ${e.format()}`);
          throw e;
        }
        if (typeof r === 'number') throw this.error(st, `cannot exec ${st.path}: ${errnoText(r)}`);
        this.procs.set(st.name, r.proc);
        this.labels.set(st.name, new Map());
        outcome = { kind: 'spawn', pid: r.proc.pid, error: 0 };
        break;
      }
      case 'op':
        outcome = this.op(st, this.running(st, st.proc));
        break;
      case 'kill': {
        const proc = this.running(st, st.proc);
        k.kill(proc, { signal: 9, code: 0, va: 0, reason: 'killed by the scenario' });
        outcome = { kind: 'kill', reclaimedFrames: proc.final?.reclaimedFrames ?? 0 };
        break;
      }
      case 'drop_caches':
        outcome = { kind: 'drop_caches', droppedPages: k.dropCaches() };
        break;
      case 'sync':
        outcome = { kind: 'sync', writtenPages: k.sync() };
        break;
      case 'file': {
        const r = k.writeFile(filePath(st.name), new Uint8Array(st.size).fill(st.fill));
        if (typeof r === 'number') throw this.error(st, `cannot create ${st.name}: ${errnoText(r)}`);
        outcome = { kind: 'none' };
        break;
      }
      case 'truncate':
        k.truncate(k.fs.lookup(filePath(st.name))!, st.size);
        break;
      case 'show':
        snapshot = this.show(st);
        break;
      case 'expect':
        verdict = this.expect(st);
        break;
    }
    let killed: StepRecord['killed'] = null;
    for (const p of aliveBefore) {
      if (!p.alive) {
        this.diedAt.set(p.name, st.place.line);
        if (p.state === 'killed' && st.kind !== 'kill')
          killed = { proc: p.name, signal: p.signal!, reclaimedFrames: p.final?.reclaimedFrames ?? 0 };
      }
    }
    const after = tlbStats(k);
    const tlb = {
      hits: after.hits - tlbBefore.hits,
      misses: after.misses - tlbBefore.misses,
      walks: after.walks - tlbBefore.walks,
      pteReads: after.pteReads - tlbBefore.pteReads,
    };
    return { statement: st, events: this.log.drain(), outcome, snapshot, verdict, killed, tlb };
  }

  private op(st: Extract<Statement, { kind: 'op' }>, proc: Process): Outcome {
    const k = this.kernel;
    const b = st.body;
    switch (b.op) {
      case 'read':
      case 'write':
      case 'fetch': {
        const va = this.resolve(st, proc, b.addr);
        const access = ACCESS_OF[b.op];
        let pa = -1;
        const bytes: number[] = [];
        const mem = k.machine.mem.bytes;
        for (let i = 0; i < b.len; i++) {
          const p = k.access(proc, va + i, access);
          if (p < 0) break;
          if (i === 0) pa = p;
          if (access === ACCESS_WRITE) mem[p] = b.fill;
          else if (bytes.length < 16) bytes.push(mem[p]!);
          // Whole pages at a time: the rest of this page translates the same way.
          const inPage = k.pageSize - ((va + i) % k.pageSize) - 1;
          const run = Math.min(inPage, b.len - 1 - i);
          if (run > 0) {
            if (access === ACCESS_WRITE) mem.fill(b.fill, p + 1, p + 1 + run);
            else for (let j = 1; j <= run && bytes.length < 16; j++) bytes.push(mem[p + j]!);
            i += run;
          }
        }
        return { kind: 'access', access, va, len: b.len, pa, bytes };
      }
      case 'sbrk':
        return { kind: 'syscall', name: 'sbrk', args: [signedHex(b.delta)], result: k.sbrk(proc, b.delta) };
      case 'brk': {
        const addr = this.resolve(st, proc, b.addr);
        return { kind: 'syscall', name: 'brk', args: [hex0x(addr)], result: k.brk(proc, addr) };
      }
      case 'mmap': {
        const addr = b.addr ? this.resolve(st, proc, b.addr) : 0;
        let flags = (b.shared ? MAP_SHARED : MAP_PRIVATE) | (b.file === null ? MAP_ANONYMOUS : 0);
        if (b.placement === 'fixed') flags |= MAP_FIXED;
        if (b.placement === 'noreplace') flags |= MAP_FIXED_NOREPLACE;
        if (b.populate) flags |= MAP_POPULATE;
        for (const e of b.extra) flags |= MAP_EXTRA[e];
        const file = b.file === null ? null : (k.fs.lookup(filePath(b.file)) ?? null);
        const result = k.mmap(proc, { addr, len: b.len, prot: b.prot, flags, file, offset: b.offset });
        this.labels.get(proc.name)!.set(b.label, { value: result, line: st.place.line, len: b.len });
        return {
          kind: 'syscall',
          name: 'mmap',
          args: [
            addr === 0 ? 'NULL' : hex0x(addr),
            hex0x(b.len),
            protText(b.prot),
            mapFlagsText(flags),
            ...(b.file !== null ? [filePath(b.file), hex0x(b.offset)] : []),
          ],
          result,
          label: b.label,
        };
      }
      case 'munmap': {
        const addr = this.resolve(st, proc, b.addr);
        return {
          kind: 'syscall',
          name: 'munmap',
          args: [hex0x(addr), hex0x(b.len)],
          result: k.munmap(proc, addr, b.len),
        };
      }
      case 'mprotect': {
        const addr = this.resolve(st, proc, b.addr);
        return {
          kind: 'syscall',
          name: 'mprotect',
          args: [hex0x(addr), hex0x(b.len), protText(b.prot)],
          result: k.mprotect(proc, addr, b.len, b.prot),
        };
      }
      case 'oom_score_adj':
        proc.oomScoreAdj = b.value;
        return { kind: 'none' };
      case 'malloc':
      case 'realloc':
      case 'free': {
        const heap = this.heap(st, proc);
        const labels = this.labels.get(proc.name)!;
        if (b.op === 'malloc') {
          const ptr = heap.malloc(b.size);
          labels.set(b.label, { value: ptr, line: st.place.line, len: b.size });
          return { kind: 'syscall', name: 'malloc', args: [String(b.size)], result: ptr, label: b.label };
        }
        const old = labels.get(b.label)!.value;
        if (b.op === 'free') {
          heap.free(old);
          return { kind: 'syscall', name: 'free', args: [hex0x(old)], result: 0 };
        }
        const ptr = heap.realloc(old, b.size);
        labels.set(b.label, { value: ptr, line: st.place.line, len: b.size });
        return {
          kind: 'syscall',
          name: 'realloc',
          args: [hex0x(old), String(b.size)],
          result: ptr,
          label: b.label,
        };
      }
      case 'exit':
        // A thread's exit ends it alone; a process's ends every thread of it (exit_group).
        if (proc.isThread) k.exitThread(proc, b.code);
        else k.exit(proc, b.code);
        return { kind: 'exit', code: b.code, reclaimedFrames: proc.final?.reclaimedFrames ?? 0 };
      case 'fork':
      case 'thread': {
        const r = b.op === 'fork' ? k.fork(proc, b.child) : k.thread(proc, b.child);
        if (typeof r === 'number')
          throw this.error(st, `cannot ${b.op} ${b.child}: ${errnoText(r)} (the machine is out of memory)`);
        this.procs.set(b.child, r);
        const mine = this.labels.get(proc.name)!;
        this.labels.set(b.child, b.op === 'thread' ? mine : new Map(mine));
        return {
          kind: 'syscall',
          name: b.op === 'fork' ? 'fork' : 'clone',
          args: [],
          result: r.pid,
          label: b.child,
        };
      }
      case 'mremap': {
        const labels = this.labels.get(proc.name)!;
        const old = labels.get(b.label)!;
        if (old.value < 0)
          throw this.error(
            st,
            `label '${b.label}' has no address: its mmap at line ${old.line} failed with ${errnoText(old.value)}`,
          );
        const fixed = b.fixed ? this.resolve(st, proc, b.fixed) : 0;
        const flags =
          (b.maymove ? MREMAP_MAYMOVE : 0) |
          (b.fixed ? MREMAP_FIXED : 0) |
          (b.dontunmap ? MREMAP_DONTUNMAP : 0);
        const result = k.mremap(proc, old.value, old.len, b.newLen, flags, fixed);
        // A failed mremap leaves the old mapping, and the label names it still.
        if (result >= 0) labels.set(b.label, { value: result, line: st.place.line, len: b.newLen });
        return {
          kind: 'syscall',
          name: 'mremap',
          args: [
            hex0x(old.value),
            hex0x(old.len),
            hex0x(b.newLen),
            mremapFlagsText(flags),
            ...(b.fixed ? [hex0x(fixed)] : []),
          ],
          result,
          label: b.label,
        };
      }
      case 'madvise': {
        const addr = this.resolve(st, proc, b.addr);
        const advice = MADVICE[b.advice as keyof typeof MADVICE]!;
        return {
          kind: 'syscall',
          name: 'madvise',
          args: [hex0x(addr), hex0x(b.len), `MADV_${b.advice.toUpperCase()}`],
          result: k.madvise(proc, addr, b.len, advice),
        };
      }
      case 'msync': {
        const addr = this.resolve(st, proc, b.addr);
        const flags = (b.mode === 'sync' ? MS_SYNC : MS_ASYNC) | (b.invalidate ? MS_INVALIDATE : 0);
        const names = [
          b.mode === 'sync' ? 'MS_SYNC' : 'MS_ASYNC',
          ...(b.invalidate ? ['MS_INVALIDATE'] : []),
        ];
        return {
          kind: 'syscall',
          name: 'msync',
          args: [hex0x(addr), hex0x(b.len), names.join('|')],
          result: k.msync(proc, addr, b.len, flags),
        };
      }
      case 'mlock':
      case 'munlock': {
        const addr = this.resolve(st, proc, b.addr);
        const result =
          b.op === 'mlock'
            ? k.mlock(proc, addr, b.len, b.onfault ? MLOCK_ONFAULT : 0)
            : k.munlock(proc, addr, b.len);
        return { kind: 'syscall', name: b.op, args: [hex0x(addr), hex0x(b.len)], result };
      }
    }
  }

  /** The process's malloc, made on its first use: the machine's allocator over its memory. */
  private heap(st: Statement, proc: Process): Allocator {
    let heap = this.heaps.get(proc.name);
    if (!heap) {
      const mem = KernelMemory.attach(this.kernel, proc, {
        staticBytes: Math.min(0x4000, this.kernel.pageSize * 64),
      });
      if (typeof mem === 'number')
        throw this.error(st, `${proc.name} has no room for malloc's state: ${errnoText(mem)}`);
      heap = createAllocator(this.sc.malloc as AllocatorName, mem);
      this.heaps.set(proc.name, heap);
    }
    return heap;
  }

  private show(st: Extract<Statement, { kind: 'show' }>): Snapshot {
    const k = this.kernel;
    if (st.proc === null) {
      if (st.what === 'meminfo') return { what: 'meminfo', fields: k.meminfo(), pageSize: k.pageSize };
      if (st.what === 'frames') return snapshotFrames(k);
      if (st.what === 'swap') return snapshotSwap(k);
      return snapshotTlb(k, null);
    }
    const proc = this.procs.get(st.proc)!;
    switch (st.what) {
      case 'maps':
        return snapshotMaps(k, proc);
      case 'status':
        return snapshotStatus(k, proc);
      case 'smaps': {
        const va = st.addr && proc.mm ? this.resolve(st, proc, st.addr) : null;
        return snapshotSmaps(k, proc, va);
      }
      case 'smaps_rollup':
        return snapshotSmapsRollup(k, proc);
      case 'tlb':
        return snapshotTlb(k, proc);
      default: {
        const va = st.addr && proc.mm ? this.resolve(st, proc, st.addr) : null;
        return snapshotPageTable(k, proc, va);
      }
    }
  }

  private expect(st: Extract<Statement, { kind: 'expect' }>): ExpectVerdict {
    const k = this.kernel;
    const field = st.field;
    let actual: number | string;
    let show: (v: number | string) => string = String;
    if (st.proc === null) {
      actual = k.meminfo()[field as keyof MeminfoFields];
      show = (v) => sizeText(v as number);
    } else {
      const proc = this.procs.get(st.proc)!;
      if (st.smapsLabel !== null) {
        const at = this.labels.get(proc.name)?.get(st.smapsLabel)?.value ?? -1;
        const entry = k.smaps(proc).find((e) => e.maps.start <= at && e.maps.end > at);
        if (entry === undefined)
          throw this.error(
            st,
            `label '${st.smapsLabel}' (${at < 0 ? errnoText(at) : hex0x(at)}) is in no mapping of ${proc.name}`,
          );
        actual = field === 'Size' ? entry.size : smapsValue(entry.fields, field);
        show = (v) => sizeText(v as number);
      } else if (field.startsWith('@')) {
        actual = this.labels.get(proc.name)?.get(field.slice(1))?.value ?? Number.NaN;
        show = (v) => ((v as number) < 0 ? errnoText(v as number) : hex0x(v as number));
      } else {
        switch (field) {
          case 'signal':
            actual = proc.signal
              ? (SIGNAL_NAMES[proc.signal.signal] ?? `signal ${proc.signal.signal}`)
              : 'none';
            break;
          case 'state':
            actual = proc.state;
            break;
          case 'maps':
            actual = k.maps(proc).length;
            break;
          case 'ret':
            actual = proc.lastResult;
            show = (v) => ((v as number) < 0 ? errnoText(v as number) : hex0x(v as number));
            break;
          case 'exitcode':
            actual = proc.exitCode;
            break;
          case 'divergences':
            actual = this.straceDivergences.get(st.proc) ?? 0;
            break;
          case 'minflt':
          case 'majflt':
            actual = k.status(proc)[field];
            break;
          case 'Threads':
            actual = k.status(proc).threads;
            break;
          default:
            if (field in (k.status(proc) as object)) {
              actual = k.status(proc)[field as keyof StatusFields];
            } else {
              const rollup = k.smapsRollup(proc);
              actual = rollup === null ? 0 : smapsValue(rollup, field);
            }
            show = (v) => sizeText(v as number);
        }
      }
    }
    let expectedValue: number | string;
    if (st.value.kind === 'boot') expectedValue = this.bootMeminfo[field as keyof MeminfoFields];
    else if (st.value.kind === 'number') expectedValue = st.value.value;
    else if (field === 'ret') expectedValue = -(errnoByName(st.value.word.slice(1)) ?? Number.NaN);
    else expectedValue = st.value.word;
    const ok = compare(actual, st.cmp, expectedValue);
    const expected = `${st.cmp} ${show(expectedValue)}${st.value.kind === 'boot' ? ' (boot)' : ''}`;
    return { ok, actual: show(actual), expected };
  }
}

function compare(a: number | string, cmp: CompareOp, b: number | string): boolean {
  switch (cmp) {
    case '==':
      return a === b;
    case '!=':
      return a !== b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    default:
      return a >= b;
  }
}

/** `-ENOMEM` for a negative errno. */
export function errnoText(v: number): string {
  return `-${ERRNO_NAMES[-v] ?? String(-v)}`;
}

/** Sizes as /proc prints them: whole kB, or bytes when smaller than a kB unit. */
export function sizeText(bytes: number): string {
  return bytes % 1024 === 0 ? `${bytes / 1024} kB` : `${bytes} B`;
}

function signedHex(v: number): string {
  return v < 0 ? `-${hex0x(-v)}` : hex0x(v);
}

export function protText(prot: number): string {
  if (prot === 0) return 'PROT_NONE';
  return [prot & 1 ? 'PROT_READ' : '', prot & 2 ? 'PROT_WRITE' : '', prot & 4 ? 'PROT_EXEC' : '']
    .filter(Boolean)
    .join('|');
}

/** A scenario's file name as a path: as written when it has a slash, else in the root. */
function filePath(name: string): string {
  return name.includes('/') ? name : `/${name}`;
}

/** An smaps field in bytes (PSS-like fields carry PSS_SHIFT fraction bits; /proc prints them cut). */
function smapsValue(fields: SmapsFields, field: string): number {
  const v = fields[field as keyof SmapsFields] ?? 0;
  const fractional = field.startsWith('Pss') || field === 'SwapPss' || field === 'Locked';
  // Whole kB as /proc prints them.
  return fractional ? Math.floor(v / 2 ** PSS_SHIFT / 1024) * 1024 : v;
}

const MAP_EXTRA = {
  stack: MAP_STACK,
  growsdown: MAP_GROWSDOWN,
  noreserve: MAP_NORESERVE,
  locked: MAP_LOCKED,
} as const;

const MADVICE = {
  normal: MADV_NORMAL,
  random: MADV_RANDOM,
  sequential: MADV_SEQUENTIAL,
  willneed: MADV_WILLNEED,
  dontneed: MADV_DONTNEED,
  free: MADV_FREE,
  remove: MADV_REMOVE,
  dontfork: MADV_DONTFORK,
  dofork: MADV_DOFORK,
  hugepage: MADV_HUGEPAGE,
  nohugepage: MADV_NOHUGEPAGE,
  dontdump: MADV_DONTDUMP,
  dodump: MADV_DODUMP,
  wipeonfork: MADV_WIPEONFORK,
  keeponfork: MADV_KEEPONFORK,
  cold: MADV_COLD,
  pageout: MADV_PAGEOUT,
  populate_read: MADV_POPULATE_READ,
  populate_write: MADV_POPULATE_WRITE,
} as const;

function mremapFlagsText(flags: number): string {
  const out = [
    flags & MREMAP_MAYMOVE ? 'MREMAP_MAYMOVE' : '',
    flags & MREMAP_FIXED ? 'MREMAP_FIXED' : '',
    flags & MREMAP_DONTUNMAP ? 'MREMAP_DONTUNMAP' : '',
  ].filter(Boolean);
  return out.length > 0 ? out.join('|') : '0';
}

function mapFlagsText(flags: number): string {
  const names: [number, string][] = [
    [MAP_SHARED, 'MAP_SHARED'],
    [MAP_PRIVATE, 'MAP_PRIVATE'],
    [MAP_ANONYMOUS, 'MAP_ANONYMOUS'],
    [MAP_FIXED_NOREPLACE, 'MAP_FIXED_NOREPLACE'],
    [MAP_POPULATE, 'MAP_POPULATE'],
    [MAP_STACK, 'MAP_STACK'],
    [MAP_GROWSDOWN, 'MAP_GROWSDOWN'],
    [MAP_NORESERVE, 'MAP_NORESERVE'],
    [MAP_LOCKED, 'MAP_LOCKED'],
  ];
  const out = names.filter(([bit]) => flags & bit).map(([, n]) => n);
  if (flags & MAP_FIXED && !(flags & MAP_FIXED_NOREPLACE)) out.push('MAP_FIXED');
  return out.join('|');
}

/**
 * Runs `sc` on a fresh machine. @throws InputError for a statement the scenario cannot do (an
 * operation on a process that has ended, a label whose mmap failed), InvariantError for a vmscope bug.
 */
export function runScenario(sc: Scenario, options: RunOptions = {}): RunResult {
  const runner = new Runner(sc, options.files ?? null, options.readTrace ?? null);
  const steps: StepRecord[] = [];
  let passed = 0;
  let failed = 0;
  for (const st of sc.statements) {
    const rec = runner.step(st);
    steps.push(rec);
    if (rec.verdict) {
      if (rec.verdict.ok) passed++;
      else failed++;
    }
    if (options.check) {
      const problems = runner.kernel.check();
      if (problems.length > 0) {
        throw new InvariantError(
          `after ${sc.file}:${st.place.line} (${st.text}):\n  ${problems.slice(0, 20).join('\n  ')}`,
        );
      }
    }
    options.onStep?.(rec);
  }
  return { scenario: sc, kernel: runner.kernel, steps, passed, failed };
}
