/** A tiny benchmark harness: best of several timed runs, reported as operations per second. */

export interface Measurement {
  readonly name: string;
  readonly opsPerSec: number;
  readonly ops: number;
  readonly checksum: number;
}

/** Runs `body(n)` (which performs n operations and returns a checksum) until ~`ms`, `rounds` times. */
export function measure(
  name: string,
  body: (n: number) => number,
  opts: { rounds?: number; ms?: number } = {},
): Measurement {
  const rounds = opts.rounds ?? 5;
  const ms = opts.ms ?? 300;
  // Calibrate the batch size so one batch takes ~ms.
  let n = 1 << 16;
  let checksum = body(n);
  for (;;) {
    const t0 = performance.now();
    checksum = body(n);
    const dt = performance.now() - t0;
    if (dt >= ms / 4 || n >= 1 << 30) break;
    n *= 4;
  }
  let best = 0;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    checksum = body(n);
    const dt = (performance.now() - t0) / 1000;
    best = Math.max(best, n / dt);
  }
  return { name, opsPerSec: best, ops: n, checksum };
}

export function mops(x: number): string {
  return `${(x / 1e6).toFixed(1)} M/s`;
}

/** xorshift32: a fixed pseudo-random sequence of 32-bit unsigned integers, the same on every run. */
export function xorshift32(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

/** One line of the goals table `npm run bench` ends with. `met` null: not measured (and why, in the figure). */
export interface GoalRow {
  readonly goal: string;
  readonly figure: string;
  readonly met: boolean | null;
}

/** Every goal the sections measured, in order. */
export const goals: GoalRow[] = [];

export function recordGoal(goal: string, figure: string, met: boolean | null): void {
  goals.push({ goal, figure, met });
}

/** The goals as a table. */
export function goalTable(rows: readonly GoalRow[]): string[] {
  const w1 = Math.max(4, ...rows.map((r) => r.goal.length));
  const w2 = Math.max(6, ...rows.map((r) => r.figure.length));
  const line = (a: string, b: string, c: string) => `  ${a.padEnd(w1)}  ${b.padEnd(w2)}  ${c}`;
  return [
    line('goal', 'figure', ''),
    line('-'.repeat(w1), '-'.repeat(w2), '-------'),
    ...rows.map((r) => line(r.goal, r.figure, r.met === null ? 'skipped' : r.met ? 'met' : 'NOT met')),
  ];
}
