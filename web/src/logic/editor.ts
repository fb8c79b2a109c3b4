/**
 * What the scenario editor needs besides a textarea: colour for the `.vms` words, where to draw an
 * error's squiggle, and which statement a line holds.
 */

export interface Segment {
  readonly text: string;
  /** CSS class: `kw`, `op`, `proc`, `num`, `com`, `cmp`, or '' for plain text. */
  readonly cls: string;
}

const KEYWORDS = new Set(['machine', 'spawn', 'exec', 'show', 'expect', 'kill']);
const OPS = new Set(['read', 'write', 'fetch', 'sbrk', 'brk', 'mmap', 'munmap', 'mprotect', 'exit']);
const COMPARES = new Set(['==', '!=', '<', '<=', '>', '>=']);

function wordClass(word: string, index: number, prev: string | undefined): string {
  if (index === 0 && KEYWORDS.has(word)) return 'kw';
  if (index === 0 && /^[^\s:]+:$/.test(word)) return 'proc';
  if (index === 1 && prev !== undefined && /:$/.test(prev) && OPS.has(word)) return 'op';
  if (COMPARES.has(word)) return 'cmp';
  if (/^-?(0x[0-9a-f]+|\d+)([kmg](i?b)?)?$/i.test(word)) return 'num';
  if (/^[\w.]+=/.test(word)) return 'opt';
  return '';
}

/** A line cut into coloured segments (their texts concatenate to the line). */
export function highlightLine(line: string): Segment[] {
  const out: Segment[] = [];
  const hash = line.indexOf('#');
  const code = hash >= 0 ? line.slice(0, hash) : line;
  const re = /(\s+)|(\S+)/g;
  let index = 0;
  let prev: string | undefined;
  for (let m = re.exec(code); m !== null; m = re.exec(code)) {
    if (m[1] !== undefined) {
      out.push({ text: m[1], cls: '' });
      continue;
    }
    const word = m[2]!;
    out.push({ text: word, cls: wordClass(word, index, prev) });
    prev = word;
    index++;
  }
  if (hash >= 0) out.push({ text: line.slice(hash), cls: 'com' });
  return out;
}

/**
 * The columns to underline for an error at 1-based `column` of `line`: from there to the end of
 * the word (0-based, end exclusive). Past the end of the line (something is missing), one column
 * just after the text.
 */
export function errorRange(line: string, column: number): { from: number; to: number } {
  const from = Math.max(0, column - 1);
  if (from >= line.length) return { from: line.length, to: line.length + 1 };
  const m = /^\S+/.exec(line.slice(from));
  return { from, to: from + (m ? m[0].length : 1) };
}

/**
 * The position (statements run) that brings the scenario up to and including the statement on
 * `line` (1-based), given each statement's line in order. A line between statements maps to the
 * statement before it; a line before the first to 0.
 */
export function positionForLine(stepLines: readonly number[], line: number): number {
  let p = 0;
  for (let i = 0; i < stepLines.length; i++) {
    if (stepLines[i]! <= line) p = i + 1;
    else break;
  }
  return p;
}

/**
 * Adds `cls` to the part of `segments` in columns [from, to), splitting segments at the edges; a
 * range past the end adds a one-space segment (for a squiggle where something is missing).
 */
export function markRange(segments: readonly Segment[], from: number, to: number, cls: string): Segment[] {
  const out: Segment[] = [];
  let col = 0;
  for (const s of segments) {
    const a = col;
    const b = col + s.text.length;
    col = b;
    if (b <= from || a >= to) {
      out.push(s);
      continue;
    }
    const cut = [a, Math.max(a, from), Math.min(b, to), b];
    for (let i = 0; i < 3; i++) {
      const piece = s.text.slice(cut[i]! - a, cut[i + 1]! - a);
      if (piece === '') continue;
      const marked = i === 1;
      out.push({ text: piece, cls: marked ? `${s.cls} ${cls}`.trim() : s.cls });
    }
  }
  if (to > col) out.push({ text: ' '.repeat(Math.max(1, to - Math.max(col, from))), cls });
  return out;
}
