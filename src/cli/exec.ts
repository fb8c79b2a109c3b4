/**
 * `vmscope exec [options] BINARY [ARG...]`: loads a real ELF binary as Linux's execve would and
 * prints the new process as of its first instruction.
 */
import { InputError } from '../base/errors.js';
import { Machine } from '../hw/machine.js';
import { ERRNO_NAMES } from '../kernel/errno.js';
import { formatAuxv } from '../kernel/exec/auxv.js';
import { EM_RISCV, readElf } from '../kernel/exec/elf.js';
import { DEFAULT_EXEC_SETTINGS, type ExecResult, execve } from '../kernel/exec/load.js';
import { resolveScripts } from '../kernel/exec/script.js';
import { decodeInitialStack, stackStringReader } from '../kernel/exec/stack.js';
import type { ExecFileSource } from '../kernel/exec/vfs.js';
import { Kernel } from '../kernel/kernel.js';
import { formatStack } from '../report/exec-report.js';
import { hexAddress, jsonText } from '../report/json.js';
import { formatMaps, formatStatus } from '../report/procfs.js';
import { EXIT_OK, type Io } from './io.js';
import { checkRam } from './options.js';
import { hostFileSource } from './vfs.js';

export const SHOW_CHOICES = ['maps', 'stack', 'status', 'auxv'] as const;
export type ShowChoice = (typeof SHOW_CHOICES)[number];

export interface ExecFlags {
  readonly env: readonly string[];
  readonly sysroot: string;
  readonly aslr: boolean;
  readonly seed: number;
  readonly show: readonly ShowChoice[];
  readonly json: boolean;
  readonly ramBytes: number;
}

/** Splits `--env NAME=VALUE` values, refusing anything without a name. */
export function parseEnv(entries: readonly string[]): string[] {
  return entries.map((e) => {
    if (!/^[^=]+=/.test(e))
      throw new InputError('flag', `--env expects NAME=VALUE, got '${e}'`, { file: '--env' });
    return e;
  });
}

/**
 * Reads the header of the ELF file exec will load (following `#!` lines) to pick the machine it runs
 * on (x86-64 also runs i386 binaries).
 */
function machineFor(files: ExecFileSource, path: string): 'x86_64' | 'riscv-sv39' {
  const { file } = resolveScripts(files, path, [path]);
  const elf = readElf(file.bytes, file.path, { sections: 'skip' });
  return elf.header.machine === EM_RISCV ? 'riscv-sv39' : 'x86_64';
}

export function runExec(binary: string, args: readonly string[], flags: ExecFlags, io: Io): number {
  const files = hostFileSource(flags.sysroot);
  checkRam(flags.ramBytes);
  const kernel = new Kernel(new Machine({ arch: machineFor(files, binary), ramBytes: flags.ramBytes }));
  const result = execve(kernel, {
    path: binary,
    argv: [binary, ...args],
    envp: parseEnv(flags.env),
    files,
    settings: { ...DEFAULT_EXEC_SETTINGS, aslr: flags.aslr ? { seed: flags.seed } : null },
  });
  if (typeof result === 'number') {
    throw new InputError('exec', `execve failed: -${ERRNO_NAMES[-result] ?? -result}`, { file: binary });
  }
  const shows = flags.show.length > 0 ? flags.show : (['maps'] as const);
  if (flags.json) {
    io.out(jsonText(execJson(kernel, result, shows)));
    return EXIT_OK;
  }
  for (const what of shows) {
    if (shows.length > 1) io.out(`== ${what}\n`);
    io.out(showText(kernel, result, what));
  }
  return EXIT_OK;
}

function stackOf(kernel: Kernel, r: ExecResult) {
  const bytes = kernel.peekUser(r.proc, r.stack.sp, r.stack.stackTop - r.stack.sp);
  if (bytes === null) throw new Error('exec: the initial stack is not resident');
  return { bytes, decoded: decodeInitialStack(bytes, r.stack.sp, r.stack.wordSize) };
}

function showText(kernel: Kernel, r: ExecResult, what: ShowChoice): string {
  switch (what) {
    case 'maps':
      return formatMaps(kernel.maps(r.proc));
    case 'status': {
      const { minflt, majflt, ...fields } = kernel.status(r.proc);
      return `${formatStatus(fields)}minflt:\t${minflt}\nmajflt:\t${majflt}\n`;
    }
    case 'stack':
      return formatStack(stackOf(kernel, r).decoded);
    case 'auxv': {
      const { bytes } = stackOf(kernel, r);
      return formatAuxv(r.stack.auxv, { readString: stackStringReader(bytes, r.stack.sp) });
    }
  }
}

function execJson(kernel: Kernel, r: ExecResult, shows: readonly ShowChoice[]): unknown {
  const out: Record<string, unknown> = {
    pid: r.proc.pid,
    entry: r.entry,
    loadBias: r.loadBias,
    interpBase: r.interpBase,
    sp: r.stack.sp,
  };
  for (const what of shows) {
    if (what === 'maps') out['maps'] = kernel.maps(r.proc).map(({ vma: _vma, ...line }) => line);
    if (what === 'status') out['status'] = kernel.status(r.proc);
    if (what === 'stack') {
      const d = stackOf(kernel, r).decoded;
      out['stack'] = {
        ...d,
        auxv: d.auxv.map(({ random, ...e }) => ({
          ...e,
          value: hexAddress(e.value),
          ...(random ? { random: [...random] } : {}),
        })),
      };
    }
    // An auxv value is a machine word: an address (AT_PHDR, AT_ENTRY…), a mask or a count, all as hex.
    if (what === 'auxv') out['auxv'] = r.stack.auxv.map((e) => ({ ...e, value: hexAddress(e.value) }));
  }
  return out;
}
