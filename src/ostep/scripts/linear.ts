/**
 * vm-paging/paging-linear-translate.py: a linear page table of 32-bit entries (bit 31 valid, the
 * rest the PFN), each virtual page valid with probability `-u` percent and given a distinct random
 * frame; then addresses to translate. The page table and the addresses come from one random stream.
 */

import { PyRandom } from '../../kernel/reclaim/pyrandom.js';
import { convertNum, count } from '../common.js';
import { num, pyBool, pyExit, pyFormat, pyInt, pyRaise, pyStr } from '../python.js';
import type { Ctx, Script } from '../script.js';

function mustBeMultipleOf(ctx: Ctx, big: number, n: number, message: string): void {
  if (n === 0) pyRaise('ZeroDivisionError', 'float division by zero');
  if (Math.trunc(big / n) !== big / n) {
    ctx.print(`Error in argument: ${message}`);
    pyExit(1);
  }
}

/** `int(math.log(float(x)) / math.log(2.0))`, raising as Python does for x ≤ 0. */
function log2Floor(x: number): number {
  if (x <= 0) pyRaise('ValueError', 'math domain error');
  return Math.trunc(Math.log(x) / Math.log(2));
}

function mustBePowerOf2(ctx: Ctx, bits: number, size: number, message: string): void {
  if (2 ** bits !== size) {
    ctx.print(`Error in argument: ${message}`);
    pyExit(1);
  }
}

/** Which frames are taken: a byte per frame, or a set when there are very many. */
class UsedFrames {
  private readonly bytes: Uint8Array | null;
  private readonly set = new Set<number>();

  constructor(frames: number) {
    this.bytes = frames <= 1 << 24 ? new Uint8Array(Math.max(frames, 0)) : null;
  }

  has(pfn: number): boolean {
    return this.bytes ? this.bytes[pfn] === 1 : this.set.has(pfn);
  }

  add(pfn: number): void {
    if (this.bytes) this.bytes[pfn] = 1;
    else this.set.add(pfn);
  }
}

