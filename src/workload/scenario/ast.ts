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
    }
  | { readonly op: 'munmap'; readonly addr: AddrExpr; readonly len: number }
  | { readonly op: 'mprotect'; readonly addr: AddrExpr; readonly len: number; readonly prot: number }
  | { readonly op: 'exit'; readonly code: number }
  | { readonly op: 'oom_score_adj'; readonly value: number }
  | { readonly op: 'malloc'; readonly label: string; readonly size: number }
  | { readonly op: 'free'; readonly label: string }
  | { readonly op: 'realloc'; readonly label: string; readonly size: number };

export type ShowWhat = 'maps' | 'status' | 'pagetable' | 'tlb' | 'meminfo' | 'frames' | 'swap';

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
  | { readonly kind: 'op'; readonly proc: string; readonly body: Op }
  | { readonly kind: 'kill'; readonly proc: string }
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
      /** A status/meminfo field, `minflt`, `signal`, `@label`… */
      readonly field: string;
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
  readonly statements: readonly Statement[];
}
