/** Text for `show` statements: page tables, the TLB, the frame map. */
import { hex0x } from '../base/units.js';
import type { Arch } from '../hw/arch.js';
import { FAULT_NAMES, type Probe } from '../hw/mmu.js';
import { formatTlbPerm } from '../hw/tlb.js';
import { FRAME_KIND_NAMES } from '../kernel/frames.js';
import type { Snapshot } from '../sim/snapshot.js';
import { count, counted } from './format.js';
import { formatMaps, formatMeminfo, formatStatus } from './procfs.js';
import { formatSmaps, formatSmapsRollup } from './smaps.js';

/** One letter per frame kind in the frame map. */
const KIND_LETTER = ['.', 'T', 'A', 'F', 'S', 'K'];

function entryText(arch: Arch, lo: number, hi: number): string {
  const d = arch.pte.decode(lo, hi);
  return `${arch.pte.formatRaw(lo, hi)} ${d.flags.join(' ') || '-'}`;
}

/** A walk, level by level, with each entry decoded. */
export function formatProbe(arch: Arch, probe: Probe, rootPfn: number): string {
  const out = [`walk of ${hex0x(probe.va)} from the root table at frame ${hex0x(rootPfn)}:`];
  for (const s of probe.steps) {
    const d = arch.pte.decode(s.lo, s.hi);
    const label = `${s.levelName}[${s.index}]`.padEnd(10);
    const target = !d.present
      ? 'not present'
      : s.leaf
        ? `frame ${hex0x(d.pfn)}`
        : `next table at frame ${hex0x(d.pfn)}`;
    out.push(`  ${label} entry at ${hex0x(s.entryPa)} = ${entryText(arch, s.lo, s.hi)}  -> ${target}`);
  }
  if (probe.pa >= 0) out.push(`  -> physical address ${hex0x(probe.pa)}`);
  else out.push(`  -> no translation (${FAULT_NAMES[probe.fault]})`);
  return `${out.join('\n')}\n`;
}