export const linearTranslate: Script = {
  name: 'paging-linear-translate',
  path: 'vm-paging/paging-linear-translate.py',
  summary: 'translation through a linear page table',
  options: [
    {
      short: '-A',
      long: '--addresses',
      dest: 'addresses',
      type: 'string',
      default: '-1',
      help: 'a set of comma-separated pages to access; -1 means randomly generate',
    },
    { short: '-s', long: '--seed', dest: 'seed', type: 'int', default: 0n, help: 'the random seed' },
    {
      short: '-a',
      long: '--asize',
      dest: 'asize',
      type: 'string',
      default: '16k',
      help: 'address space size (e.g., 16, 64k, 32m, 1g)',
    },
    {
      short: '-p',
      long: '--physmem',
      dest: 'psize',
      type: 'string',
      default: '64k',
      help: 'physical memory size (e.g., 16, 64k, 32m, 1g)',
    },
    {
      short: '-P',
      long: '--pagesize',
      dest: 'pagesize',
      type: 'string',
      default: '4k',
      help: 'page size (e.g., 4k, 8k, whatever)',
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
      short: '-u',
      long: '--used',
      dest: 'used',
      type: 'int',
      default: 50n,
      help: 'percent of virtual address space that is used',
    },
    { short: '-v', dest: 'verbose', type: 'true', default: false, help: 'verbose mode' },
    { short: '-c', dest: 'solve', type: 'true', default: false, help: 'compute answers for me' },
  ],
  main(ctx: Ctx, o) {
    const verbose = o['verbose'] === true;
    ctx.print('ARG seed', pyStr(o['seed']!));
    ctx.print('ARG address space size', String(o['asize']));
    ctx.print('ARG phys mem size', String(o['psize']));
    ctx.print('ARG page size', String(o['pagesize']));
    ctx.print('ARG verbose', pyBool(verbose));
    ctx.print('ARG addresses', String(o['addresses']));
    ctx.print('');
    const rng = new PyRandom(o['seed'] as bigint);
    const asize = convertNum(o['asize'] as string);
    const psize = convertNum(o['psize'] as string);
    const pagesize = convertNum(o['pagesize'] as string);
    const addresses = o['addresses'] as string;
    const fail = (message: string): never => {
      ctx.print(message);
      return pyExit(1);
    };
    if (psize <= 1) fail('Error: must specify a non-zero physical memory size.');
    if (asize < 1) fail('Error: must specify a non-zero address-space size.');
    if (psize <= asize)
      fail('Error: physical memory size must be GREATER than address space size (for this simulation)');
    if (psize >= 1024 ** 3 || asize >= 1024 ** 3)
      fail('Error: must use smaller sizes (less than 1 GB) for this simulation.');
    mustBeMultipleOf(ctx, asize, pagesize, 'address space must be a multiple of the pagesize');
    mustBeMultipleOf(ctx, psize, pagesize, 'physical memory must be a multiple of the pagesize');
    const pages = Math.trunc(psize / pagesize);
    const vpages = Math.trunc(asize / pagesize);
    const vabits = log2Floor(asize);
    mustBePowerOf2(ctx, vabits, asize, 'address space must be a power of 2');
    const pagebits = log2Floor(pagesize);
    mustBePowerOf2(ctx, pagebits, pagesize, 'page size must be a power of 2');
    const pagemask = 2 ** pagebits - 1;

    ctx.print('');
    ctx.print('The format of the page table is simple:');
    ctx.print('The high-order (left-most) bit is the VALID bit.');
    ctx.print('  If the bit is 1, the rest of the entry is the PFN.');
    ctx.print('  If the bit is 0, the page is not valid.');
    ctx.print('Use verbose mode (-v) if you want to print the VPN # by');
    ctx.print('each entry of the page table.');
    ctx.print('');
    ctx.print('Page Table (from entry 0 down to the max size)');
    const used = new UsedFrames(pages);
    const pt = new Int32Array(Math.max(vpages, 0));
    const threshold = 100 - num(o['used'] as bigint);
    for (let v = 0; v < vpages; v++) {
      const prefix = verbose ? pyFormat('  [%8d]  ', v) : '  ';
      for (;;) {
        if (rng.random() * 100 > threshold) {
          const u = Math.trunc(pages * rng.random());
          if (!used.has(u)) {
            used.add(u);
            ctx.print(`${prefix}${pyFormat('0x%08x', 0x80000000 + u)}`);
            pt[v] = u;
            break;
          }
        } else {
          ctx.print(`${prefix}0x00000000`);
          pt[v] = -1;
          break;
        }
      }
    }
    ctx.print('');

    const list: string[] = [];
    if (addresses === '-1') {
      const n = count(o['num'] as bigint);
      for (let i = 0; i < n; i++) list.push(String(Math.trunc(asize * rng.random())));
    } else list.push(...addresses.split(','));

    ctx.print('Virtual Address Trace');
    ctx.beginAnswers();
    const solve = o['solve'] === true;
    const vpnMask = BigInt(0xffffffff - pagemask);
    for (const vstr of list) {
      const vaddr = pyInt(vstr);
      if (!solve) {
        ctx.print(pyFormat('  VA 0x%08x (decimal: %8d) --> PA or invalid address?', vaddr, vaddr));
        continue;
      }
      const vpn = num((vaddr & vpnMask) >> BigInt(pagebits));
      if (vpn >= vpages) pyRaise('IndexError', 'array index out of range');
      const pfn = pt[vpn]!;
      const walk = [
        `split: VA ${vaddr} = VPN ${vpn} | offset ${num(vaddr & BigInt(pagemask))} (${pagebits} offset bits, pages of ${pagesize} bytes)`,
        `page table: entry ${vpn} of ${vpages} = ${pfn < 0 ? '0x00000000 (valid bit 0)' : `${pyFormat('0x%08x', 0x80000000 + pfn)} (valid bit 1, PFN ${pfn})`}`,
      ];
      if (pfn < 0) {
        ctx.print(pyFormat('  VA 0x%08x (decimal: %8d) -->  Invalid (VPN %d not valid)', vaddr, vaddr, vpn));
        ctx.step([...walk, 'the entry is not valid: the access faults']);
      } else {
        const offset = num(vaddr & BigInt(pagemask));
        const paddr = pfn * 2 ** pagebits + offset;
        ctx.print(
          pyFormat(
            '  VA 0x%08x (decimal: %8d) --> %08x (decimal %8d) [VPN %d]',
            vaddr,
            vaddr,
            paddr,
            paddr,
            vpn,
          ),
        );
        ctx.step([...walk, `PA = PFN ${pfn} * ${pagesize} + offset ${offset} = ${paddr}`]);
      }
    }
    ctx.print('');
    if (!solve) {
      ctx.print('For each virtual address, write down the physical address it translates to');
      ctx.print('OR write down that it is an out-of-bounds address (e.g., segfault).');
      ctx.print('');
    }
  },
};
