/**
 * vm-beyondphys-policy/paging-policy.py: page replacement. A reference string (given, generated
 * from the seed, or read from a file, one page per line) replayed through a cache of `-C` pages
 * under FIFO, LRU, MRU, OPT, UNOPT, RAND or OSTEP's randomized CLOCK.
 *
 * The answers come from vmscope's cache simulation (`sim/cachesim.ts`) running the registry's
 * policies — FIFO, LRU, MRU, OPT/UNOPT (O(log C) per access after a next-use pass, where the script
 * rescans the future) — and the faithful ports `ostep-rand` and `ostep-clock`, drawing from the
 * generator the addresses came from. The script's edge cases are kept: a cache of 0 pages fails on
 * the first miss as Python does, a negative one never evicts, a bad entry fails where Python first
 * reads it (OPT's look-ahead included).
 */
import { invariant } from '../../base/errors.js';
import { OstepClockPolicy, OstepRandPolicy } from '../../kernel/reclaim/ostep.js';
import type { PyRandom } from '../../kernel/reclaim/pyrandom.js';
import { createPolicy } from '../../kernel/reclaim/registry.js';
import { CacheSim, NextUseBuilder, type NextUses } from '../../sim/cachesim.js';
import { count, seededRandom } from '../common.js';
import { num, pyBool, pyExit, pyFormat, pyInt, pyList, pyRaise, pyStr } from '../python.js';
import type { Ctx, Script } from '../script.js';

const POLICY_SIDES: Record<string, [string, string]> = {
  FIFO: ['FirstIn', 'Lastin '],
  LRU: ['LRU', 'MRU'],
  MRU: ['LRU', 'MRU'],
  OPT: ['Left ', 'Right'],
  RAND: ['Left ', 'Right'],
  UNOPT: ['Left ', 'Right'],
  CLOCK: ['Left ', 'Right'],
};

/** The reference string as page ids for the simulation, with the ints Python printed for them. */
interface Refs {
  /** Ids of the entries before the first bad one. */
  readonly ids: Float64Array;
  /** Id → the int as Python prints it. */
  readonly label: (id: number) => string;
  /** Distinct ids, or -1 when not counted yet. */
  readonly distinct: number;
  /** The first entry `int()` rejects, if any (entries are read lazily with `-a`). */
  readonly bad: { readonly index: number; readonly text: string } | null;
}

/** Non-negative safe ints are their own ids; otherwise ids are dense, in order of first appearance. */
function toRefs(values: readonly bigint[], bad: Refs['bad']): Refs {
  const simple = values.every((v) => v >= 0n && v <= BigInt(Number.MAX_SAFE_INTEGER));
  const ids = new Float64Array(values.length);
  if (simple) {
    const seen = new Set<number>();
    values.forEach((v, i) => {
      ids[i] = Number(v);
      seen.add(ids[i]!);
    });
    return { ids, label: String, distinct: seen.size, bad };
  }
  const dense = new Map<bigint, number>();
  const labels: string[] = [];
  values.forEach((v, i) => {
    let id = dense.get(v);
    if (id === undefined) {
      id = labels.length;
      dense.set(v, id);
      labels.push(v.toString());
    }
    ids[i] = id;
  });
  return { ids, label: (id) => labels[id]!, distinct: labels.length, bad };
}

/** The lines of an address file as `int(line)` reads them (universal newlines), failing as Python does. */
function readAddressFile(ctx: Ctx, path: string): Refs {
  const text = ctx.readFile(path);
  let ids = new Float64Array(1024);
  let n = 0;
  let big: bigint[] | null = null;
  let start = 0;
  while (start < text.length) {
    let end = start;
    let v = 0;
    let digits = true;
    for (; end < text.length; end++) {
      const c = text.charCodeAt(end);
      if (c === 10 || c === 13) break;
      if (c >= 48 && c <= 57) v = v * 10 + (c - 48);
      else digits = false;
    }
    let next = end;
    if (next < text.length) next += text.charCodeAt(next) === 13 && text.charCodeAt(next + 1) === 10 ? 2 : 1;
    // The fast path: a line of 1 to 15 ASCII digits is its own id.
    if (digits && end > start && end - start <= 15 && big === null) {
      if (n === ids.length) {
        const bigger = new Float64Array(n * 4);
        bigger.set(ids);
        ids = bigger;
      }
      ids[n++] = v;
    } else {
      const value = pyInt(text.slice(start, end) + (end < text.length ? '\n' : ''));
      if (big === null) big = Array.from(ids.subarray(0, n), (id) => BigInt(id));
      big.push(value);
    }
    start = next;
  }
  if (big !== null) return toRefs(big, null);
  return { ids: ids.subarray(0, n), label: String, distinct: -1, bad: null };
}

