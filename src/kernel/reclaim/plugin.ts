/**
 * Replacement policies from outside vmscope: a plug-in is an ES module whose default export is a
 * {@link PolicyPlugin} — a name, what it needs from the hardware, and a factory of {@link Policy}
 * objects that speak the slot protocol of `policy.ts` (insert, touch, victim, remove).
 *
 *   // my-policy.js
 *   export default {
 *     name: 'my-fifo',
 *     kind: 'kernel',                 // 'kernel': uses only accessed/dirty bits; 'oracle': more
 *     create(capacity) {
 *       const queue = [];
 *       return {
 *         insert(slot) { queue.push(slot); },
 *         touch() {},
 *         victim() { return queue.shift(); },
 *         remove(slot) { queue.splice(queue.indexOf(slot), 1); },
 *       };
 *     },
 *   };
 *
 * A plug-in needs nothing from vmscope at run time (its types come from
 * `import type { PolicyPlugin } from 'vmscope'`). This file checks a module's shape
 * ({@link pluginFromModule}) and wraps each policy it creates in a {@link PluginPolicy}, which keeps
 * the bookkeeping every built-in policy keeps (which slots are occupied, how many), so a plug-in
 * implements only its rules. Every answer the plug-in gives is checked — a victim must be an
 * occupied slot, `order()` must list exactly the occupied slots — and a plug-in that throws or
 * answers wrongly becomes an {@link InputError} naming the plug-in file (the line of the throw when
 * the stack shows it), the call and its arguments. Loading the module (`import()`) is the CLI's job.
 */
import { InputError, type SourceSpan } from '../../base/errors.js';
import type { PolicyKind, PolicyOptions, ReplacementPolicy } from './policy.js';

/** What a plug-in implements: the slot protocol of `policy.ts`, without the bookkeeping. */
export interface Policy {
  /** A page came into free `slot` (its first access; `write` is 1 when that access writes). */
  insert(slot: number, page: number, now: number, write: number, nextUse: number): void;
  /** The page in occupied `slot` was accessed again. */
  touch(slot: number, now: number, write: number, nextUse: number): void;
  /** Chooses an occupied slot to empty and forgets its page. Called only when some slot is occupied. */
  victim(now: number, incoming: number): number;
  /** Occupied `slot` empties for another reason (unmap, exit): forget it, keep no ghost. */
  remove(slot: number): void;
  /** Back to empty. Without it, vmscope calls `create` again. */
  reset?(): void;
  /** The occupied slots in the policy's own order (e.g. next victim first), for display. */
  order?(): number[];
  /** Broken internal invariants, as sentences (empty when consistent); run by `policy check`. */
  validate?(): string[];
}

/**
 * A naive model of the same rules over pages (plain arrays, obviously right), against which
 * `vmscope policy check` replays random streams and requires the same hits and the same resident
 * pages after every access.
 */
export interface ReferenceCache {
  /** One access. @returns true on a hit; on a miss with a full cache, it evicts a page of its choice. */
  access(page: number, write: number, now: number, nextUse: number): boolean;
  /** The pages held now, in any order. */
  pages(): Iterable<number>;
}

/** The default export of a plug-in module. */
export interface PolicyPlugin {
  /** Its name in output (letters, digits, `.`, `_`, `+`, `-`; not a built-in policy's name). */
  readonly name: string;
  /** `kernel` when it uses only what a real kernel sees (accessed/dirty bits), else `oracle`. */
  readonly kind: PolicyKind;
  /** True when `nextUse` must be real (the caller computes the future first); default false. */
  readonly needsFuture?: boolean;
  /** One line for `vmscope policy list` and `policy check`. */
  readonly summary?: string;
  /** A policy over slots 0..capacity-1, empty. `options` holds `--seed` and the other tunables. */
  create(capacity: number, options: PolicyOptions): Policy;
  /** A naive model of the same policy, for `vmscope policy check` (optional). */
  reference?(capacity: number, options: PolicyOptions): ReferenceCache;
}

/** A checked plug-in and where it came from. */
export interface LoadedPlugin {
  /** The module's file (absolute), for errors. */
  readonly file: string;
  readonly name: string;
  readonly kind: PolicyKind;
  readonly needsFuture: boolean;
  readonly summary: string;
  readonly definition: PolicyPlugin;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,39}$/;
const METHODS = ['insert', 'touch', 'victim', 'remove'] as const;

