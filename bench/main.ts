/** `npm run bench`: every benchmark, each reported against a baseline run in the same process. */
import { benchFork } from './fork.js';
import { benchMalloc } from './malloc.js';
import { benchPolicies } from './policies.js';
import { benchReplay } from './replay.js';
import { benchStrace } from './strace.js';
import { benchTranslate } from './translate.js';
import { benchWeb } from './web.js';

const started = performance.now();
console.log(`vmscope benchmarks — node ${process.version}, ${process.arch}\n`);
for (const line of benchTranslate()) console.log(line);
console.log('');
for (const line of benchReplay()) console.log(line);
console.log('');
for (const line of benchPolicies()) console.log(line);
console.log('');
for (const line of benchMalloc()) console.log(line);
console.log('');
for (const line of benchFork()) console.log(line);
console.log('');
for (const line of benchStrace()) console.log(line);
console.log('');
for (const line of await benchWeb()) console.log(line);
console.log(`\n(${((performance.now() - started) / 1000).toFixed(1)} s)`);
