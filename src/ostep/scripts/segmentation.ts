/**
 * vm-segmentation/segmentation.py: two segments chosen by the address's top bit. Segment 0 grows
 * up from base0 for limit0 bytes; segment 1 grows down from its printed base (its top end) for
 * limit1 bytes. Random limits and non-overlapping random bases unless given.
 */
import { convertNum, count, seededRandom } from '../common.js';
import { num, pyExit, pyFormat, pyInt, pyStr } from '../python.js';
import { type Ctx, noTermination, type Script } from '../script.js';

function abortIf(ctx: Ctx, condition: boolean, message: string): void {
  if (condition) {
    ctx.print('Error:', message);
    pyExit(1);
  }
}

export const segmentation: Script = {
  name: 'segmentation',
  path: 'vm-segmentation/segmentation.py',
  summary: 'two-segment translation (code/heap up, stack down)',
  options: [
    { short: '-s', long: '--seed', dest: 'seed', type: 'int', default: 0n, help: 'the random seed' },
    {
      short: '-A',
      long: '--addresses',
      dest: 'addresses',
      type: 'string',
      default: '-1',
      help: 'a set of comma-separated pages to access; -1 means randomly generate',
    },
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
      long: '--numaddrs',
      dest: 'num',
      type: 'int',
      default: 5n,
      help: 'number of virtual addresses to generate',
    },
    {
      short: '-b',
      long: '--b0',
      dest: 'base0',
      type: 'string',
      default: '-1',
      help: 'value of segment 0 base register',
    },
    {
      short: '-l',
      long: '--l0',
      dest: 'len0',
      type: 'string',
      default: '-1',
      help: 'value of segment 0 limit register',
    },
    {
      short: '-B',
      long: '--b1',
      dest: 'base1',
      type: 'string',
      default: '-1',
      help: 'value of segment 1 base register',
    },
    {
      short: '-L',
      long: '--l1',
      dest: 'len1',
      type: 'string',
      default: '-1',
      help: 'value of segment 1 limit register',
    },
    { short: '-c', dest: 'solve', type: 'true', default: false, help: 'compute answers for me' },
  ],
  main(ctx: Ctx, o) {
    ctx.print('ARG seed', pyStr(o['seed']!));
    ctx.print('ARG address space size', String(o['asize']));
    ctx.print('ARG phys mem size', String(o['psize']));
    ctx.print('');
    const rng = seededRandom(o['seed'] as bigint);
    const asize = convertNum(o['asize'] as string);
    const psize = convertNum(o['psize'] as string);
    const addresses = o['addresses'] as string;
    abortIf(ctx, psize <= 4, 'must specify a bigger physical memory size');
    abortIf(ctx, asize === 0, 'must specify a non-zero address-space size');
    abortIf(ctx, psize <= asize, 'physical memory size > address space size (for this simulation)');
    let len0 = convertNum(o['len0'] as string);
    let len1 = convertNum(o['len1'] as string);
    let base0 = convertNum(o['base0'] as string);
    let base1 = convertNum(o['base1'] as string);
    if (len0 === -1) len0 = Math.trunc(asize / 4 + (asize / 4) * rng.random());
    if (len1 === -1) len1 = Math.trunc(asize / 4 + (asize / 4) * rng.random());
    if (base0 === -1 || base1 === -1) {
      abortIf(
        ctx,
        psize <= 2 * asize,
        'physical memory must be 2x GREATER than address space size (if randomly generating base registers)',
      );
    }
    if (base0 === -1) {
      if (len0 >= psize)
        noTermination('segmentation.py', `no base0 fits a limit of ${len0} in ${psize} bytes`);
      do base0 = Math.trunc(psize * rng.random());
      while (!(base0 + len0 < psize));
    }
    // Internally base1 is segment 1's low end; the user gives (and the script prints) its top.
    if (base1 === -1) {
      const highest = len1 >= 0 ? psize - 1 - len1 : psize - 1;
      const fits = highest >= 0 && (highest > base0 + len0 || len1 < base0);
      if (!fits) noTermination('segmentation.py', `no base1 for a limit of ${len1} avoids segment 0`);
      for (;;) {
        base1 = Math.trunc(psize * rng.random());
        if (base1 + len1 < psize && (base1 > base0 + len0 || base1 + len1 < base0)) break;
      }
    } else {
      base1 = base1 - len1;
    }
    abortIf(ctx, psize < base0 + len0 - 1, 'seg0 is not in physical memory');
    abortIf(ctx, psize < base1, 'seg1 is not in physical memory');
    abortIf(ctx, len0 > asize / 2, 'length0 register is too large for this address space');
    abortIf(ctx, len1 > asize / 2, 'length1 register is too large for this address space');
    ctx.print('Segment register information:');
    ctx.print('');
    ctx.print(pyFormat('  Segment 0 base  (grows positive) : 0x%08x (decimal %d)', base0, base0));
    ctx.print(pyFormat('  Segment 0 limit                  : %d', len0));
    ctx.print('');
    const nbase1 = base1 + len1;
    ctx.print(pyFormat('  Segment 1 base  (grows negative) : 0x%08x (decimal %d)', nbase1, nbase1));
    ctx.print(pyFormat('  Segment 1 limit                  : %d', len1));
    ctx.print('');
    abortIf(ctx, len0 + base0 > base1 && base1 > base0, 'segments overlap in physical memory');
    const list: string[] = [];
    if (addresses === '-1') {
      const n = count(o['num'] as bigint);
      for (let i = 0; i < n; i++) list.push(String(Math.trunc(asize * rng.random())));
    } else list.push(...addresses.split(','));
    ctx.print('Virtual Address Trace');
    ctx.beginAnswers();
    const picture = (va: number, pa: number | null) =>
      ({
        kind: 'segments',
        va,
        asize,
        psize,
        segments: [
          { name: 'segment 0 (grows up)', lo: base0, hi: base0 + len0 },
          { name: 'segment 1 (grows down)', lo: base1, hi: nbase1 },
        ],
        pa,
      }) as const;
    const solve = o['solve'] === true;
    list.forEach((vstr, i) => {
      const big = pyInt(vstr);
      if (big < 0n || big >= BigInt(asize)) {
        ctx.print(
          pyFormat(
            'Error: virtual address %d cannot be generated in an address space of size %d',
            big,
            asize,
          ),
        );
        pyExit(1);
      }
      const vaddr = num(big);
      if (!solve) {
        ctx.print(
          pyFormat('  VA %2d: 0x%08x (decimal: %4d) --> PA or segmentation violation?', i, vaddr, vaddr),
        );
        return;
      }
      const line = pyFormat('  VA %2d: 0x%08x (decimal: %4d) --> ', i, vaddr, vaddr);
      if (vaddr >= asize / 2) {
        const paddr = nbase1 + (vaddr - asize);
        const why = [
          `segment: VA ${vaddr} >= ${asize / 2} (half the ${asize}-byte address space: top bit 1) -> segment 1, which grows down`,
          `offset: VA - size = ${vaddr} - ${asize} = ${vaddr - asize}; PA = top ${nbase1} + (${vaddr - asize}) = ${paddr}`,
        ];
        if (paddr < base1) {
          ctx.print(`${line}SEGMENTATION VIOLATION (SEG1)`);
          ctx.step(
            [...why, `bounds: ${paddr} < ${base1} (top - limit ${len1}): past the segment's limit, a fault`],
            picture(vaddr, null),
          );
        } else {
          ctx.print(`${line}${pyFormat('VALID in SEG1: 0x%08x (decimal: %4d)', paddr, paddr)}`);
          ctx.step(
            [...why, `bounds: ${paddr} >= ${base1} (top - limit ${len1}): inside segment 1`],
            picture(vaddr, paddr),
          );
        }
      } else {
        const why = `segment: VA ${vaddr} < ${asize / 2} (top bit 0) -> segment 0, which grows up from base ${base0}`;
        if (vaddr >= len0) {
          ctx.print(`${line}SEGMENTATION VIOLATION (SEG0)`);
          ctx.step([why, `bounds: offset ${vaddr} >= limit ${len0}: a fault`], picture(vaddr, null));
        } else {
          const paddr = vaddr + base0;
          ctx.print(`${line}${pyFormat('VALID in SEG0: 0x%08x (decimal: %4d)', paddr, paddr)}`);
          ctx.step(
            [
              why,
              `bounds: offset ${vaddr} < limit ${len0}; PA = base + offset = ${base0} + ${vaddr} = ${paddr}`,
            ],
            picture(vaddr, paddr),
          );
        }
      }
    });
    ctx.print('');
    if (!solve) {
      ctx.print('For each virtual address, either write down the physical address it translates to');
      ctx.print('OR write down that it is an out-of-bounds address (a segmentation violation). For');
      ctx.print('this problem, you should assume a simple address space with two segments: the top');
      ctx.print('bit of the virtual address can thus be used to check whether the virtual address');
      ctx.print('is in segment 0 (topbit=0) or segment 1 (topbit=1). Note that the base/limit pairs');
      ctx.print('given to you grow in different directions, depending on the segment, i.e., segment 0');
      ctx.print('grows in the positive direction, whereas segment 1 in the negative. ');
      ctx.print('');
    }
  },
};
