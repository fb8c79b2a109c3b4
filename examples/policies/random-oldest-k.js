/**
 * Random among the oldest k: on a fault, evict one of the k pages that have been resident longest,
 * chosen uniformly at random (k = 4 by default; k = 1 is FIFO, k = capacity is RANDOM). Hits change
 * nothing, so a real kernel could run it.
 *
 *   vmscope replay --policy ./examples/policies/random-oldest-k.js --seed 3 --policy-only trace.gz
 *   vmscope policy check ./examples/policies/random-oldest-k.js
 *
 * `--seed` seeds the generator (mulberry32), so runs are reproducible. `reference` is the same rule
 * written naively over pages, which `vmscope policy check` compares with the policy access by access.
 */

const K = 4;

/** mulberry32: a small seeded generator of floats in [0, 1). */
function generator(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export default {
  name: 'random-oldest-k',
  kind: 'kernel',
  summary: `uniformly random among the ${K} oldest arrivals`,

  create(_capacity, options) {
    const seed = options.seed ?? 0;
    let random = generator(seed);
    let arrivals = []; // slots, oldest first
    return {
      insert(slot) {
        arrivals.push(slot);
      },
      touch() {},
      victim() {
        const i = Math.floor(random() * Math.min(K, arrivals.length));
        return arrivals.splice(i, 1)[0];
      },
      remove(slot) {
        arrivals.splice(arrivals.indexOf(slot), 1);
      },
      reset() {
        random = generator(seed);
        arrivals = [];
      },
      order() {
        return [...arrivals];
      },
    };
  },

  reference(capacity, options) {
    const random = generator(options.seed ?? 0);
    const memory = []; // pages, oldest first
    return {
      access(page) {
        if (memory.includes(page)) return true;
        if (memory.length === capacity) memory.splice(Math.floor(random() * Math.min(K, memory.length)), 1);
        memory.push(page);
        return false;
      },
      pages: () => memory,
    };
  },
};
