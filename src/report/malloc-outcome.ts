/**
 * How an allocation-trace replay ended, in words — shared by the `vmscope malloc` table and the
 * browser (which must not pull in the SVG charts of malloc-report.ts).
 */
import { SIGNAL_NAMES } from '../kernel/errno.js';
import type { ReplayResult } from '../user/replay.js';
import { bytes, count } from './format.js';

/** Where in the trace: `line 9, op 6`, or `op 6` when the line is not known. */
function at(op: number, line: number): string {
  return line > 0 ? `line ${line}, op ${op}` : `op ${op}`;
}

/**
 * How a replay ended, in full: ok, the program's death, a failed heap check, or allocations that
 * returned NULL (the trace's program got memory there: the replay diverged from it).
 */
export function outcome(r: ReplayResult): string {
  if (r.checkFailure) return `check failed after op ${r.checkFailure.op}: ${r.checkFailure.problems[0]}`;
  const parts: string[] = [];
  const f = r.failedAllocations;
  if (f)
    parts.push(
      `${f.count === 1 ? 'an allocation' : `${count(f.count)} allocations`} returned NULL (the first at ${at(f.first.op, f.first.line)}: ${bytes(f.first.size)})`,
    );
  if (r.died)
    parts.push(
      `${SIGNAL_NAMES[r.died.signal] ?? `signal ${r.died.signal}`} at ${at(r.died.op, r.died.line)}: ${r.died.reason}`,
    );
  return parts.length === 0 ? 'ok' : parts.join('; ');
}
