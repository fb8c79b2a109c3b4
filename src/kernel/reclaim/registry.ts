/**
 * The policies by the names the CLI and scenarios use (`--policy lru`, `machine … policy=clock`):
 * the built-in ones, and plug-ins the CLI has loaded (`--policy ./my-policy.js`), registered under
 * their file's absolute path (`registerPlugin`). Every layer creates policies here by that name, so
 * a plug-in works wherever a built-in does once it is registered in the thread that runs it.
 */
import { closest } from 'fastest-levenshtein';
import { InputError, type SourceSpan } from '../../base/errors.js';
import { TwoQPolicy } from './2q.js';
import { AgingPolicy } from './aging.js';
import { ArcPolicy } from './arc.js';
import { ClockPolicy } from './clock.js';
import { FifoPolicy } from './fifo.js';
import { LfuPolicy } from './lfu.js';
import { LruPolicy } from './lru.js';
import { MruPolicy } from './mru.js';
import { NruPolicy } from './nru.js';
import { OptPolicy } from './opt.js';
import { OstepClockPolicy, OstepRandPolicy } from './ostep.js';
import { type LoadedPlugin, PluginPolicy } from './plugin.js';
import type { PolicyKind, PolicyOptions, ReplacementPolicy } from './policy.js';
import { RandomPolicy } from './random.js';
import { S3FifoPolicy } from './s3-fifo.js';
import { SecondChancePolicy } from './second-chance.js';
import { SievePolicy } from './sieve.js';
import { WorkingSetPolicy } from './ws.js';
import { WsClockPolicy } from './wsclock.js';

interface PolicyEntry {
  readonly kind: PolicyKind;
  readonly summary: string;
  readonly create: (capacity: number, o: PolicyOptions) => ReplacementPolicy;
}

const POLICIES = {
  fifo: { kind: 'kernel', summary: 'first in, first out', create: (c) => new FifoPolicy(c) },
  'second-chance': {
    kind: 'kernel',
    summary: 'FIFO that requeues pages whose accessed bit is set',
    create: (c) => new SecondChancePolicy(c),
  },
  clock: {
    kind: 'kernel',
    summary: 'a hand over the frames, sparing accessed pages',
    create: (c) => new ClockPolicy(c),
  },
  nru: {
    kind: 'kernel',
    summary: 'enhanced CLOCK over (accessed, dirty) classes',
    create: (c) => new NruPolicy(c),
  },
  lru: { kind: 'oracle', summary: 'exact least recently used', create: (c) => new LruPolicy(c) },
  lfu: {
    kind: 'oracle',
    summary: 'least frequently used, LRU among equals',
    create: (c) => new LfuPolicy(c),
  },
  mru: { kind: 'oracle', summary: 'most recently used', create: (c) => new MruPolicy(c) },
  random: {
    kind: 'kernel',
    summary: 'uniformly random (seeded)',
    create: (c, o) => new RandomPolicy(c, o.seed ?? 0),
  },
  opt: {
    kind: 'oracle',
    summary: "Belady's MIN: furthest next use (needs the future)",
    create: (c) => new OptPolicy(c),
  },
  unopt: {
    kind: 'oracle',
    summary: 'the soonest next use: the worst clairvoyant choice',
    create: (c) => new OptPolicy(c, { pessimal: true }),
  },
  aging: {
    kind: 'kernel',
    summary: 'n-bit counters shifted each tick (bits, period)',
    create: (c, o) => new AgingPolicy(c, o.bits, o.period),
  },
  ws: {
    kind: 'kernel',
    summary: 'working set with window tau',
    create: (c, o) => new WorkingSetPolicy(c, o.tau),
  },
  wsclock: {
    kind: 'kernel',
    summary: 'working set by a CLOCK hand (tau)',
    create: (c, o) => new WsClockPolicy(c, o.tau),
  },
  arc: {
    kind: 'oracle',
    summary: 'adaptive replacement cache (T1/T2 + ghosts)',
    create: (c) => new ArcPolicy(c),
  },
  '2q': { kind: 'oracle', summary: 'A1in FIFO + Am LRU + A1out ghosts', create: (c) => new TwoQPolicy(c) },
  sieve: {
    kind: 'kernel',
    summary: 'FIFO with visited bits and a lazy hand',
    create: (c) => new SievePolicy(c),
  },
  's3-fifo': {
    kind: 'oracle',
    summary: 'small + main FIFOs with a ghost FIFO',
    create: (c) => new S3FifoPolicy(c),
  },
  'ostep-rand': {
    kind: 'kernel',
    summary: "OSTEP paging-policy.py's RAND, bit for bit (seed)",
    create: (c, o) => new OstepRandPolicy(c, o.seed ?? 0),
  },
  'ostep-clock': {
    kind: 'oracle',
    summary: "OSTEP paging-policy.py's randomized CLOCK (seed, clockBits)",
    create: (c, o) => new OstepClockPolicy(c, o.clockBits ?? 2, o.seed ?? 0),
  },
} satisfies Record<string, PolicyEntry>;

export type PolicyName = keyof typeof POLICIES;

/** Every policy name, in the order help text lists them. */
export const policyNames: readonly PolicyName[] = Object.keys(POLICIES) as PolicyName[];

/** True when `name` is a built-in policy. */
export function isPolicyName(name: string): name is PolicyName {
  return Object.hasOwn(POLICIES, name);
}

