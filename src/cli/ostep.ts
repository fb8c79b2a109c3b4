/**
 * `vmscope ostep SCRIPT [--explain] [--open] [SCRIPT'S FLAGS]`: OSTEP's homework scripts, emulated
 * byte for byte (src/ostep). Files named on the script's command line are read relative to the
 * working directory, as Python would; `COLUMNS` sets the width of `-h`, as for optparse.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { joinArgs } from '../ostep/argv.js';
import { findScript, type Host, runScript, SCRIPTS } from '../ostep/index.js';
import { parsePyInt } from '../ostep/python.js';
import { EXIT_INPUT, EXIT_OK, type Io } from './io.js';
import { startServer } from './serve.js';

export const OSTEP_USAGE = `Usage: vmscope ostep SCRIPT [--explain] [--open] [the script's own flags]

Runs one of OSTEP's virtual-memory homework scripts (ostep-homework) with the same flags, the same
output byte for byte and the same exit status. vmscope's own flags come right after SCRIPT:
  --explain   after each answer, the steps that lead to it on vmscope's machine
  --open      show the problem in the browser visualizer (vmscope serve), steppable

Scripts:
${SCRIPTS.map((s) => `  ${s.name.padEnd(28)}${s.path.padEnd(46)}${s.summary}`).join('\n')}
`;

/** The host the emulated scripts see: this process's files and COLUMNS. */
export function nodeHost(cwd: string = process.cwd()): Host {
  const columns = parsePyInt(process.env['COLUMNS'] ?? '', 10);
  return {
    columns: columns === null ? 80 : Number(columns),
    readText(path) {
      try {
        return readFileSync(resolve(cwd, path), 'utf8');
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        return { errno: code === 'EISDIR' ? 'EISDIR' : code === 'EACCES' ? 'EACCES' : 'ENOENT' };
      }
    },
  };
}

/** What `vmscope ostep` was asked: the script, vmscope's own flags, and the script's arguments. */
export interface OstepCommand {
  readonly script: string;
  readonly explain: boolean;
  readonly open: boolean;
  readonly argv: readonly string[];
}

/** Splits `SCRIPT [--explain] [--open] ARGS…`. @returns null when no script is named. */
export function parseOstepCommand(args: readonly string[]): OstepCommand | null {
  const [script, ...rest] = args;
  if (script === undefined || script.startsWith('-')) return null;
  let explain = false;
  let open = false;
  let i = 0;
  for (; i < rest.length; i++) {
    if (rest[i] === '--explain') explain = true;
    else if (rest[i] === '--open') open = true;
    else break;
  }
  return { script, explain, open, argv: rest.slice(i) };
}

/**
 * Runs `vmscope ostep …`. @returns the script's exit status (2 for an unknown script).
 * `openVisualizer` is called for `--open` with the command to show.
 */
export async function runOstep(
  args: readonly string[],
  io: Io,
  host: Host = nodeHost(),
  openVisualizer?: (command: OstepCommand) => Promise<number>,
): Promise<number> {
  const cmd = parseOstepCommand(args);
  if (cmd === null) {
    if (args[0] === '-h' || args[0] === '--help') {
      io.out(OSTEP_USAGE);
      return 0;
    }
    io.err(`vmscope ostep: error: name a script\n\n${OSTEP_USAGE}`);
    return EXIT_INPUT;
  }
  const script = findScript(cmd.script);
  if (script === null) {
    io.err(
      `vmscope ostep: error: unknown script '${cmd.script}'; expected one of ${SCRIPTS.map((s) => s.name).join(', ')}\n`,
    );
    return EXIT_INPUT;
  }
  if (cmd.open) return (openVisualizer ?? ((c) => serveOstep(c, io)))(cmd);
  return runScript(
    script,
    cmd.argv,
    host,
    { out: (t) => io.out(t), err: (t) => io.err(t) },
    { explain: cmd.explain },
  );
}

/** The visualizer's URL path for an OSTEP command (`ostep.html#cmd=…`). */
export function ostepPagePath(cmd: OstepCommand): string {
  return `ostep.html#${new URLSearchParams({ cmd: joinArgs([cmd.script, ...cmd.argv]) }).toString()}`;
}

/**
 * `--open`: serves the visualizer on 127.0.0.1 (a free port) and prints the URL of the command's
 * page; serves until SIGINT or SIGTERM (or `until`, for tests). @returns 0, or 1 when the app is
 * not built.
 */
export async function serveOstep(cmd: OstepCommand, io: Io, until?: Promise<void>): Promise<number> {
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer({ port: 0 });
  } catch (e) {
    io.err(`vmscope ostep --open: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  io.out(`vmscope visualizer: ${server.url}${ostepPagePath(cmd)}\nPress Ctrl+C to stop.\n`);
  await new Promise<void>((done) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      done();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    until?.then(stop);
  });
  await server.close();
  return EXIT_OK;
}
