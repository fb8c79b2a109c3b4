/** Kernel events and statement outcomes in plain words, for the narrated log of `vmscope run`. */
import { hex0x } from '../base/units.js';
import type { Arch } from '../hw/arch.js';
import { ACCESS_NAMES } from '../hw/mmu.js';
import { SEGV_CODE_NAMES, SIGNAL_NAMES } from '../kernel/errno.js';
import type { FaultHow, KernelEvent } from '../kernel/events.js';
import { errnoText, type Outcome, type StepRecord } from '../sim/scenario-runner.js';
import { count, counted } from './format.js';

const HOW: Record<FaultHow, string> = {
  'zero-fill': 'demand-zero fill',
  'file-read': 'read from the file into the page cache',
  'cache-hit': 'page found in the page cache',
  'zero-page': 'read of untouched memory: the shared zero page mapped read-only',
  'shmem-zero': 'new zeroed page of the shared memory object (shmem)',
  'cow-copy': 'copy-on-write: private copy made',
  'cow-reuse': 'copy-on-write: page was exclusive, reused',
  'write-enable': 'shared page made writable',
  spurious: 'spurious (entry already allowed it)',
  'swap-in': 'read back from swap',
  'swap-cache': 'found in the swap cache (another mapper had brought it back)',
  'oom-retry': 'out of memory; retried after the OOM killer ran',
};

/** One event as a sentence, or null for events too fine-grained to narrate. */
export function narrateEvent(e: KernelEvent, names: ReadonlyMap<number, string>, arch: Arch): string | null {
  const levelNames = arch.levelNames;
  const who = (pid: number): string => names.get(pid) ?? `pid ${pid}`;
  switch (e.type) {
    case 'fault': {
      if (e.result === 'segv') return null; // the signal says why
      const frame = e.pfn >= 0 ? `, frame ${hex0x(e.pfn)}` : '';
      return `page fault: ${ACCESS_NAMES[e.access]} at ${hex0x(e.va)} in ${e.where}: ${HOW[e.how!]}${frame} (${e.result})`;
    }
    case 'stack-grow': {
      const pages = (e.oldStart - e.newStart) / arch.pageSize;
      return `[stack] grows down from ${hex0x(e.oldStart)} to ${hex0x(e.newStart)} (${pages} page${pages === 1 ? '' : 's'})`;
    }
    case 'signal':
      return `${SIGNAL_NAMES[e.signal] ?? `signal ${e.signal}`}${e.code ? ` (${SEGV_CODE_NAMES[e.code] ?? e.code})` : ''} to ${who(e.pid)}: ${e.reason}`;
    case 'vma-map':
      return `new mapping ${hex0x(e.start)}-${hex0x(e.end)} ${e.perms}${e.name ? ` ${e.name}` : ''}`;
    case 'vma-unmap':
      return `mapping ${hex0x(e.start)}-${hex0x(e.end)} removed`;
    case 'vma-protect':
      return `${hex0x(e.start)}-${hex0x(e.end)} is now ${e.perms}`;
    case 'pt-alloc':
      return e.level === 0
        ? null
        : `new page table: ${levelNames[e.level] ?? `level ${e.level}`} at frame ${hex0x(e.pfn)}`;
    case 'pt-free':
      return e.level === 0
        ? null
        : `page table freed: ${levelNames[e.level] ?? `level ${e.level}`} at frame ${hex0x(e.pfn)}`;
    case 'exit':
      return e.killed ? null : `${who(e.pid)} exited with code ${e.code}`;
    case 'swap-out':
      if (e.slot < 0)
        return `evicted ${hex0x(e.va)} of ${who(e.pid)} (frame ${hex0x(e.pfn)}): never written, dropped`;
      return `evicted ${hex0x(e.va)} of ${who(e.pid)} (frame ${hex0x(e.pfn)}) to swap slot ${e.slot}${e.written ? ', written' : ', clean copy already there'}`;
    case 'swap-in':
      return `swap slot ${e.slot} read back into frame ${hex0x(e.pfn)} for ${hex0x(e.va)} of ${who(e.pid)}`;
    case 'page-out':
      return `evicted page ${e.index} of ${e.object} (frame ${hex0x(e.pfn)})${e.toSwap ? ' to swap' : ': clean, dropped'}`;
    case 'oom-kill':
      return `out of memory: the OOM killer chose ${who(e.pid)} (badness ${e.badness})`;
    case 'fork':
      return `${who(e.pid)} forked ${e.name} (pid ${e.child}): its pages are now shared, read-only in both, until one writes`;
    case 'thread':
      return `${who(e.pid)} started thread ${e.name} (tid ${e.tid}) in the same address space`;
    case 'cow':
      return null; // the fault it resolved says it (cow-copy)
    case 'writeback':
      return `page ${e.index} of ${e.object} written back to the file (frame ${hex0x(e.pfn)})`;
    default:
      return null;
  }
}

/** The result line of a statement. */
export function narrateOutcome(o: Outcome, step: StepRecord): string | null {
  switch (o.kind) {
    case 'spawn':
      return `pid ${o.pid}`;
    case 'access': {
      const verb = ACCESS_NAMES[o.access];
      const t = step.tlb;
      const tlb = `TLB ${counted(t.hits, 'hit')}, ${counted(t.misses, 'miss')}${t.pteReads ? `, ${counted(t.pteReads, 'PTE read')}` : ''}`;
      if (o.pa < 0) return `${verb} at ${hex0x(o.va)} failed; ${tlb}`;
      const bytes = o.bytes.length
        ? `: ${o.bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ')}${o.len > o.bytes.length ? ' …' : ''}`
        : '';
      const what = o.access === 2 ? 'fetched' : o.access === 1 ? 'wrote' : 'read';
      return `${what} ${counted(o.len, 'byte')} at ${hex0x(o.va)} (pa ${hex0x(o.pa)})${bytes}; ${tlb}`;
    }
    case 'syscall': {
      if (o.name === 'free') return `free(${o.args.join(', ')})`;
      if ((o.name === 'fork' || o.name === 'clone') && o.result >= 0)
        return `${o.name}() = ${o.result}${o.label ? ` -> ${o.label}` : ''}`;
      const result =
        o.result < 0 ? errnoText(o.result) : o.result === 0 && o.name !== 'brk' ? 'NULL' : hex0x(o.result);
      return `${o.name}(${o.args.join(', ')}) = ${result}${o.label ? ` -> ${o.label}` : ''}`;
    }
    case 'exit':
      return `${counted(o.reclaimedFrames, 'frame')} reclaimed`;
    case 'replay':
      return `pid ${o.pid} replayed ${counted(o.accesses, 'access')}`;
    case 'strace':
      return `pid ${o.pid} lived the log's life: ${counted(o.calls, 'call')} compared with Linux's results, ${count(o.agree)} agree${o.calls > o.agree ? `, ${count(o.calls - o.agree)} diverge` : ''}; ${count(o.skipped)} skipped`;
    case 'kill':
      return `killed; ${counted(o.reclaimedFrames, 'frame')} reclaimed`;
    case 'sync':
      return `${counted(o.writtenPages, 'dirty page')} written back`;
    case 'drop_caches':
      return `${counted(o.droppedPages, 'page-cache page')} dropped`;
    default:
      return null;
  }
}
