/**
 * The OSTEP page of the visualizer (`ostep.html#cmd=paging-policy+-s+3`): the problem as the
 * script prints it, then its answers one step at a time — the answer lines, vmscope's explanation
 * and a picture of the state (memory frames, the heap, the page-table walk, the segments).
 * ←/→ step, Home/End jump. `window.vmscopeOstep` is the hook the end-to-end test reads.
 */
import { render } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { StepState } from '../../../src/ostep/script.js';
import { openSession } from './session.js';
import './ostep.css';

declare global {
  interface Window {
    vmscopeOstep: { step(): number; steps(): number; answer(): string };
  }
}

function commandFromHash(): string {
  return new URLSearchParams(location.hash.slice(1)).get('cmd') ?? 'paging-policy -s 0 -n 10 -p LRU';
}

function Picture({ state }: { state: StepState | null }) {
  if (state === null) return null;
  switch (state.kind) {
    case 'memory': {
      const slots = state.capacity > 0 ? Math.max(state.capacity, state.pages.length) : state.pages.length;
      return (
        <div class="frames" data-view="memory">
          {Array.from({ length: slots }, (_, i) => {
            const p = state.pages[i];
            const cls = p === undefined ? 'free' : p === state.page ? (state.hit ? 'hit' : 'new') : '';
            return <div class={`frame ${cls}`}>{p ?? '—'}</div>;
          })}
          <div class="legend">
            {state.hit ? `hit on ${state.page}` : `miss on ${state.page}`}
            {state.victim !== null ? `; evicted ${state.victim}` : ''}
          </div>
        </div>
      );
    }
    case 'heap': {
      const blocks = [
        ...state.free.map(([a, s]) => ({ a, s, free: true })),
        ...state.used.map(([a, s]) => ({ a, s, free: false })),
      ].sort((x, y) => x.a - y.a);
      return (
        <div class="heap" data-view="heap">
          {blocks.map((b) => (
            <div
              class={`block ${b.free ? 'free' : 'used'}`}
              style={{ flexGrow: Math.max(b.s, 1) }}
              title={`${b.a}: ${b.s} bytes`}
            >
              {b.a}:{b.s}
            </div>
          ))}
        </div>
      );
    }
    case 'walk':
      return (
        <ol class="walk" data-view="walk">
          {state.levels.map((l) => (
            <li class={l.valid ? '' : 'fault'}>
              {l.name}: frame {l.tablePfn}, entry {l.index} (PA 0x{l.entryPa.toString(16)}) = 0x
              {l.entry.toString(16).padStart(2, '0')} {l.valid ? '→ valid' : '→ not valid: fault'}
            </li>
          ))}
          {state.pa !== null && (
            <li>
              PA 0x{state.pa.toString(16)} holds 0x{state.value!.toString(16).padStart(2, '0')}
            </li>
          )}
        </ol>
      );
    case 'segments':
      return (
        <div class="phys" data-view="segments">
          {state.segments.map((s) => (
            <div
              class="seg"
              style={{
                left: `${(100 * s.lo) / state.psize}%`,
                width: `${(100 * Math.max(s.hi - s.lo, 1)) / state.psize}%`,
              }}
              title={`${s.name}: [${s.lo}, ${s.hi})`}
            >
              {s.name}
            </div>
          ))}
          {state.pa !== null && (
            <div class="pa" style={{ left: `${(100 * state.pa) / state.psize}%` }} title={`PA ${state.pa}`} />
          )}
        </div>
      );
  }
}

function App() {
  const [command, setCommand] = useState(commandFromHash);
  const [draft, setDraft] = useState(command);
  const session = useMemo(() => openSession(command), [command]);
  const [at, setAt] = useState(0);
  const last = session.steps.length;
  useEffect(() => setAt(0), [session]);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.target as HTMLElement).tagName === 'INPUT') return;
      if (e.key === 'ArrowRight') setAt((a) => Math.min(a + 1, last));
      else if (e.key === 'ArrowLeft') setAt((a) => Math.max(a - 1, 0));
      else if (e.key === 'Home') setAt(0);
      else if (e.key === 'End') setAt(last);
    };
    const onHash = () => {
      const c = commandFromHash();
      setCommand(c);
      setDraft(c);
    };
    addEventListener('keydown', onKey);
    addEventListener('hashchange', onHash);
    return () => {
      removeEventListener('keydown', onKey);
      removeEventListener('hashchange', onHash);
    };
  }, [last]);
  const step = at > 0 ? session.steps[at - 1]! : null;
  window.vmscopeOstep = { step: () => at, steps: () => last, answer: () => step?.answer ?? '' };
  const run = () => {
    location.hash = new URLSearchParams({ cmd: draft }).toString();
    setCommand(draft);
  };
  return (
    <main>
      <header>
        <strong>vmscope · OSTEP homework</strong>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            run();
          }}
        >
          <input
            aria-label="command"
            value={draft}
            onInput={(e) => setDraft((e.target as HTMLInputElement).value)}
            size={60}
          />
          <button type="submit">Run</button>
        </form>
        <a href="./">scenario visualizer</a>
      </header>
      {session.error !== null ? (
        <p class="error">{session.error}</p>
      ) : (
        <div class="cols">
          <section>
            <h2>The problem (exit status {session.status})</h2>
            <pre class="out">{session.problem}</pre>
          </section>
          <section>
            <h2>
              Answer {at} of {last}{' '}
              <button type="button" onClick={() => setAt((a) => Math.max(a - 1, 0))} disabled={at === 0}>
                ←
              </button>
              <button
                type="button"
                onClick={() => setAt((a) => Math.min(a + 1, last))}
                disabled={at === last}
              >
                →
              </button>
            </h2>
            <pre class="out answers">
              {session.steps.slice(0, at).map((s, i) => (
                <span class={i === at - 1 ? 'current' : ''}>{s.answer}</span>
              ))}
            </pre>
            {step && (
              <>
                <h3>Why</h3>
                <ul class="why">
                  {step.explain.map((l) => (
                    <li>{l}</li>
                  ))}
                </ul>
                <Picture state={step.state} />
              </>
            )}
            {at === 0 && last > 0 && <p class="hint">→ shows the first answer.</p>}
          </section>
        </div>
      )}
    </main>
  );
}

render(<App />, document.getElementById('app')!);
