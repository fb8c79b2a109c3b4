/**
 * The conformance suite every replacement policy must pass — the built-ins in the test suite, a
 * plug-in in `vmscope policy check` — and an exactness check against a naive reference where one
 * exists (a plug-in's `reference`, or `naive.ts` for some built-ins).
 *
 * Each check drives the policy as the kernel and the cache simulation do (the protocol of
 * `kernel/reclaim/policy.ts`) with seeded random sequences of faults, hits, removals and proactive
 * reclaims, and reports what went wrong in words: which run, which step, what was expected. The
 * sequences are reproducible from the seed, so a failure can be replayed.
 */
import { InputError } from '../base/errors.js';
import type { ReferenceCache } from '../kernel/reclaim/plugin.js';
import { NEVER, NO_PAGE, type PolicyOptions, type ReplacementPolicy } from '../kernel/reclaim/policy.js';
import { PyRandom } from '../kernel/reclaim/pyrandom.js';
import { createPolicy, describePolicy, pluginAt } from '../kernel/reclaim/registry.js';
import { CacheSim, NextUseBuilder } from './cachesim.js';
import { NAIVE_REFERENCES } from './naive.js';

export interface CheckResult {
  readonly id: string;
  readonly title: string;
  /** False when the check does not apply (no reference to compare with). */
  readonly ran: boolean;
  /** What failed, in words; empty when the check passed. */
  readonly problems: readonly string[];
}

export interface ConformanceOptions {
  /** Seed of the random sequences (default 1). */
  readonly seed?: number;
  /** Multiplies the number of random runs (default 1). */
  readonly effort?: number;
  readonly policyOptions?: PolicyOptions;
}

type Op =
  | { readonly kind: 'fault'; readonly page: number; readonly write: number }
  | { readonly kind: 'hit'; readonly pick: number; readonly write: number }
  | { readonly kind: 'remove'; readonly pick: number }
  | { readonly kind: 'reclaim' };

/** Stops a check at its first problem. */
class Problem extends Error {}

/** The checks, in the order they run. */
export const CHECKS = [
  { id: 'fills', title: 'fills exactly its capacity, and every victim is an occupied slot it then forgets' },
  {
    id: 'protocol',
    title: 'keeps the protocol under random faults, hits, removals and reclaims (no slot leaks)',
  },
  {
    id: 'deterministic',
    title: 'is deterministic: the same calls give the same victims, also after reset()',
  },
  { id: 'cachesim', title: 'under the cache simulation: hits + faults = accesses, and every check passes' },
  { id: 'kind', title: "says what a kernel could run (a 'kernel' policy cannot tell six hits from one)" },
  {
    id: 'reference',
    title: 'matches its naive reference exactly (the same hits and pages after every access)',
  },
] as const;

/**
 * Runs every check on policy `spec` (a built-in name or a registered plug-in's key).
 * @throws InputError only for an unknown policy; a policy's own errors are reported as problems.
 */
export function runConformance(spec: string, options: ConformanceOptions = {}): CheckResult[] {
  describePolicy(spec);
  const o = options.policyOptions ?? {};
  const make = (capacity: number) => createPolicy(spec, capacity, o);
  const rng = new PyRandom(options.seed ?? 1);
  const effort = Math.max(1, options.effort ?? 1);
  const reference = referenceFor(spec, o);
  const bodies: Record<(typeof CHECKS)[number]['id'], (() => void) | null> = {
    fills: () => checkFills(make),
    protocol: () => checkProtocol(make, rng, 60 * effort),
    deterministic: () => checkDeterministic(make, rng, 25 * effort),
    cachesim: () => checkCacheSim(make, rng, 40 * effort),
    kind: () => checkKind(make),
    reference: reference ? () => checkReference(make, reference, rng, 40 * effort) : null,
  };
  return CHECKS.map(({ id, title }) => {
    const body = bodies[id];
    if (body === null) return { id, title, ran: false, problems: [] };
    try {
      body();
      return { id, title, ran: true, problems: [] };
    } catch (e) {
      if (e instanceof Problem) return { id, title, ran: true, problems: [e.message] };
      if (e instanceof InputError) return { id, title, ran: true, problems: [e.format()] };
      const what = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      return { id, title, ran: true, problems: [`threw ${what}`] };
    }
  });
}

