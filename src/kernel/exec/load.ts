/**
 * execve of a real ELF binary, as Linux's `load_elf_binary` does it (LINUX.md L3, fs/binfmt_elf.c):
 *
 *   the [stack] VMA (the argument pages plus 128 KiB) ─► each PT_LOAD mapped private from the file
 *   (ET_EXEC at its addresses; PIE at ELF_ET_DYN_BASE; static-pie top-down) with its bss zeroed and
 *   extended anonymously ─► the interpreter, top-down ─► brk at the page after bss ─► [vvar],
 *   [vvar_vclock], [vdso] top-down ─► the initial stack: strings, AT_RANDOM, auxv, envp, argv, argc.
 *
 * Malformed files are InputErrors (from the ELF reader); running out of memory is -ENOMEM, and the
 * half-built process is torn down so that nothing is left behind.
 */
import { InputError, invariant } from '../../base/errors.js';
import { alignDown, alignUp, hex0x } from '../../base/units.js';
import { BRK_VMA_FLAGS } from '../brk.js';
import {
  EFAULT,
  ENOMEM,
  MAP_FIXED,
  MAP_FIXED_NOREPLACE,
  MAP_PRIVATE,
  PROT_EXEC,
  PROT_READ,
  PROT_WRITE,
} from '../errno.js';
import type { Kernel } from '../kernel.js';
import { mmapBase, type UserLayout, userLayout } from '../layout.js';
import type { MemObject } from '../memobject.js';
import type { Mm } from '../mm.js';
import { getUnmappedArea, sysMmap, unmapRange } from '../mmap.js';
import type { Process } from '../process.js';
import {
  VM_ACCOUNT,
  VM_DONTEXPAND,
  VM_EXEC,
  VM_GROWSDOWN,
  VM_MAY_ALL,
  VM_MAYREAD,
  VM_PFNMAP,
  VM_READ,
  VM_WRITE,
  Vma,
} from '../vma.js';
import { AT_SYSINFO_EHDR, RECORDED_X86, x86ArchDlinfo } from './auxv.js';
import {
  type ElfFile,
  EM_386,
  EM_RISCV,
  EM_X86_64,
  ET_DYN,
  ET_EXEC,
  elfLoadInfo,
  PF_R,
  PF_W,
  PF_X,
  type ProgramHeader,
  readElf,
} from './elf.js';
import { resolveScripts } from './script.js';
import { AT_RANDOM_BYTES, buildInitialStack, checkExecArgs, type InitialStack } from './stack.js';
import type { ExecFile, ExecFileSource } from './vfs.js';

/** What exec depends on that vmscope cannot know: the recorded kernel's values are the defaults. */
export interface ExecSettings {
  /** Pages of the `[vvar]`, `[vvar_vclock]` and `[vdso]` mappings (6.18 on x86-64: 4, 2, 2). */
  readonly vvarPages: number;
  readonly vvarVclockPages: number;
  readonly vdsoPages: number;
  /** Offset of `__kernel_vsyscall` in the 32-bit vdso (AT_SYSINFO of i386 processes). */
  readonly vdso32SysinfoOffset: number;
  /** AT_HWCAP, AT_HWCAP2, AT_MINSIGSTKSZ: the CPU's (recorded on an AMD EPYC). */
  readonly hwcap: number;
  readonly hwcap2: number;
  readonly minSigStackSize: number;
  /** ASLR (`randomize_va_space=2`) with a seed, or null for none (like `setarch -R`). */
  readonly aslr: { readonly seed: number } | null;
  /** The 16 AT_RANDOM bytes; by default derived from the seed (0 when ASLR is off). */
  readonly random?: Uint8Array;
}

export const DEFAULT_EXEC_SETTINGS: ExecSettings = {
  vvarPages: 4,
  vvarVclockPages: 2,
  vdsoPages: 2,
  vdso32SysinfoOffset: 0x5e0,
  hwcap: RECORDED_X86.hwcap,
  hwcap2: RECORDED_X86.hwcap2,
  minSigStackSize: RECORDED_X86.minSigStackSize,
  aslr: null,
};

