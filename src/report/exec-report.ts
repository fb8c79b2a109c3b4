/** What `vmscope exec` shows of a new process: the decoded initial stack and the auxv. */
import { hex0x } from '../base/units.js';
import type { DecodedStack } from '../kernel/exec/stack.js';

function quoted(text: string | null): string {
  return text === null ? '(outside the stack)' : JSON.stringify(text);
}

/** The initial stack, top-down as the kernel built it, then the vectors from sp. */
export function formatStack(d: DecodedStack): string {
  const w = d.wordSize;
  const out = [
    `initial stack: sp ${hex0x(d.sp)}, top ${hex0x(d.stackTop)}, ${d.stackTop - d.sp} bytes, ${w * 8}-bit words`,
  ];
  out.push(`  ${hex0x(d.sp)}  argc = ${d.argc}`);
  let va = d.sp + w;
  d.argv.forEach((a, i) => {
    out.push(`  ${hex0x(va)}  argv[${i}] = ${hex0x(a.va)} ${quoted(a.text)}`);
    va += w;
  });
  out.push(`  ${hex0x(va)}  argv[${d.argv.length}] = NULL`);
  va += w;
  d.envp.forEach((e, i) => {
    out.push(`  ${hex0x(va)}  envp[${i}] = ${hex0x(e.va)} ${quoted(e.text)}`);
    va += w;
  });
  out.push(`  ${hex0x(va)}  envp[${d.envp.length}] = NULL`);
  va += w;
  for (const a of d.auxv) {
    const name = a.name ?? `type ${a.type}`;
    const extra =
      a.text !== undefined
        ? ` ${JSON.stringify(a.text)}`
        : a.random
          ? ` (${[...a.random].map((b) => b.toString(16).padStart(2, '0')).join('')})`
          : '';
    out.push(`  ${hex0x(va)}  ${name.padEnd(20)} ${hex0x(a.value)}${extra}`);
    va += 2 * w;
  }
  out.push('  above the vectors:');
  for (const area of d.areas)
    out.push(`  ${hex0x(area.va)}  ${String(area.sizeBytes).padStart(4)} bytes  ${area.what}`);
  return `${out.join('\n')}\n`;
}