/**
 * Checks a module namespace object (what `import()` returned) and returns the plug-in in it.
 * @param reserved names a plug-in may not take (the built-in policies').
 * @throws InputError naming `file` and what was expected, for any mistake in the module's shape.
 */
export function pluginFromModule(mod: unknown, file: string, reserved: readonly string[]): LoadedPlugin {
  const bad = (message: string) =>
    new InputError('policy', message, { file }, "see the README's 'Plug-in policies'");
  const def = (mod as { default?: unknown } | null)?.default;
  if (def === null || typeof def !== 'object') {
    throw bad(
      'expected a default export: an object with name, kind and create(capacity, options) (export default { … })',
    );
  }
  const d = def as Record<string, unknown>;
  const name = d['name'];
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw bad(
      `expected 'name' to be a short name (letters, digits, '.', '_', '+', '-'), got ${describe(name)}`,
    );
  }
  if (reserved.includes(name)) {
    throw bad(`the name '${name}' is a built-in policy's; give the plug-in its own (e.g. 'my-${name}')`);
  }
  const kind = d['kind'];
  if (kind !== 'kernel' && kind !== 'oracle') {
    throw bad(
      `expected 'kind' to be 'kernel' (only accessed/dirty bits) or 'oracle' (more), got ${describe(kind)}`,
    );
  }
  const needsFuture = d['needsFuture'] ?? false;
  if (typeof needsFuture !== 'boolean') throw bad(`expected 'needsFuture' to be true or false`);
  if (needsFuture && kind !== 'oracle') throw bad("a policy that needs the future is an 'oracle'");
  const summary = d['summary'] ?? '';
  if (typeof summary !== 'string') throw bad(`expected 'summary' to be a string`);
  if (typeof d['create'] !== 'function') throw bad('expected create(capacity, options) to be a function');
  if (d['reference'] !== undefined && typeof d['reference'] !== 'function') {
    throw bad('expected reference(capacity, options), when given, to be a function');
  }
  return { file, name, kind, needsFuture, summary, definition: def as PolicyPlugin };
}

/** `ReplacementPolicy` over a plug-in's `Policy`, checking every answer (see the file comment). */
export class PluginPolicy implements ReplacementPolicy {
  readonly name: string;
  readonly capacity: number;
  readonly kind: PolicyKind;
  readonly needsFuture: boolean;
  resident = 0;
  readonly plugin: LoadedPlugin;
  private impl: Policy;
  private readonly options: PolicyOptions;
  /** 1 where a slot is occupied. */
  private readonly occupied: Uint8Array;

  /** @throws InputError when `create` throws or returns something that is not a Policy. */
  constructor(plugin: LoadedPlugin, capacity: number, options: PolicyOptions) {
    this.plugin = plugin;
    this.name = plugin.name;
    this.kind = plugin.kind;
    this.needsFuture = plugin.needsFuture;
    this.capacity = capacity;
    this.options = options;
    this.occupied = new Uint8Array(capacity);
    this.impl = this.create();
  }

  private create(): Policy {
    let impl: unknown;
    try {
      impl = this.plugin.definition.create(this.capacity, this.options);
    } catch (e) {
      throw this.threw(`create(${this.capacity}, ${JSON.stringify(this.options)})`, e);
    }
    for (const m of METHODS) {
      if (typeof (impl as Record<string, unknown> | null)?.[m] !== 'function') {
        throw this.wrong(
          `create(${this.capacity}, …)`,
          `returned ${describe(impl)}, which lacks a method ${m}(); expected an object with insert, touch, victim and remove`,
        );
      }
    }
    return impl as Policy;
  }

  insert(slot: number, page: number, now: number, write: number, nextUse: number): void {
    try {
      this.impl.insert(slot, page, now, write, nextUse);
    } catch (e) {
      throw this.threw(`insert(slot=${slot}, page=${page}, now=${now}, write=${write})`, e);
    }
    this.occupied[slot] = 1;
    this.resident++;
  }

  touch(slot: number, now: number, write: number, nextUse: number): void {
    try {
      this.impl.touch(slot, now, write, nextUse);
    } catch (e) {
      throw this.threw(`touch(slot=${slot}, now=${now}, write=${write})`, e);
    }
  }