export interface ExecRequest {
  /** The path handed to execve: AT_EXECFN, and what the file source opens. */
  readonly path: string;
  /** argv; argv[0] is conventionally the path. */
  readonly argv: readonly string[];
  readonly envp: readonly string[];
  readonly files: ExecFileSource;
  /** The process name (default: the basename of the path). */
  readonly name?: string;
  readonly settings?: Partial<ExecSettings>;
}

/** What exec learned, for `vmscope exec --show` and the visualizer. */
export interface ExecResult {
  readonly proc: Process;
  readonly program: ElfFile;
  readonly interpreter: ElfFile | null;
  /** Where the program was loaded relative to its link addresses (0 for ET_EXEC). */
  readonly loadBias: number;
  /** The interpreter's base (AT_BASE), 0 without one. */
  readonly interpBase: number;
  /** The first instruction: the interpreter's entry, or the program's. */
  readonly entry: number;
  readonly stack: InitialStack;
  /** The `#!` scripts exec went through to reach the program (paths as the process sees them). */
  readonly scripts: readonly string[];
}

/** A small seeded generator for ASLR and AT_RANDOM (xorshift128+ on two 32-bit halves). */
class Rng {
  private a: number;
  private b: number;
  constructor(seed: number) {
    this.a = (seed ^ 0x9e3779b9) >>> 0 || 1;
    this.b = (Math.imul(seed, 0x85ebca6b) ^ 0xc2b2ae35) >>> 0 || 2;
  }
  u32(): number {
    let x = this.a;
    const y = this.b;
    this.a = y;
    x ^= x << 11;
    x ^= x >>> 8;
    this.b = (x ^ y ^ (y >>> 19)) >>> 0;
    return this.b;
  }
  /** A random integer in [0, 2^bits), bits ≤ 52. */
  bits(bits: number): number {
    const hi = this.u32() % 2 ** Math.max(0, bits - 32);
    const lo = this.u32() % 2 ** Math.min(32, bits);
    return bits > 32 ? hi * 2 ** 32 + lo : lo;
  }
}

/** Which layout and stack shape a binary gets on this kernel, or why it cannot run here. */
function personality(
  k: Kernel,
  elf: ElfFile,
): { layout: UserLayout; platform: string | null; compat: boolean } {
  const arch = k.machine.arch.name;
  const m = elf.header.machine;
  // The arch preset lists the binaries it runs, native first (x86-64 also runs i386 as compat).
  const native = k.machine.arch.elf[0];
  for (const p of k.machine.arch.elf) {
    if (p.machine !== m || p.bits !== elf.header.bits) continue;
    const compat = p !== native;
    return { layout: compat ? userLayout(p.as) : k.layout, platform: p.platform, compat };
  }
  const what =
    m === EM_X86_64 ? 'an x86-64' : m === EM_386 ? 'an i386' : m === EM_RISCV ? 'a RISC-V' : `a machine ${m}`;
  throw new InputError('exec', `${what} ${elf.header.bits}-bit binary cannot run on the ${arch} machine`, {
    file: elf.file,
    offset: 18,
  });
}

/** PF_* → PROT_*, with READ_IMPLIES_EXEC when the personality asks for it. */
function segmentProt(ph: ProgramHeader, readImpliesExec: boolean): number {
  let prot =
    (ph.flags & PF_R ? PROT_READ : 0) |
    (ph.flags & PF_W ? PROT_WRITE : 0) |
    (ph.flags & PF_X ? PROT_EXEC : 0);
  if (readImpliesExec && prot & PROT_READ) prot |= PROT_EXEC;
  return prot;
}

class ExecError extends Error {
  readonly errno: number;
  constructor(errno: number) {
    super(`exec failed: -${errno}`);
    this.errno = errno;
  }
}

function check(r: number): number {
  if (r < 0) throw new ExecError(-r);
  return r;
}

/**
 * Loads one image's PT_LOADs (Linux `elf_load` for each): the file part mapped private, the tail of
 * the last file page zeroed (padzero), the rest of the bss an anonymous mapping.
 * @returns the load bias actually used.
 */
