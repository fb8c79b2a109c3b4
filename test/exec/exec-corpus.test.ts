/**
 * execve against the Linux kernel's own record: for every corpus case, vmscope loads the binary with
 * the recorded argv, environment and exec path, and must produce the same /proc/PID/maps (start, end,
 * perms, offset, name; not device and inode) and the same initial stack, byte for byte except the 16
 * AT_RANDOM bytes, which the kernel draws afresh on every run.
 */
import { expect, test } from 'vitest';
import { hostFileSource } from '../../src/cli/vfs.js';
import { Machine } from '../../src/hw/machine.js';
import { type ExecResult, execve } from '../../src/kernel/exec/load.js';
import type { ExecFileSource } from '../../src/kernel/exec/vfs.js';
import { Kernel } from '../../src/kernel/kernel.js';
import { formatMapsLine } from '../../src/report/procfs.js';
import { corpusPath, describeCorpus } from '../corpus.js';
import { CASES, caseBinary, caseBytes, caseJson, caseText } from './cases.js';

/** start-end perms offset name: the columns the kernel's choice decides. */
function normalize(line: string): string {
  const f = line.trim().split(/\s+/);
  return [f[0], f[1], f[2], f[5] ?? ''].join(' ');
}

function execCase(name: string, kernel = new Kernel(new Machine({ arch: 'x86_64', ramBytes: 64 << 20 }))) {
  const c = caseJson(name);
  const interpreters = hostFileSource(corpusPath('elf', 'sysroot'));
  const files: ExecFileSource = {
    openProgram: (path) => ({ path, bytes: caseBinary(name) }),
    openInterpreter: (path) => interpreters.openInterpreter(path),
  };
  const r = execve(kernel, { path: c.run.exec_path, argv: c.run.argv, envp: c.run.env, files });
  if (typeof r === 'number') throw new Error(`exec failed: ${r}`);
  return { kernel, r: r as ExecResult, c };
}

describeCorpus.each(CASES)('exec %s as the kernel did', (name) => {
  test('the maps at the first instruction are the recorded ones', () => {
    const { kernel, r } = execCase(name);
    const ours = kernel.maps(r.proc).map((e) => normalize(formatMapsLine(e)));
    const recorded = caseText(name, 'maps-start.txt').trim().split('\n').map(normalize);
    expect(ours).toEqual(recorded);
    expect(kernel.check()).toEqual([]);
  });

  test('the initial stack is the recorded one, byte for byte but for AT_RANDOM', () => {
    const { kernel, r, c } = execCase(name);
    expect(r.stack.sp).toBe(Number(c.stack.sp));
    const recorded = caseBytes(name, 'stack-start.bin');
    const ours = kernel.peekUser(r.proc, r.stack.sp, r.stack.stackTop - r.stack.sp)!;
    expect(ours.length).toBe(recorded.length);
    const at = r.stack.randomVa - r.stack.sp;
    const masked = Uint8Array.from(recorded);
    masked.set(ours.subarray(at, at + 16), at);
    expect(Buffer.from(ours).equals(Buffer.from(masked))).toBe(true);
  });

  test('the process is reclaimed completely at exit', () => {
    const { kernel, r } = execCase(name);
    kernel.exit(r.proc, 0);
    // The binary's pages stay in the page cache (as on Linux) until caches are dropped.
    expect(kernel.check()).toEqual([]);
    kernel.dropCaches();
    expect(kernel.meminfo().MemFree).toBe(kernel.bootFreeFrames * kernel.pageSize);
    expect(kernel.check()).toEqual([]);
  });
});

describeCorpus('exec', () => {
  test('code pages read back the file bytes, through a page cache shared by two processes', () => {
    const { kernel, r } = execCase('hello-static');
    const second = execCase('hello-static', kernel).r;
    const entry = Number(caseJson('hello-static').stops[0]!.pc);
    const a = kernel.readUser(r.proc, entry, 16)!;
    const majorAfterFirst = kernel.status(r.proc).majflt;
    const b = kernel.readUser(second.proc, entry, 16)!;
    expect([...a]).toEqual([...b]);
    // The page the entry point is in, from the file: e_entry's file offset is vaddr - 0x400000.
    const file = caseBinary('hello-static');
    expect([...a]).toEqual([...file.subarray(entry - 0x400000, entry - 0x400000 + 16)]);
    expect(majorAfterFirst).toBe(1);
    expect(kernel.status(second.proc).majflt).toBe(0);
    expect(kernel.status(second.proc).minflt).toBe(1);
    expect(kernel.check()).toEqual([]);
  });

  test('--aslr with a seed randomizes within Linux ranges, reproducibly', () => {
    const layout = (seed: number) => {
      const kernel = new Kernel(new Machine({ arch: 'x86_64', ramBytes: 64 << 20 }));
      const c = caseJson('hello-pie');
      const interpreters = hostFileSource(corpusPath('elf', 'sysroot'));
      const r = execve(kernel, {
        path: c.run.exec_path,
        argv: c.run.argv,
        envp: c.run.env,
        files: {
          openProgram: (path) => ({ path, bytes: caseBinary('hello-pie') }),
          openInterpreter: (p) => interpreters.openInterpreter(p),
        },
        settings: { aslr: { seed } },
      }) as ExecResult;
      expect(kernel.check()).toEqual([]);
      return { bias: r.loadBias, base: r.interpBase, sp: r.stack.sp };
    };
    const a = layout(1);
    expect(layout(1)).toEqual(a);
    expect(layout(2)).not.toEqual(a);
    // PIE base: ELF_ET_DYN_BASE plus up to 2^28 pages; stack below STACK_TOP by up to 16 GiB.
    expect(a.bias).toBeGreaterThanOrEqual(0x555555554000);
    expect(a.bias).toBeLessThan(0x555555554000 + 2 ** 28 * 4096);
    expect(a.sp).toBeLessThan(0x7ffffffff000);
    expect(a.sp).toBeGreaterThan(0x7ffffffff000 - 2 ** 34 - 2 ** 20);
  });
});
