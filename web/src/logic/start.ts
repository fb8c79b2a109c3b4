/**
 * Where the page opens a scenario: not at its end (often "everything reclaimed": empty views) and
 * not at boot (nothing yet), but after its first statement — or after the statement that follows a
 * `# start here` comment, where a teacher wants the lesson to begin.
 */

/** A comment line that marks the statement to open at. */
const MARKER = /^[ \t]*#[ \t]*start here\b/im;

/**
 * The position to open at: just after the first statement that follows the marker, else just
 * after the first statement; 0 when nothing ran.
 * @param stepLines the source line of each step that ran, in order.
 */
export function startPosition(stepLines: readonly number[], text: string): number {
  if (stepLines.length === 0) return 0;
  const m = MARKER.exec(text);
  if (m !== null) {
    const markerLine = text.slice(0, m.index).split('\n').length;
    const i = stepLines.findIndex((line) => line > markerLine);
    if (i >= 0) return i + 1;
  }
  return 1;
}