/** The reference model of `spec`: the plug-in's own, or a built-in's naive model, or null. */
function referenceFor(spec: string, o: PolicyOptions): ((capacity: number) => ReferenceCache) | null {
  const plugin = pluginAt(spec);
  if (plugin) {
    const ref = plugin.definition.reference;
    return ref ? (c) => ref.call(plugin.definition, c, o) : null;
  }
  return NAIVE_REFERENCES[spec] ?? null;
}

function fail(message: string): never {
  throw new Problem(message);
}

function checkFills(make: (c: number) => ReplacementPolicy): void {
  const p = make(5);
  for (let s = 0; s < 5; s++) p.insert(s, 100 + s, s, 0, 1000 + s);
  if (p.resident !== 5) fail(`after 5 inserts into 5 slots, resident is ${p.resident}`);
  if (p.order().length !== 5) fail(`after 5 inserts, order() lists ${p.order().length} slots`);
  const seen = new Set<number>();
  for (let i = 0; i < 5; i++) {
    const v = p.victim(10 + i, NO_PAGE);
    if (!Number.isInteger(v) || v < 0 || v >= 5) fail(`victim #${i + 1} is ${v}, not a slot 0..4`);
    if (seen.has(v)) fail(`victim #${i + 1} is slot ${v} again, which was already emptied`);
    seen.add(v);
    if (p.isResident(v)) fail(`slot ${v} is still resident after victim() returned it`);
    if (p.resident !== 4 - i) fail(`after ${i + 1} victims of 5, resident is ${p.resident}`);
    const v2 = p.validate();
    if (v2.length > 0) fail(`after victim #${i + 1}: validate() says ${v2.join('; ')}`);
  }
}

/** A random operation sequence. */
function randomOps(rng: PyRandom, length: number, pages: number): Op[] {
  const ops: Op[] = [];
  for (let i = 0; i < length; i++) {
    const r = rng.below(12);
    if (r < 5) ops.push({ kind: 'fault', page: rng.below(pages), write: rng.below(2) });
    else if (r < 10) ops.push({ kind: 'hit', pick: rng.below(1 << 30), write: rng.below(2) });
    else if (r === 10) ops.push({ kind: 'remove', pick: rng.below(1 << 30) });
    else ops.push({ kind: 'reclaim' });
  }
  return ops;
}

function describeOp(op: Op): string {
  switch (op.kind) {
    case 'fault':
      return `a fault on page ${op.page}${op.write ? ' (write)' : ''}`;
    case 'hit':
      return `a hit${op.write ? ' (write)' : ''}`;
    case 'remove':
      return 'a removal';
    case 'reclaim':
      return 'a proactive reclaim (victim with no incoming page)';
  }
}

/**
 * Drives `policy` through `ops` as a kernel would (a fault takes a free slot or the victim's; a
 * page is never resident twice), checking the protocol after each step when `check`.
 * @returns the victims, in order.
 */
