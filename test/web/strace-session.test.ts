/**
 * A dropped strace log in the visualizer's engine: every memory call is a step with its arguments,
 * Linux's result and vmscope's; the state at any step is the CLI replay stopped there, whatever the
 * order of visits; at the end the first process shows the maps Linux recorded at its exit_group.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { expect } from 'vitest';
import { sysrootFiles } from '../../src/cli/strace.js';
import { readElf } from '../../src/kernel/exec/elf.js';
import type { Kernel } from '../../src/kernel/kernel.js';
import { formatMapsLine } from '../../src/report/procfs.js';
import { detectInputKind } from '../../src/workload/kind.js';
import { StraceSession } from '../../web/src/engine/strace.js';
import { corpusPath, describeCorpus, testCorpus } from '../corpus.js';
import { binaryPath, logPath, normalizeMaps, recordedMaps, replayCase } from '../sim/strace-cases.js';

/** What a person drops: the log's program and its interpreter, by their file names. */
function dropped(name: string): { name: string; bytes: Uint8Array }[] {
  const prog = new Uint8Array(gunzipSync(readFileSync(binaryPath(name))));
  const interp = readElf(prog, 'prog').interp;
  const files: { name: string; bytes: Uint8Array }[] = [{ name: 'prog', bytes: prog }];
  if (interp !== null) {
    const bytes = sysrootFiles(corpusPath('elf', 'sysroot'), null).interpreter(interp).bytes;
    files.push({ name: interp.slice(interp.lastIndexOf('/') + 1), bytes });
  }
  return files;
}

function mapsOf(k: Kernel): string[] {
  const [main] = k.live();
  return main === undefined ? [] : normalizeMaps(k.maps(main).map(formatMapsLine).join('\n'));
}

/** A folder's files as the page holds a dropped folder: each named by its path, the folder's name first. */
function folderFiles(dir: string, as: string): { name: string; bytes: Uint8Array }[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => {
      const path = join(e.parentPath, e.name);
      return { name: `${as}/${relative(dir, path)}`, bytes: new Uint8Array(readFileSync(path)) };
    });
}

/** Maps compared without the interpreter's name (dropped files carry no directory, no symbolic link). */
const nameless = (lines: string[]) =>
  lines.map((l) => (/ld-linux/.test(l) ? l.replace(/ \S*ld-linux\S*$/, ' ld.so') : l));

