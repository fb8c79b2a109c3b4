/**
 * `npm run bench`: every benchmark, each reported against a baseline run in the same process, then
 * the table of goals with each figure and whether it is met. `npm run bench -- commands malloc` runs
 * only the sections named (translate, replay, policies, commands, malloc, fork, strace, webview, web).
 */
import { benchCommands } from './commands.js';
import { benchFork } from './fork.js';
import { goals, goalTable } from './harness.js';
import { benchMalloc } from './malloc.js';
import { benchPolicies } from './policies.js';
import { benchReplay } from './replay.js';
import { benchStrace } from './strace.js';
import { benchTranslate } from './translate.js';
import { benchWeb } from './web.js';
import { benchWebView } from './webview.js';

const sections: Record<string, () => string[] | Promise<string[]>> = {
  translate: benchTranslate,
  replay: benchReplay,
  policies: benchPolicies,
  commands: benchCommands,
  malloc: benchMalloc,
  fork: benchFork,
  strace: benchStrace,
  webview: benchWebView,
  web: benchWeb,
};
const wanted = process.argv.slice(2);
for (const w of wanted)
  if (!(w in sections)) throw new Error(`bench: no section '${w}' (${Object.keys(sections).join(', ')})`);

const started = performance.now();
console.log(`vmscope benchmarks — node ${process.version}, ${process.arch}\n`);
for (const [name, run] of Object.entries(sections)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  for (const line of await run()) console.log(line);
  console.log('');
}
console.log('goals');
for (const line of goalTable(goals)) console.log(line);
console.log(`\n(${((performance.now() - started) / 1000).toFixed(1)} s)`);
