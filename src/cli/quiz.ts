/** `vmscope quiz TOPIC [-s SEED] [-c]`: seeded problems answered by the simulator (src/ostep/quiz.ts). */
import { findQuizTopic, QUIZ_TOPICS } from '../ostep/quiz.js';
import { EXIT_INPUT, EXIT_OK, type Io } from './io.js';

export function runQuiz(topic: string, opts: { seed: string; compute: boolean }, io: Io): number {
  const t = findQuizTopic(topic);
  if (t === null) {
    io.err(
      `vmscope quiz: error: unknown topic '${topic}'; expected one of ${QUIZ_TOPICS.map((q) => q.name).join(', ')}\n`,
    );
    return EXIT_INPUT;
  }
  const seed = /^\d{1,15}$/.test(opts.seed) ? Number(opts.seed) : Number.NaN;
  if (!Number.isSafeInteger(seed)) {
    io.err(`vmscope quiz: error: --seed: expected a non-negative integer, got '${opts.seed}'\n`);
    return EXIT_INPUT;
  }
  io.out(t.make({ seed, solve: opts.compute }));
  return EXIT_OK;
}

export const QUIZ_HELP = `\nTopics:\n${QUIZ_TOPICS.map((t) => `  ${t.name.padEnd(6)} ${t.summary}`).join('\n')}`;
