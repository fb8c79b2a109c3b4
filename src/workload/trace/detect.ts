/**
 * What a trace is, from its first bytes, never from its name: first the compression around it
 * (gzip, zstd), then, on the decompressed bytes, the format. Binary formats are recognised by
 * their magic bytes or the shape of their records; a text format by its first line that is neither
 * blank nor a valgrind line (`==PID==`, `--PID--`), and when that line fits no `TEXT` rule, the
 * first lines together by the field-oriented family of `text-formats.ts` (din, MSR, libCacheSim
 * txt). To teach vmscope a new format, add a rule to `BINARY` or `TEXT` below, or to
 * `text-formats.ts` for a field-oriented one (and a decoder to `decoder.ts`).
 */
import { looksLikeOracleGeneral } from './oracle-general.js';
import { detectTextFormat, TEXT_FORMATS, type TextFormat } from './text-formats.js';
import { isVmtrace } from './vmtrace.js';

export type TraceFormat = 'lackey' | 'pages' | 'vmscope' | 'oracleGeneral' | TextFormat;
export const TRACE_FORMATS: readonly TraceFormat[] = [
  'lackey',
  'pages',
  'vmscope',
  'oracleGeneral',
  ...TEXT_FORMATS,
];

export type Compression = 'gzip' | 'zstd';

/** How many leading bytes to gather before deciding (or all of a shorter input). */
export const HEAD_BYTES = 4096;

/** gzip (RFC 1952: 1f 8b) and zstd frames (RFC 8878: magic 0xFD2FB528, little-endian). */
export function detectCompression(head: Uint8Array): Compression | null {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd)
    return 'zstd';
  return null;
}

/** Binary formats, tried first and in order. */
const BINARY: readonly (readonly [TraceFormat, (head: Uint8Array) => boolean])[] = [
  ['vmscope', isVmtrace],
  ['oracleGeneral', looksLikeOracleGeneral],
];

/** Text formats: the pattern their first data line matches. */
const TEXT: readonly (readonly [TraceFormat, RegExp])[] = [
  ['pages', /^\s*[0-9]+\s*$/],
  ['lackey', /^\s*[ILSM]\s+[0-9a-fA-F]+,[0-9]+\s*$/],
];

/**
 * The format of decompressed trace bytes. @returns null when the head matches none (or holds no
 * data line yet).
 */
export function detectTraceFormat(head: Uint8Array): TraceFormat | null {
  for (const [format, test] of BINARY) if (test(head)) return format;
  const text = new TextDecoder('latin1').decode(head.subarray(0, 65536));
  const lines = text.split('\n');
  // A data line cut short by the end of the head is read as it is.
  for (const raw of lines) {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '' || /^\s*(==|--)/.test(line)) continue;
    for (const [format, pattern] of TEXT) if (pattern.test(line)) return format;
    return detectTextFormat(lines.map((l) => l.replace(/\r$/, '')));
  }
  return null;
}

/** What `--format` accepts besides `auto`, for messages. */
export const FORMAT_HELP =
  'valgrind lackey lines (I/L/S/M), one page number per line, Dinero din, MSR Cambridge CSV, one object id per line (libCacheSim txt), a vmscope trace (.vmt) or libCacheSim oracleGeneral';