function drive(policy: ReplacementPolicy, ops: readonly Op[], check: boolean, label: string): number[] {
  const cap = policy.capacity;
  const slotOf = new Map<number, number>();
  const pageIn = new Map<number, number>();
  const victims: number[] = [];
  let now = 0;
  const freeSlot = () => {
    for (let s = 0; s < cap; s++) if (!pageIn.has(s)) return s;
    return -1;
  };
  const evict = (slot: number, step: string) => {
    if (!pageIn.has(slot)) fail(`${step}: victim() returned slot ${slot}, which holds no page`);
    if (policy.isResident(slot)) fail(`${step}: slot ${slot} is still resident after victim() returned it`);
    slotOf.delete(pageIn.get(slot)!);
    pageIn.delete(slot);
    victims.push(slot);
  };
  ops.forEach((op, i) => {
    now++;
    const step = `${label}, step ${i + 1} (${describeOp(op)})`;
    // A next use consistent enough for OPT: later than now, distinct per step.
    const nextUse =
      (op.kind === 'fault' || op.kind === 'hit') && now % 7 === 0 ? NEVER : now * 50 + (now % 13);
    if (op.kind === 'fault') {
      if (slotOf.has(op.page)) return;
      let slot = freeSlot();
      if (slot < 0) {
        slot = policy.victim(now, op.page);
        evict(slot, step);
      }
      policy.insert(slot, op.page, now, op.write, nextUse);
      slotOf.set(op.page, slot);
      pageIn.set(slot, op.page);
    } else if (op.kind === 'hit' || op.kind === 'remove') {
      if (pageIn.size === 0) return;
      const slots = [...pageIn.keys()].sort((a, b) => a - b);
      const slot = slots[op.pick % slots.length]!;
      if (op.kind === 'hit') policy.touch(slot, now, op.write, nextUse);
      else {
        policy.remove(slot);
        slotOf.delete(pageIn.get(slot)!);
        pageIn.delete(slot);
      }
    } else {
      if (pageIn.size === 0) return;
      evict(policy.victim(now, NO_PAGE), step);
    }
    if (policy.resident !== pageIn.size)
      fail(`${step}: resident is ${policy.resident}, but ${pageIn.size} slots hold pages`);
    if (!check) return;
    const problems = policy.validate();
    if (problems.length > 0) fail(`${step}: validate() says ${problems.join('; ')}`);
    for (let s = 0; s < cap; s++) {
      if (policy.isResident(s) !== pageIn.has(s))
        fail(`${step}: isResident(${s}) is ${policy.isResident(s)}, expected ${pageIn.has(s)}`);
    }
    const order = [...policy.order()].sort((a, b) => a - b);
    const want = [...pageIn.keys()].sort((a, b) => a - b);
    if (order.join() !== want.join())
      fail(`${step}: order() lists slots [${order}], expected the occupied slots [${want}]`);
  });
  return victims;
}

function checkProtocol(make: (c: number) => ReplacementPolicy, rng: PyRandom, runs: number): void {
  for (let run = 1; run <= runs; run++) {
    const cap = 1 + rng.below(6);
    const ops = randomOps(rng, rng.below(121), 40);
    const p = make(cap);
    const label = `run ${run} (capacity ${cap})`;
    drive(p, ops, true, label);
    while (p.resident > 0) p.victim(1e6, NO_PAGE);
    const problems = p.validate();
    if (problems.length > 0) fail(`${label}: after draining, validate() says ${problems.join('; ')}`);
    if (p.order().length > 0) fail(`${label}: after draining, order() still lists [${p.order()}]`);
  }
}

function checkDeterministic(make: (c: number) => ReplacementPolicy, rng: PyRandom, runs: number): void {
  for (let run = 1; run <= runs; run++) {
    const ops = randomOps(rng, 20 + rng.below(131), 40);
    const label = `run ${run} (capacity 4)`;
    const a = make(4);
    const first = drive(a, ops, false, label);
    const second = drive(make(4), ops, false, label);
    if (first.join() !== second.join())
      fail(`${label}: a second policy given the same calls chose victims [${second}], the first [${first}]`);
    a.reset();
    if (a.resident !== 0) fail(`${label}: after reset(), resident is ${a.resident}`);
    const again = drive(a, ops, false, label);
    if (again.join() !== first.join())
      fail(`${label}: after reset(), the same calls chose victims [${again}], before [${first}]`);
  }
}