/** Distinct ids (counted only when needed: a cache too large, or negative). */
function distinctOf(refs: Refs): number {
  if (refs.distinct >= 0) return refs.distinct;
  const seen = new Set<number>();
  for (const id of refs.ids) seen.add(id);
  return seen.size;
}

export const pagingPolicy: Script = {
  name: 'paging-policy',
  path: 'vm-beyondphys-policy/paging-policy.py',
  summary: 'page replacement: FIFO, LRU, MRU, OPT, UNOPT, RAND, CLOCK',
  options: [
    {
      short: '-a',
      long: '--addresses',
      dest: 'addresses',
      type: 'string',
      default: '-1',
      help: 'a set of comma-separated pages to access; -1 means randomly generate',
    },
    {
      short: '-f',
      long: '--addressfile',
      dest: 'addressfile',
      type: 'string',
      default: '',
      help: 'a file with a bunch of addresses in it',
    },
    {
      short: '-n',
      long: '--numaddrs',
      dest: 'numaddrs',
      type: 'string',
      default: '10',
      help: 'if -a (--addresses) is -1, this is the number of addrs to generate',
    },
    {
      short: '-p',
      long: '--policy',
      dest: 'policy',
      type: 'string',
      default: 'FIFO',
      help: 'replacement policy: FIFO, LRU, OPT, UNOPT, RAND, CLOCK',
    },
    {
      short: '-b',
      long: '--clockbits',
      dest: 'clockbits',
      type: 'int',
      default: 2n,
      help: 'for CLOCK policy, how many clock bits to use',
    },
    {
      short: '-C',
      long: '--cachesize',
      dest: 'cachesize',
      type: 'string',
      default: '3',
      help: 'size of the page cache, in pages',
    },
    {
      short: '-m',
      long: '--maxpage',
      dest: 'maxpage',
      type: 'string',
      default: '10',
      help: 'if randomly generating page accesses, this is the max page number',
    },
    { short: '-s', long: '--seed', dest: 'seed', type: 'string', default: '0', help: 'random number seed' },
    {
      short: '-N',
      long: '--notrace',
      dest: 'notrace',
      type: 'true',
      default: false,
      help: 'do not print out a detailed trace',
    },
    {
      short: '-c',
      long: '--compute',
      dest: 'solve',
      type: 'true',
      default: false,
      help: 'compute answers for me',
    },
  ],
  main(ctx: Ctx, o) {
    for (const k of [
      'addresses',
      'addressfile',
      'numaddrs',
      'policy',
      'clockbits',
      'cachesize',
      'maxpage',
      'seed',
    ])
      ctx.print(`ARG ${k}`, pyStr(o[k]!));
    ctx.print('ARG notrace', pyBool(o['notrace'] === true));
    ctx.print('');
    const addresses = o['addresses'] as string;
    const addressFile = o['addressfile'] as string;
    const numaddrs = pyInt(o['numaddrs'] as string);
    const cachesize = pyInt(o['cachesize'] as string);
    const seed = pyInt(o['seed'] as string);
    const maxpage = pyInt(o['maxpage'] as string);
    const policy = o['policy'] as string;
    const notrace = o['notrace'] === true;
    const clockbits = num(o['clockbits'] as bigint);
    const rng = seededRandom(seed);

    let refs: Refs;
    if (addressFile !== '') refs = readAddressFile(ctx, addressFile);
    else if (addresses === '-1') {
      const n = count(numaddrs);
      const values: bigint[] = [];
      for (let i = 0; i < n; i++) values.push(BigInt(Math.trunc(num(maxpage) * rng.random())));
      refs = toRefs(values, null);
    } else {
      const items = addresses.split(',');
      const values: bigint[] = [];
      let bad: Refs['bad'] = null;
      for (const [index, text] of items.entries()) {
        const v = safeInt(text);
        if (v === null) {
          bad = { index, text };
          break;
        }
        values.push(v);
      }
      refs = toRefs(values, bad);
    }
    const total = refs.ids.length;
    const failAtBad = (): never => pyInt(refs.bad!.text) as never;

    if (o['solve'] !== true) {
      ctx.print(
        pyFormat('Assuming a replacement policy of %s, and a cache of size %d pages,', policy, cachesize),
      );
      ctx.print('figure out whether each of the following page references hit or miss');
      ctx.print('in the page cache.\n');
      for (let i = 0; i < total; i++)
        ctx.print(`Access: ${refs.label(refs.ids[i]!)}  Hit/Miss?  State of Memory?`);
      if (refs.bad) failAtBad();
      ctx.print('');
      return;
    }
    if (!notrace) ctx.print('Solving...\n');
    ctx.beginAnswers();
    const sides = POLICY_SIDES[policy];
    if (!sides) {
      ctx.print(pyFormat('Policy %s is not yet implemented', policy));
      pyExit(1);
    }
    if (total === 0 && refs.bad) failAtBad();
    if (cachesize === 0n && total > 0) {
      pyRaise('IndexError', policy === 'CLOCK' ? 'list index out of range' : 'pop from empty list');
    }
    // A cache at least as large as the distinct pages never evicts; nor does a negative one.
    const small = cachesize > 0n && cachesize <= 1n << 16n;
    const distinct = small ? 0 : distinctOf(refs);
    const capacity = Math.max(
      1,
      cachesize < 0n ? distinct : small || cachesize <= BigInt(distinct) ? num(cachesize) : distinct,
    );
    const sim = new CacheSim(makePolicy(policy, capacity, clockbits, num(seed < 0n ? -seed : seed), rng));
    let future: NextUses | null = null;
    if (sim.policy.needsFuture) {
      const b = new NextUseBuilder(total);
      b.push(refs.ids, total);
      future = b.finish();
      sim.setFuture(future);
    }
    const lookaheadCanFail = refs.bad !== null && future !== null;
    if (notrace && !ctx.stepping && !lookaheadCanFail) {
      for (let i = 0; i < total; i += 8192)
        sim.run(refs.ids.subarray(i, i + 8192), null, Math.min(8192, total - i));
      if (refs.bad) failAtBad();
    } else {
      const explainer = ctx.stepping
        ? new PolicyExplainer(policy, capacity, clockbits, rng, refs, future)
        : null;
      const lastSeen = new Map<number, number>();
      for (let i = 0; i < total; i++) {
        const page = refs.ids[i]!;
        if (lookaheadCanFail && sim.slotOf(page) < 0 && sim.policy.resident === capacity) {
          // OPT's look-ahead reads the entries after this one until it finds each resident page.
          for (const p of sim.residentPages()) if (future!.at(lastSeen.get(p)!) >= total) failAtBad();
        }
        explainer?.before(i, sim);
        const hit = sim.access(page);
        lastSeen.set(page, i);
        const victim = sim.lastVictim;
        if (!notrace) {
          const memory = pyList(sim.residentPages().map(refs.label));
          ctx.print(
            pyFormat(
              'Access: %s  %s %s -> %12s <- %s Replaced:%s [Hits:%d Misses:%d]',
              refs.label(page),
              hit ? 'HIT ' : 'MISS',
              sides![0],
              memory,
              sides![1],
              victim < 0 ? '-' : refs.label(victim),
              sim.hits,
              sim.faults,
            ),
          );
        }
        if (explainer)
          ctx.step(explainer.after(i, sim, hit, victim), {
            kind: 'memory',
            pages: sim.residentPages().map(refs.label),
            capacity: cachesize < 0n ? -1 : num(cachesize),
            page: refs.label(page),
            hit,
            victim: victim < 0 ? null : refs.label(victim),
          });
      }
      if (refs.bad) failAtBad();
    }
    ctx.print('');
    if (sim.accesses === 0) pyRaise('ZeroDivisionError', 'float division by zero');
    ctx.print(
      pyFormat(
        'FINALSTATS hits %d   misses %d   hitrate %.2f',
        sim.hits,
        sim.faults,
        (100 * sim.hits) / (sim.hits + sim.faults),
      ),
    );
    ctx.print('');
  },
};

