/**
 * strace log replay: a real log of 1 million system calls — a small C program that mmaps and munmaps
 * in a loop, run under `setarch -R strace -f -y -v -s 4096` on this machine — parsed and replayed
 * through the kernel (every call applied and compared with Linux's result), against a baseline in the
 * same process: the same text decoded and cut into lines with nothing else done. The log is recorded
 * once (about two minutes under strace) and kept in the temporary directory, keyed by the program.
 * Goal (issue 10): the whole replay in under 10 s; calls/s reported.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sysrootFiles } from '../src/cli/strace.js';
import { StraceReplay } from '../src/sim/strace-replay.js';
import { StraceParser } from '../src/workload/strace/parser.js';

const PAIRS = 500_000;

const PROGRAM = `#include <stdlib.h>
#include <sys/mman.h>
int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : ${PAIRS};
  for (long i = 0; i < n; i++) {
    size_t len = 4096 * (1 + i % 8);
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    p[0] = 1;
    munmap(p, len);
  }
  return 0;
}
`;

function has(tool: string): boolean {
  try {
    execFileSync(tool, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The program and its log, recorded on first use. @returns null when gcc or strace is missing. */
function recorded(): { exe: string; log: string } | null {
  const key = createHash('sha256').update(PROGRAM).digest('hex').slice(0, 12);
  const dir = join(tmpdir(), `vmscope-bench-strace-${key}`);
  const exe = join(dir, 'loop');
  const log = join(dir, 'loop.log');
  if (existsSync(log) && existsSync(exe)) return { exe, log };
  if (!has('gcc') || !has('strace') || !has('setarch')) return null;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'loop.c'), PROGRAM);
  execFileSync('gcc', ['-O1', '-o', exe, join(dir, 'loop.c')]);
  const partial = `${log}.partial`;
  execFileSync(
    'setarch',
    ['-R', 'env', '-i', 'A=1', 'strace', '-f', '-y', '-v', '-s', '4096', '-o', partial, exe],
    { stdio: 'ignore', cwd: dir },
  );
  renameSync(partial, log);
  return { exe, log };
}

function chunks(text: Uint8Array, each: (c: Uint8Array) => void): void {
  for (let i = 0; i < text.length; i += 1 << 20) each(text.subarray(i, i + (1 << 20)));
}

/** The baseline: decode the text and find every line, as the parser must before anything else. */
function lines(text: Uint8Array): number {
  const decoder = new TextDecoder('utf-8');
  let carry = '';
  let n = 0;
  chunks(text, (c) => {
    const s = carry + decoder.decode(c, { stream: true });
    let start = 0;
    for (let nl = s.indexOf('\n'); nl >= 0; nl = s.indexOf('\n', start)) {
      if (s.charCodeAt(start) !== 0x20) n++;
      start = nl + 1;
    }
    carry = s.slice(start);
  });
  return n;
}

function seconds(body: () => void): number {
  const t0 = performance.now();
  body();
  return (performance.now() - t0) / 1000;
}

/** CPU seconds of this process while `body` runs (on a loaded machine, wall time is not the code's). */
function cpuSeconds(body: () => void): { wall: number; cpu: number } {
  const c0 = process.cpuUsage();
  const wall = seconds(body);
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1e6 };
}

export function benchStrace(): string[] {
  const out = ['strace replay (a real log of 1 M mmap/munmap calls, recorded on this machine)'];
  const files = recorded();
  if (files === null) return [...out, '  skipped: needs gcc, strace and setarch to record the log'];
  const text = new Uint8Array(readFileSync(files.log));
  let lineCount = 0;
  const base = Math.min(...[0, 1].map(() => seconds(() => (lineCount = lines(text)))));
  let events = 0;
  const parse = seconds(() => {
    const p = new StraceParser('bench', () => {
      events++;
    });
    chunks(text, (c) => p.push(c));
    p.end();
  });
  let summary: ReturnType<StraceReplay['finish']> | null = null;
  const { wall: replay, cpu } = cpuSeconds(() => {
    const r = new StraceReplay('bench', { files: sysrootFiles('/', files.exe), env: ['A=1'] });
    const p = new StraceParser('bench', (e) => {
      r.feed(e);
    });
    chunks(text, (c) => p.push(c));
    p.end();
    summary = r.finish();
  });
  const s = summary as ReturnType<StraceReplay['finish']> | null;
  const calls = s?.syscalls ?? 0;
  const rate = (n: number, t: number) => `${(n / t / 1e6).toFixed(2)} M calls/s`;
  out.push(
    `  ${(text.length / 1e6).toFixed(0)} MB, ${lineCount.toLocaleString('en-US')} lines, ${events.toLocaleString('en-US')} events`,
    `  baseline (decode + find lines)   ${base.toFixed(2)} s`,
    `  parse                            ${parse.toFixed(2)} s  ${rate(events, parse)}  ${(parse / base).toFixed(1)}x baseline`,
    `  replay (parse, apply, compare)   ${replay.toFixed(2)} s  ${rate(calls, replay)}  ${(replay / base).toFixed(1)}x baseline  (goal < 10 s: ${replay < 10 ? 'met' : 'missed'}; ${cpu.toFixed(2)} s of CPU)`,
    `  ${calls.toLocaleString('en-US')} calls compared, ${s?.agree.toLocaleString('en-US')} agree with Linux`,
  );
  return out;
}
