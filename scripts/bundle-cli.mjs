/**
 * `node scripts/bundle-cli.mjs [DIR]`: bundles the compiled CLI (DIR/cli/main.js; DIR is `dist` by
 * default) into DIR/cli/cli.js, one file holding it and every vmscope module it imports, so that a
 * command starts by compiling one module instead of resolving, reading and compiling some 190 (about
 * 0.1 s of every command's start-up: a replay of a 100-line trace took 0.24 s, now 0.14 s). The
 * program, DIR/cli/main.js, becomes the small launcher (launch.ts) that loads cli.js.
 *
 * The worker threads' entries (trace-worker.js, mrc-thread.js), which are loaded by URL beside the
 * entry, are bundled the same way, each on its own: a trace read ahead in a worker waited for the
 * worker to resolve and compile its ~20 modules before the first access (about 0.2 s of wall time
 * on a loaded machine, a policy-only replay of a one-line trace 0.57 -> 0.3x s).
 *
 * Packages stay imports (they resolve from node_modules as before). Every `import.meta.url` the CLI
 * reads is in src/cli, whose compiled files sit where the bundles do, so the paths they resolve (web
 * assets, examples, workers) are unchanged.
 * The source map chains to the TypeScript sources through tsc's maps.
 */
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const dir = process.argv[2] ?? 'dist';
// [entry, bundle]: the CLI becomes cli.js, and main.js the launcher (src/cli/launch.ts) that starts a
// replay's trace worker before it loads cli.js: the worker's boot overlaps the CLI's (0.05-0.07 s of
// a replay's wall time).
for (const [name, out] of [
  ['main.js', 'cli.js'],
  ['launch.js', 'main.js'],
  ['trace-worker.js', 'trace-worker.js'],
  ['mrc-thread.js', 'mrc-thread.js'],
]) {
  const entry = join(dir, 'cli', name);
  await build({
    entryPoints: [entry],
    outfile: join(dir, 'cli', out),
    allowOverwrite: true,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: true,
    logLevel: 'warning',
  });
}
// The launcher is the package's `bin` (and is run as ./dist/cli/main.js): keep it executable.
chmodSync(join(dir, 'cli', 'main.js'), 0o755);
