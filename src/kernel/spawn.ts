/**
 * Creating a process from a synthetic image — code, data and bss sizes — laid out as Linux's execve
 * lays out a non-PIE program with ASLR off (LINUX.md L3): code at the link address, data after it,
 * bss zero-filled after the data (its own anonymous VMA past the last data page), the heap starting at
 * the page-aligned end of bss with no `[heap]` VMA yet, and a `[stack]` VMA ending at STACK_TOP.
 *
 * Built aside and committed at the end: on failure every frame taken is given back.
 */
import { alignUp } from '../base/units.js';
import { BRK_VMA_FLAGS } from './brk.js';
import { ENOMEM } from './errno.js';
import type { Kernel } from './kernel.js';
import { mmapBase } from './layout.js';
import type { Process } from './process.js';
import { VM_ACCOUNT, VM_EXEC, VM_GROWSDOWN, VM_MAY_ALL, VM_READ, VM_WRITE, Vma } from './vma.js';

export interface SyntheticImage {
  /** Bytes of code (r-x, from the image file). */
  readonly codeBytes: number;
  /** Bytes of initialised data (rw-, from the image file, copy-on-write). */
  readonly dataBytes: number;
  /** Bytes of zero-initialised data after the data. */
  readonly bssBytes: number;
  /** Initial size of the `[stack]` VMA; default: the layout's (132 KiB on x86-64). */
  readonly stackBytes?: number;
  /** Where the code starts; default: the layout's link address (0x400000 on x86-64). */
  readonly codeBase?: number;
}

/** x86 `nop` fills the code so that a dump of it reads as something. */
const CODE_FILL = 0x90;

/** The image file: code then data, data filled with a recognisable ramp. */
function imageBytes(codeBytes: number, dataBytes: number, pageSize: number): Uint8Array {
  const codeSpan = alignUp(codeBytes, pageSize);
  const out = new Uint8Array(codeSpan + dataBytes);
  out.fill(CODE_FILL, 0, codeBytes);
  for (let i = 0; i < dataBytes; i++) out[codeSpan + i] = i & 0xff;
  return out;
}

/**
 * Spawns `name` from a synthetic image. @returns the new process, or -ENOMEM when memory ran out
 * (nothing is left behind).
 */
export function spawnSynthetic(k: Kernel, name: string, image: SyntheticImage): Process | number {
  const ps = k.pageSize;
  const pid = k.allocPid();
  const mm = k.newMm(pid);
  if (mm === null) return -ENOMEM;
  const proc = k.addProcess(name, mm, pid);
  const codeBase = image.codeBase ?? mm.layout.codeBase;
  const codeSpan = alignUp(image.codeBytes, ps);
  const file = k.fileObject(`/bin/${name}`, imageBytes(image.codeBytes, image.dataBytes, ps));

  mm.mmapBase = mmapBase(mm.layout, mm.rlimits.stack, ps);
  mm.startCode = codeBase;
  mm.endCode = codeBase + image.codeBytes;
  if (codeSpan > 0) {
    k.holdObject(file);
    mm.insert(new Vma(codeBase, codeBase + codeSpan, VM_READ | VM_EXEC | VM_MAY_ALL, 0, file));
  }
  const dataStart = codeBase + codeSpan;
  const dataEnd = dataStart + image.dataBytes;
  mm.startData = dataStart;
  mm.endData = dataEnd;
  if (image.dataBytes > 0) {
    k.holdObject(file);
    mm.insert(
      new Vma(
        dataStart,
        alignUp(dataEnd, ps),
        VM_READ | VM_WRITE | VM_MAY_ALL | VM_ACCOUNT,
        codeSpan / ps,
        file,
      ),
    );
  }
  const bssEnd = dataEnd + image.bssBytes;
  const anonStart = alignUp(dataEnd, ps);
  const anonEnd = alignUp(bssEnd, ps);
  if (anonEnd > anonStart) mm.insert(new Vma(anonStart, anonEnd, BRK_VMA_FLAGS, anonStart / ps, null));
  mm.startBrk = mm.brk = anonEnd;

  const stackTop = mm.layout.stackTop;
  const stackBytes = alignUp(image.stackBytes ?? mm.layout.initialStackBytes, ps);
  const stackFlags = VM_READ | VM_WRITE | VM_MAY_ALL | VM_GROWSDOWN | VM_ACCOUNT;
  const stack = new Vma(stackTop - stackBytes, stackTop, stackFlags, (stackTop - stackBytes) / ps, null);
  mm.insert(stack);
  mm.startStack = stackTop - 1; // until the initial stack is written below

  // padzero: the bss tail of the last data page is cleared (a copy-on-write of that page).
  if (image.bssBytes > 0 && dataEnd % ps !== 0) {
    if (!k.writeUser(proc, dataEnd, new Uint8Array(Math.min(anonStart, bssEnd) - dataEnd)))
      return failSpawn(k, proc);
  }
  const sp = writeInitialStack(k, proc, name, stackTop);
  if (sp < 0) return failSpawn(k, proc);
  proc.sp = sp;
  mm.startStack = sp;
  mm.minflt = 0; // the kernel's own writes are not the program's faults
  mm.majflt = 0;
  return proc;
}

function failSpawn(k: Kernel, proc: Process): number {
  if (proc.alive) k.exit(proc, 0);
  k.processes.delete(proc.pid);
  return -ENOMEM;
}

/**
 * A minimal System V initial stack at the top of the stack VMA: the program name string, then
 * (16-byte aligned, growing down) an empty auxv (AT_NULL), a NULL envp, argv[0] and NULL, and argc.
 * @returns the stack pointer (the address of argc), or -1 when the process died (out of memory).
 */
function writeInitialStack(k: Kernel, proc: Process, name: string, stackTop: number): number {
  const word = k.machine.arch.vaBits > 32 ? 8 : k.machine.arch.vaBits > 16 ? 4 : 2;
  const nameBytes = new TextEncoder().encode(`${name}\0`);
  let p = stackTop - word; // end marker
  const str = p - nameBytes.length;
  p = str;
  // argc, argv[0], NULL, envp NULL, AT_NULL pair
  const words = [1, str, 0, 0, 0, 0];
  p -= words.length * word;
  p -= p % 16;
  const frame = new Uint8Array(stackTop - p);
  const view = new DataView(frame.buffer);
  frame.set(nameBytes, str - p);
  words.forEach((w, i) => {
    const at = i * word;
    if (word === 8) view.setBigUint64(at, BigInt(w), true);
    else if (word === 4) view.setUint32(at, w, true);
    else view.setUint16(at, w, true);
  });
  return k.writeUser(proc, p, frame) ? p : -1;
}
