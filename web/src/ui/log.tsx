/**
 * The event log: every statement with what it did in words, linked both ways — clicking a step goes
 * there in time, clicking an event also selects the address or frame it names, and the events that
 * touch the current selection are marked.
 */
import { signal } from '@preact/signals';
import { useLayoutEffect, useRef } from 'preact/hooks';
import type { EventInfo, StepInfo } from '../engine/protocol.js';
import { goTo, select, selectFrame } from './actions.js';
import { Keep } from './keep.js';
import { focusAddress, focusPfn, loaded, position, type Selection, selection, showDetails } from './store.js';

/** Steps drawn around the current one (the rest are summarised). */
const WINDOW = 30;
/** Events shown per step until the step is opened. */
const SHOWN = 10;
/** A number per loaded run, so that a kept step of an earlier run is never shown for a new one. */
const runKeys = new WeakMap<object, number>();
let nextRunKey = 1;
function runKey(run: object): number {
  let k = runKeys.get(run);
  if (k === undefined) {
    k = nextRunKey++;
    runKeys.set(run, k);
  }
  return k;
}

/** Steps whose events are all shown. */
const opened = signal<ReadonlySet<number>>(new Set());

function toggle(index: number): void {
  const next = new Set(opened.value);
  if (next.has(index)) next.delete(index);
  else next.add(index);
  opened.value = next;
}

interface Focus {
  readonly sel: Selection;
  readonly at: { readonly pid: number; readonly va: number } | null;
  readonly pfn: number | null;
}

function relevant(e: EventInfo, pageSize: number, f: Focus): boolean {
  const { sel, at, pfn } = f;
  if (pfn !== null && e.pfn === pfn) return true;
  if (e.va === null) return false;
  const pid = sel.pid ?? at?.pid ?? null;
  if (pid !== null && e.pid !== null && e.pid !== pid) return false;
  if (sel.vma !== null) return e.va >= sel.vma.start && e.va < sel.vma.end;
  if (at !== null) return Math.floor(e.va / pageSize) === Math.floor(at.va / pageSize);
  return false;
}

function clickEvent(step: StepInfo, e: EventInfo): void {
  goTo(step.index + 1);
  if (e.va !== null && e.pid !== null) select({ pid: e.pid, va: e.va, vma: null, pfn: e.pfn });
  else if (e.pfn !== null) selectFrame(e.pfn);
}

interface StepProps {
  readonly step: StepInfo;
  readonly state: string;
  readonly details: boolean;
  readonly open: boolean;
  /** Which of the step's events touch the selection. */
  readonly hits: ReadonlySet<number>;
}

/** One step of the log; reads no signal (see Keep). */
function Step({ step, state, details, open, hits }: StepProps) {
  const all = step.events.map((e, i) => ({ e, i })).filter(({ e }) => details || !e.detail);
  const events = open ? all : all.slice(0, SHOWN);
  const hidden = all.length - events.length;
  const cut = step.eventCount - step.events.length;
  return (
    <li
      class={`step ${state}${step.verdict !== null && !step.verdict.ok ? ' failed' : ''}`}
      id={`step-${step.index + 1}`}
    >
      <button
        type="button"
        class="step-head"
        onClick={() => goTo(step.index + 1)}
        title="go to the state after this step"
      >
        <span class="lineno">{step.line}</span>
        <code>{step.text}</code>
        {step.verdict && (
          <span class={`verdict ${step.verdict.ok ? 'good' : 'bad'}`}>
            {step.verdict.ok ? 'ok' : `FAILED: is ${step.verdict.actual}`}
          </span>
        )}
      </button>
      {(events.length > 0 || step.result || step.killed) && (
        <ul class="events">
          {events.map(({ e, i }) => (
            <li key={i} class={`${e.detail ? 'detail' : ''}${hits.has(i) ? ' hit' : ''}`}>
              {e.va !== null || e.pfn !== null ? (
                <button type="button" class="link" onClick={() => clickEvent(step, e)}>
                  {e.text}
                </button>
              ) : (
                e.text
              )}
            </li>
          ))}
          {hidden > 0 && (
            <li>
              <button type="button" class="link more" onClick={() => toggle(step.index)}>
                … {hidden} more event{hidden === 1 ? '' : 's'}
              </button>
            </li>
          )}
          {open && cut > 0 && (
            <li class="detail">
              and {cut} more not kept: {step.eventSummary.join(', ')}
            </li>
          )}
          {open && (
            <li>
              <button type="button" class="link more" onClick={() => toggle(step.index)}>
                show fewer
              </button>
            </li>
          )}
          {step.result && <li class="result">→ {step.result}</li>}
          {step.killed && <li class="result bad">→ {step.killed}</li>}
        </ul>
      )}
      {step.show && state === 'current' && (
        <details class="show">
          <summary>output of show</summary>
          <pre>{step.show}</pre>
        </details>
      )}
    </li>
  );
}

export function Log() {
  const sc = loaded.value;
  const p = position.value;
  const list = useRef<HTMLOListElement>(null);
  useLayoutEffect(() => {
    const el = list.current?.querySelector(p === 0 ? '.boot' : `#step-${p}`);
    el?.scrollIntoView({ block: 'nearest' });
  }, [p, sc]);
  if (!sc) return <section class="panel log-panel" aria-label="Events" />;
  const focus: Focus = { sel: selection.value, at: focusAddress.value, pfn: focusPfn.value };
  const details = showDetails.value;
  const openSet = opened.value;
  const from = Math.max(0, p - WINDOW);
  const to = Math.min(sc.steps.length, p + WINDOW);
  return (
    <section class="panel log-panel" aria-label="Events">
      <h2>
        What happened{' '}
        <label class="small muted">
          <input
            type="checkbox"
            id="show-details"
            checked={showDetails.value}
            onChange={(e) => {
              showDetails.value = (e.target as HTMLInputElement).checked;
            }}
          />{' '}
          every event
        </label>
      </h2>
      <ol class="log" ref={list}>
        <li class={`step boot${p === 0 ? ' current' : ''}`}>
          <button type="button" class="step-head" onClick={() => goTo(0)}>
            <span class="lineno">·</span>
            <span>
              boot: {sc.machine.arch}, {sc.machine.frameCount} frames of {sc.machine.pageSize} bytes
            </span>
          </button>
        </li>
        {from > 0 && <li class="muted small">… {from} earlier steps</li>}
        {sc.steps.slice(from, to).map((s) => {
          const state = s.index + 1 === p ? 'current' : s.index + 1 < p ? 'past' : 'future';
          const hits = new Set<number>();
          s.events.forEach((e, i) => {
            if (relevant(e, sc.machine.pageSize, focus)) hits.add(i);
          });
          const open = openSet.has(s.index);
          const k = `${runKey(sc)}|${state}|${details}|${open}|${[...hits].join(',')}`;
          return (
            <Keep
              key={s.index}
              k={k}
              render={() => <Step step={s} state={state} details={details} open={open} hits={hits} />}
            />
          );
        })}
        {to < sc.steps.length && <li class="muted small">… {sc.steps.length - to} more steps</li>}
        {sc.runError && (
          <li class="step error">
            stopped at line {sc.runError.line}: {sc.runError.message}
          </li>
        )}
        {sc.bug && <li class="step error">a bug in vmscope stopped the run: {sc.bug}</li>}
      </ol>
    </section>
  );
}