  victim(now: number, incoming: number): number {
    let v: unknown;
    try {
      v = this.impl.victim(now, incoming);
    } catch (e) {
      throw this.threw(`victim(now=${now}, incoming=${incoming})`, e);
    }
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= this.capacity || !this.occupied[v]) {
      const why =
        typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < this.capacity
          ? 'a free slot'
          : `not a slot (they are 0..${this.capacity - 1})`;
      throw this.wrong(
        `victim(now=${now}, incoming=${incoming})`,
        `returned ${describe(v)}, ${why}; expected one of the occupied slots ${this.occupiedList()}`,
      );
    }
    this.occupied[v] = 0;
    this.resident--;
    return v;
  }

  remove(slot: number): void {
    try {
      this.impl.remove(slot);
    } catch (e) {
      throw this.threw(`remove(slot=${slot})`, e);
    }
    this.occupied[slot] = 0;
    this.resident--;
  }

  reset(): void {
    if (typeof this.impl.reset === 'function') {
      try {
        this.impl.reset();
      } catch (e) {
        throw this.threw('reset()', e);
      }
    } else {
      this.impl = this.create();
    }
    this.occupied.fill(0);
    this.resident = 0;
  }

  isResident(slot: number): boolean {
    return this.occupied[slot] === 1;
  }

  order(): number[] {
    if (typeof this.impl.order !== 'function') return this.occupiedSlots();
    let out: unknown;
    try {
      out = this.impl.order();
    } catch (e) {
      throw this.threw('order()', e);
    }
    const want = this.occupiedSlots();
    const got = Array.isArray(out) ? [...(out as unknown[])] : null;
    const sorted = got?.every((s) => typeof s === 'number')
      ? [...(got as number[])].sort((a, b) => a - b)
      : null;
    if (sorted === null || sorted.length !== want.length || sorted.some((s, i) => s !== want[i])) {
      throw this.wrong(
        'order()',
        `returned ${describe(out)}; expected each occupied slot once, ${this.occupiedList()}`,
      );
    }
    return got as number[];
  }

  validate(): string[] {
    if (typeof this.impl.validate !== 'function') return [];
    let out: unknown;
    try {
      out = this.impl.validate();
    } catch (e) {
      throw this.threw('validate()', e);
    }
    if (!Array.isArray(out) || out.some((s) => typeof s !== 'string')) {
      throw this.wrong('validate()', `returned ${describe(out)}; expected an array of strings`);
    }
    return (out as string[]).map((s) => `${this.name}: ${s}`);
  }

  private occupiedSlots(): number[] {
    const out: number[] = [];
    for (let s = 0; s < this.capacity; s++) if (this.occupied[s]) out.push(s);
    return out;
  }

  private occupiedList(): string {
    const slots = this.occupiedSlots();
    return slots.length <= 12 ? `[${slots.join(', ')}]` : `[${slots.slice(0, 12).join(', ')}, …]`;
  }

  /** The plug-in threw in `call`. */
  private threw(call: string, e: unknown): InputError {
    const what = e instanceof Error ? `${e.name}: ${e.message}` : `the value ${describe(e)}`;
    return new InputError(
      'policy',
      `plug-in policy '${this.name}': ${call} threw ${what}`,
      throwSite(e, this.plugin.file),
    );
  }

  /** The plug-in answered `call` wrongly. */
  private wrong(call: string, what: string): InputError {
    return new InputError('policy', `plug-in policy '${this.name}': ${call} ${what}`, {
      file: this.plugin.file,
    });
  }
}

/** The plug-in file, with the line and column of the innermost stack frame inside it, if any. */
export function throwSite(e: unknown, file: string): SourceSpan {
  const stack = e instanceof Error && typeof e.stack === 'string' ? e.stack : '';
  for (const line of stack.split('\n')) {
    const m = /(?:file:\/\/)?([^\s()]+):([0-9]+):([0-9]+)\)?\s*$/.exec(line);
    if (!m) continue;
    let path = m[1]!;
    try {
      if (line.includes('file://')) path = decodeURIComponent(path);
    } catch {
      // a path that is not URI-encoded stays as it is
    }
    if (path === file) return { file, line: Number(m[2]), column: Number(m[3]) };
  }
  return { file };
}

/** A value as a message shows it. */
function describe(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (typeof v === 'function') return 'a function';
  if (typeof v === 'string') return `'${v.length > 40 ? `${v.slice(0, 40)}…` : v}'`;
  try {
    const s = JSON.stringify(v);
    return s.length > 60 ? `${s.slice(0, 60)}…` : s;
  } catch {
    return String(v);
  }
}
