/**
 * Parser for scenario scripts (`*.vms`): a line-oriented language a teacher can write by hand.
 *
 *   machine x86_64 ram=16MiB tlb=64/4            # optional, first
 *   spawn A code=8K data=4K bss=8K
 *   A: write heap+16 4                           # read|write|fetch ADDR [LEN]
 *   A: mmap m1 1MiB rw- private                  # LABEL LEN PROT [shared|private] [fixed=|noreplace=|hint=ADDR]
 *   show A maps                                  # maps|status|pagetable [ADDR]|tlb ; show meminfo|frames|tlb
 *   expect A VmRSS == 16 kB                      # any status/meminfo field, signal, state, minflt, @label…
 *
 * The whole file is parsed and checked (names spawned before use, labels defined before use) before
 * anything runs, so a syntax error never leaves a half-run scenario. Errors are {@link InputError}s
 * with line and column, and a suggestion for a misspelt word.
 */
import { closest, distance } from 'fastest-levenshtein';
import { InputError, InputErrors } from '../../base/errors.js';
import { ARCH_NAMES, isArchName } from '../../hw/arch.js';
import { DEFAULT_MACHINE, type MachineConfig, machineConfigProblem } from '../../hw/machine.js';
import { MEMINFO_FIELDS, STATUS_FIELDS } from '../../kernel/proc.js';
import { isPluginSpec, isPolicyName, policyNames, policyNeedsFuture } from '../../kernel/reclaim/registry.js';
import { ALLOCATOR_NAMES } from '../../user/malloc/api.js';
import { parseInteger, parseSignedSize, parseSize } from '../values.js';
import {
  ADDRESS_BASES,
  type AddrExpr,
  type AddrTerm,
  type CompareOp,
  type ExpectValue,
  type Op,
  type Place,
  type Scenario,
  type ShowWhat,
  type Statement,
} from './ast.js';

interface Token {
  readonly text: string;
  readonly column: number;
}

const OPS = [
  'read',
  'write',
  'fetch',
  'sbrk',
  'brk',
  'mmap',
  'munmap',
  'mprotect',
  'malloc',
  'free',
  'realloc',
  'mremap',
  'madvise',
  'msync',
  'mlock',
  'munlock',
  'fork',
  'thread',
  'exit',
  'oom_score_adj',
] as const;
/** madvise advice words, as Linux names them without MADV_. */
export const ADVICE = [
  'normal',
  'random',
  'sequential',
  'willneed',
  'dontneed',
  'free',
  'remove',
  'dontfork',
  'dofork',
  'hugepage',
  'nohugepage',
  'dontdump',
  'dodump',
  'wipeonfork',
  'keeponfork',
  'cold',
  'pageout',
  'populate_read',
  'populate_write',
] as const;
/** smaps_rollup fields an expectation can compare (sizes). */
export const ROLLUP_FIELDS = [
  'Rss',
  'Pss',
  'Pss_Dirty',
  'Pss_Anon',
  'Pss_File',
  'Pss_Shmem',
  'Shared_Clean',
  'Shared_Dirty',
  'Private_Clean',
  'Private_Dirty',
  'Referenced',
  'Anonymous',
  'LazyFree',
  'Swap',
  'SwapPss',
  'Locked',
] as const;
/** Fields of one VMA's smaps record (`expect A smaps LABEL FIELD …`). */
export const SMAPS_FIELDS = [
  'Size',
  ...ROLLUP_FIELDS.filter((f) => !f.startsWith('Pss_') || f === 'Pss_Dirty'),
];
const KEYWORDS = [
  'machine',
  'spawn',
  'exec',
  'replay',
  'strace',
  'file',
  'truncate',
  'show',
  'expect',
  'kill',
  'sync',
  'drop_caches',
] as const;
const PROC_SHOWS = ['maps', 'status', 'smaps', 'smaps_rollup', 'pagetable', 'tlb'] as const;
const GLOBAL_SHOWS = ['meminfo', 'frames', 'tlb', 'swap'] as const;
const COMPARES: readonly CompareOp[] = ['==', '!=', '<=', '>=', '<', '>'];
/** A process name or a label: letters, digits and _, not starting with a digit. */
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Process expectation fields that are not /proc/PID/status sizes. */
const PROC_FIELDS = [
  'minflt',
  'majflt',
  'Threads',
  'signal',
  'state',
  'maps',
  'ret',
  'exitcode',
  'divergences',
] as const;
const SIZE_FIELDS = new Set<string>([...STATUS_FIELDS, ...MEMINFO_FIELDS, ...ROLLUP_FIELDS, 'Size']);
/** A file name in the simulated filesystem: a path without spaces. */
const FILE_NAME = /^[A-Za-z0-9_./-]+$/;

/** Whether an expectation field is a size in /proc (a bare number there means kB). */
export function isSizeField(field: string): boolean {
  return SIZE_FIELDS.has(field);
}

/** True when `a` becomes `b` by swapping two adjacent letters (`lur` → `lru`), a typo Levenshtein counts twice. */
function isTransposition(a: string, b: string): boolean {
  if (a.length !== b.length || a === b) return false;
  const i = [...a].findIndex((ch, j) => ch !== b[j]);
  return a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2);
}