export function formatSnapshot(arch: Arch, s: Snapshot): string {
  switch (s.what) {
    case 'maps':
      return s.lines.length === 0 ? `(${s.proc} has no address space: ${s.state})\n` : formatMaps(s.lines);
    case 'status':
      return `Name:\t${s.proc}\nPid:\t${s.pid}\nState:\t${s.state}\n${formatStatus(s.fields)}minflt:\t${s.minflt}\nmajflt:\t${s.majflt}\n`;
    case 'meminfo':
      return formatMeminfo(s.fields);
    case 'smaps':
      return s.entries.length === 0 && s.state !== 'running'
        ? `(${s.proc} has no address space: ${s.state})\n`
        : formatSmaps(s.entries, arch.pageSize);
    case 'smaps_rollup':
      return s.fields === null
        ? `(${s.proc} has no address space: ${s.state})\n`
        : formatSmapsRollup(s.start, s.end, s.fields, arch.pageSize);
    case 'pagetable': {
      if (s.rootPfn < 0) return `(${s.proc} has no page tables: ${s.state})\n`;
      if (s.probe) return formatProbe(arch, s.probe, s.rootPfn);
      const out = [`page tables of ${s.proc}, root ${arch.levelNames[0]} at frame ${hex0x(s.rootPfn)}:`];
      for (const e of s.tree) {
        const indent = '  '.repeat(e.level + 1);
        const name = `${arch.levelNames[e.level]}[${e.index}]`;
        const range = `${hex0x(e.vaStart)}-${hex0x(e.vaEnd)}`;
        const target = e.leaf ? `frame ${hex0x(e.pfn)}` : `table at frame ${hex0x(e.pfn)}`;
        out.push(`${indent}${name} ${range} ${entryText(arch, e.lo, e.hi)} -> ${target}`);
      }
      return `${out.join('\n')}\n`;
    }
    case 'tlb': {
      const { hits, misses, walks, pteReads } = s.stats;
      const total = hits + misses;
      const ratio = total === 0 ? '-' : `${((100 * hits) / total).toFixed(1)}%`;
      const out = [
        `TLB: ${s.entryCount} entries, ${s.ways}-way; since boot: hits ${hits}, misses ${misses}, hit ratio ${ratio}, walks ${walks}, PTE reads ${pteReads}`,
        s.proc
          ? `  entries of ${s.proc}${s.asid !== null ? ` (ASID ${s.asid}): ${s.entries.length}` : ': none (not running)'}`
          : `  valid entries: ${s.entries.length}`,
      ];
      if (s.entries.length > 0) out.push('  set way asid  vpn              pfn        perm');
      for (const e of s.entries) {
        out.push(
          `  ${String(e.set).padStart(3)} ${String(e.way).padStart(3)} ${String(e.asid).padStart(4)}  ${hex0x(e.vpn).padEnd(16)} ${hex0x(e.pfn).padEnd(10)} ${formatTlbPerm(e.perm)}`,
        );
      }
      return `${out.join('\n')}\n`;
    }
    case 'swap': {
      if (s.slots === 0) return `no swap device (policy ${s.policy}; ${counted(s.evictions, 'eviction')})\n`;
      const size = (n: number) => (n % 1024 === 0 ? `${n / 1024} kB` : `${n} B`);
      const out = [
        `swap: ${counted(s.slots, 'slot')} of ${size(s.pageSize)}, ${count(s.used)} in use, ${count(s.slots - s.used)} free; policy ${s.policy}`,
        `  since boot: ${counted(s.evictions, 'eviction')}, ${counted(s.writebacks, 'page')} written to swap, ${count(s.swapIns)} read back`,
      ];
      for (const p of s.byProcess) if (p.swapBytes > 0) out.push(`  ${p.name}: VmSwap ${size(p.swapBytes)}`);
      for (const e of s.entries)
        out.push(`  slot ${String(e.slot).padStart(5)}  ${e.owner}${e.va !== null ? ` ${hex0x(e.va)}` : ''}`);
      if (s.used > s.entries.length)
        out.push(`  … ${s.used - s.entries.length} more slots (and the swap cache)`);
      return `${out.join('\n')}\n`;
    }
    case 'frames': {
      const n = s.kinds.length;
      const perChar = Math.max(1, Math.ceil(n / 4096));
      const counts = new Map<string, number>();
      const byOwner = new Map<string, number>();
      const rows: string[] = [];
      const perRow = 64 * perChar;
      let freeRun = 0;
      for (let rowStart = 0; rowStart < n; rowStart += perRow) {
        let line = '';
        for (let i = rowStart; i < Math.min(n, rowStart + perRow); i += perChar) {
          // With several frames per character, show the most telling kind among them.
          let rank = 0;
          for (let j = i; j < Math.min(n, i + perChar); j++) {
            const kind = s.kinds[j]!;
            if (kind !== 0 && (rank === 0 || kind < rank)) rank = kind;
          }
          line += KIND_LETTER[rank];
        }
        const prev = rows[rows.length - 1];
        if (/^\.+$/.test(line) && prev?.endsWith(` ${line}`)) {
          freeRun += 1; // collapse runs of all-free rows
          continue;
        }
        if (freeRun > 0)
          rows.push(`  ${'…'.padStart(8)} (${freeRun} more free row${freeRun === 1 ? '' : 's'})`);
        freeRun = 0;
        rows.push(`  ${hex0x(rowStart).padStart(8)} ${line}`);
      }
      if (freeRun > 0)
        rows.push(`  ${'…'.padStart(8)} (${freeRun} more free row${freeRun === 1 ? '' : 's'})`);
      for (let i = 0; i < n; i++) {
        const kind = FRAME_KIND_NAMES[s.kinds[i]!]!;
        counts.set(kind, (counts.get(kind) ?? 0) + 1);
        const o = s.owners[i]!;
        if (o >= 0) {
          const who = s.names.get(o) ?? `pid ${o}`;
          byOwner.set(who, (byOwner.get(who) ?? 0) + 1);
        }
      }
      const legend = 'legend: . free  T page table  A anonymous  F file  S shmem  K kernel';
      const scale = perChar > 1 ? ` (one character = ${perChar} frames)` : '';
      const kinds = [...counts].map(([k, v]) => `${k} ${v}`).join(', ');
      const owners = [...byOwner].map(([k, v]) => `${k} ${v}`).join(', ');
      return `${n} frames${scale}; ${legend}\n${rows.join('\n')}\n  by kind: ${kinds}\n  owned: ${owners || 'none'}\n`;
    }
  }
}
