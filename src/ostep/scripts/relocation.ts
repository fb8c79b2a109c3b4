/**
 * vm-mechanism/relocation.py: base-and-bounds address translation. A random limit (a quarter to a
 * half of the address space) and base (anywhere it fits in physical memory), then virtual
 * addresses to translate: valid below the limit, at base + va.
 */
import { convertNum, count, seededRandom } from '../common.js';
import { pyExit, pyFormat, pyStr } from '../python.js';
import { type Ctx, noTermination, type Script } from '../script.js';

export const relocation: Script = {
  name: 'relocation',
  path: 'vm-mechanism/relocation.py',
  summary: 'base-and-bounds translation',
  options: [
    { short: '-s', long: '--seed', dest: 'seed', type: 'int', default: 0n, help: 'the random seed' },
    {
      short: '-a',
      long: '--asize',
      dest: 'asize',
      type: 'string',
      default: '1k',
      help: 'address space size (e.g., 16, 64k, 32m, 1g)',
    },
    {
      short: '-p',
      long: '--physmem',
      dest: 'psize',
      type: 'string',
      default: '16k',
      help: 'physical memory size (e.g., 16, 64k, 32m, 1g)',
    },
    {
      short: '-n',
      long: '--addresses',
      dest: 'num',
      type: 'int',
      default: 5n,
      help: 'number of virtual addresses to generate',
    },
    { short: '-b', long: '--b', dest: 'base', type: 'string', default: '-1', help: 'value of base register' },
    {
      short: '-l',
      long: '--l',
      dest: 'limit',
      type: 'string',
      default: '-1',
      help: 'value of limit register',
    },
    {
      short: '-c',
      long: '--compute',
      dest: 'solve',
      type: 'true',
      default: false,
      help: 'compute answers for me',
    },
  ],
  main(ctx: Ctx, o) {
    ctx.print('');
    ctx.print('ARG seed', pyStr(o['seed']!));
    ctx.print('ARG address space size', String(o['asize']));
    ctx.print('ARG phys mem size', String(o['psize']));
    ctx.print('');
    const rng = seededRandom(o['seed'] as bigint);
    const asize = convertNum(o['asize'] as string);
    const psize = convertNum(o['psize'] as string);
    if (psize <= 1) {
      ctx.print('Error: must specify a non-zero physical memory size.');
      pyExit(1);
    }
    if (asize === 0) {
      ctx.print('Error: must specify a non-zero address-space size.');
      pyExit(1);
    }
    if (psize <= asize) {
      ctx.print('Error: physical memory size must be GREATER than address space size (for this simulation)');
      pyExit(1);
    }
    let limit = convertNum(o['limit'] as string);
    let base = convertNum(o['base'] as string);
    if (limit === -1) limit = Math.trunc(asize / 4 + (asize / 4) * rng.random());
    if (base === -1) {
      // base = int(psize * random()) until base + limit < psize: possible only when limit < psize.
      if (limit >= psize)
        noTermination('relocation.py', `no base fits a limit of ${limit} in ${psize} bytes`);
      do base = Math.trunc(psize * rng.random());
      while (!(base + limit < psize));
    }
    ctx.print('Base-and-Bounds register information:');
    ctx.print('');
    ctx.print(pyFormat('  Base   : 0x%08x (decimal %d)', base, base));
    ctx.print(pyFormat('  Limit  : %d', limit));
    ctx.print('');
    if (base + limit > psize) {
      ctx.print('Error: address space does not fit into physical memory with those base/bounds values.');
      ctx.print('Base + Limit:', String(base + limit), '  Psize:', String(psize));
      pyExit(1);
    }
    ctx.print('Virtual Address Trace');
    ctx.beginAnswers();
    const picture = (va: number, pa: number | null) =>
      ({
        kind: 'segments',
        va,
        asize,
        psize,
        segments: [{ name: 'base..base+limit', lo: base, hi: base + limit }],
        pa,
      }) as const;
    const solve = o['solve'] === true;
    const n = count(o['num'] as bigint);
    for (let i = 0; i < n; i++) {
      const vaddr = Math.trunc(asize * rng.random());
      if (!solve) {
        ctx.print(
          pyFormat('  VA %2d: 0x%08x (decimal: %4d) --> PA or segmentation violation?', i, vaddr, vaddr),
        );
        continue;
      }
      if (vaddr >= limit) {
        ctx.print(pyFormat('  VA %2d: 0x%08x (decimal: %4d) --> SEGMENTATION VIOLATION', i, vaddr, vaddr));
        ctx.step(
          [
            `bounds check: offset ${vaddr} >= limit ${limit}, so the MMU raises a fault before adding the base`,
          ],
          picture(vaddr, null),
        );
      } else {
        const paddr = vaddr + base;
        ctx.print(
          pyFormat(
            '  VA %2d: 0x%08x (decimal: %4d) --> VALID: 0x%08x (decimal: %4d)',
            i,
            vaddr,
            vaddr,
            paddr,
            paddr,
          ),
        );
        ctx.step(
          [
            `bounds check: offset ${vaddr} < limit ${limit}: inside the address space`,
            `relocation: PA = base + VA = ${base} + ${vaddr} = ${paddr} (0x${paddr.toString(16)})`,
          ],
          picture(vaddr, paddr),
        );
      }
    }
    ctx.print('');
    if (!solve) {
      ctx.print('For each virtual address, either write down the physical address it translates to');
      ctx.print('OR write down that it is an out-of-bounds address (a segmentation violation). For');
      ctx.print('this problem, you should assume a simple virtual address space of a given size.');
      ctx.print('');
    }
  },
};