/** The closest candidate to a misspelt word, when it is close enough to be a useful hint. */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  if (candidates.length === 0) return undefined;
  const prefixed = candidates.filter(
    (c) => word.length >= 2 && c.toLowerCase().startsWith(word.toLowerCase()),
  );
  if (prefixed.length === 1) return prefixed[0];
  const swapped = candidates.filter((c) => isTransposition(word.toLowerCase(), c.toLowerCase()));
  if (swapped.length === 1) return swapped[0];
  const best = closest(word, candidates as string[]);
  const d = distance(word.toLowerCase(), best.toLowerCase());
  return d <= Math.ceil(best.length / 3) && d < best.length ? best : undefined;
}

function tokenize(line: string): Token[] {
  const tokens: Token[] = [];
  const hash = line.indexOf('#');
  const body = hash >= 0 ? line.slice(0, hash) : line;
  const re = /\S+/g;
  for (let m = re.exec(body); m !== null; m = re.exec(body)) tokens.push({ text: m[0], column: m.index + 1 });
  return tokens;
}

class LineParser {
  private readonly file: string;
  private readonly line: number;
  private readonly tokens: Token[];
  private pos = 0;
  private readonly endColumn: number;

  constructor(file: string, line: number, tokens: Token[], lineText: string) {
    this.file = file;
    this.line = line;
    this.tokens = tokens;
    this.endColumn = lineText.replace(/\s+$/, '').length + 1;
  }

  error(message: string, at?: Token, hint?: string): InputError {
    const column = at?.column ?? this.endColumn;
    return new InputError('scenario', message, { file: this.file, line: this.line, column }, hint);
  }

  place(at?: Token): Place {
    return { line: this.line, column: at?.column ?? this.endColumn };
  }

  peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  /** The token after `t` on this line (whatever has been consumed), or undefined. */
  tokenAfter(t: Token): Token | undefined {
    const i = this.tokens.indexOf(t);
    return i >= 0 ? this.tokens[i + 1] : this.tokens.find((x) => x.column > t.column);
  }

  next(what: string): Token {
    const t = this.tokens[this.pos];
    if (!t) throw this.error(`expected ${what}`);
    this.pos++;
    return t;
  }

  rest(): Token[] {
    const r = this.tokens.slice(this.pos);
    this.pos = this.tokens.length;
    return r;
  }

  done(): void {
    const t = this.tokens[this.pos];
    if (t) throw this.error(`unexpected '${t.text}'`, t);
  }

  /** `key=value` options after the positional arguments, each key at most once. */
  options(allowed: readonly string[], flags: readonly string[] = []): Map<string, Token & { value: string }> {
    const out = new Map<string, Token & { value: string }>();
    for (const t of this.rest()) {
      const eq = t.text.indexOf('=');
      const key = eq >= 0 ? t.text.slice(0, eq) : t.text;
      const known = eq >= 0 ? allowed : flags;
      if (!known.includes(key)) {
        const hint = suggest(key, [...allowed, ...flags]);
        throw this.error(
          `unknown ${eq >= 0 ? 'option' : 'word'} '${key}'`,
          t,
          hint && `did you mean '${hint}'?`,
        );
      }
      if (out.has(key)) throw this.error(`'${key}' given twice`, t);
      out.set(key, { ...t, value: eq >= 0 ? t.text.slice(eq + 1) : '' });
    }
    return out;
  }

  size(t: Token, what: string): number {
    const v = parseSize(t.text);
    if (v === null)
      throw this.error(`expected ${what} (a size such as 4096, 0x1000, 8K or 1MiB), got '${t.text}'`, t);
    return v;
  }

  integer(t: Token, what: string): number {
    const v = parseInteger(t.text);
    if (v === null) throw this.error(`expected ${what} (a number), got '${t.text}'`, t);
    return v;
  }

  prot(t: Token): number {
    const s = t.text;
    if (/^[r-][w-][x-]$/.test(s))
      return (s[0] === 'r' ? 1 : 0) | (s[1] === 'w' ? 2 : 0) | (s[2] === 'x' ? 4 : 0);
    if (s === 'none') return 0;
    throw this.error(`expected a protection such as rw-, r-x or --- , got '${s}'`, t);
  }

  /**
   * A hex address at or above 2^53 (x86-64's kernel half, `[vsyscall]`), which no user space
   * reaches: taken when a double holds it exactly, refused (not rounded) otherwise. @returns null
   * for anything that is not such a number.
   */
  private highAddress(word: string, column: number): number | null {
    if (!/^0x[0-9a-f_]+$/i.test(word)) return null;
    const big = BigInt(word.replace(/_/g, ''));
    if (big >= 2n ** 64n) throw this.error(`'${word}' does not fit in 64 bits`, { text: word, column });
    const n = Number(big);
    if (BigInt(n) !== big) {
      const step = 2 ** (Math.floor(Math.log2(n)) - 52);
      throw this.error(
        `'${word}' cannot be held exactly: above 2^53 vmscope holds only multiples of ${step} (no user space reaches that high)`,
        { text: word, column },
        `the page holding it starts at 0x${(big - (big % 4096n)).toString(16)}`,
      );
    }
    return n;
  }