/** `int(text)`, or null where Python would raise (the caller raises later, where Python does). */
function safeInt(text: string): bigint | null {
  try {
    return pyInt(text);
  } catch {
    return null;
  }
}

function makePolicy(policy: string, capacity: number, clockbits: number, seed: number, rng: PyRandom) {
  if (policy === 'RAND') return new OstepRandPolicy(capacity, seed, rng);
  if (policy === 'CLOCK') return new OstepClockPolicy(capacity, clockbits, seed, rng);
  return createPolicy(policy.toLowerCase(), capacity);
}

/**
 * `--explain`: at each miss, what the policy knew and why it chose its victim. The victim itself
 * always comes from the simulation; what is shown beside it (arrival and use times, next uses, the
 * CLOCK scan replayed on a copy of the generator) is checked against it.
 */
class PolicyExplainer {
  private readonly arrived = new Map<number, number>();
  private readonly lastUse = new Map<number, number>();
  private readonly ref = new Map<number, number>();
  private rngBefore: PyRandom | null = null;
  private memoryBefore: number[] = [];

  private readonly policy: string;
  private readonly capacity: number;
  private readonly clockbits: number;
  private readonly rng: PyRandom;
  private readonly refs: Refs;
  private readonly future: NextUses | null;

  constructor(
    policy: string,
    capacity: number,
    clockbits: number,
    rng: PyRandom,
    refs: Refs,
    future: NextUses | null,
  ) {
    this.policy = policy;
    this.capacity = capacity;
    this.clockbits = clockbits;
    this.rng = rng;
    this.refs = refs;
    this.future = future;
  }

