/**
 * Events: every state change a user may want to see. The kernel builds an event only when a sink is
 * attached (`if (this.sink)`), so with no listener the hot path pays a null check and nothing more.
 */
import type { AccessKind } from '../hw/mmu.js';
import type { FrameKind } from './frames.js';

/** How a page fault was resolved. */
export type FaultHow =
  | 'zero-fill'
  /** A read of untouched anonymous memory: the shared zero page, mapped read-only. */
  | 'zero-page'
  | 'file-read'
  | 'cache-hit'
  | 'shmem-zero'
  | 'cow-copy'
  | 'cow-reuse'
  | 'write-enable'
  | 'spurious'
  | 'swap-in'
  /** A page of a swapped-out entry found in the swap cache (another mapper brought it in): minor. */
  | 'swap-cache'
  /** Memory ran out; the OOM killer freed some by killing another process; the access is retried. */
  | 'oom-retry';

export type KernelEvent =
  | {
      type: 'fault';
      pid: number;
      va: number;
      access: AccessKind;
      /** Minor or major when resolved; `segv` when it became a signal. */
      result: 'minor' | 'major' | 'segv';
      how: FaultHow | null;
      /** The VMA's maps name or range, for narration; empty when no VMA holds the address. */
      where: string;
      /** Why a `segv` fault was refused, in words (the signal's reason); absent otherwise. */
      reason?: string;
      pfn: number;
    }
  | { type: 'stack-grow'; pid: number; oldStart: number; newStart: number }
  | { type: 'signal'; pid: number; signal: number; code: number; va: number; reason: string }
  | { type: 'syscall'; pid: number; name: string; args: readonly (number | string)[]; result: number }
  | { type: 'vma-map'; pid: number; start: number; end: number; perms: string; name: string }
  | { type: 'vma-unmap'; pid: number; start: number; end: number }
  | { type: 'vma-protect'; pid: number; start: number; end: number; perms: string }
  | { type: 'frame-alloc'; pfn: number; kind: FrameKind; pid: number }
  | { type: 'frame-free'; pfn: number; kind: FrameKind; pid: number }
  | { type: 'pt-alloc'; pid: number; pfn: number; level: number }
  | { type: 'pt-free'; pid: number; pfn: number; level: number }
  | { type: 'tlb-flush'; asid: number; startVpn: number; endVpn: number }
  | { type: 'swap-out'; pid: number; va: number; pfn: number; slot: number; written: boolean }
  | { type: 'swap-in'; pid: number; va: number; pfn: number; slot: number }
  | { type: 'page-out'; pfn: number; object: string; index: number; toSwap: boolean }
  /** A dirty page of a file written to the file (msync, unmap of a shared mapping, eviction). */
  | { type: 'writeback'; pfn: number; object: string; index: number }
  /** A copy-on-write break: the page at `va` got its own copy `to` of shared frame `from`. */
  | { type: 'cow'; pid: number; va: number; from: number; to: number }
  | { type: 'fork'; pid: number; child: number; name: string }
  | { type: 'thread'; pid: number; tid: number; name: string }
  | { type: 'oom-kill'; pid: number; badness: number }
  | { type: 'spawn'; pid: number; name: string }
  | { type: 'exit'; pid: number; code: number; killed: boolean };

export interface EventSink {
  push(event: KernelEvent): void;
}

/** Where the kernel's parts find the attached sink (one holder, so attaching reaches all of them). */
export interface KernelEvents {
  sink: EventSink | null;
}

/** A sink that keeps everything in an array (tests, the scenario runner). */
export class EventLog implements EventSink {
  readonly events: KernelEvent[] = [];
  push(event: KernelEvent): void {
    this.events.push(event);
  }
  /** Returns and forgets what was collected since the last drain. */
  drain(): KernelEvent[] {
    return this.events.splice(0);
  }
}
