/**
 * One suite for every replacement policy (`sim/conformance.ts`, the same one `vmscope policy check`
 * runs on plug-ins): the protocol of `policy.ts` holds under random faults, hits, removals and
 * proactive reclaims, runs are deterministic, the cache simulation built on each stays sound, and
 * the policies that have a naive model match it exactly. Then the suite itself: each way of being
 * wrong that it claims to catch is caught.
 */
import { describe, expect, test } from 'vitest';
import { type LoadedPlugin, type Policy, pluginFromModule } from '../../src/kernel/reclaim/plugin.js';
import { NEVER, NO_PAGE } from '../../src/kernel/reclaim/policy.js';
import { createPolicy, policyNames, registerPlugin } from '../../src/kernel/reclaim/registry.js';
import { CHECKS, type CheckResult, runConformance } from '../../src/sim/conformance.js';
import { NAIVE_REFERENCES } from '../../src/sim/naive.js';

describe.each(policyNames.map((n) => [n]))('policy %s', (name) => {
  const results = runConformance(name);
  test.each(results.filter((r) => r.ran).map((r) => [r.id, r]))('%s', (_id, r: CheckResult) => {
    expect(r.problems).toEqual([]);
  });

  test('says what a kernel could run', () => {
    const p = createPolicy(name, 2);
    expect(p.needsFuture).toBe(name === 'opt' || name === 'unopt');
    expect(p.name).toBe(name);
  });
});

test('the policies with a naive model are checked against it', () => {
  for (const name of Object.keys(NAIVE_REFERENCES)) {
    expect(runConformance(name).find((r) => r.id === 'reference')?.ran, name).toBe(true);
  }
  expect(runConformance('arc').find((r) => r.id === 'reference')?.ran).toBe(false);
});

/** A FIFO plug-in with one deliberate defect (or none), registered under a fake path. */
function mutant(tag: string, defect: Partial<Policy> & { kind?: 'kernel' | 'oracle' } = {}): string {
  const key = `/mutants/${tag}.js`;
  const plugin: LoadedPlugin = pluginFromModule(
    {
      default: {
        name: `mutant-${tag}`,
        kind: defect.kind ?? 'kernel',
        create(capacity: number) {
          const queue: number[] = [];
          const base: Policy = {
            insert: (slot) => {
              queue.push(slot);
            },
            touch: () => {},
            victim: () => queue.shift()!,
            remove: (slot) => {
              queue.splice(queue.indexOf(slot), 1);
            },
            reset: () => {
              queue.length = 0;
            },
            order: () => [...queue],
          };
          void capacity;
          return { ...base, ...defect, ...(defect.victim ? { victim: defect.victim.bind(queue) } : {}) };
        },
        reference(capacity: number) {
          const memory: number[] = [];
          return {
            access(page: number) {
              if (memory.includes(page)) return true;
              if (memory.length === capacity) memory.shift();
              memory.push(page);
              return false;
            },
            pages: () => memory,
          };
        },
      },
    },
    key,
    policyNames,
  );
  registerPlugin(key, plugin);
  return key;
}

const failed = (key: string) =>
  runConformance(key)
    .filter((r) => r.problems.length > 0)
    .map((r) => r.id);

describe('the suite catches what it claims to', () => {
  test('a correct plug-in passes every check, the reference one included', () => {
    const r = runConformance(mutant('none'));
    expect(r.every((c) => c.ran)).toBe(true);
    expect(r.flatMap((c) => c.problems)).toEqual([]);
  });

  test('a victim that is a free slot', () => {
    const key = mutant('free-victim', {
      victim(this: number[]) {
        this.shift();
        return 0; // maybe occupied, often not
      },
    });
    expect(failed(key)).toContain('fills');
    const r = runConformance(key).find((c) => c.id === 'fills')!;
    expect(r.problems[0]).toMatch(
      /victim\(now=11, incoming=-1\) returned 0, a free slot; expected one of the occupied slots/,
    );
  });

  test('nondeterminism, and a reset that forgets nothing', () => {
    let calls = 0;
    expect(
      failed(
        mutant('random', {
          victim(this: number[]) {
            calls++;
            return this.splice(calls % this.length, 1)[0]!;
          },
        }),
      ),
    ).toContain('deterministic');
    expect(failed(mutant('no-reset', { reset: () => {} }))).toContain('deterministic');
  });

  test('an order() that is not the occupied slots, and an inconsistent validate()', () => {
    expect(failed(mutant('order', { order: () => [0] }))).toContain('protocol');
    expect(failed(mutant('validate', { validate: () => ['the queue is upside down'] }))).toContain(
      'protocol',
    );
  });

  test("a 'kernel' policy that counts hits", () => {
    const key = `/mutants/counting.js`;
    registerPlugin(
      key,
      pluginFromModule(
        {
          default: {
            name: 'mutant-counting',
            kind: 'kernel',
            create: (capacity: number) => {
              const hits = new Array<number>(capacity).fill(-1);
              return {
                insert: (slot: number) => {
                  hits[slot] = 0;
                },
                touch: (slot: number) => {
                  hits[slot]!++;
                },
                victim: () => {
                  let best = -1;
                  hits.forEach((h, s) => {
                    if (h >= 0 && (best < 0 || h > hits[best]!)) best = s;
                  });
                  hits[best] = -1;
                  return best;
                },
                remove: (slot: number) => {
                  hits[slot] = -1;
                },
              };
            },
          },
        },
        key,
        policyNames,
      ),
    );
    expect(failed(key)).toEqual(['kind']);
  });

  test('a difference from its reference, reported at the access where it first shows', () => {
    // LIFO instead of FIFO: passes the protocol checks, but not the reference.
    const key = mutant('lifo', { victim: Array.prototype.pop as () => number });
    expect(failed(key)).toEqual(['reference']);
    const r = runConformance(key).find((c) => c.id === 'reference')!;
    expect(r.problems[0]).toMatch(
      /^run \d+ \(\d frames\), access \d+ \(page \d+; pages so far [0-9,]+\): the policy/,
    );
  });

  test('every check has a title that says what it checks', () => {
    expect(CHECKS.map((c) => c.id)).toEqual([
      'fills',
      'protocol',
      'deterministic',
      'cachesim',
      'kind',
      'reference',
    ]);
    for (const c of CHECKS) expect(c.title.length).toBeGreaterThan(20);
    // A plug-in's protocol slips that the wrapper already refuses never reach the policy twice.
    const p = createPolicy(mutant('probe'), 2);
    p.insert(0, 1, 0, 0, NEVER);
    expect(p.victim(1, NO_PAGE)).toBe(0);
  });
});
