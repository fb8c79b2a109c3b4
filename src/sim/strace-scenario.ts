/**
 * The scenario statement `strace NAME LOG [exe=PROGRAM] [at=…]`: a process that lives the log's life
 * on the scenario's kernel, left running where the log's first process reached its exit_group (or
 * `at=`), so that later statements can look at it (`show NAME maps`, `expect NAME VmSize …`) and act.
 */
import type { ExecFileSource } from '../kernel/exec/vfs.js';
import type { Kernel } from '../kernel/kernel.js';
import type { Process } from '../kernel/process.js';
import { StraceParser } from '../workload/strace/parser.js';
import type { StraceSummary } from './strace-model.js';
import { parseStopAt, type StraceFiles, StraceReplay } from './strace-replay.js';

export interface StraceStatement {
  readonly name: string;
  readonly path: string;
  readonly exe: string | null;
  readonly at: string | null;
}

/**
 * Replays the log `bytes` (read from `st.path`) on `kernel`. The program the log's first execve ran is
 * `st.exe` (opened as the scenario opens programs) or that path inside the sysroot; interpreters come
 * from the sysroot. @returns the first process (null when the log never ran a program) and the
 * replay's summary. @throws InputError for a broken log or a missing program.
 */
export function replayStraceStatement(
  kernel: Kernel,
  files: ExecFileSource,
  bytes: Uint8Array,
  st: StraceStatement,
): { proc: Process | null; summary: StraceSummary } {
  let first: string | null = null;
  const straceFiles: StraceFiles = {
    program(path) {
      first ??= path;
      if (st.exe !== null && path === first) return { path, bytes: files.openProgram(st.exe).bytes };
      return files.openInterpreter(path);
    },
    interpreter: (path) => files.openInterpreter(path),
  };
  const replay = new StraceReplay(st.path, {
    files: straceFiles,
    kernel,
    keepMain: true,
    name: st.name,
    stop: st.at === null ? null : parseStopAt(st.at),
  });
  const parser = new StraceParser(st.path, (e) => {
    replay.feed(e);
  });
  parser.push(bytes);
  if (replay.stopped === null) parser.end();
  return { proc: replay.mainProcess(), summary: replay.finish() };
}
