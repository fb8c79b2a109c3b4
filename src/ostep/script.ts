/**
 * What every emulated OSTEP script shares: its command line (optparse), an output that behaves as
 * Python's `print`, the host it reads files from, and the `--explain` notes. `runScript` runs one
 * and turns however it ended (normally, `exit(n)`, an exception, optparse) into an exit status.
 */
import { type OptionSpec, parseArgs, type Values } from './optparse.js';
import { PyExit, pyRaise, pyRepr } from './python.js';

/** What the emulation needs from the machine it runs on (the CLI gives files; the browser none). */
export interface Host {
  /**
   * The text of the file at `path` (relative to the working directory), or why it cannot be read.
   */
  readText(path: string): string | { readonly errno: 'ENOENT' | 'EISDIR' | 'EACCES' };
  /** The terminal width optparse wraps `-h` to (it reads `COLUMNS`, else 80). */
  readonly columns: number;
}

/** Where a run writes. */
export interface Sink {
  out(text: string): void;
  err(text: string): void;
}

export interface RunOptions {
  /** Add vmscope's explanation after each answer (`--explain`). */
  readonly explain?: boolean;
  /** Collect the answers as steps (`OstepStep`), for the visualizer. */
  readonly record?: boolean;
}

/** What the visualizer draws beside a step. */
export type StepState =
  | {
      readonly kind: 'memory';
      /** Resident pages after the access, in the script's order. */
      readonly pages: readonly string[];
      readonly capacity: number;
      readonly page: string;
      readonly hit: boolean;
      readonly victim: string | null;
    }
  | {
      readonly kind: 'heap';
      readonly base: number;
      readonly size: number;
      /** [addr, size] pairs in list order. */
      readonly free: readonly (readonly [number, number])[];
      /** Allocated blocks: [addr, size]. */
      readonly used: readonly (readonly [number, number])[];
    }
  | {
      readonly kind: 'walk';
      readonly va: number;
      readonly levels: readonly {
        readonly name: string;
        readonly tablePfn: number;
        readonly index: number;
        readonly entryPa: number;
        readonly entry: number;
        readonly valid: boolean;
      }[];
      readonly pa: number | null;
      readonly value: number | null;
    }
  | {
      readonly kind: 'segments';
      readonly va: number;
      readonly asize: number;
      readonly psize: number;
      /** Physical ranges [lo, hi) of the segments. */
      readonly segments: readonly { readonly name: string; readonly lo: number; readonly hi: number }[];
      readonly pa: number | null;
    };

/** One answer of a run: the lines it printed, vmscope's explanation, and a picture of the state. */
export interface OstepStep {
  readonly answer: string;
  readonly explain: readonly string[];
  readonly state: StepState | null;
}

/** One of OSTEP's homework scripts, emulated. */
export interface Script {
  /** The name on vmscope's command line: `paging-policy`. */
  readonly name: string;
  /** Its folder and file in ostep-homework: `vm-beyondphys-policy/paging-policy.py`. */
  readonly path: string;
  readonly summary: string;
  readonly options: readonly OptionSpec[];
  main(ctx: Ctx, values: Values): void;
}

/** The running script's view of the world. */
export class Ctx {
  readonly host: Host;
  readonly explain: boolean;
  private readonly sink: Sink;
  /** The answers so far, with `record`. */
  readonly steps: OstepStep[] = [];
  private readonly record: boolean;
  private buffer: string[] = [];
  private buffered = 0;
  /** What was printed since the last step (with `record`). */
  private pending = '';

  constructor(host: Host, sink: Sink, options: RunOptions) {
    this.host = host;
    this.sink = sink;
    this.explain = options.explain ?? false;
    this.record = options.record ?? false;
  }

  /** True when steps are explained or recorded: the scripts then compute what they show. */
  get stepping(): boolean {
    return this.explain || this.record;
  }

  /** Python's `print(*parts)`: parts joined by a space, then `end`. */
  print(...parts: string[]): void {
    this.write(`${parts.join(' ')}\n`);
  }

  /** `print(text, end='')`. */
  write(text: string): void {
    if (this.record) this.pending += text;
    this.buffer.push(text);
    this.buffered += text.length;
    if (this.buffered > 1 << 16) this.flush();
  }

  /** Answers start here: what was printed so far (the problem's header) is no step's answer. */
  beginAnswers(): void {
    this.pending = '';
  }

  /**
   * An answer is complete: with `--explain` its explanation is printed (each line as `    | line`);
   * with `record` the lines printed since the last step become a step.
   */
  step(explain: readonly string[], state: StepState | null = null): void {
    if (this.record) {
      this.steps.push({ answer: this.pending, explain, state });
      this.pending = '';
    }
    if (this.explain) for (const line of explain) this.write(`    | ${line}\n`);
    if (this.record) this.pending = '';
  }

  flush(): void {
    if (this.buffer.length === 0) return;
    this.sink.out(this.buffer.join(''));
    this.buffer = [];
    this.buffered = 0;
  }

  /** `open(path).read()`, raising the OSError Python would. */
  readFile(path: string): string {
    const text = this.host.readText(path);
    if (typeof text === 'string') return text;
    const [type, errno, what] =
      text.errno === 'ENOENT'
        ? ['FileNotFoundError', 2, 'No such file or directory']
        : text.errno === 'EISDIR'
          ? ['IsADirectoryError', 21, 'Is a directory']
          : ['PermissionError', 13, 'Permission denied'];
    return pyRaise(type, `[Errno ${errno}] ${what}: ${pyRepr(path)}`);
  }
}

/** The program name optparse prints: the script's basename. */
export function progName(script: Script): string {
  return script.path.slice(script.path.lastIndexOf('/') + 1);
}

/**
 * Runs `script` with its command-line arguments.
 * @returns the exit status Python would give (0, 1 for `exit(1)` or an exception, 2 for a flag error).
 */
export function runScript(
  script: Script,
  argv: readonly string[],
  host: Host,
  sink: Sink,
  options: RunOptions = {},
): number {
  return runRecorded(script, argv, host, sink, options).status;
}

/** {@link runScript}, also giving the steps (with `record`). */
export function runRecorded(
  script: Script,
  argv: readonly string[],
  host: Host,
  sink: Sink,
  options: RunOptions = {},
): { status: number; steps: OstepStep[] } {
  const ctx = new Ctx(host, sink, options);
  try {
    const { values } = parseArgs(progName(script), script.options, argv, host.columns);
    script.main(ctx, values);
    ctx.flush();
    return { status: 0, steps: ctx.steps };
  } catch (e) {
    if (!(e instanceof PyExit)) throw e;
    ctx.flush();
    if (e.stdout) sink.out(e.stdout);
    if (e.stderr) sink.err(e.stderr);
    return { status: e.status, steps: ctx.steps };
  }
}

/**
 * Where the Python script would loop forever (its retry loop can never succeed with these
 * arguments), vmscope stops instead: a message on stderr and status 2, as for any bad flag.
 */
export function noTermination(prog: string, why: string): never {
  throw new PyExit(2, { stderr: `vmscope ostep: ${prog} would loop forever here: ${why}\n` });
}