  /** ADDR: a number, a base or a label, with +/- offsets (`heap+0x10`, `stack-4K`, `m1+4096`). */
  addr(t: Token): AddrExpr {
    const terms: AddrTerm[] = [];
    const re = /([+-]?)([^+-]+)/g;
    let consumed = 0;
    for (let m = re.exec(t.text); m !== null; m = re.exec(t.text)) {
      if (m.index !== consumed) break;
      consumed = m.index + m[0].length;
      const sign = m[1] === '-' ? -1 : 1;
      if (m[1] === '' && terms.length > 0) break;
      const word = m[2]!;
      const place = { line: this.line, column: t.column + m.index + m[1]!.length };
      const size = parseSize(word) ?? this.highAddress(word, place.column);
      if (size !== null) terms.push({ sign, kind: 'number', value: size, name: '', place });
      else if ((ADDRESS_BASES as readonly string[]).includes(word))
        terms.push({ sign, kind: 'base', value: 0, name: word, place });
      else if (IDENT.test(word)) terms.push({ sign, kind: 'label', value: 0, name: word, place });
      else
        throw this.error(`'${word}' is not a number, a base (${ADDRESS_BASES.join(', ')}) or a label`, {
          text: word,
          column: place.column,
        });
    }
    if (terms.length > 1 && terms.some((x) => x.kind === 'number' && x.value > Number.MAX_SAFE_INTEGER))
      throw this.error('an address above 2^53 takes no offsets: write the whole address', t);
    if (consumed !== t.text.length || terms.length === 0) {
      throw this.error(
        `expected an address such as 0x401000, heap+16, stack-4K or a label, got '${t.text}'`,
        t,
      );
    }
    return { terms, text: t.text, place: this.place(t) };
  }
}

interface ParseState {
  machine: MachineConfig | null;
  rlimitStack: number | null;
  swapBytes: number;
  policy: string;
  policyPlace: Place | null;
  userFrames: number;
  scope: 'global' | 'local';
  allocation: 'equal' | 'proportional' | 'pff';
  malloc: string;
  overcommit: 0 | 1 | 2;
  overcommitRatio: number;
  /** Process name → labels defined so far (a thread shares its process's set). */
  procs: Map<string, Set<string>>;
  /** Files declared so far. */
  files: Set<string>;
  statements: Statement[];
}

/** Problems reported per file before the rest are only counted (clang's -ferror-limit). */
export const ERROR_LIMIT = 20;

/**
 * Parses a whole scenario, reporting every line that is wrong (a line with an error adds what it
 * could still tell — a process name, a label — so later lines are not flagged because of it).
 * @throws InputError for one problem, {@link InputErrors} for several, each with file, line, column.
 */
