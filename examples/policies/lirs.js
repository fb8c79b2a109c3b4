/**
 * LIRS (Jiang and Zhang, SIGMETRICS 2002): low inter-reference recency set replacement.
 *
 * A page's inter-reference recency (IRR) is the number of other distinct pages accessed between its
 * last two accesses. Pages with low IRR form the LIR set, which holds most of the frames
 * (capacity − hirFrames); the others are HIR pages, resident in the few remaining frames. The
 * victim is always a resident HIR page, so a scan of pages used once never flushes the LIR set, as
 * it flushes LRU.
 *
 * - The stack S holds pages in recency order (most recent on top): every LIR page, and the HIR
 *   pages (resident or not) accessed more recently than the bottom LIR page. The bottom of S is
 *   always an LIR page ("stack pruning" removes HIR pages that sink below it).
 * - The queue Q holds the resident HIR pages, oldest first: the next victim is its front.
 * - A hit on an LIR page moves it to the top of S (pruning if it was the bottom).
 * - A hit on a resident HIR page that is in S: it becomes LIR (its IRR is below the bottom LIR's
 *   recency), the bottom LIR page becomes HIR and goes to the end of Q, and S is pruned. Not in S:
 *   it goes to the top of S and the end of Q, still HIR.
 * - While the LIR set is not full (as memory fills, or after removals), a page that comes in or is
 *   hit becomes LIR.
 * - A miss otherwise: if S still remembers the page (a non-resident HIR "ghost"), it becomes LIR
 *   as on a hit (the bottom LIR page moves to Q); else it enters as resident HIR, on top of S and
 *   at the end of Q.
 * - The victim is Q's front; if S remembers it, it stays there as a ghost. Ghosts are capped at
 *   twice the capacity (the oldest is forgotten first), so memory stays bounded.
 * - If Q is empty (pages were removed, or memory is reclaimed before it fills), the bottom LIR page
 *   of S is evicted instead.
 *
 * An oracle: it needs every access in order (a kernel sees only accessed bits).
 *
 *   vmscope mrc --policies lru,./examples/policies/lirs.js --frames 8..512 trace.gz
 */

/** Share of the frames that hold HIR pages (at least one). */
const HIR_SHARE = 0.01;

const LIR = 1;
const HIR = 2; // resident HIR
const GHOST = 3; // non-resident HIR, remembered in S