describeCorpus('an strace log dropped on the visualizer', () => {
  testCorpus.each(['hello-pie', 'mallocs-m32', 'bigdata-static-pie', 'fork-cow-a-pie', 'file-map-a-nopie'])(
    '%s: each call a step with Linux and vmscope agreeing; the end is the recorded exit',
    (name) => {
      const text = readFileSync(logPath(name), 'utf8');
      expect(detectInputKind(new TextEncoder().encode(text.slice(0, 65536)), 'strace.txt')).toBe('strace');
      const s = new StraceSession('strace.txt', text, dropped(name));
      const run = s.run();
      expect(run.runError).toBeNull();
      expect(run.bug).toBeNull();
      const { summary } = replayCase(name);
      // Every compared call is a step's check, and they all agree as in the CLI's replay.
      expect(run.passed).toBe(summary.agree);
      expect(run.failed).toBe(0);
      const compared = run.steps.filter((st) => st.kind === 'strace-compared');
      expect(compared.length).toBeGreaterThan(0);
      expect(run.steps.length).toBe(
        compared.length + run.steps.filter((st) => st.kind === 'strace-applied').length,
      );
      const execve = run.steps[0]!;
      expect(execve.text).toMatch(/^execve\("/);
      expect(execve.events.some((e) => e.type === 'vma-map')).toBe(true);
      const mapping = run.steps.find((st) => /^(mmap2?|brk)\(/.test(st.text) && st.verdict !== null)!;
      expect(mapping.result).toMatch(/^Linux: 0x[0-9a-f]+ · vmscope: 0x[0-9a-f]+$/);
      expect(mapping.verdict).toEqual({
        ok: true,
        actual: mapping.verdict!.expected,
        expected: expect.stringMatching(/^0x/),
      });
      if (mapping.text.startsWith('mmap'))
        expect(mapping.focus?.va).toBe(Number.parseInt(mapping.verdict!.actual, 16));
      // Each step sits on its call's line of the log.
      const lines = text.split('\n');
      for (const st of run.steps) expect(lines[st.line - 1]).toContain(/^(--- \w+|\w+\()/.exec(st.text)![1]);
      // At the end the first process is kept at its exit_group: the maps Linux recorded there.
      const end = s.kernelAt(run.steps.length);
      if (!name.includes('-a-')) expect(nameless(mapsOf(end))).toEqual(nameless(recordedMaps(name)));
    },
  );

  testCorpus.each(['mallocs-pie', 'fork-cow-a-nopie'])(
    '%s: time travel: the state at a step is the CLI replay stopped before the next, in any order',
    (name) => {
      const text = readFileSync(logPath(name), 'utf8');
      const files = dropped(name);
      const s = new StraceSession('strace.txt', text, files);
      const run = s.run();
      const last = run.steps.length;
      const order = [last, 5, 1, Math.floor(last / 2), 0, last - 1, 5, 2];
      for (const p of order) {
        const view = s.stateAt(p, null);
        expect(view.position).toBe(p);
        // The log up to the line before the next step's call.
        const stop = p < last ? { line: run.steps[p]!.line - 1 } : null;
        const cli = replayCase(name, {
          stop,
          files: {
            ...sysrootFiles(corpusPath('elf', 'sysroot'), null),
            program: (path) => ({ path, bytes: files[0]!.bytes }),
            resolve: (x) => x,
          },
        });
        const main = cli.summary.processes[0];
        const expected = p === 0 ? [] : normalizeMaps((main?.maps ?? []).map(formatMapsLine).join('\n'));
        expect(nameless(mapsOf(s.kernelAt(p))), `position ${p}`).toEqual(nameless(expected));
        if (p > 0) expect(view.procs.map((x) => x.name)).toContain('prog');
      }
    },
  );

  testCorpus('without the program dropped, the run says which files to drop', () => {
    const s = new StraceSession('strace.txt', readFileSync(logPath('hello-pie'), 'utf8'));
    const run = s.run();
    expect(run.steps).toEqual([]);
    expect(run.runError?.message).toMatch(
      /cannot load the program \/tmp\/memsim\/prog: .*not among the files dropped on the page: drop prog \(or prog\.gz\) with the log, and for a dynamically linked program its interpreter too/,
    );
    expect(run.runError?.line).toBe(1);
    // With the program but not its interpreter, it names the interpreter.
    const prog = dropped('hello-pie').slice(0, 1);
    const half = new StraceSession('strace.txt', readFileSync(logPath('hello-pie'), 'utf8'), prog).run();
    expect(half.runError?.message).toMatch(
      /\/lib64\/ld-linux-x86-64\.so\.2: the program's interpreter \(PT_INTERP\) is not among the files dropped on the page: drop ld-linux-x86-64\.so\.2/,
    );
  });

  testCorpus.each(['mallocs-m32', 'hello-pie'])(
    '%s: a dropped sysroot folder gives the interpreter by its links, named in the maps as on Linux',
    (name) => {
      const root = corpusPath('elf', 'sysroot');
      const folder = folderFiles(root, 'sysroot');
      const files = [...folder, dropped(name)[0]!];
      const s = new StraceSession('strace.txt', readFileSync(logPath(name), 'utf8'), files);
      const run = s.run();
      expect(run.runError).toBeNull();
      expect(run.failed).toBe(0);
      expect(run.passed).toBe(replayCase(name).summary.agree);
      expect(mapsOf(s.kernelAt(run.steps.length))).toEqual(recordedMaps(name));
    },
  );

  testCorpus(
    'a line that is not strace output is an input error at its line, the steps before it kept',
    () => {
      const text = readFileSync(logPath('hello-pie'), 'utf8').split('\n');
      const bad = text.findIndex((l) => /munmap\(/.test(l));
      text.splice(bad, 0, '7801  mmap(NULL, 8192, PROT_READ|PROT_WRITE');
      const s = new StraceSession('strace.txt', text.join('\n'), dropped('hello-pie'));
      const run = s.run();
      expect(run.runError?.line).toBe(bad + 1);
      expect(run.steps.length).toBeGreaterThan(1);
      expect(run.steps.every((st) => st.line <= bad)).toBe(true);
      expect(s.stateAt(run.steps.length, null).procs.length).toBe(1);
    },
  );
});
