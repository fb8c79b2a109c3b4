/**
 * `--format auto`: which trace format a file's first bytes look like. The first line that is
 * neither blank nor a valgrind line (`==PID==`, `--PID--`) decides: a bare decimal number means a
 * pages file; a lackey record (`I`, `L`, `S` or `M`, an address, a size) means lackey.
 */

export type TraceFormat = 'lackey' | 'pages';

const LACKEY_LINE = /^\s*[ILSM]\s+[0-9a-fA-F]+,[0-9]+\s*$/;
const PAGES_LINE = /^\s*[0-9]+\s*$/;

/** @returns the format, or null when the head matches neither (or holds no data line yet). */
export function detectTraceFormat(head: Uint8Array): TraceFormat | null {
  const text = new TextDecoder('latin1').decode(head.subarray(0, 65536));
  // Give it a few KiB: a data line cut short by the end of the head is read as it is.
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '' || /^\s*(==|--)/.test(line)) continue;
    if (PAGES_LINE.test(line)) return 'pages';
    if (LACKEY_LINE.test(line)) return 'lackey';
    return null;
  }
  return null;
}