function loadSegments(
  k: Kernel,
  proc: Process,
  object: MemObject,
  elf: ElfFile,
  bias: number,
  firstFlags: number,
  readImpliesExec: boolean,
): number {
  const mm = proc.mm!;
  const ps = k.pageSize;
  const info = elfLoadInfo(elf);
  let loadBias = bias;
  elf.loads.forEach((ph, i) => {
    const prot = segmentProt(ph, readImpliesExec);
    const addr = loadBias + ph.vaddr;
    const pageOff = ph.vaddr % ps;
    const mapStart = alignDown(addr, ps);
    let zeroStart: number;
    if (ph.filesz > 0) {
      const size = alignUp(ph.filesz + pageOff, ps);
      const flags = MAP_PRIVATE | (i === 0 ? firstFlags : MAP_FIXED);
      // The first mapping reserves the whole image (total_mapping_size) for an ET_DYN, then gives back
      // what lies beyond its own size; later segments land in that hole with MAP_FIXED.
      const total = i === 0 && elf.header.type === ET_DYN ? info.totalMappingSize : size;
      const at = check(
        sysMmap(k, proc, {
          addr: mapStart,
          len: Math.max(total, size),
          prot,
          flags,
          file: object,
          offset: ph.offset - pageOff,
        }),
      );
      if (total > size) check(unmapRange(k, proc, mm, at + size, at + total));
      if (i === 0 && elf.header.type === ET_DYN) loadBias += at - mapStart;
      zeroStart = loadBias + ph.vaddr + ph.filesz;
      if (ph.memsz > ph.filesz && prot & PROT_WRITE && zeroStart % ps !== 0) {
        // padzero: clear the rest of the last file page (a copy-on-write of it).
        const tail = alignUp(zeroStart, ps) - zeroStart;
        if (!k.writeUser(proc, zeroStart, new Uint8Array(tail))) throw new ExecError(EFAULT);
      }
    } else {
      zeroStart = alignDown(addr, ps);
    }
    if (ph.memsz > ph.filesz) {
      // vm_brk_flags: whatever was there goes, then one anonymous rw VMA (not [heap]).
      const start = alignUp(zeroStart, ps);
      const end = alignUp(loadBias + ph.vaddr + ph.memsz, ps);
      if (end > start) {
        check(unmapRange(k, proc, mm, start, end));
        mm.insert(new Vma(start, end, BRK_VMA_FLAGS | (prot & PROT_EXEC ? VM_EXEC : 0), start / ps, null));
      }
    }
  });
  return loadBias;
}

/** The block of special mappings below the libraries: [vvar] + [vvar_vclock] + [vdso]. @returns the vdso. */
function mapVdso(k: Kernel, proc: Process, s: ExecSettings): number {
  const mm = proc.mm!;
  const ps = k.pageSize;
  const pages = s.vvarPages + s.vvarVclockPages + s.vdsoPages;
  // map_vdso: get_unmapped_area for the whole block, like any top-down mapping of that size.
  const probe = check(getUnmappedArea(k, mm, 0, pages * ps, 0));
  const vvarFlags = VM_READ | VM_MAYREAD | VM_PFNMAP | VM_DONTEXPAND;
  const parts: [string, number, number, MemObject][] = [
    ['[vvar]', s.vvarPages, vvarFlags, k.kernelObject('[vvar]', s.vvarPages * ps)],
    ['[vvar_vclock]', s.vvarVclockPages, vvarFlags, k.kernelObject('[vvar_vclock]', s.vvarVclockPages * ps)],
    [
      '[vdso]',
      s.vdsoPages,
      VM_READ | VM_EXEC | VM_MAY_ALL | VM_DONTEXPAND,
      k.kernelObject('[vdso]', s.vdsoPages * ps),
    ],
  ];
  let at = probe;
  let vdso = 0;
  for (const [name, n, flags, object] of parts) {
    if (n === 0) continue;
    const vma = new Vma(at, at + n * ps, flags, 0, object);
    vma.special = name;
    k.holdObject(object);
    mm.insert(vma);
    if (name === '[vdso]') vdso = at;
    at += n * ps;
  }
  return vdso;
}

