/**
 * vm-freespace/malloc.py: a free list of (address, size) pairs and no memory behind it. Allocation
 * rounds the request up to the alignment, adds the header, and searches the list BEST, WORST or
 * FIRST fit (counting the elements it looks at), splitting the chosen block from its front. A free
 * puts the block back where the list order says (ADDRSORT, SIZESORT±, INSERT-FRONT/BACK) and, with
 * `-C`, merges neighbours that are adjacent *in the list* — complete only when it is address-sorted.
 *
 * The model is the script's own: vmscope's real allocators (`src/user/malloc`) keep their headers in
 * simulated memory and coalesce by address, so they would not give these answers.
 */
import { seededRandom } from '../common.js';
import { num, pyFormat, pyInt, pyRaise, pyStr } from '../python.js';
import type { Ctx, Script, StepState } from '../script.js';

type Block = [addr: number, size: number];

const POLICIES = ['FIRST', 'BEST', 'WORST'];
const ORDERS = ['ADDRSORT', 'SIZESORT+', 'SIZESORT-', 'INSERT-FRONT', 'INSERT-BACK'];

/** What one search looked at, for `--explain`. */
interface Search {
  readonly request: number;
  readonly rounded: number;
  readonly visited: readonly Block[];
  readonly chosen: number;
}

/** The script's `malloc` class. */
class FreeList {
  list: Block[];
  private readonly sizeOf = new Map<number, number>();
  lastSearch: Search | null = null;

  private readonly size: number;
  private readonly start: number;
  private readonly header: number;
  private readonly policy: string;
  private readonly order: string;
  private readonly coalesce: boolean;
  private readonly align: number;

  constructor(
    size: number,
    start: number,
    header: number,
    policy: string,
    order: string,
    coalesce: boolean,
    align: number,
  ) {
    this.size = size;
    this.start = start;
    this.header = header;
    this.policy = policy;
    this.order = order;
    this.coalesce = coalesce;
    this.align = align;
    this.list = [[start, size]];
    if (!POLICIES.includes(policy) || !ORDERS.includes(order) || !(align === -1 || align > 0))
      pyRaise('AssertionError', '');
  }

  malloc(request: number): [number, number] {
    let size = request;
    if (this.align !== -1) {
      const left = ((size % this.align) + this.align) % this.align;
      size += left !== 0 ? this.align - left : 0;
    }
    size += this.header;
    let best = -1;
    let bestSize = this.policy === 'BEST' ? this.size + 1 : -1;
    let bestAddr = 0;
    let searched = 0;
    for (let i = 0; i < this.list.length; i++) {
      const [addr, esize] = this.list[i]!;
      searched++;
      if (
        esize >= size &&
        ((this.policy === 'BEST' && esize < bestSize) ||
          (this.policy === 'WORST' && esize > bestSize) ||
          this.policy === 'FIRST')
      ) {
        bestAddr = addr;
        bestSize = esize;
        best = i;
        if (this.policy === 'FIRST') break;
      }
    }
    this.lastSearch = { request, rounded: size, visited: this.list.slice(0, searched), chosen: best };
    if (best === -1) return [-1, searched];
    if (bestSize > size) this.list[best] = [bestAddr + size, bestSize - size];
    else this.list.splice(best, 1);
    if (this.sizeOf.has(bestAddr)) pyRaise('AssertionError', '');
    this.sizeOf.set(bestAddr, size);
    return [bestAddr, searched];
  }

  free(addr: number): number {
    const size = this.sizeOf.get(addr);
    if (size === undefined) return -1;
    const block: Block = [addr, size];
    if (this.order === 'INSERT-BACK') this.list.push(block);
    else if (this.order === 'INSERT-FRONT') this.list.unshift(block);
    else {
      this.list.push(block);
      // Stable sorts, as Python's sorted() (reverse=True keeps equal elements in order too).
      if (this.order === 'ADDRSORT') this.list.sort((a, b) => a[0] - b[0]);
      else if (this.order === 'SIZESORT+') this.list.sort((a, b) => a[1] - b[1]);
      else this.list.sort((a, b) => b[1] - a[1]);
    }
    if (this.coalesce) {
      const merged: Block[] = [];
      let cur = this.list[0]!;
      for (let i = 1; i < this.list.length; i++) {
        const [eaddr, esize] = this.list[i]!;
        if (eaddr === cur[0] + cur[1]) cur = [cur[0], cur[1] + esize];
        else {
          merged.push(cur);
          cur = [eaddr, esize];
        }
      }
      merged.push(cur);
      this.list = merged;
    }
    this.sizeOf.delete(addr);
    return 0;
  }

