/**
 * An OSTEP command run in the page, with no worker: the emulation (src/ostep) is fast. The problem
 * is the command as given; the steps come from the same command with `-c` (added when missing) and
 * recorded explanations. The page has no files: `-f FILE` fails as a missing file would.
 */
import { joinArgs, splitArgs } from '../../../src/ostep/argv.js';
import { findScript, SCRIPTS } from '../../../src/ostep/index.js';
import { type OstepStep, runRecorded } from '../../../src/ostep/script.js';

export interface OstepSession {
  readonly command: string;
  /** What the command prints (stdout, then stderr). */
  readonly problem: string;
  readonly status: number;
  /** The solved run's steps (empty when the command failed before any answer). */
  readonly steps: readonly OstepStep[];
  /** The solved output (the header before the first answer). */
  readonly header: string;
  readonly error: string | null;
}

const NO_FILES = { columns: 80, readText: () => ({ errno: 'ENOENT' as const }) };

function capture(name: string, argv: string[], record: boolean) {
  let out = '';
  let err = '';
  const script = findScript(name)!;
  const r = runRecorded(
    script,
    argv,
    NO_FILES,
    { out: (t) => (out += t), err: (t) => (err += t) },
    { record },
  );
  return { ...r, out, err };
}

/** The solve flag of each script (`-c`, or its long form). */
function solves(argv: readonly string[]): boolean {
  return argv.some((a) =>
    a === '--' ? false : /^-[a-zA-Z]*c[a-zA-Z]*$/.test(a) || a === '--compute' || a === '--solve',
  );
}

export function openSession(command: string): OstepSession {
  const words = splitArgs(command.trim());
  const empty = { command, problem: '', status: 2, steps: [], header: '' };
  if (words === null) return { ...empty, error: 'unterminated quote' };
  const [name, ...argv] = words;
  if (name === undefined) return { ...empty, error: 'type an OSTEP command, e.g. paging-policy -s 3 -n 10' };
  if (findScript(name) === null)
    return {
      ...empty,
      error: `unknown script '${name}'; expected one of ${SCRIPTS.map((s) => s.name).join(', ')}`,
    };
  const plain = capture(name, argv, false);
  const solved = solves(argv) ? capture(name, argv, true) : capture(name, [...argv, '-c'], true);
  const answers = solved.steps.map((s) => s.answer).join('');
  const at = answers === '' ? -1 : solved.out.indexOf(answers);
  return {
    command: joinArgs(words),
    problem: plain.out + plain.err,
    status: plain.status,
    steps: solved.steps,
    header: at > 0 ? solved.out.slice(0, at) : '',
    error: null,
  };
}
