/** /proc-style text, byte for byte as Linux prints it. */
import type { MeminfoFields, StatusFields } from '../kernel/proc.js';
import { MEMINFO_FIELDS, STATUS_FIELDS } from '../kernel/proc.js';
import type { MapsLine } from '../sim/snapshot.js';

/** Width Linux pads the maps prefix to before the pathname (25 + 6 * sizeof(void *) - 1, 64-bit kernel). */
const MAPS_PAD = 72;

function hexMin8(v: number): string {
  // Page-aligned addresses up to 2^64 are exact doubles; BigInt prints them exactly.
  return BigInt(v).toString(16).padStart(8, '0');
}

/** One line of /proc/PID/maps (no newline). */
export function formatMapsLine(l: MapsLine): string {
  const prefix = `${hexMin8(l.start)}-${hexMin8(l.end)} ${l.perms} ${hexMin8(l.offset)} ${l.device} ${l.inode} `;
  if (l.name === '') return prefix;
  return `${prefix.padEnd(MAPS_PAD)} ${l.name}`;
}

/** The whole of /proc/PID/maps. */
export function formatMaps(lines: readonly MapsLine[]): string {
  return lines.map((l) => `${formatMapsLine(l)}\n`).join('');
}

/** A size the way /proc prints it: kB right-aligned in 8 columns (bytes for sub-kB page sizes). */
function kb(bytes: number): string {
  if (bytes % 1024 === 0) return `${String(bytes / 1024).padStart(8)} kB`;
  return `${String(bytes).padStart(8)} B`;
}

/** The memory lines of /proc/PID/status. */
export function formatStatus(fields: StatusFields): string {
  return STATUS_FIELDS.map((f) => `${f}:\t${kb(fields[f])}\n`).join('');
}

/** /proc/meminfo for the fields vmscope models. */
export function formatMeminfo(fields: MeminfoFields): string {
  return MEMINFO_FIELDS.map((f) => `${`${f}:`.padEnd(16)}${kb(fields[f])}\n`).join('');
}
