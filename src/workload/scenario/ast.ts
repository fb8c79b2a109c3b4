/**
 * The scenario language (`*.vms`) after parsing: one statement per line, each carrying its place so
 * that errors and expectation failures can name it.
 */
import type { MachineConfig } from '../../hw/machine.js';

export interface Place {
  readonly line: number;
  readonly column: number;
}

/** An address expression: a sum of terms (numbers, bases, labels) with signs. */
export interface AddrTerm {
  readonly sign: 1 | -1;
  readonly kind: 'number' | 'base' | 'label';
  /** The number, for `number`. */
  readonly value: number;
  /** The base name (`code`, `data`, `bss`, `heap`, `brk`, `stack`) or the label, otherwise. */
  readonly name: string;
  readonly place: Place;
}

export interface AddrExpr {
  readonly terms: readonly AddrTerm[];
  readonly text: string;
  readonly place: Place;
}

export const ADDRESS_BASES = ['code', 'data', 'bss', 'heap', 'brk', 'stack'] as const;
export type AddressBase = (typeof ADDRESS_BASES)[number];

export type Op =
  | {
      readonly op: 'read' | 'write' | 'fetch';
      readonly addr: AddrExpr;
      readonly len: number;
      readonly fill: number;
    }
  | { readonly op: 'sbrk'; readonly delta: number }
  | { readonly op: 'brk'; readonly addr: AddrExpr }
  | {
      readonly op: 'mmap';
      readonly label: string;
      readonly len: number;
      readonly prot: number;
      readonly shared: boolean;
      /** MAP_FIXED, MAP_FIXED_NOREPLACE, or a hint. */
      readonly placement: 'any' | 'hint' | 'fixed' | 'noreplace';
      readonly addr: AddrExpr | null;
      readonly populate: boolean;
      /** A file from a `file` statement (a file mapping), or null (anonymous memory). */
      readonly file: string | null;
      /** Offset into the file in bytes. */
      readonly offset: number;
      /** MAP_STACK, MAP_GROWSDOWN, MAP_NORESERVE, MAP_LOCKED. */
      readonly extra: readonly ('stack' | 'growsdown' | 'noreserve' | 'locked')[];
    }
  | {
      readonly op: 'mremap';
      /** The mapping to resize or move: its label names the result (unchanged on failure). */
      readonly label: string;
      readonly newLen: number;
      readonly maymove: boolean;
      readonly dontunmap: boolean;
      readonly fixed: AddrExpr | null;
    }
  | { readonly op: 'madvise'; readonly addr: AddrExpr; readonly len: number; readonly advice: string }
  | {
      readonly op: 'msync';
      readonly addr: AddrExpr;
      readonly len: number;
      readonly mode: 'sync' | 'async';
      readonly invalidate: boolean;
    }
  | { readonly op: 'mlock'; readonly addr: AddrExpr; readonly len: number; readonly onfault: boolean }
  | { readonly op: 'munlock'; readonly addr: AddrExpr; readonly len: number }
  /** fork: the child is a new process with a copy of the address space (and the parent's labels). */
  | { readonly op: 'fork'; readonly child: string }
  /** A thread in the same address space (the same labels). */
  | { readonly op: 'thread'; readonly child: string }
  | { readonly op: 'munmap'; readonly addr: AddrExpr; readonly len: number }
  | { readonly op: 'mprotect'; readonly addr: AddrExpr; readonly len: number; readonly prot: number }
  | { readonly op: 'exit'; readonly code: number }
  | { readonly op: 'oom_score_adj'; readonly value: number }
  | { readonly op: 'malloc'; readonly label: string; readonly size: number }
  | { readonly op: 'free'; readonly label: string }
  | { readonly op: 'realloc'; readonly label: string; readonly size: number };

export type ShowWhat =
  | 'maps'
  | 'status'
  | 'pagetable'
  | 'tlb'
  | 'smaps'
  | 'smaps_rollup'
  | 'meminfo'
  | 'frames'
  | 'swap';

export type CompareOp = '==' | '!=' | '<' | '<=' | '>' | '>=';

/** The right-hand side of an expectation. */
export type ExpectValue =
  | { readonly kind: 'number'; readonly value: number }
  | { readonly kind: 'boot' }
  | { readonly kind: 'word'; readonly word: string };

export type Statement = (
  | {
      readonly kind: 'spawn';
      readonly name: string;
      readonly code: number;
      readonly data: number;
      readonly bss: number;
      readonly stack: number | null;
    }
  | {
      readonly kind: 'exec';
      readonly name: string;
      /** The program's path as written (relative paths are the caller's to resolve). */
      readonly path: string;
      readonly args: readonly string[];
    }
  | { readonly kind: 'replay'; readonly name: string; readonly path: string }
  | {
      readonly kind: 'strace';
      readonly name: string;
      /** The strace log, and the binary its first execve ran (paths as written). */
      readonly path: string;
      readonly exe: string | null;
      /** Where to stop: after log line N, or after the K-th call NAME (`mmap:12`); null: its exit. */
      readonly at: string | null;
    }
  | { readonly kind: 'op'; readonly proc: string; readonly body: Op }
  | { readonly kind: 'kill'; readonly proc: string }
  /** `sync; echo 3 > /proc/sys/vm/drop_caches`: unmapped file pages are written back and freed. */
  | { readonly kind: 'drop_caches' }
  /** sync(2): every dirty page-cache page is written back (and stays cached, clean). */
  | { readonly kind: 'sync' }
  /** A file processes can map: `size` bytes of `fill`, written through the page cache. */
  | { readonly kind: 'file'; readonly name: string; readonly size: number; readonly fill: number }
  /** ftruncate of a file to `size` bytes. */
  | { readonly kind: 'truncate'; readonly name: string; readonly size: number }
  | {
      readonly kind: 'show';
      readonly proc: string | null;
      readonly what: ShowWhat;
      readonly addr: AddrExpr | null;
    }
  | {
      readonly kind: 'expect';
      /** The process, or null for `expect meminfo …`. */
      readonly proc: string | null;
      /** A status/meminfo/smaps_rollup field, `minflt`, `signal`, `@label`… */
      readonly field: string;
      /** `expect A smaps LABEL FIELD …`: the VMA holding the label's address; null otherwise. */
      readonly smapsLabel: string | null;
      readonly cmp: CompareOp;
      readonly value: ExpectValue;
    }
) & { readonly place: Place; readonly text: string };

export interface Scenario {
  readonly file: string;
  readonly machine: MachineConfig;
  /** Extra kernel settings from the machine line. */
  readonly rlimitStack: number | null;
  /** Swap device size in bytes (0: none). */
  readonly swapBytes: number;
  /** The page-replacement policy and the cap on frames user pages may hold (0: all of RAM). */
  readonly policy: string;
  /**
   * Where the machine line names a plug-in policy (a module path, relative to the scenario's
   * folder), for the loader's errors; null for a built-in policy.
   */
  readonly policyPlace: Place | null;
  readonly userFrames: number;
  /** Replacement scope and, for local, how frames are shared. */
  readonly scope: 'global' | 'local';
  readonly allocation: 'equal' | 'proportional' | 'pff';
  /** The malloc implementation `NAME: malloc` lines run (default `binned`). */
  readonly malloc: string;
  /** vm.overcommit_memory and vm.overcommit_ratio. */
  readonly overcommit: 0 | 1 | 2;
  readonly overcommitRatio: number;
  readonly statements: readonly Statement[];
}