export function parseScenario(file: string, text: string): Scenario {
  const st: ParseState = {
    machine: null,
    rlimitStack: null,
    swapBytes: 0,
    policy: 'clock',
    policyPlace: null,
    userFrames: 0,
    scope: 'global',
    allocation: 'equal',
    malloc: 'binned',
    overcommit: 0,
    overcommitRatio: 50,
    procs: new Map(),
    files: new Set(),
    statements: [],
  };
  const lines = text.split(/\r?\n/);
  const errors: InputError[] = [];
  let omitted = 0;
  lines.forEach((lineText, i) => {
    const tokens = tokenize(lineText);
    if (tokens.length === 0) return;
    const p = new LineParser(file, i + 1, tokens, lineText);
    try {
      parseLine(p, st, lineText.trim().replace(/\s*#.*$/, ''));
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      if (errors.length < ERROR_LIMIT) errors.push(e);
      else omitted++;
    }
  });
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new InputErrors(errors, omitted);
  return {
    file,
    machine: st.machine ?? DEFAULT_MACHINE,
    rlimitStack: st.rlimitStack,
    swapBytes: st.swapBytes,
    policy: st.policy,
    policyPlace: st.policyPlace,
    userFrames: st.userFrames,
    scope: st.scope,
    allocation: st.allocation,
    malloc: st.malloc,
    overcommit: st.overcommit,
    overcommitRatio: st.overcommitRatio,
    statements: st.statements,
  };
}

function parseLine(p: LineParser, st: ParseState, text: string): void {
  const first = p.next('a statement');
  const colon = first.text.indexOf(':');
  if (colon > 0) {
    const name = first.text.slice(0, colon);
    const after = first.text.slice(colon + 1);
    const opToken =
      after !== ''
        ? { text: after, column: first.column + colon + 1 }
        : p.next(`an operation after '${name}:'`);
    const labels = needProc(p, st, name, first);
    let body: Op;
    try {
      body = parseOp(p, opToken, labels, st);
    } catch (e) {
      // `A: mmap m1 1MiB rwz` still names m1: later lines using it are not errors too.
      const label = p.tokenAfter(opToken);
      if ((opToken.text === 'mmap' || opToken.text === 'malloc') && label && IDENT.test(label.text))
        labels.add(label.text);
      throw e;
    }
    if (body.op === 'mmap' || body.op === 'malloc') labels.add(body.label);
    // A fork's child starts with the parent's labels; a thread shares them (one address space).
    if (body.op === 'fork') st.procs.set(body.child, new Set(labels));
    if (body.op === 'thread') st.procs.set(body.child, labels);
    st.statements.push({ kind: 'op', proc: name, body, place: p.place(first), text });
    return;
  }
  switch (first.text) {
    case 'machine':
      if (st.statements.length > 0) throw p.error("'machine' must come before every other statement", first);
      if (st.machine !== null) throw p.error('machine is already set up', first);
      parseMachine(p, st);
      return;
    case 'spawn': {
      const nameTok = newProcName(p, st);
      const o = p.options(['code', 'data', 'bss', 'stack']);
      const sz = (k: string, d: number): number => {
        const t = o.get(k);
        return t ? p.size({ text: t.value, column: t.column + k.length + 1 }, `${k}=SIZE`) : d;
      };
      const stack = o.get('stack');
      st.statements.push({
        kind: 'spawn',
        name: nameTok.text,
        code: sz('code', 4096),
        data: sz('data', 0),
        bss: sz('bss', 0),
        stack: stack ? sz('stack', 0) : null,
        place: p.place(first),
        text,
      });
      return;
    }
    case 'exec': {
      const nameTok = newProcName(p, st);
      const pathTok = p.next('the path of an ELF binary');
      const args = p.rest().map((t) => t.text);
      st.statements.push({
        kind: 'exec',
        name: nameTok.text,
        path: pathTok.text,
        args,
        place: p.place(first),
        text,
      });
      return;
    }
    case 'replay': {
      const nameTok = newProcName(p, st);
      const pathTok = p.next('a trace file (valgrind lackey or one page number per line)');
      p.done();
      st.statements.push({
        kind: 'replay',
        name: nameTok.text,
        path: pathTok.text,
        place: p.place(first),
        text,
      });
      return;
    }
    case 'strace': {
      // strace NAME LOG [exe=PROGRAM] [at=N|at=NAME:K]: a process that lives the log's life
      // (NAME:K is the CLI's NAME#K, where # would start a comment).
      const nameTok = newProcName(p, st);
      const pathTok = p.next('an strace log (strace -f -y -v -s 4096 -o LOG PROG ARGS…)');
      const o = p.options(['exe', 'at']);
      const at = o.get('at');
      if (at !== undefined && !/^([0-9]*[1-9][0-9]*|[a-z_][a-z0-9_]*:[0-9]*[1-9][0-9]*)$/.test(at.value))
        throw p.error(`expected at=N (a log line) or at=NAME:K (the K-th call NAME), got '${at.text}'`, at);
      st.statements.push({
        kind: 'strace',
        name: nameTok.text,
        path: pathTok.text,
        exe: o.get('exe')?.value || null,
        at: at?.value ?? null,
        place: p.place(first),
        text,
      });
      return;
    }
    case 'kill': {
      const nameTok = p.next('a process name');
      needProc(p, st, nameTok.text, nameTok);
      p.done();
      st.statements.push({ kind: 'kill', proc: nameTok.text, place: p.place(first), text });
      return;
    }
    case 'drop_caches':
    case 'sync':
      p.done();
      st.statements.push({ kind: first.text, place: p.place(first), text });
      return;
    case 'file': {
      const nameTok = p.next('a file name');
      if (!FILE_NAME.test(nameTok.text))
        throw p.error(`'${nameTok.text}' is not a file name (letters, digits, _ . / -)`, nameTok);
      st.files.add(nameTok.text);
      const size = p.size(p.next('the file size'), 'a size');
      const o = p.options(['fill']);
      const fillTok = o.get('fill');
      const fill = fillTok ? p.integer({ text: fillTok.value, column: fillTok.column + 5 }, 'fill=BYTE') : 0;
      if (fill > 0xff) throw p.error('fill must be a byte (0..255)', fillTok);
      st.statements.push({ kind: 'file', name: nameTok.text, size, fill, place: p.place(first), text });
      return;
    }
    case 'truncate': {
      const nameTok = needFile(p, st, p.next('a file name'));
      const size = p.size(p.next('the new size'), 'a size');
      p.done();
      st.statements.push({ kind: 'truncate', name: nameTok.text, size, place: p.place(first), text });
      return;
    }
    case 'show':
      st.statements.push({ ...parseShow(p, st), place: p.place(first), text });
      return;
    case 'expect':
      st.statements.push({ ...parseExpect(p, st), place: p.place(first), text });
      return;
    default: {
      const hint = suggest(first.text, [...KEYWORDS, ...[...st.procs.keys()].map((n) => `${n}:`)]);
      // `spwan A`: take A as meant, so that A's lines below are checked as they are, not refused.
      const named = p.peek();
      if ((hint === 'spawn' || hint === 'exec' || hint === 'replay') && named && IDENT.test(named.text))
        if (!st.procs.has(named.text)) st.procs.set(named.text, new Set());
      throw p.error(
        `unknown statement '${first.text}' (expected machine, spawn, exec, replay, strace, file, truncate, kill, sync, drop_caches, show, expect, or 'NAME: operation')`,
        first,
        hint && `did you mean '${hint}'?`,
      );
    }
  }
}

/**
 * The name a new process is given (spawn, exec, replay): a fresh identifier. It is registered at
 * once, and the statement's machine defaults if none was set up.
 */
function newProcName(p: LineParser, st: ParseState): Token {
  const nameTok = p.next('a process name');
  if (!IDENT.test(nameTok.text))
    throw p.error(`'${nameTok.text}' is not a process name (letters, digits, _)`, nameTok);
  if (st.procs.has(nameTok.text)) throw p.error(`process '${nameTok.text}' already exists`, nameTok);
  st.procs.set(nameTok.text, new Set());
  st.machine ??= DEFAULT_MACHINE;
  return nameTok;
}

/** A file declared by an earlier `file` statement. */
function needFile(p: LineParser, st: ParseState, tok: Token): Token {
  if (st.files.has(tok.text)) return tok;
  const hint = suggest(tok.text, [...st.files]);
  throw p.error(
    `no file '${tok.text}' (declare it with 'file NAME SIZE' first)`,
    tok,
    hint && `did you mean '${hint}'?`,
  );
}

function needProc(p: LineParser, st: ParseState, name: string, at: Token): Set<string> {
  const labels = st.procs.get(name);
  if (labels) return labels;
  const hint = suggest(name, [...st.procs.keys()]);
  throw p.error(`no process '${name}' (spawn it first)`, at, hint && `did you mean '${hint}'?`);
}

function parseMachine(p: LineParser, st: ParseState): void {
  const archTok = p.next(`an architecture (${ARCH_NAMES.join(', ')})`);
  if (!isArchName(archTok.text)) {
    const hint = suggest(archTok.text, ARCH_NAMES);
    throw p.error(
      `unknown architecture '${archTok.text}' (one of ${ARCH_NAMES.join(', ')})`,
      archTok,
      hint && `did you mean '${hint}'?`,
    );
  }
  if (archTok.text === 'ostep15')
    throw p.error(
      'ostep15 is a translation-only machine: its PTEs have no permission bits for a kernel to use',
      archTok,
    );
  const o = p.options([
    'ram',
    'tlb',
    'stack-limit',
    'swap',
    'policy',
    'frames',
    'scope',
    'allocation',
    'malloc',
    'overcommit',
    'overcommit-ratio',
  ]);
  let config: MachineConfig = { ...DEFAULT_MACHINE, arch: archTok.text };
  const ram = o.get('ram');
  if (ram) config = { ...config, ramBytes: p.size({ text: ram.value, column: ram.column + 4 }, 'ram=SIZE') };
  else if (archTok.text === 'teach16') config = { ...config, ramBytes: 16 * 1024 };
  const tlb = o.get('tlb');
  if (tlb) {
    const m = /^([0-9]+)(?:\/([0-9]+))?$/.exec(tlb.value);
    if (!m) throw p.error(`expected tlb=ENTRIES/WAYS such as 64/4, got '${tlb.value}'`, tlb);
    const entries = Number(m[1]);
    config = { ...config, tlbEntries: entries, tlbWays: m[2] ? Number(m[2]) : entries };
  } else if (archTok.text === 'teach16') {
    config = { ...config, tlbEntries: 8, tlbWays: 2 };
  }
  const problem = machineConfigProblem(config);
  if (problem) throw p.error(problem, ram ?? tlb ?? archTok);
  const sl = o.get('stack-limit');
  if (sl) st.rlimitStack = p.size({ text: sl.value, column: sl.column + 12 }, 'stack-limit=SIZE');
  const swap = o.get('swap');
  if (swap) st.swapBytes = p.size({ text: swap.value, column: swap.column + 5 }, 'swap=SIZE');
  const policy = o.get('policy');
  if (policy) {
    const at = { text: policy.value, column: policy.column + 7 };
    if (isPluginSpec(policy.value)) {
      // A plug-in module: the command that runs the scenario loads it (and checks it) before the run.
      st.policy = policy.value;
      st.policyPlace = p.place(at);
    } else if (!isPolicyName(policy.value)) {
      const hint = suggest(policy.value, policyNames);
      throw p.error(
        `unknown policy '${policy.value}' (one of ${policyNames.join(', ')}, or a plug-in module such as ./my-policy.js)`,
        at,
        hint && `did you mean '${hint}'?`,
      );
    } else {
      if (policyNeedsFuture(policy.value)) {
        throw p.error(`${policy.value} needs the future: it runs only in trace replays (vmscope replay)`, at);
      }
      st.policy = policy.value;
    }
  }
  const frames = o.get('frames');
  if (frames) st.userFrames = p.integer({ text: frames.value, column: frames.column + 7 }, 'frames=N');
  const malloc = o.get('malloc');
  if (malloc) {
    if (!(ALLOCATOR_NAMES as readonly string[]).includes(malloc.value)) {
      const hint = suggest(malloc.value, ALLOCATOR_NAMES);
      throw p.error(
        `unknown allocator '${malloc.value}' (one of ${ALLOCATOR_NAMES.join(', ')})`,
        { text: malloc.value, column: malloc.column + 7 },
        hint && `did you mean '${hint}'?`,
      );
    }
    st.malloc = malloc.value;
  }
  const scope = o.get('scope');
  if (scope) {
    if (scope.value !== 'global' && scope.value !== 'local') {
      throw p.error(`expected scope=global or scope=local, got '${scope.value}'`, {
        text: scope.value,
        column: scope.column + 6,
      });
    }
    st.scope = scope.value;
  }
  const allocation = o.get('allocation');
  if (allocation) {
    const v = allocation.value;
    if (v !== 'equal' && v !== 'proportional' && v !== 'pff') {
      const hint = suggest(v, ['equal', 'proportional', 'pff']);
      throw p.error(
        `expected allocation=equal, proportional or pff, got '${v}'`,
        { text: v, column: allocation.column + 11 },
        hint && `did you mean '${hint}'?`,
      );
    }
    st.allocation = v;
  }
  const oc = o.get('overcommit');
  if (oc) {
    if (oc.value !== '0' && oc.value !== '1' && oc.value !== '2')
      throw p.error(`expected overcommit=0, 1 or 2 (vm.overcommit_memory), got '${oc.value}'`, {
        text: oc.value,
        column: oc.column + 11,
      });
    st.overcommit = Number(oc.value) as 0 | 1 | 2;
  }
  const ratio = o.get('overcommit-ratio');
  if (ratio) {
    st.overcommitRatio = p.integer(
      { text: ratio.value, column: ratio.column + 17 },
      'overcommit-ratio=PERCENT',
    );
  }
  st.machine = config;
}

/** A label an mmap or malloc defines: an identifier that is no base name and not yet defined. */
function newLabel(p: LineParser, tok: Token, labels: Set<string>): Token {
  if (!IDENT.test(tok.text) || (ADDRESS_BASES as readonly string[]).includes(tok.text))
    throw p.error(`'${tok.text}' cannot be a label (letters, digits and _, not a base name)`, tok);
  if (labels.has(tok.text)) throw p.error(`label '${tok.text}' is already defined`, tok);
  return tok;
}

function parseOp(p: LineParser, opTok: Token, labels: Set<string>, st: ParseState): Op {
  const op = opTok.text;
  const checkLabels = (a: AddrExpr): AddrExpr => {
    for (const t of a.terms) {
      if (t.kind === 'label' && !labels.has(t.name)) {
        const hint = suggest(t.name, [...labels, ...ADDRESS_BASES]);
        throw p.error(
          `no label '${t.name}' (labels come from an earlier mmap of this process)`,
          { text: t.name, column: t.place.column },
          hint && `did you mean '${hint}'?`,
        );
      }
    }
    return a;
  };
  switch (op) {
    case 'read':
    case 'write':
    case 'fetch': {
      const addr = checkLabels(p.addr(p.next('an address')));
      const lenTok = op === 'fetch' ? undefined : p.peek()?.text.includes('=') ? undefined : p.peek();
      if (lenTok) p.next('a length');
      const len = lenTok ? p.size(lenTok, 'a length') : 1;
      if (len === 0) throw p.error('the length must be at least 1', lenTok);
      const o = op === 'write' ? p.options(['fill']) : p.options([]);
      const fillTok = o.get('fill');
      const fill = fillTok
        ? p.integer({ text: fillTok.value, column: fillTok.column + 5 }, 'fill=BYTE')
        : 0xaa;
      if (fill > 0xff) throw p.error('fill must be a byte (0..255)', fillTok);
      return { op, addr, len, fill };
    }
    case 'sbrk': {
      const t = p.next('a size change such as 4K or -8K');
      const delta = parseSignedSize(t.text);
      if (delta === null) throw p.error(`expected a size change such as 4K or -8K, got '${t.text}'`, t);
      p.done();
      return { op, delta };
    }
    case 'brk': {
      const addr = checkLabels(p.addr(p.next('an address')));
      p.done();
      return { op, addr };
    }
    case 'mmap': {
      const labelTok = newLabel(p, p.next('a label to name the mapping'), labels);
      const len = p.size(p.next('a length'), 'a length');
      const prot = p.prot(p.next('a protection such as rw-'));
      const o = p.options(
        ['fixed', 'noreplace', 'hint', 'file', 'offset'],
        ['shared', 'private', 'populate', 'stack', 'growsdown', 'noreserve', 'locked'],
      );
      if (o.has('shared') && o.has('private'))
        throw p.error("a mapping is 'shared' or 'private', not both", o.get('private'));
      const fileOpt = o.get('file');
      const file = fileOpt ? needFile(p, st, { text: fileOpt.value, column: fileOpt.column + 5 }).text : null;
      const offOpt = o.get('offset');
      const offset = offOpt ? p.size({ text: offOpt.value, column: offOpt.column + 7 }, 'offset=SIZE') : 0;
      if (offOpt && !fileOpt) throw p.error('offset= is for file mappings (give file=NAME)', offOpt);
      const placements = (['fixed', 'noreplace', 'hint'] as const).filter((k) => o.has(k));
      if (placements.length > 1)
        throw p.error('give at most one of fixed=, noreplace= and hint=', o.get(placements[1]!));
      const placement = placements[0] ?? 'any';
      const at = placements[0] ? o.get(placements[0])! : undefined;
      const addr = at
        ? checkLabels(p.addr({ text: at.value, column: at.column + placement.length + 1 }))
        : null;
      return {
        op,
        label: labelTok.text,
        len,
        prot,
        shared: o.has('shared'),
        placement,
        addr,
        populate: o.has('populate'),
        file,
        offset,
        extra: (['stack', 'growsdown', 'noreserve', 'locked'] as const).filter((f) => o.has(f)),
      };
    }
    case 'mremap': {
      const labelTok = p.next('the label of the mapping to remap');
      if (!labels.has(labelTok.text)) {
        const hint = suggest(labelTok.text, [...labels]);
        throw p.error(
          `no label '${labelTok.text}' (it comes from an earlier mmap)`,
          labelTok,
          hint && `did you mean '${hint}'?`,
        );
      }
      const newLen = p.size(p.next('the new length'), 'a length');
      const o = p.options(['fixed'], ['maymove', 'dontunmap']);
      const fixedTok = o.get('fixed');
      const fixed = fixedTok
        ? checkLabels(p.addr({ text: fixedTok.value, column: fixedTok.column + 6 }))
        : null;
      return {
        op,
        label: labelTok.text,
        newLen,
        maymove: o.has('maymove') || fixed !== null || o.has('dontunmap'),
        dontunmap: o.has('dontunmap'),
        fixed,
      };
    }
    case 'madvise': {
      const addr = checkLabels(p.addr(p.next('an address')));
      const len = p.size(p.next('a length'), 'a length');
      const adviceTok = p.next(`an advice (${ADVICE.join(', ')})`);
      if (!(ADVICE as readonly string[]).includes(adviceTok.text)) {
        const hint = suggest(adviceTok.text, ADVICE);
        throw p.error(
          `unknown advice '${adviceTok.text}' (one of ${ADVICE.join(', ')})`,
          adviceTok,
          hint && `did you mean '${hint}'?`,
        );
      }
      p.done();
      return { op, addr, len, advice: adviceTok.text };
    }
    case 'msync': {
      const addr = checkLabels(p.addr(p.next('an address')));
      const len = p.size(p.next('a length'), 'a length');
      const o = p.options([], ['sync', 'async', 'invalidate']);
      if (o.has('sync') && o.has('async'))
        throw p.error("msync is 'sync' or 'async', not both", o.get('async'));
      return { op, addr, len, mode: o.has('async') ? 'async' : 'sync', invalidate: o.has('invalidate') };
    }
    case 'mlock':
    case 'munlock': {
      const addr = checkLabels(p.addr(p.next('an address')));
      const len = p.size(p.next('a length'), 'a length');
      if (op === 'munlock') {
        p.done();
        return { op, addr, len };
      }
      const o = p.options([], ['onfault']);
      return { op, addr, len, onfault: o.has('onfault') };
    }
    case 'fork':
    case 'thread': {
      const childTok = p.next(op === 'fork' ? "the child's name" : "the thread's name");
      if (!IDENT.test(childTok.text))
        throw p.error(`'${childTok.text}' is not a process name (letters, digits, _)`, childTok);
      if (st.procs.has(childTok.text)) throw p.error(`process '${childTok.text}' already exists`, childTok);
      p.done();
      return { op, child: childTok.text };
    }
    case 'munmap': {
      const addr = checkLabels(p.addr(p.next('an address')));
      const len = p.size(p.next('a length'), 'a length');
      p.done();
      return { op, addr, len };
    }
    case 'mprotect': {
      const addr = checkLabels(p.addr(p.next('an address')));
      const len = p.size(p.next('a length'), 'a length');
      const prot = p.prot(p.next('a protection such as r--'));
      p.done();
      return { op, addr, len, prot };
    }
    case 'malloc':
    case 'realloc': {
      const labelTok = p.next('a label for the returned address');
      if (op === 'malloc') newLabel(p, labelTok, labels);
      else if (!labels.has(labelTok.text)) {
        throw p.error(`no label '${labelTok.text}' (it comes from an earlier malloc)`, labelTok);
      }
      const size = p.size(p.next('a size in bytes'), 'a size');
      p.done();
      return { op, label: labelTok.text, size };
    }
    case 'free': {
      const labelTok = p.next('the label of a malloc');
      if (!labels.has(labelTok.text))
        throw p.error(`no label '${labelTok.text}' (it comes from an earlier malloc)`, labelTok);
      p.done();
      return { op, label: labelTok.text };
    }
    case 'oom_score_adj': {
      const t = p.next('a value from -1000 to 1000');
      const value = /^-?[0-9]+$/.test(t.text) ? Number(t.text) : Number.NaN;
      if (!(value >= -1000 && value <= 1000))
        throw p.error(`expected a value from -1000 to 1000, got '${t.text}'`, t);
      p.done();
      return { op, value };
    }
    case 'exit': {
      const t = p.peek();
      const code = t ? p.integer(p.next('an exit code'), 'an exit code') : 0;
      p.done();
      if (code > 255) throw p.error('an exit code is 0..255', t);
      return { op, code };
    }
    default: {
      const hint = suggest(op, OPS);
      throw p.error(
        `unknown operation '${op}'`,
        opTok,
        hint ? `did you mean '${hint}'?` : `one of ${OPS.join(', ')}`,
      );
    }
  }
}

function parseShow(
  p: LineParser,
  st: ParseState,
): Omit<Extract<Statement, { kind: 'show' }>, 'place' | 'text'> {
  const t = p.next('what to show (a process name, meminfo, frames or tlb)');
  if ((GLOBAL_SHOWS as readonly string[]).includes(t.text)) {
    p.done();
    return { kind: 'show', proc: null, what: t.text as ShowWhat, addr: null };
  }
  if (!st.procs.has(t.text)) {
    const hint = suggest(t.text, [...GLOBAL_SHOWS, ...st.procs.keys()]);
    throw p.error(
      `cannot show '${t.text}': not meminfo, frames, tlb or a process`,
      t,
      hint && `did you mean '${hint}'?`,
    );
  }
  const whatTok = p.next(`what to show of ${t.text} (${PROC_SHOWS.join(', ')})`);
  if (!(PROC_SHOWS as readonly string[]).includes(whatTok.text)) {
    const hint = suggest(whatTok.text, PROC_SHOWS);
    throw p.error(
      `cannot show '${whatTok.text}' of a process (one of ${PROC_SHOWS.join(', ')})`,
      whatTok,
      hint && `did you mean '${hint}'?`,
    );
  }
  let addr: AddrExpr | null = null;
  if ((whatTok.text === 'pagetable' || whatTok.text === 'smaps') && p.peek())
    addr = p.addr(p.next('an address'));
  p.done();
  if (addr) {
    const labels = st.procs.get(t.text)!;
    for (const term of addr.terms) {
      if (term.kind === 'label' && !labels.has(term.name))
        throw p.error(`no label '${term.name}'`, { text: term.name, column: term.place.column });
    }
  }
  return { kind: 'show', proc: t.text, what: whatTok.text as ShowWhat, addr };
}

function parseExpect(
  p: LineParser,
  st: ParseState,
): Omit<Extract<Statement, { kind: 'expect' }>, 'place' | 'text'> {
  const target = p.next('a process name or meminfo');
  let proc: string | null = null;
  let fields: readonly string[];
  if (target.text === 'meminfo') {
    fields = MEMINFO_FIELDS;
  } else {
    needProc(p, st, target.text, target);
    proc = target.text;
    fields = [...STATUS_FIELDS, ...PROC_FIELDS, ...ROLLUP_FIELDS.filter((f) => f !== 'Rss')];
  }
  let fieldTok = p.next('a field to compare');
  let smapsLabel: string | null = null;
  if (fieldTok.text === 'smaps' && proc !== null) {
    // expect A smaps LABEL FIELD …: the VMA that holds the label's address.
    const labelTok = p.next('the label of a mapping');
    const labels = st.procs.get(proc)!;
    if (!labels.has(labelTok.text)) {
      const hint = suggest(labelTok.text, [...labels]);
      throw p.error(`no label '${labelTok.text}' in ${proc}`, labelTok, hint && `did you mean '${hint}'?`);
    }
    smapsLabel = labelTok.text;
    fields = SMAPS_FIELDS;
    fieldTok = p.next('an smaps field (Rss, Pss, Shared_Dirty, …)');
  }
  const field = fieldTok.text;
  if (field.startsWith('@')) {
    if (proc === null) throw p.error('labels belong to processes: expect NAME @label == ADDR', fieldTok);
    const labels = st.procs.get(proc)!;
    if (!labels.has(field.slice(1))) {
      const hint = suggest(field.slice(1), [...labels]);
      throw p.error(`no label '${field.slice(1)}' in ${proc}`, fieldTok, hint && `did you mean '@${hint}'?`);
    }
  } else if (!fields.includes(field)) {
    const hint = suggest(field, fields);
    throw p.error(
      `unknown field '${field}' for ${proc ?? 'meminfo'}`,
      fieldTok,
      hint ? `did you mean '${hint}'?` : `one of ${fields.join(', ')}`,
    );
  }
  const cmpTok = p.next('a comparison (==, !=, <, <=, >, >=)');
  const cmp = COMPARES.find((c) => c === cmpTok.text);
  if (!cmp) throw p.error(`expected a comparison (==, !=, <, <=, >, >=), got '${cmpTok.text}'`, cmpTok);
  const valueToks = p.rest();
  if (valueToks.length === 0) throw p.error('expected a value to compare with');
  const valueText = valueToks.map((t) => t.text).join(' ');
  const at = valueToks[0]!;
  let value: ExpectValue;
  if (field === 'signal' || field === 'state') {
    const words =
      field === 'signal'
        ? ['SIGSEGV', 'SIGBUS', 'SIGKILL', 'SIGABRT', 'none']
        : ['running', 'exited', 'killed'];
    if (!words.includes(valueText)) {
      const hint = suggest(valueText, words);
      throw p.error(
        `expected one of ${words.join(', ')}, got '${valueText}'`,
        at,
        hint && `did you mean '${hint}'?`,
      );
    }
    if (cmp !== '==' && cmp !== '!=') throw p.error(`${field} can only be compared with == or !=`, cmpTok);
    value = { kind: 'word', word: valueText };
  } else if (valueText === 'boot') {
    if (proc !== null)
      throw p.error("'boot' is the meminfo value right after boot: use it with expect meminfo", at);
    value = { kind: 'boot' };
  } else if (field === 'ret' && /^-?E[A-Z]+$/.test(valueText)) {
    value = { kind: 'word', word: valueText.startsWith('-') ? valueText : `-${valueText}` };
  } else {
    const n = isSizeField(field)
      ? parseSize(valueText.replace(/\s+/g, ''), 1024)
      : parseSignedSize(valueText);
    if (n === null) {
      throw p.error(
        isSizeField(field)
          ? `expected a size such as 16 kB or 4096 B, got '${valueText}'`
          : `expected a number, got '${valueText}'`,
        at,
      );
    }
    value = { kind: 'number', value: n };
  }
  return { kind: 'expect', proc, field, cmp, value, smapsLabel };
}
