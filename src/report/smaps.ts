/**
 * /proc/PID/smaps and /proc/PID/smaps_rollup, byte for byte as Linux 6.x prints them
 * (fs/proc/task_mmu.c `show_smap` / `__show_smap` / `show_smaps_rollup`): each label padded to 16
 * columns, each value right-aligned in 8, in kB cut down (PSS values carry their fraction until
 * then). On the teaching machines, whose pages are smaller than a kB, values are printed in bytes.
 */
import { PSS_SHIFT, type SmapsFields } from '../kernel/smaps.js';
import type { SmapsLine } from '../sim/snapshot.js';
import { formatMapsLine } from './procfs.js';

const FRACTIONAL = new Set(['Pss', 'Pss_Dirty', 'Pss_Anon', 'Pss_File', 'Pss_Shmem', 'SwapPss', 'Locked']);

/** `Label:` padded to 16 columns and the value in 8 (Linux SEQ_PUT_DEC). */
function line(label: string, bytes: number, smallPages: boolean): string {
  const value = smallPages
    ? `${String(Math.floor(bytes)).padStart(8)} B`
    : `${String(Math.floor(bytes / 1024)).padStart(8)} kB`;
  return `${`${label}:`.padEnd(16)}${value}\n`;
}

function field(fields: SmapsFields, name: keyof SmapsFields): number {
  const v = fields[name];
  return FRACTIONAL.has(name) ? Math.floor(v / 2 ** PSS_SHIFT) : v;
}

/** The counters shared by smaps and the rollup, in Linux's order. */
function counters(fields: SmapsFields, rollup: boolean, smallPages: boolean): string {
  const f = (name: keyof SmapsFields) => line(name, field(fields, name), smallPages);
  const zero = (label: string) => line(label, 0, smallPages);
  let out = f('Rss') + f('Pss') + f('Pss_Dirty');
  if (rollup) out += f('Pss_Anon') + f('Pss_File') + f('Pss_Shmem');
  out += f('Shared_Clean') + f('Shared_Dirty') + f('Private_Clean') + f('Private_Dirty');
  out += f('Referenced') + f('Anonymous') + zero('KSM') + f('LazyFree');
  out += zero('AnonHugePages') + zero('ShmemPmdMapped') + zero('FilePmdMapped') + zero('Shared_Hugetlb');
  // Linux gives Private_Hugetlb one column more for the label and one fewer for the value.
  out += smallPages ? `Private_Hugetlb: ${'0'.padStart(7)} B\n` : `Private_Hugetlb: ${'0'.padStart(7)} kB\n`;
  out += f('Swap') + f('SwapPss') + f('Locked');
  return out;
}

/** /proc/PID/smaps: each VMA's maps line and record. */
export function formatSmaps(entries: readonly SmapsLine[], pageSize: number): string {
  const small = pageSize < 1024;
  return entries
    .map((e) => {
      let out = `${formatMapsLine(e.maps)}\n`;
      out +=
        line('Size', e.size, small) +
        line('KernelPageSize', e.kernelPageSize ?? pageSize, small) +
        line('MMUPageSize', e.kernelPageSize ?? pageSize, small);
      out += counters(e.fields, false, small);
      out += `${'THPeligible:'.padEnd(16)}${(e.thpEligible ? '1' : '0').padStart(8)}\n`;
      out += `VmFlags: ${e.flags.map((n) => `${n} `).join('')}\n`;
      return out;
    })
    .join('');
}

/** /proc/PID/smaps_rollup: the `[rollup]` line over the whole address space and the sums. */
export function formatSmapsRollup(start: number, end: number, fields: SmapsFields, pageSize: number): string {
  const header = formatMapsLine({
    start,
    end,
    perms: '---p',
    offset: 0,
    device: '00:00',
    inode: 0,
    name: '[rollup]',
  });
  return `${header}\n${counters(fields, true, pageSize < 1024)}`;
}
