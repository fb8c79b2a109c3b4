/**
 * `npm run fuzz [-- --seconds N] [--target NAME] [--seed N]`: the fuzz targets of test/fuzz for a
 * longer run than `npm test` gives them, from a fresh seed each time (or the one given, to repeat a
 * run). For each target it prints how many inputs were tried, how many were accepted and refused,
 * and any failure: the shrunk input, the error, and the seed and path that replay it. Exit status 1
 * when any failure was found.
 */
import fc from 'fast-check';
import { describeThrown } from '../src/base/errors.js';
import { hasCorpus } from '../test/corpus-path.js';
import type { Outcome } from '../test/fuzz/harness.js';
import { TARGETS } from '../test/fuzz/targets.js';

interface Args {
  seconds: number;
  target: string | null;
  seed: number | null;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { seconds: 60, target: null, seed: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) usage(`${a} needs a value`);
      return v;
    };
    if (a === '--seconds') args.seconds = Number(value());
    else if (a === '--target') args.target = value();
    else if (a === '--seed') args.seed = Number(value());
    else if (a === '--help' || a === '-h') usage(null);
    else usage(`unknown option ${a}`);
  }
  if (!(args.seconds > 0)) usage('--seconds must be a positive number');
  if (args.seed !== null && !Number.isInteger(args.seed)) usage('--seed must be an integer');
  if (args.target !== null && !TARGETS.some((t) => t.name === args.target))
    usage(`no target ${args.target}; the targets are ${TARGETS.map((t) => t.name).join(', ')}`);
  return args;
}

function usage(problem: string | null): never {
  const out = problem === null ? process.stdout : process.stderr;
  if (problem !== null) out.write(`fuzz: error: ${problem}\n`);
  out.write(
    `usage: npm run fuzz -- [--seconds N] [--target NAME] [--seed N]\n` +
      `  --seconds N    time for the whole run, shared among the targets (default 60)\n` +
      `  --target NAME  one of ${TARGETS.map((t) => t.name).join(', ')}\n` +
      `  --seed N       repeat a run (each target's seed is printed)\n`,
  );
  process.exit(problem === null ? 0 : 2);
}

const args = parseArgs(process.argv.slice(2));
const chosen = TARGETS.filter((t) => args.target === null || t.name === args.target);
const runnable = chosen.filter((t) => !t.needsCorpus || hasCorpus);
for (const t of chosen)
  if (!runnable.includes(t))
    process.stdout.write(`${t.name}: skipped (it needs the corpus; set VMSCOPE_CORPUS)\n`);
const budgetMs = (args.seconds * 1000) / Math.max(1, runnable.length);
let failures = 0;
let tried = 0;
for (const target of runnable) {
  const seed = args.seed ?? (Math.random() * 2 ** 31) | 0;
  const seen: Record<Outcome, number> = { accepted: 0, rejected: 0 };
  const started = Date.now();
  // Counted until the first failure: the runs that shrink it are not new inputs.
  let failing = false;
  const details = fc.check(
    fc.property(target.input, (input) => {
      let outcome: Outcome;
      try {
        outcome = target.run(input);
      } catch (e) {
        failing = true;
        throw e;
      }
      if (!failing) seen[outcome]++;
    }),
    {
      seed,
      numRuns: Number.MAX_SAFE_INTEGER,
      interruptAfterTimeLimit: budgetMs,
      markInterruptAsFailure: false,
    },
  );
  const inputs = details.numRuns;
  tried += inputs;
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  process.stdout.write(
    `${target.name}: ${inputs} inputs in ${secs} s (${seen.accepted} accepted, ${seen.rejected} refused as input errors), ` +
      `${details.failed ? 'a failure' : 'no failure'} — seed ${seed}\n`,
  );
  if (details.failed) {
    failures++;
    const error = details.errorInstance;
    process.stdout.write(
      `  checks: ${target.checks}\n` +
        `  input (shrunk ${details.numShrinks} times): ${fc.stringify(details.counterexample?.[0])}\n` +
        (target.show && details.counterexample
          ? `  as a file:\n${target.show(details.counterexample[0] as never).replace(/^/gm, '    | ')}\n`
          : '') +
        `  ${describeThrown(error)}\n` +
        `  replay: npm run fuzz -- --target ${target.name} --seed ${seed}   (fast-check path ${details.counterexamplePath})\n`,
    );
  }
}
process.stdout.write(`${tried} inputs tried, ${failures} ${failures === 1 ? 'failure' : 'failures'} found\n`);
process.exit(failures > 0 ? 1 : 0);
