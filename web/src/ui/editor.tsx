/**
 * The scenario editor: a plain textarea over a highlighted copy of its text (the usual backdrop
 * technique), with line numbers that jump in time, the statements already run marked, and every
 * error squiggled at its line and column.
 */
import { useLayoutEffect, useMemo, useRef } from 'preact/hooks';
import type { InputProblem } from '../engine/protocol.js';
import { errorRange, highlightLine, markRange, positionForLine } from '../logic/editor.js';
import { goTo, setText } from './actions.js';
import { Keep } from './keep.js';
import { checkProblem, dirty, fileName, loaded, position, text } from './store.js';

/** Problems listed under the editor; the others are underlined only. */
const SHOWN_PROBLEMS = 4;

/** One line of the highlighted copy behind the textarea. */
function Line({ line, cls, err }: { line: string; cls: string; err: { from: number; to: number } | null }) {
  let segs = highlightLine(line);
  if (err !== null) segs = markRange(segs, err.from, err.to, 'err');
  return (
    <div class={cls}>
      {segs.map((s, j) =>
        s.cls ? (
          <span key={j} class={s.cls}>
            {s.text}
          </span>
        ) : (
          s.text
        ),
      )}
      {'\n'}
    </div>
  );
}

export function Editor() {
  const scroller = useRef<HTMLDivElement>(null);
  const t = text.value;
  const lines = useMemo(() => t.split('\n'), [t]);
  const sc = loaded.value;
  const stale = dirty.value;
  const p = position.value;
  const problem = checkProblem.value;
  // Every problem of this file, by line (the first on a line wins).
  const problems = useMemo(() => {
    const byLine = new Map<number, InputProblem>();
    if (problem === null) return byLine;
    for (const q of [problem, ...problem.more])
      if (q.line !== null && q.file === fileName.value && !byLine.has(q.line)) byLine.set(q.line, q);
    return byLine;
  }, [problem]);
  const stepLines = useMemo(() => sc?.steps.map((s) => s.line) ?? [], [sc]);
  // Lines whose expectation failed, marked whatever the position (the run checked them all).
  const failedLines = useMemo(
    () => new Set(sc?.steps.filter((s) => s.verdict !== null && !s.verdict.ok).map((s) => s.line) ?? []),
    [sc],
  );
  const current = !stale && p > 0 ? (sc?.steps[p - 1]?.line ?? -1) : -1;
  const next = !stale ? (sc?.steps[p]?.line ?? -1) : -1;
  const doneUpTo = current;

  // Before paint: the layout it forces is the one the frame paints with.
  useLayoutEffect(() => {
    const el = scroller.current?.querySelector('.ln.current, .ln.next');
    if (el && document.activeElement?.id !== 'editor-text') el.scrollIntoView({ block: 'nearest' });
  }, [p, sc]);

  const statementLines = useMemo(() => new Set(stepLines), [stepLines]);

  // Long lines wrap: each line number takes the height of its line in the highlighted copy.
  const gutter = useRef<HTMLDivElement>(null);
  const backdrop = useRef<HTMLPreElement>(null);
  useLayoutEffect(() => {
    const g = gutter.current;
    const b = backdrop.current;
    if (!g || !b) return;
    const sync = () => {
      const rows = b.children;
      for (let i = 0; i < g.children.length; i++) {
        const h = (rows[i] as HTMLElement | undefined)?.offsetHeight ?? 17;
        const cell = g.children[i] as HTMLElement;
        if (cell.style.height !== `${h}px`) cell.style.height = `${h}px`;
      }
    };
    sync();
    const ro = new ResizeObserver(sync);
    ro.observe(b);
    return () => ro.disconnect();
  });

  return (
    <section class="panel editor-panel" aria-label="Scenario">
      <h2>
        Scenario <small class="mono">{fileName.value}</small>
        {stale && <span class="tag warn">edited: Ctrl+Enter runs it</span>}
      </h2>
      <div class="editor-scroll" ref={scroller}>
        <div class="editor-inner">
          <div class="gutter" aria-hidden="true" ref={gutter}>
            {lines.map((_, i) => {
              const n = i + 1;
              const isStmt = statementLines.has(n);
              const failed = !stale && failedLines.has(n);
              const cls = `gl${n === current ? ' current' : ''}${n === next ? ' next' : ''}${failed ? ' failed' : ''}`;
              return isStmt && !stale ? (
                <button
                  type="button"
                  tabIndex={-1}
                  key={n}
                  class={`${cls} stmt`}
                  title={`go to the state after line ${n}${failed ? ' (its expectation failed)' : ''}`}
                  onClick={() => goTo(positionForLine(stepLines, n))}
                >
                  {n === current ? '▶' : failed ? '✗' : ''}
                  {n}
                </button>
              ) : (
                <div key={n} class={cls}>
                  {n}
                </div>
              );
            })}
          </div>
          <div class="code">
            <pre class="backdrop" aria-hidden="true" ref={backdrop}>
              {lines.map((line, i) => {
                const n = i + 1;
                const lineProblem = problems.get(n);
                const isErr = lineProblem !== undefined;
                const err = isErr ? errorRange(line, lineProblem.column ?? 1) : null;
                const cls = [
                  'ln',
                  n === current ? 'current' : '',
                  n === next ? 'next' : '',
                  !stale && doneUpTo >= 0 && n <= doneUpTo && statementLines.has(n) ? 'done' : '',
                  !stale && failedLines.has(n) ? 'failed' : '',
                  isErr ? 'error' : '',
                ]
                  .filter(Boolean)
                  .join(' ');
                return (
                  <Keep
                    key={n}
                    k={`${cls}|${err ? `${err.from}-${err.to}` : ''}|${line}`}
                    render={() => <Line line={line} cls={cls} err={err} />}
                  />
                );
              })}
            </pre>
            <textarea
              id="editor-text"
              aria-label="Scenario text"
              spellcheck={false}
              autocapitalize="off"
              autocomplete="off"
              wrap="soft"
              value={t}
              onInput={(e) => setText((e.target as HTMLTextAreaElement).value)}
            />
          </div>
        </div>
      </div>
      {problem && (
        <div class="problem" id="editor-problem" role="alert">
          {[problem, ...problem.more].slice(0, SHOWN_PROBLEMS).map((q, i) => (
            <div key={i} class="problem-line">
              <b>{q.line !== null ? `line ${q.line}${q.column !== null ? `:${q.column}` : ''}` : q.file}</b>{' '}
              {q.message}
              {q.hint && <span class="hint"> ({q.hint})</span>}
            </div>
          ))}
          {problem.more.length + 1 + problem.omitted > SHOWN_PROBLEMS && (
            <div class="problem-line">
              … {problem.more.length + 1 + problem.omitted - SHOWN_PROBLEMS} more (every bad line is
              underlined)
            </div>
          )}
        </div>
      )}
    </section>
  );
}