  /** The heap for the visualizer: the free list and the allocated blocks. */
  picture(): StepState {
    return {
      kind: 'heap',
      base: this.start,
      size: this.size,
      free: this.list.map((b) => [b[0], b[1]] as const),
      used: [...this.sizeOf].map(([a, z]) => [a, z] as const),
    };
  }

  dump(): string {
    return `Free List [ Size ${this.list.length} ]: ${this.list.map(([a, s]) => `[ addr:${a} sz:${s} ]`).join('')}`;
  }
}

function showList(list: readonly Block[]): string {
  return list.length === 0 ? '(empty)' : list.map(([a, s]) => `${a}:${s}`).join(' ');
}

function explainAlloc(m: FreeList, policy: string, before: string): string[] {
  const s = m.lastSearch!;
  const lines = [`free list before (addr:size): ${before}`];
  lines.push(
    `request ${s.request} -> ${s.rounded} bytes to find (after alignment and header); ${policy} visits ${s.visited.length}: ${s.visited
      .map(
        ([a, z], i) => `${a}:${z}${i === s.chosen ? ' <- chosen' : z >= s.rounded ? ' fits' : ' too small'}`,
      )
      .join(', ')}`,
  );
  if (s.chosen < 0) lines.push('no free block is large enough: the allocation fails (-1)');
  else {
    const [addr, size] = s.visited[s.chosen]!;
    lines.push(
      size > s.rounded
        ? `split ${addr}:${size} -> allocated ${addr}:${s.rounded}, free remainder ${addr + s.rounded}:${size - s.rounded}`
        : `exact fit: ${addr}:${size} leaves the list`,
    );
  }
  return lines;
}