/** What the registry says of a built-in policy: its kind and a one-line summary. */
export function policyInfo(name: PolicyName): { readonly kind: PolicyKind; readonly summary: string } {
  const e: PolicyEntry = POLICIES[name];
  return { kind: e.kind, summary: e.summary };
}

/** Plug-ins loaded in this thread, by the absolute path of their module. */
const plugins = new Map<string, LoadedPlugin>();

/**
 * True when a `--policy` value names a plug-in module rather than a built-in: a path (`./x.js`,
 * `../x.ts`, `/abs/x.mjs`) or a file name ending in `.js`, `.mjs`, `.cjs`, `.ts` or `.mts`.
 */
export function isPluginSpec(text: string): boolean {
  return /^(\.{1,2}[\\/]|[\\/]|[A-Za-z]:[\\/])/.test(text) || /\.(m?[jt]s|cjs)$/.test(text);
}

/**
 * Makes a checked plug-in creatable as `key` (its module's absolute path). Registering the same
 * module again is a no-op.
 * @throws InputError when another module already took the plug-in's name.
 */
export function registerPlugin(key: string, plugin: LoadedPlugin): void {
  if (plugins.has(key)) return;
  for (const [other, p] of plugins) {
    if (p.name === plugin.name) {
      throw new InputError(
        'policy',
        `plug-in name '${plugin.name}' is already taken by ${other}; give one of them another name`,
        { file: key },
      );
    }
  }
  plugins.set(key, plugin);
}

/** The plug-in registered as `key`, if any. */
export function pluginAt(key: string): LoadedPlugin | undefined {
  return plugins.get(key);
}

/** True when `spec` is a built-in name or a registered plug-in. */
export function isKnownPolicy(spec: string): boolean {
  return isPolicyName(spec) || plugins.has(spec);
}

/** What a policy is, built-in or plug-in: its name in output, kind, summary and whether it needs the future. */
export interface PolicyDescription {
  readonly name: string;
  readonly kind: PolicyKind;
  readonly summary: string;
  readonly needsFuture: boolean;
  /** The plug-in's module, or null for a built-in. */
  readonly file: string | null;
}

/**
 * Describes a known policy.
 * @throws InputError for an unknown one (as {@link createPolicy}).
 */
export function describePolicy(spec: string, where: SourceSpan = { file: '--policy' }): PolicyDescription {
  const p = plugins.get(spec);
  if (p) return { name: p.name, kind: p.kind, summary: p.summary, needsFuture: p.needsFuture, file: p.file };
  if (!isPolicyName(spec)) throw unknownPolicy(spec, where);
  const e: PolicyEntry = POLICIES[spec];
  return {
    name: spec,
    kind: e.kind,
    summary: e.summary,
    needsFuture: spec === 'opt' || spec === 'unopt',
    file: null,
  };
}

/** True when the caller must compute next uses before replaying with this policy (OPT and kin). */
export function policyNeedsFuture(spec: string): boolean {
  return describePolicy(spec).needsFuture;
}

/** Largest supported frame count (slot numbers stay int32, tables stay small enough to allocate). */
export const MAX_POLICY_CAPACITY = 1 << 26;

/**
 * A policy by name over `capacity` slots.
 * @param where where the name came from, for the error (default: the `--policy` flag).
 * @throws InputError for an unknown name (with the closest name as a hint), a bad capacity or a bad
 *   option value. Nothing else.
 */
export function createPolicy(
  name: string,
  capacity: number,
  options: PolicyOptions = {},
  where: SourceSpan = { file: '--policy' },
): ReplacementPolicy {
  const plugin = plugins.get(name);
  if (!plugin && !isPolicyName(name)) throw unknownPolicy(name, where);
  if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_POLICY_CAPACITY) {
    throw new InputError(
      'policy',
      `the frame count must be an integer from 1 to ${MAX_POLICY_CAPACITY}, not ${capacity}`,
      where,
    );
  }
  checkOption(options.seed, 'seed', 0, Number.MAX_SAFE_INTEGER, where);
  checkOption(options.bits, 'bits', 1, 30, where);
  checkOption(options.period, 'period', 1, Number.MAX_SAFE_INTEGER, where);
  checkOption(options.tau, 'tau', 0, Number.MAX_SAFE_INTEGER, where);
  checkOption(options.clockBits, 'clockBits', 0, 1 << 30, where);
  if (plugin) return new PluginPolicy(plugin, capacity, options);
  const entry: PolicyEntry = POLICIES[name as PolicyName];
  return entry.create(capacity, options);
}

function unknownPolicy(name: string, where: SourceSpan): InputError {
  if (isPluginSpec(name)) {
    return new InputError(
      'policy',
      `plug-in policy '${name}' is not loaded here (plug-ins load from the vmscope command; the browser runs only built-in policies)`,
      where,
    );
  }
  return new InputError(
    'policy',
    `unknown replacement policy '${name}'; expected one of ${policyNames.join(', ')}, or a plug-in module such as ./my-policy.js`,
    where,
    `did you mean '${closest(name, policyNames as PolicyName[])}'?`,
  );
}

function checkOption(
  value: number | undefined,
  label: string,
  min: number,
  max: number,
  where: SourceSpan,
): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InputError(
      'policy',
      `policy option ${label} must be an integer from ${min} to ${max}, not ${value}`,
      where,
    );
  }
}
