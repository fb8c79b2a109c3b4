/** Every fuzz target, in the order `npm run fuzz` runs them. */
import { allocTarget } from './alloc.js';
import { execTarget } from './exec.js';
import type { FuzzTarget } from './harness.js';
import { scenarioTarget } from './scenario.js';
import { straceLogTarget, straceReplayTarget } from './strace.js';
import { binaryTraceTarget, lackeyTarget, pagesTarget } from './traces.js';

export const TARGETS: readonly FuzzTarget<never>[] = [
  lackeyTarget,
  pagesTarget,
  binaryTraceTarget,
  allocTarget,
  scenarioTarget,
  execTarget,
  straceLogTarget,
  straceReplayTarget,
] as unknown as readonly FuzzTarget<never>[];
