/**
 * The recorded machine's memory, when the log shows it: a `sysinfo` call's `totalram` (times
 * `mem_unit`) or what the program read from `/proc/meminfo` (`MemTotal:  N kB`). A program that
 * sizes itself by the machine (a JVM's heap reservation, a database's buffer pool) maps what that
 * machine allowed: overcommit's heuristic refuses a single mapping larger than RAM plus swap, so on a
 * smaller simulated machine its large mappings fail. The replay's machine is sized from it unless
 * `--ram` says otherwise.
 */

/** What the log says of the machine's memory. */
export interface LoggedMemory {
  readonly bytes: number;
  /** `sysinfo` or `/proc/meminfo`. */
  readonly source: string;
  readonly line: number;
}

const SYSINFO = /\bsysinfo\(\{[^}]*\btotalram=(\d+)[^}]*\bmem_unit=(\d+)/;
const MEMINFO = /\bread\(\d+<\/proc\/(?:self|\d+)\/meminfo>|\bread\(\d+<\/proc\/meminfo>/;
const MEMTOTAL = /"MemTotal:\s+(\d+) kB\\n/;

/** The first mention of the machine's memory in the log's text, or null. */
export function loggedMemory(text: string): LoggedMemory | null {
  let line = 1;
  let at = 0;
  while (at < text.length) {
    let end = text.indexOf('\n', at);
    if (end < 0) end = text.length;
    const l = text.slice(at, end);
    if (l.includes('sysinfo(')) {
      const m = SYSINFO.exec(l);
      if (m) return { bytes: Number(m[1]) * Number(m[2]), source: 'sysinfo', line };
    } else if (l.includes('meminfo>') && MEMINFO.test(l)) {
      const m = MEMTOTAL.exec(l);
      if (m) return { bytes: Number(m[1]) * 1024, source: '/proc/meminfo', line };
    }
    at = end + 1;
    line++;
  }
  return null;
}

/** The largest machine vmscope simulates (physical addresses stay below 2^32). */
export const MAX_RAM_BYTES = 2 ** 32;

/** A machine as large as the logged one, whole MiB, at most {@link MAX_RAM_BYTES}. */
export function ramFor(logged: LoggedMemory): number {
  const mib = 2 ** 20;
  return Math.max(mib, Math.min(MAX_RAM_BYTES, Math.floor(logged.bytes / mib) * mib));
}
