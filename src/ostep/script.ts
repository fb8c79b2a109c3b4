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
  private buffer: string[] = [];
  private buffered = 0;

  constructor(host: Host, sink: Sink, options: RunOptions) {
    this.host = host;
    this.sink = sink;
    this.explain = options.explain ?? false;
  }

  /** Python's `print(*parts)`: parts joined by a space, then `end`. */
  print(...parts: string[]): void {
    this.write(`${parts.join(' ')}\n`);
  }

  /** `print(text, end='')`. */
  write(text: string): void {
    this.buffer.push(text);
    this.buffered += text.length;
    if (this.buffered > 1 << 16) this.flush();
  }

  /** With `--explain`: lines of explanation, each printed as `    | line`. */
  note(lines: readonly string[]): void {
    if (!this.explain) return;
    for (const line of lines) this.write(`    | ${line}\n`);
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
  const ctx = new Ctx(host, sink, options);
  try {
    const { values } = parseArgs(progName(script), script.options, argv, host.columns);
    script.main(ctx, values);
    ctx.flush();
    return 0;
  } catch (e) {
    if (!(e instanceof PyExit)) throw e;
    ctx.flush();
    if (e.stdout) sink.out(e.stdout);
    if (e.stderr) sink.err(e.stderr);
    return e.status;
  }
}

/**
 * Where the Python script would loop forever (its retry loop can never succeed with these
 * arguments), vmscope stops instead: a message on stderr and status 2, as for any bad flag.
 */
export function noTermination(prog: string, why: string): never {
  throw new PyExit(2, { stderr: `vmscope ostep: ${prog} would loop forever here: ${why}\n` });
}
