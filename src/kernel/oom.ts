/**
 * The OOM killer (Linux `mm/oom_kill.c`): when no page can be reclaimed, the process with the highest
 * `oom_badness` — RSS + swap entries + page tables, plus oom_score_adj thousandths of all memory — gets
 * SIGKILL with all its threads; -1000 is never chosen. Constraint domains (cpusets, memcg) are not
 * modelled.
 */
import { SIGKILL } from './errno.js';
import type { Kernel } from './kernel.js';
import type { Mm } from './mm.js';
import type { Process } from './process.js';

/** oom_badness of an address space, in pages. */
export function oomBadness(k: Kernel, mm: Mm, oomScoreAdj: number): number {
  const totalPages = k.frames.frameCount + (k.swap?.slotCount ?? 0);
  return mm.rss + mm.swapEnts + mm.ptPages + Math.trunc((oomScoreAdj * totalPages) / 1000);
}

/** Kills the worst process. @returns it, or null when no process can be chosen. */
export function oomKill(k: Kernel): Process | null {
  let victim: Process | null = null;
  let worst = 0;
  const seen = new Set<Mm>();
  for (const p of k.live()) {
    const mm = p.mm!;
    if (seen.has(mm)) continue;
    seen.add(mm);
    const leader = k.process(p.tgid);
    const task = leader?.alive ? leader : p;
    if (task.oomScoreAdj <= -1000) continue;
    const badness = oomBadness(k, mm, task.oomScoreAdj);
    if (badness > worst) {
      worst = badness;
      victim = task;
    }
  }
  if (victim) {
    k.reclaim.stats.oomKills++;
    if (k.sink) k.sink.push({ type: 'oom-kill', pid: victim.pid, badness: worst });
    k.kill(victim, {
      signal: SIGKILL,
      code: 0,
      va: 0,
      reason: `out of memory: killed ${victim.name} (badness ${worst} pages)`,
    });
  }
  return victim;
}