export default {
  name: 'lirs',
  kind: 'oracle',
  summary: 'LIRS: LIR/HIR sets by inter-reference recency, 1% of the frames for HIR pages',

  create(capacity) {
    const hirFrames = Math.max(1, Math.ceil(capacity * HIR_SHARE));
    const lirFrames = Math.max(0, capacity - hirFrames);
    /** page → state (LIR, HIR, GHOST) for every page in S or Q. */
    let state = new Map();
    /** S: pages by recency; a Map keeps insertion order, so the first key is the bottom. */
    let stack = new Map();
    /** Q: resident HIR pages, oldest first. */
    let queue = new Map();
    /** Ghosts, in the order they became ghosts (to forget the oldest). */
    let ghosts = new Map();
    let pageOf = new Map(); // slot → page
    let slotOf = new Map(); // page → slot
    let lirCount = 0;

    const toTop = (page) => {
      stack.delete(page);
      stack.set(page, true);
    };
    const forget = (page) => {
      state.delete(page);
      stack.delete(page);
      queue.delete(page);
      ghosts.delete(page);
    };
    /** Removes HIR pages (resident or not) from the bottom of S until an LIR page is there. */
    const prune = () => {
      for (const page of stack.keys()) {
        const s = state.get(page);
        if (s === LIR) return;
        stack.delete(page);
        if (s === GHOST) forget(page);
      }
    };
    /** The bottom LIR page becomes a resident HIR page at the end of Q. */
    const demoteBottom = () => {
      for (const page of stack.keys()) {
        if (state.get(page) !== LIR) continue;
        stack.delete(page);
        state.set(page, HIR);
        queue.set(page, true);
        lirCount--;
        prune();
        return;
      }
    };
    const promote = (page) => {
      if (state.get(page) !== LIR) lirCount++;
      state.set(page, LIR);
      queue.delete(page);
      ghosts.delete(page);
      toTop(page);
      // With the LIR set full, its bottom page makes room; below a full set, HIR pages that were at
      // the bottom of S (the set had emptied) go.
      if (lirCount > lirFrames) demoteBottom();
      else prune();
    };

    return {
      insert(slot, page) {
        pageOf.set(slot, page);
        slotOf.set(page, slot);
        if (lirCount < lirFrames && state.get(page) !== GHOST) {
          state.set(page, LIR);
          lirCount++;
          toTop(page);
          prune();
        } else if (state.get(page) === GHOST && stack.has(page)) {
          promote(page);
        } else {
          ghosts.delete(page);
          state.set(page, HIR);
          toTop(page);
          queue.set(page, true);
        }
      },

      touch(slot) {
        const page = pageOf.get(slot);
        const s = state.get(page);
        if (s === LIR) {
          const wasBottom = stack.keys().next().value === page;
          toTop(page);
          if (wasBottom) prune();
        } else if (stack.has(page) || lirCount < lirFrames) {
          promote(page);
        } else {
          toTop(page);
          queue.delete(page);
          queue.set(page, true);
        }
      },

      victim() {
        let page = queue.keys().next().value;
        if (page === undefined) {
          // No resident HIR page: the bottom LIR page goes.
          page = stack.keys().next().value;
          forget(page);
          lirCount--;
          prune();
        } else {
          queue.delete(page);
          if (stack.has(page)) {
            state.set(page, GHOST);
            ghosts.set(page, true);
            if (ghosts.size > 2 * capacity) {
              const oldest = ghosts.keys().next().value;
              forget(oldest);
            }
          } else {
            forget(page);
          }
        }
        const slot = slotOf.get(page);
        slotOf.delete(page);
        pageOf.delete(slot);
        return slot;
      },

      remove(slot) {
        const page = pageOf.get(slot);
        if (state.get(page) === LIR) lirCount--;
        forget(page);
        pageOf.delete(slot);
        slotOf.delete(page);
        prune();
      },

      reset() {
        state = new Map();
        stack = new Map();
        queue = new Map();
        ghosts = new Map();
        pageOf = new Map();
        slotOf = new Map();
        lirCount = 0;
      },

      /** Next victims first: Q from its front, then the LIR pages from the bottom of S. */
      order() {
        const out = [...queue.keys()].map((p) => slotOf.get(p));
        for (const p of stack.keys()) if (state.get(p) === LIR) out.push(slotOf.get(p));
        return out;
      },

      validate() {
        const problems = [];
        let lir = 0;
        for (const [page, s] of state) {
          if (s === LIR) {
            lir++;
            if (!stack.has(page)) problems.push(`LIR page ${page} is not in the stack`);
          }
          if ((s === LIR || s === HIR) !== slotOf.has(page))
            problems.push(
              `page ${page} is ${s === GHOST ? 'a ghost' : 'resident'} but its slot says otherwise`,
            );
          if ((s === HIR) !== queue.has(page))
            problems.push(`page ${page}: resident HIR pages are exactly Q`);
        }
        if (lir !== lirCount) problems.push(`${lir} LIR pages, the count says ${lirCount}`);
        if (lirCount > lirFrames) problems.push(`${lirCount} LIR pages for ${lirFrames} LIR frames`);
        const bottom = stack.keys().next().value;
        if (bottom !== undefined && lir > 0 && state.get(bottom) !== LIR)
          problems.push(`the bottom of the stack (page ${bottom}) is not an LIR page`);
        if (ghosts.size > 2 * capacity) problems.push(`${ghosts.size} ghosts for ${capacity} frames`);
        return problems;
      },
    };
  },
};