/**
 * execve(path, argv, envp) into a new process. @returns the result, or -errno (ENOMEM when memory ran
 * out, E2BIG for arguments over the limit). @throws InputError for a file that is missing or is not
 * a loadable ELF image for this machine.
 */
export function execve(k: Kernel, request: ExecRequest): ExecResult | number {
  const s: ExecSettings = { ...DEFAULT_EXEC_SETTINGS, ...request.settings };
  // binfmt_script first: a `#!` file runs its interpreter, with argv rewritten (path stays AT_EXECFN).
  const resolved = resolveScripts(request.files, request.path, request.argv);
  const req: ExecRequest = { ...request, argv: resolved.argv };
  const progFile: ExecFile = resolved.file;
  const elf = readElf(progFile.bytes, progFile.path, { sections: 'try' });
  if (elf.header.type !== ET_EXEC && elf.header.type !== ET_DYN) {
    throw new InputError('exec', 'not an executable (e_type must be ET_EXEC or ET_DYN)', {
      file: elf.file,
      offset: 16,
    });
  }
  const pers = personality(k, elf);
  let interpFile: ExecFile | null = null;
  let interp: ElfFile | null = null;
  if (elf.interp !== null) {
    interpFile = req.files.openInterpreter(elf.interp);
    interp = readElf(interpFile.bytes, interpFile.path, { sections: 'skip' });
    if (interp.header.machine !== elf.header.machine || interp.header.bits !== elf.header.bits) {
      throw new InputError('exec', `the interpreter does not match the program's machine (${elf.interp})`, {
        file: interp.file,
        offset: 18,
      });
    }
    if (interp.header.type !== ET_DYN && interp.header.type !== ET_EXEC) {
      throw new InputError('exec', 'the interpreter is not an executable ELF image', {
        file: interp.file,
        offset: 16,
      });
    }
  }
  const layout = pers.layout;
  const info = elfLoadInfo(elf);
  const rng = new Rng(s.aslr?.seed ?? 0);
  const rlimitStack = k.defaultRlimits.stack;
  const e2big = checkExecArgs({ argv: req.argv, envp: req.envp, execfn: req.path, rlimitStack });
  if (e2big < 0) return e2big;

  const pid = k.allocPid();
  const mm = k.newMm(pid);
  if (mm === null) return -ENOMEM;
  mm.layout = layout;
  mm.taskSize = layout.taskSize;
  const name = req.name ?? (req.path.split('/').pop() || req.path);
  const proc = k.addProcess(name, mm, pid);
  try {
    const r = load(
      k,
      proc,
      mm,
      req,
      s,
      elf,
      progFile,
      interp,
      interpFile,
      info,
      layout,
      pers,
      rng,
      rlimitStack,
    );
    return { ...r, scripts: resolved.scripts.map((f) => f.path) };
  } catch (e) {
    // Nothing half-built stays behind, whatever stopped the load.
    if (proc.alive) k.exit(proc, 0);
    k.processes.delete(pid);
    if (!(e instanceof ExecError)) throw e;
    return -e.errno;
  }
}

