/** `vmscope tour`: the bundled examples, one per duty of the memory manager, narrated in turn. */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseScenario } from '../workload/scenario/parse.js';
import { colors, EXIT_FAILED, EXIT_OK, type Io } from './io.js';
import { readTextFile, runParsed } from './run.js';

/** The examples folder shipped with the package (next to src/ and dist/). */
export function examplesDir(): string {
  return fileURLToPath(new URL('../../examples/', import.meta.url));
}

/** Example scenarios in tour order (their file names start with a number). */
export function exampleFiles(): string[] {
  const dir = examplesDir();
  return readdirSync(dir)
    .filter((f) => f.endsWith('.vms'))
    .sort()
    .map((f) => `${dir}${f}`);
}

/**
 * Runs every example in turn, each statement under the comments written above it (they are the
 * lesson). `brief`: the comments and each statement's result, without the event-by-event narration.
 */
export function runTour(flags: { check: boolean; brief?: boolean }, io: Io): number {
  const c = colors(io);
  const files = exampleFiles();
  let failed = 0;
  for (const [i, file] of files.entries()) {
    const text = readTextFile(file);
    const title = /^#\s*(.*)$/m.exec(text)?.[1] ?? file;
    io.out(`${c.bold(`\n=== ${i + 1}/${files.length}: ${title}`)}\n${c.dim(file)}\n`);
    // The title line was just printed: the lesson starts after it.
    const lesson = text.replace(/^#.*$/m, '');
    const status = runParsed(
      parseScenario(file, text),
      { check: flags.check, lesson, brief: flags.brief ?? false },
      io,
    );
    if (status !== EXIT_OK) failed++;
  }
  io.out(
    `\nTour done: ${files.length - failed} of ${files.length} examples ran with every expectation holding.\n`,
  );
  io.out(
    'Next: write your own scenario (see README, "Scenario scripts") and run it with `vmscope run FILE`.\n',
  );
  return failed > 0 ? EXIT_FAILED : EXIT_OK;
}