function checkCacheSim(make: (c: number) => ReplacementPolicy, rng: PyRandom, runs: number): void {
  for (let run = 1; run <= runs; run++) {
    const frames = 1 + rng.below(8);
    const n = rng.below(301);
    const pages = new Float64Array(n);
    const writes = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      pages[i] = rng.below(26) * 4097 + 2 ** 40;
      writes[i] = rng.below(2);
    }
    const label = `run ${run} (${frames} frames, ${n} accesses)`;
    const sim = new CacheSim(make(frames));
    if (sim.policy.needsFuture) {
      const b = new NextUseBuilder(Math.max(16, n));
      b.push(pages, n);
      sim.setFuture(b.finish());
    }
    for (let i = 0; i < n; i += 17) {
      const count = Math.min(17, n - i);
      sim.run(pages.subarray(i, i + count), writes.subarray(i, i + count), count);
      const problems = sim.validate();
      if (problems.length > 0) fail(`${label}, after access ${i + count}: ${problems.join('; ')}`);
    }
    const st = sim.stats();
    const distinct = new Set(pages).size;
    if (st.hits + st.faults !== n) fail(`${label}: hits + faults = ${st.hits + st.faults}`);
    if (st.coldFaults !== distinct) fail(`${label}: ${st.coldFaults} cold faults for ${distinct} pages`);
    if (sim.policy.resident !== Math.min(frames, distinct))
      fail(
        `${label}: ${sim.policy.resident} pages resident at the end, expected ${Math.min(frames, distinct)}`,
      );
    if (st.faults - st.evictions !== Math.min(frames, distinct))
      fail(`${label}: ${st.faults} faults but ${st.evictions} evictions`);
  }
}

function checkKind(make: (c: number) => ReplacementPolicy): void {
  const p = make(2);
  if (p.kind !== 'kernel' && p.kind !== 'oracle') fail(`kind is '${String(p.kind)}', not kernel or oracle`);
  if (p.needsFuture && p.kind !== 'oracle') fail("it needs the future but says it is a 'kernel' policy");
  if (p.kind !== 'kernel') return;
  // Only accessed/dirty bits: six hits in one instant must look exactly like one. Slot 2 gets three
  // hits in both, so a policy that counts hits sees slot 1 below it in one case and above it in the
  // other, whichever way it ranks them.
  const once = make(3);
  const many = make(3);
  for (const q of [once, many]) {
    for (let s = 0; s < 3; s++) q.insert(s, s, s, 0, NEVER);
    for (let i = 0; i < 3; i++) q.touch(2, 3, 0, NEVER);
  }
  once.touch(1, 3, 0, NEVER);
  for (let i = 0; i < 6; i++) many.touch(1, 3, 0, NEVER);
  const a = [once.victim(10, NO_PAGE), once.victim(11, NO_PAGE), once.victim(12, NO_PAGE)];
  const b = [many.victim(10, NO_PAGE), many.victim(11, NO_PAGE), many.victim(12, NO_PAGE)];
  if (a.join() !== b.join())
    fail(
      `with one hit on slot 1 it evicts slots [${a}], with six hits at the same time [${b}]: a kernel sees only an accessed bit`,
    );
}

function checkReference(
  make: (c: number) => ReplacementPolicy,
  reference: (c: number) => ReferenceCache,
  rng: PyRandom,
  runs: number,
): void {
  for (let run = 1; run <= runs; run++) {
    const frames = 1 + rng.below(6);
    const n = 1 + rng.below(200);
    const alphabet = frames + 1 + rng.below(8);
    const pages = new Float64Array(n);
    const writes = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      pages[i] = rng.below(alphabet);
      writes[i] = rng.below(4) === 0 ? 1 : 0;
    }
    const b = new NextUseBuilder(Math.max(16, n));
    b.push(pages, n);
    const future = b.finish();
    const sim = new CacheSim(make(frames));
    if (sim.policy.needsFuture) sim.setFuture(future);
    const ref = reference(frames);
    const label = `run ${run} (${frames} frames)`;
    const prefix: number[] = [];
    for (let t = 0; t < n; t++) {
      const page = pages[t]!;
      prefix.push(page);
      const hit = sim.access(page, writes[t]!);
      const refHit = ref.access(page, writes[t]!, t, future.at(t));
      const where = `${label}, access ${t + 1} (page ${page}; pages so far ${prefix.slice(-12).join(',')})`;
      if (hit !== refHit)
        fail(`${where}: the policy ${hit ? 'hit' : 'missed'}, the reference ${refHit ? 'hit' : 'missed'}`);
      const mine = [...sim.residentPages()].sort((x, y) => x - y);
      const theirs = [...ref.pages()].sort((x, y) => x - y);
      if (mine.join() !== theirs.join())
        fail(`${where}: the policy holds pages [${mine}], the reference [${theirs}]`);
    }
  }
}