function load(
  k: Kernel,
  proc: Process,
  mm: Mm,
  req: ExecRequest,
  s: ExecSettings,
  elf: ElfFile,
  progFile: ExecFile,
  interp: ElfFile | null,
  interpFile: ExecFile | null,
  info: ReturnType<typeof elfLoadInfo>,
  layout: UserLayout,
  pers: { platform: string | null; compat: boolean },
  rng: Rng,
  rlimitStack: number,
): Omit<ExecResult, 'scripts'> {
  const ps = k.pageSize;
  const wordSize = elf.header.wordSize;
  const is64 = elf.header.bits === 64;
  // ASLR: mmap_rnd_bits (28 for 64-bit, 8 for compat), STACK_RND_MASK, the brk window.
  const rndMmap = s.aslr ? rng.bits(is64 ? 28 : 8) * ps : 0;
  const rndStack = s.aslr ? rng.bits(is64 ? 22 : 11) * ps : 0;
  const stackTop = layout.stackTop - rndStack;
  let base = mmapBase(layout, rlimitStack + (s.aslr ? (is64 ? 0x3fffff : 0x7ff) * ps : 0), ps) - rndMmap;
  base = alignDown(base, ps);
  mm.mmapBase = base;
  mm.vsyscall = k.machine.arch.vsyscallPage !== null && is64;

  // The stack VMA as setup_arg_pages leaves it: the pages the strings need, plus 128 KiB.
  const random =
    s.random ?? Uint8Array.from({ length: AT_RANDOM_BYTES }, () => (s.aslr ? rng.u32() & 0xff : 0));
  const alignRandom = s.aslr ? rng.u32() % 8192 : 0;
  const stringsBottom = stringsStart(req, stackTop);
  const argPagesStart = Math.min(stackTop - ps, alignDown(stringsBottom, ps));
  const stackSize = stackTop - argPagesStart;
  const stackStart =
    stackSize + 128 * 1024 > rlimitStack ? stackTop - alignDown(rlimitStack, ps) : argPagesStart - 128 * 1024;
  const stackFlags =
    VM_READ | VM_WRITE | VM_MAY_ALL | VM_GROWSDOWN | VM_ACCOUNT | (info.executableStack ? VM_EXEC : 0);
  mm.insert(new Vma(stackStart, stackTop, stackFlags, stackStart / ps, null));
  mm.startStack = stackTop - 1;

  // The program.
  const progObject = k.fileObject(progFile.path, progFile.bytes);
  let bias = 0;
  let firstFlags = MAP_FIXED_NOREPLACE;
  if (elf.header.type === ET_DYN) {
    if (elf.interp !== null) {
      const etDynBase =
        pers.compat || elf.header.bits === 32
          ? alignUp(Math.floor(layout.taskSize / 3), ps) + 0x1000000
          : Math.floor(layout.taskSize / 3) * 2;
      bias = etDynBase + rndMmap;
      if (info.maxAlign > 0) bias = alignDown(bias, info.maxAlign);
      bias = alignDown(bias - info.firstVaddr, ps);
    } else {
      bias = alignDown(0 - info.firstVaddr, ps);
      firstFlags = 0; // mmap picks: top-down, like an interpreter
    }
  }
  const loadBias = loadSegments(k, proc, progObject, elf, bias, firstFlags, info.readImpliesExec);
  let startCode = Number.POSITIVE_INFINITY;
  let endCode = 0;
  let startData = 0;
  let endData = 0;
  let elfBrk = 0;
  for (const ph of elf.loads) {
    if (ph.flags & PF_X && ph.vaddr < startCode) startCode = ph.vaddr;
    if (startData < ph.vaddr) startData = ph.vaddr;
    if (ph.flags & PF_X && endCode < ph.vaddr + ph.filesz) endCode = ph.vaddr + ph.filesz;
    if (endData < ph.vaddr + ph.filesz) endData = ph.vaddr + ph.filesz;
    elfBrk = Math.max(elfBrk, ph.vaddr + ph.memsz);
  }
  mm.startCode = (Number.isFinite(startCode) ? startCode : 0) + loadBias;
  mm.endCode = endCode + loadBias;
  mm.startData = startData + loadBias;
  mm.endData = endData + loadBias;
  const entry = elf.header.entry + loadBias;
  checkEntry(elf, entry, loadBias, layout);

  // The interpreter, top-down.
  let interpBase = 0;
  let firstInstruction = entry;
  if (interp !== null && interpFile !== null) {
    const iinfo = elfLoadInfo(interp);
    const iobj = k.fileObject(interpFile.path, interpFile.bytes);
    const ibias = interp.header.type === ET_DYN ? alignDown(0 - iinfo.firstVaddr, ps) : 0;
    const used = loadSegments(
      k,
      proc,
      iobj,
      interp,
      ibias,
      interp.header.type === ET_DYN ? 0 : MAP_FIXED_NOREPLACE,
      info.readImpliesExec,
    );
    interpBase = interp.header.type === ET_DYN ? used : 0;
    firstInstruction = interp.header.entry + used;
    checkEntry(interp, firstInstruction, used, layout);
  }

  // brk: the page after bss; a static-pie moves it to ELF_ET_DYN_BASE (out of the mmap area).
  let brk = alignUp(elfBrk + loadBias, ps);
  if (elf.header.type === ET_DYN && elf.interp === null)
    brk = alignUp(Math.floor(layout.taskSize / 3) * 2, ps);
  if (s.aslr) brk = alignUp(brk + ps + rng.bits(is64 ? 18 : 13) * ps, ps);
  mm.startBrk = mm.brk = brk;

  const vdso = mapVdso(k, proc, s);

  // The initial stack.
  const stack = buildInitialStack({
    wordSize,
    stackTop,
    argv: req.argv,
    envp: req.envp,
    execfn: req.path,
    platform: pers.platform,
    random,
    alignRandomBytes: alignRandom,
    auxv: {
      // ARCH_DLINFO: x86 passes the vdso (and, to i386, __kernel_vsyscall) and MINSIGSTKSZ; vmscope
      // gives other arches the vdso only (RISC-V's cache-geometry entries are the CPU's, unknown here).
      arch:
        k.machine.arch.auxvFlavour === 'x86'
          ? x86ArchDlinfo({
              vdsoBase: vdso,
              minSigStackSize: s.minSigStackSize,
              ...(wordSize === 4 ? { sysinfoEntry: vdso + s.vdso32SysinfoOffset } : {}),
            })
          : [{ type: AT_SYSINFO_EHDR, value: vdso }],
      hwcap: s.hwcap,
      pageSize: ps,
      clockTicks: RECORDED_X86.clockTicks,
      phdr: loadBias + info.phdrVaddr,
      phent: elf.header.phentsize,
      phnum: elf.header.phnum,
      base: interpBase,
      flags: 0,
      entry,
      uid: 0,
      euid: 0,
      gid: 0,
      egid: 0,
      secure: 0,
      hwcap2: s.hwcap2,
      rseq: RECORDED_X86.rseq,
    },
  });
  invariant(stack.sp >= stackStart, 'exec: the initial stack does not fit its VMA');
  if (!k.writeUser(proc, stack.sp, stack.bytes)) throw new ExecError(ENOMEM);
  mm.startStack = stack.sp;
  mm.argStart = stack.argStart;
  mm.argEnd = stack.argEnd;
  mm.envStart = stack.envStart;
  mm.envEnd = stack.envEnd;
  proc.sp = stack.sp;
  mm.minflt = 0; // the kernel's own writes are not the program's faults
  mm.majflt = 0;
  return { proc, program: elf, interpreter: interp, loadBias, interpBase, entry: firstInstruction, stack };
}

/**
 * The entry point once loaded must be in user space: Linux's BAD_ADDR check fails execve with EINVAL
 * (for the program's own entry beside an interpreter it only passes AT_ENTRY on, cut to the word size
 * of a 32-bit process; vmscope refuses that as well rather than hand out a cut address).
 * @throws InputError naming the file and e_entry's offset.
 */
function checkEntry(elf: ElfFile, entry: number, bias: number, layout: UserLayout): void {
  if (entry < layout.taskSize) return;
  throw new InputError(
    'exec',
    `e_entry ${hex0x(elf.header.entry)} plus the load bias ${hex0x(bias)} is ${hex0x(entry)}, outside user space (which ends at ${hex0x(layout.taskSize)}); execve fails with EINVAL`,
    { file: elf.file, offset: 24 },
  );
}

/** The lowest address of the strings execve copies to the top of the stack (bprm->p). */
function stringsStart(req: ExecRequest, stackTop: number): number {
  const enc = new TextEncoder();
  let p = stackTop - 8 - (enc.encode(req.path).length + 1);
  for (const e of req.envp) p -= enc.encode(e).length + 1;
  for (const a of req.argv.length === 0 ? [''] : req.argv) p -= enc.encode(a).length + 1;
  return p;
}