export const mallocScript: Script = {
  name: 'malloc',
  path: 'vm-freespace/malloc.py',
  summary: 'free-list allocation: BEST/WORST/FIRST fit, list orders, coalescing',
  options: [
    { short: '-s', long: '--seed', dest: 'seed', type: 'int', default: 0n, help: 'the random seed' },
    { short: '-S', long: '--size', dest: 'heapSize', type: 'int', default: 100n, help: 'size of the heap' },
    {
      short: '-b',
      long: '--baseAddr',
      dest: 'baseAddr',
      type: 'int',
      default: 1000n,
      help: 'base address of heap',
    },
    {
      short: '-H',
      long: '--headerSize',
      dest: 'headerSize',
      type: 'int',
      default: 0n,
      help: 'size of the header',
    },
    {
      short: '-a',
      long: '--alignment',
      dest: 'alignment',
      type: 'int',
      default: -1n,
      help: 'align allocated units to size; -1->no align',
    },
    {
      short: '-p',
      long: '--policy',
      dest: 'policy',
      type: 'string',
      default: 'BEST',
      help: 'list search (BEST, WORST, FIRST)',
    },
    {
      short: '-l',
      long: '--listOrder',
      dest: 'order',
      type: 'string',
      default: 'ADDRSORT',
      help: 'list order (ADDRSORT, SIZESORT+, SIZESORT-, INSERT-FRONT, INSERT-BACK)',
    },
    {
      short: '-C',
      long: '--coalesce',
      dest: 'coalesce',
      type: 'true',
      default: false,
      help: 'coalesce the free list?',
    },
    {
      short: '-n',
      long: '--numOps',
      dest: 'opsNum',
      type: 'int',
      default: 10n,
      help: 'number of random ops to generate',
    },
    { short: '-r', long: '--range', dest: 'opsRange', type: 'int', default: 10n, help: 'max alloc size' },
    {
      short: '-P',
      long: '--percentAlloc',
      dest: 'opsPAlloc',
      type: 'int',
      default: 50n,
      help: 'percent of ops that are allocs',
    },
    {
      short: '-A',
      long: '--allocList',
      dest: 'opsList',
      type: 'string',
      default: '',
      help: 'instead of random, list of ops (+10,-0,etc)',
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
    const header = num(o['headerSize'] as bigint);
    const policy = o['policy'] as string;
    const m = new FreeList(
      num(o['heapSize'] as bigint),
      num(o['baseAddr'] as bigint),
      header,
      policy,
      o['order'] as string,
      o['coalesce'] === true,
      num(o['alignment'] as bigint),
    );
    const names: [string, string][] = [
      ['seed', 'seed'],
      ['size', 'heapSize'],
      ['baseAddr', 'baseAddr'],
      ['headerSize', 'headerSize'],
      ['alignment', 'alignment'],
      ['policy', 'policy'],
      ['listOrder', 'order'],
      ['coalesce', 'coalesce'],
      ['numOps', 'opsNum'],
      ['range', 'opsRange'],
      ['percentAlloc', 'opsPAlloc'],
      ['allocList', 'opsList'],
      ['compute', 'solve'],
    ];
    for (const [label, dest] of names) ctx.print(label, pyStr(o[dest]!));
    ctx.print('');
    ctx.beginAnswers();
    const percent = num(o['opsPAlloc'] as bigint) / 100;
    const rng = seededRandom(o['seed'] as bigint);
    if (!(percent > 0)) pyRaise('AssertionError', '');
    const solve = o['solve'] === true;
    const opsList = o['opsList'] as string;
    const ptrs = new Map<number, number>();
    const state = (): void => {
      if (solve) ctx.print(m.dump());
    };

    if (opsList === '') {
      const live: number[] = [];
      const opsNum = o['opsNum'] as bigint;
      const range = num(o['opsRange'] as bigint);
      let c = 0;
      let j = 0n;
      while (j < opsNum) {
        let printed = false;
        let note: string[] = [];
        const before = showList(m.list);
        if (rng.random() < percent) {
          const size = Math.trunc(rng.random() * range) + 1;
          const [ptr, searched] = m.malloc(size);
          if (ptr !== -1) {
            ptrs.set(c, ptr);
            live.push(c);
          }
          ctx.write(pyFormat('ptr[%d] = Alloc(%d)', c, size));
          ctx.print(
            solve ? pyFormat(' returned %d (searched %d elements)', ptr + header, searched) : ' returned ?',
          );
          note = explainAlloc(m, policy, before);
          c++;
          j++;
          printed = true;
        } else if (ptrs.size > 0) {
          const d = Math.trunc(rng.random() * live.length);
          const id = live[d]!;
          const rc = m.free(ptrs.get(id)!);
          ctx.print(pyFormat('Free(ptr[%d])', id));
          ctx.print(solve ? pyFormat('returned %d', rc) : 'returned ?');
          note = [`free list before: ${before}`, `ptr[${id}] goes back to the list (${o['order']})`];
          ptrs.delete(id);
          live.splice(d, 1);
          printed = true;
          j++;
        }
        if (printed) {
          if (solve) state();
          else ctx.print('List? ');
          ctx.step(note, m.picture());
          ctx.print('');
        }
      }
      return;
    }

    let c = 0;
    for (const op of opsList.split(',')) {
      if (op.length === 0) pyRaise('IndexError', 'string index out of range');
      const before = showList(m.list);
      let note: string[] = [];
      if (op[0] === '+') {
        const size = num(pyInt(op.split('+')[1]!));
        const [ptr, searched] = m.malloc(size);
        if (ptr !== -1) ptrs.set(c, ptr);
        ctx.write(pyFormat('ptr[%d] = Alloc(%d)', c, size));
        ctx.print(solve ? pyFormat(' returned %d (searched %d elements)', ptr, searched) : ' returned ?');
        note = explainAlloc(m, policy, before);
        c++;
      } else if (op[0] === '-') {
        const index = num(pyInt(op.split('-')[1]!));
        if (index >= ptrs.size) {
          ctx.print('Invalid Free: Skipping');
          continue;
        }
        ctx.print(pyFormat('Free(ptr[%d])', index));
        const addr = ptrs.get(index);
        if (addr === undefined) pyRaise('KeyError', String(index));
        const rc = m.free(addr);
        ctx.print(solve ? pyFormat('returned %d', rc) : 'returned ?');
        note = [
          `free list before: ${before}`,
          rc === 0
            ? `ptr[${index}] goes back to the list (${o['order']})`
            : `ptr[${index}] is not allocated: free returns -1`,
        ];
      } else {
        pyRaise('NameError', "name 'abort' is not defined");
      }
      if (solve) state();
      else ctx.print('List?');
      ctx.step(note, m.picture());
      ctx.print('');
    }
  },
};
