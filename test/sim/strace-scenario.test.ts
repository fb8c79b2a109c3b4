/**
 * The scenario statement `strace NAME LOG [exe=PROGRAM] [at=…]`: a process that lives a recorded
 * log's life on the scenario's kernel and stays there, at its exit_group or at `at=`, for `show` and
 * `expect` (and the divergences of its replay, `expect NAME divergences == 0`).
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { InputError, InputErrors } from '../../src/base/errors.js';
import { sysrootFiles } from '../../src/cli/strace.js';
import type { ExecFileSource } from '../../src/kernel/exec/vfs.js';
import { formatMapsLine } from '../../src/report/procfs.js';
import { runScenario } from '../../src/sim/scenario-runner.js';
import { parseScenario } from '../../src/workload/scenario/parse.js';
import { corpusPath, describeCorpus, testCorpus } from '../corpus.js';
import { normalizeMaps } from './strace-cases.js';

const fixture = (file: string) => new URL(`../fixtures/strace/files/${file}`, import.meta.url);

function files(): ExecFileSource {
  const sysroot = sysrootFiles(corpusPath('elf', 'sysroot'), null);
  const prog = new Uint8Array(gunzipSync(readFileSync(fixture('prog.gz'))));
  return {
    openProgram: (path) => {
      if (path !== 'files') throw new Error(`unexpected program ${path}`);
      return { path: '/tmp/vmscope-fx/files', bytes: prog };
    },
    openInterpreter: (path) => sysroot.interpreter(path),
  };
}

function run(text: string) {
  const log = new Uint8Array(readFileSync(fixture('strace.txt')));
  return runScenario(parseScenario('t.vms', text), {
    check: true,
    files: files(),
    readTrace: (path) => {
      if (path !== 'files.strace') throw new Error(`unexpected log ${path}`);
      return log;
    },
  });
}

describe('strace statement: parsing', () => {
  test('at= takes a log line or NAME:K (# would start a comment); anything else is an error at its column', () => {
    const ok = parseScenario('t.vms', 'strace P log.txt exe=prog at=mmap:12\nstrace Q log.txt at=40');
    expect(ok.statements.map((s) => (s.kind === 'strace' ? [s.name, s.path, s.exe, s.at] : null))).toEqual([
      ['P', 'log.txt', 'prog', 'mmap:12'],
      ['Q', 'log.txt', null, '40'],
    ]);
    for (const bad of ['at=0', 'at=mmap:0', 'at=mmap', 'at=-3']) {
      let message = '';
      try {
        parseScenario('t.vms', `strace P log.txt ${bad}`);
      } catch (e) {
        if (e instanceof InputErrors) message = e.errors[0]!.format();
        else if (e instanceof InputError) message = e.format();
      }
      expect(message).toBe(
        `t.vms:1:18: error: expected at=N (a log line) or at=NAME:K (the K-th call NAME), got '${bad}'`,
      );
    }
  });

  test('without a log it says what it expected', () => {
    let message = '';
    try {
      parseScenario('t.vms', 'strace P');
    } catch (e) {
      if (e instanceof InputErrors) message = e.errors[0]!.format();
      else if (e instanceof InputError) message = e.format();
    }
    expect(message).toMatch(/^t\.vms:1:9: error: expected an strace log/);
  });
});

describeCorpus('strace statement: a recorded program on the scenario kernel', () => {
  testCorpus("the process stays at its exit_group with Linux's maps; later statements act on it", () => {
    const r = run(`machine x86_64 ram=64MiB
strace P files.strace exe=files
expect P divergences == 0
expect P state == running
P: mmap m 8K rw- private
P: write m 8K
P: exit
expect P state == exited
`);
    expect(r.failed).toBe(0);
    expect(r.passed).toBe(3);
    const st = r.steps[0]!;
    expect(st.outcome.kind).toBe('strace');
    if (st.outcome.kind !== 'strace') return;
    expect(st.outcome.calls).toBeGreaterThan(20);
    expect(st.outcome.agree).toBe(st.outcome.calls);
    expect(r.kernel.check()).toEqual([]);
  });

  testCorpus('at= stops the life there: the maps are those of that moment, not of the exit', () => {
    const atExit = run('machine x86_64 ram=64MiB\nstrace P files.strace exe=files');
    const early = run('machine x86_64 ram=64MiB\nstrace P files.strace exe=files at=mmap:3');
    const maps = (rr: typeof atExit) =>
      normalizeMaps(
        rr.kernel
          .maps(rr.kernel.live()[0]!)
          .map((l) => formatMapsLine(l))
          .join('\n'),
      );
    expect(normalizeMaps(readFileSync(fixture('maps-exit.txt'), 'utf8'))).toEqual(maps(atExit));
    // After the third mmap the loader has mapped ld.so.cache and only the start of libc.
    expect(maps(early).filter((l) => l.includes('libc.so.6'))).toHaveLength(1);
    expect(maps(early).some((l) => l.endsWith('/etc/ld.so.cache'))).toBe(true);
  });
});
