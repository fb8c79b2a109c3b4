/**
 * What a file a person hands vmscope is, from its first bytes (already decompressed), so that it
 * goes to what reads it — or is refused in words — instead of failing in the wrong parser: an ELF
 * program, a memory-access trace (valgrind lackey, page numbers, din, MSR, libCacheSim txt, vmscope's
 * and libCacheSim's binary formats), an allocation trace (CMU
 * malloc-lab `.rep`, the shim's raw log), an strace log, or a scenario.
 */
import { detectTraceFormat } from './trace/detect.js';

export type InputKind =
  | 'elf'
  | 'lackey'
  | 'pages'
  | 'vmscope'
  | 'oracleGeneral'
  | 'din'
  | 'msr'
  | 'txt'
  | 'csv'
  | 'rep'
  | 'shim-log'
  | 'strace'
  | 'scenario'
  | 'unknown';

/** What each kind is, in words (for messages). */
export const INPUT_KIND_NAMES: Readonly<Record<InputKind, string>> = {
  elf: 'an ELF program',
  lackey: 'a valgrind lackey memory trace',
  pages: 'a list of page numbers (a memory trace)',
  vmscope: "a memory trace in vmscope's binary format (.vmt)",
  oracleGeneral: "a memory trace in libCacheSim's oracleGeneral format",
  din: 'a Dinero din memory trace',
  msr: 'an MSR Cambridge block trace',
  txt: 'a libCacheSim txt trace (one object id per line)',
  csv: 'a CSV trace',
  rep: 'a CMU malloc-lab allocation trace (.rep)',
  'shim-log': 'an allocation log of the LD_PRELOAD shim',
  strace: 'an strace log',
  scenario: 'a vmscope scenario',
  unknown: 'a file vmscope does not read',
};

const NUMBER = /^\s*[0-9]+(\.[0-9]+)?\s*$/;
const REP_OP = /^\s*[afr]\s+[0-9]+(\s+[0-9]+)?\s*$/;
const SHIM_HEADER = /^0 0 x [0-9]+ [0-9]+ \S/;
const SHIM_RECORD = /^[0-9]+ [0-9a-f]+ [mcrRfpaAvV] [0-9a-f]/;
/** `[pid N] ` or `N  `, an optional time stamp, then `name(…) = result` (or `<unfinished …>`). */
const STRACE_LINE =
  /^(\[pid\s+[0-9]+\]\s+|[0-9]+\s+)?([0-9]+[:.][0-9:.]+\s+)?[a-z_][a-z0-9_]*\(.*(\)\s+=\s+|<unfinished)/;
const SCENARIO_LINE = /^\s*(machine|spawn|exec|replay|show|expect|kill)\s|^\s*[A-Za-z_]\w*:\s*[a-z_]+/;

/** The kind of a file from its first bytes (a few KiB are enough) and its name. */
export function detectInputKind(head: Uint8Array, name = ''): InputKind {
  if (head.length >= 4 && head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46)
    return 'elf';
  // The binary trace formats have magic bytes or records no text has.
  const binary = detectTraceFormat(head);
  if (binary === 'vmscope' || binary === 'oracleGeneral') return binary;
  const plain = name.replace(/\.(gz|zst)$/, '');
  const text = new TextDecoder('latin1').decode(head.subarray(0, 65536));
  // The last line may be cut short by the end of the head: leave it out unless it is all there is.
  const all = text.split('\n').map((l) => l.replace(/\r$/, ''));
  const lines = (head.length >= 65536 || !text.endsWith('\n') ? all.slice(0, -1) : all).filter(
    (l) => l.trim() !== '',
  );
  if (lines.length === 0) return plain.endsWith('.vms') ? 'scenario' : 'unknown';
  if (
    SHIM_HEADER.test(lines[0]!) ||
    (lines.length > 1 && lines.slice(0, 3).every((l) => SHIM_RECORD.test(l)))
  )
    return 'shim-log';
  // A .rep opens with four numbers (heap size, ids, ops, weight), then operations.
  if (lines.slice(0, 4).every((l) => NUMBER.test(l)) && (lines.length === 4 || REP_OP.test(lines[4] ?? '')))
    return lines.length > 4 || plain.endsWith('.rep') ? 'rep' : 'pages';
  const data = lines.filter((l) => !/^\s*(==|--)/.test(l));
  if (data.length > 0 && data.slice(0, 3).every((l) => STRACE_LINE.test(l))) return 'strace';
  const statement = data.find((l) => !/^\s*#/.test(l));
  if (plain.endsWith('.vms') || (statement !== undefined && SCENARIO_LINE.test(statement))) {
    // A lackey line (`I  0401,3`) never looks like a statement; a scenario's first line does.
    if (detectTraceFormat(head) === null) return 'scenario';
  }
  return detectTraceFormat(head) ?? 'unknown';
}