  before(_i: number, sim: CacheSim): void {
    this.memoryBefore = sim.residentPages();
    this.rngBefore = this.policy === 'RAND' || this.policy === 'CLOCK' ? this.rng.clone() : null;
  }

  after(i: number, sim: CacheSim, hit: boolean, victim: number): string[] {
    const page = this.refs.ids[i]!;
    const L = this.refs.label;
    const lines: string[] = [];
    if (hit) {
      if (this.policy === 'LRU' || this.policy === 'MRU') lines.push(`hit: ${L(page)} moves to the MRU end`);
      else if (this.policy === 'CLOCK')
        lines.push(`hit: ${L(page)}'s use counter goes up by 1, to at most ${this.clockbits}`);
      else lines.push(`hit: ${L(page)} is resident; ${this.policy} keeps the order as it is`);
    } else if (victim < 0) {
      lines.push(`miss: a free frame takes ${L(page)} (${sim.policy.resident} of ${this.capacity} in use)`);
    } else {
      lines.push(`miss with memory full: ${this.why(victim)}`);
    }
    // The script's bookkeeping, after the access.
    if (!hit) {
      if (victim >= 0) {
        this.arrived.delete(victim);
        this.ref.delete(victim);
      }
      this.arrived.set(page, i);
    }
    this.lastUse.set(page, i);
    const r = this.ref.get(page);
    this.ref.set(page, r === undefined ? 1 : Math.min(r + 1, this.clockbits));
    return lines;
  }

  private why(victim: number): string {
    const L = this.refs.label;
    const mem = this.memoryBefore;
    switch (this.policy) {
      case 'FIFO':
        return `FIFO evicts the page in memory longest: ${L(victim)}, in since access ${this.arrived.get(victim)} (${mem.map((p) => `${L(p)}@${this.arrived.get(p)}`).join(' ')})`;
      case 'LRU':
        return `LRU evicts the page used longest ago: ${L(victim)}, last used at access ${this.lastUse.get(victim)} (${mem.map((p) => `${L(p)}@${this.lastUse.get(p)}`).join(' ')})`;
      case 'MRU':
        return `MRU evicts the page used most recently: ${L(victim)}, used at access ${this.lastUse.get(victim)}`;
      case 'OPT':
      case 'UNOPT': {
        const next = (p: number) => {
          const t = this.future!.at(this.lastUse.get(p)!);
          return t === Number.POSITIVE_INFINITY ? 'never' : String(t);
        };
        const uses = mem.map((p) => `${L(p)}@${next(p)}`).join(' ');
        return this.policy === 'OPT'
          ? `OPT evicts the page whose next use is furthest (the last such in memory order on a tie): ${L(victim)} (next uses: ${uses})`
          : `UNOPT evicts the page needed soonest (the first in memory order on a tie): ${L(victim)} (next uses: ${uses})`;
      }
      case 'RAND': {
        const r = this.rngBefore!.random();
        const k = Math.trunc(r * mem.length);
        invariant(mem[k] === victim, 'ostep: the RAND replay disagrees with the policy');
        return `RAND draws random() = ${r} -> index int(${r} * ${mem.length}) = ${k} of [${mem.map(L).join(', ')}]: ${L(victim)}`;
      }
      default: {
        const use = new Map(mem.map((p) => [p, this.ref.get(p)!]));
        const scan: string[] = [];
        const g = this.rngBefore!;
        for (;;) {
          const k = Math.trunc(g.random() * mem.length);
          const p = mem[k]!;
          const u = use.get(p)!;
          if (u >= 1) {
            use.set(p, u - 1);
            scan.push(`${L(p)}:${u}->${u - 1}`);
          } else {
            scan.push(`${L(p)}:0 evict`);
            invariant(p === victim, 'ostep: the CLOCK replay disagrees with the policy');
            break;
          }
        }
        const counters = mem.map((p) => `${L(p)}=${this.ref.get(p)}`).join(' ');
        // The scan's decrements stay (the script keeps them in `ref`).
        for (const [p, u] of use) this.ref.set(p, u);
        return `CLOCK picks random resident pages, counting down their use counters (${counters}): ${scan.join(', ')}`;
      }
    }
  }
}
