#!/usr/bin/env node
/**
 * The `vmscope` program as built (scripts/bundle-cli.mjs makes this dist/cli/main.js, and the CLI's
 * bundle dist/cli/cli.js): for a replay, it starts the trace reader's worker first (early-worker.ts),
 * before the main bundle is compiled and its modules run, then loads the CLI and runs it.
 */
import { replayReadsInWorker, startEarlyTraceWorker } from './early-worker.js';

if (replayReadsInWorker(process.argv.slice(2)))
  startEarlyTraceWorker(new URL('./trace-worker.js', import.meta.url));
// The bundle's name is only known once built: a computed specifier keeps tsc from resolving it.
const cli: typeof import('./main.js') = await import(new URL('./cli.js', import.meta.url).href);
cli.runAsCommand();
