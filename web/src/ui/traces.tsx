/**
 * The Traces tab: a dropped memory trace replayed through a policy with its miss-ratio curves, or
 * a dropped allocation trace replayed through every allocator — heap extent against live bytes
 * over the operations, fragmentation, and one allocator's heap (its free list) after any operation.
 * A file that is neither is refused in words; the tab never keeps a result beside a new error.
 */
import { useRef } from 'preact/hooks';
import type uPlot from 'uplot';
import { policyNames } from '../../../src/kernel/reclaim/registry.js';
import { bytes, count, counted, percent } from '../../../src/report/format.js';
import { ALLOCATOR_NAMES } from '../../../src/user/malloc/api.js';
import type { AllocResult, HeapAt, TraceResult } from '../engine/protocol.js';
import { hex } from '../logic/va.js';
import { runTrace, showHeapAt } from './actions.js';
import { Chart } from './chart.js';
import { alloc, heapAt, heapChoice, trace, traceFile, traceOptions, traceProblem } from './store.js';

/** Curve colours, by policy order in the list (the same policy keeps its colour). */
const CURVE_COLORS = [
  '#4e79a7',
  '#e15759',
  '#59a14f',
  '#f28e2b',
  '#b07aa1',
  '#76b7b2',
  '#edc948',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
];
/** Page sizes a lackey trace may be split by. */
const PAGE_SIZES = [64, 256, 1024, 4096, 16384, 65536, 2 * 1024 * 1024];
/** Policies offered for curves by default (the others are in the list too). */
const CURVE_CHOICES = ['lru', 'opt', 'fifo', 'clock', 'random', 'arc', 's3-fifo', 'sieve'];

function colorOf(policy: string): string {
  return CURVE_COLORS[Math.max(0, policyNames.indexOf(policy as never)) % CURVE_COLORS.length]!;
}

function TraceForm() {
  const o = traceOptions.value;
  const fileRef = useRef<HTMLInputElement>(null);
  const set = (patch: Partial<typeof o>) => {
    traceOptions.value = { ...o, ...patch };
  };
  const toggle = (p: string, on: boolean) =>
    set({ curves: on ? [...o.curves.filter((x) => x !== p), p] : o.curves.filter((x) => x !== p) });
  return (
    <form class="trace-form small" onSubmit={(e) => e.preventDefault()}>
      <p>
        Drop a memory trace (valgrind lackey, page numbers) or an allocation trace (malloc-lab{' '}
        <code>.rep</code>, shim log), plain or gzip: it is read here, never uploaded.
      </p>
      <div class="trace-controls">
        <label>
          policy{' '}
          <select
            aria-label="Policy"
            value={o.policy}
            onChange={(e) => set({ policy: (e.target as HTMLSelectElement).value })}
          >
            {policyNames.map((p) => (
              <option key={p}>{p}</option>
            ))}
          </select>
        </label>
        <label>
          frames{' '}
          <input
            type="number"
            min={1}
            max={1 << 24}
            aria-label="Frames"
            id="trace-frames"
            value={o.frames}
            onChange={(e) => {
              const v = Number((e.target as HTMLInputElement).value);
              if (Number.isInteger(v) && v > 0) set({ frames: v });
            }}
          />
        </label>
        <label title="Lackey addresses are split into pages of this size; page lists are page numbers already">
          page size{' '}
          <select
            aria-label="Page size"
            id="trace-page-size"
            value={o.pageSize}
            onChange={(e) => set({ pageSize: Number((e.target as HTMLSelectElement).value) })}
          >
            {PAGE_SIZES.map((s) => (
              <option key={s} value={s}>
                {bytes(s)}
              </option>
            ))}
          </select>
        </label>
      </div>
      <div class="trace-controls">
        <label>
          <input
            type="checkbox"
            id="trace-mrc"
            checked={o.mrc}
            onChange={(e) => set({ mrc: (e.target as HTMLInputElement).checked })}
          />{' '}
          curves:
        </label>
        {CURVE_CHOICES.map((p) => (
          <label key={p} class="curve-choice">
            <input
              type="checkbox"
              data-policy={p}
              checked={o.curves.includes(p)}
              disabled={!o.mrc}
              onChange={(e) => toggle(p, (e.target as HTMLInputElement).checked)}
            />
            {p}
          </label>
        ))}
      </div>
      <div class="trace-controls">
        <button type="button" onClick={() => fileRef.current?.click()}>
          Choose trace…
        </button>
        <button
          type="button"
          id="trace-again"
          disabled={traceFile.value === null}
          onClick={() => runTrace()}
          title="Replay the last trace with these settings"
        >
          Replay again
        </button>
        <input
          ref={fileRef}
          type="file"
          id="trace-input"
          hidden
          onChange={(e) => {
            const input = e.target as HTMLInputElement;
            const f = input.files?.[0];
            if (f) runTrace(f);
            input.value = '';
          }}
        />
      </div>
    </form>
  );
}

function TraceSummary({ t }: { t: TraceResult }) {
  const page = t.pageSize;
  const span = page === null ? '' : ` = ${bytes(t.frames * page)}`;
  return (
    <p class="small" id="trace-summary">
      <b>{t.name}</b> (
      {t.format === 'lackey' ? `valgrind lackey, split into ${bytes(page ?? 4096)} pages` : 'page numbers'}):{' '}
      {count(t.accesses)} page accesses, {count(t.distinctPages)} distinct pages
      {page === null ? '' : ` (${bytes(t.distinctPages * page)})`}. <b>{t.policy}</b> with{' '}
      {counted(t.frames, 'frame')}
      {span}: {counted(t.faults, 'fault')} (miss ratio {percent(t.faults / Math.max(1, t.accesses))}),{' '}
      {counted(t.evictions, 'eviction')}, {counted(t.writebacks, 'write-back')};{' '}
      {(t.accesses / Math.max(1e-3, t.ms) / 1000).toFixed(1)} M accesses/s.
    </p>
  );
}

function CurveChart({ t }: { t: TraceResult }) {
  const c0 = t.curves[0];
  if (!c0) return <div class="chart muted small">no curve asked for</div>;
  const data: uPlot.AlignedData = [[...c0.sizes], ...t.curves.map((c) => [...c.missRatio])];
  const what = t.curves.map((c) => c.policy).join(', ');
  return (
    <Chart
      id="chart-mrc"
      title={`Miss ratio by frames (${what}; LRU and OPT exact, the others simulated at each size)`}
      series={t.curves.map((c) => ({ label: c.policy, color: colorOf(c.policy) }))}
      data={data}
      cursorX={t.frames}
      xLog
    />
  );
}

function HeapView({ h, a }: { h: HeapAt; a: AllocResult }) {
  const span = Math.max(1, h.brk - h.heapStart);
  return (
    <div class="heap-view small" id="heap-view">
      <div>
        <b>{h.allocator}</b> after {counted(h.op, 'operation')} of {count(a.ops)}
        {h.opText ? ` (the last: ${h.opText})` : ''}: {counted(h.usedBlocks, 'block')} in use (
        {bytes(h.usedBytes)}), {counted(h.freeBlocks, 'free block')} ({bytes(h.freeBytes)}, the largest{' '}
        {bytes(h.largestFree)}), {bytes(h.topBytes)} free at the top; heap {hex(h.heapStart)}–{hex(h.brk)}.
        {h.died && <span class="bad"> The program died here: {h.died}</span>}
      </div>
      <svg
        class="heap-strip"
        viewBox="0 0 1000 14"
        preserveAspectRatio="none"
        aria-label="the heap, its free blocks marked"
      >
        <rect x="0" y="0" width="1000" height="14" fill="#dbeafe" />
        {h.freeList.map((b) => (
          <rect
            key={b.va}
            x={((b.va - h.heapStart) / span) * 1000}
            y="0"
            width={Math.max(0.5, (b.sizeBytes / span) * 1000)}
            height="14"
            fill="#f59e0b"
          />
        ))}
      </svg>
      <div class="muted">
        blue: the heap up to brk; orange: free blocks, listed below in the order the allocator keeps them
      </div>
      <ol class="free-list" id="free-list">
        {h.freeList.slice(0, 60).map((b) => (
          <li key={b.va}>
            <code>{hex(b.va)}</code> {bytes(b.sizeBytes)}
          </li>
        ))}
        {h.freeList.length > 60 && <li class="muted">… {count(h.freeList.length - 60)} more</li>}
      </ol>
    </div>
  );
}

function AllocView({ a }: { a: AllocResult }) {
  const choice = heapChoice.value;
  const h = heapAt.value;
  // One x axis for every allocator's series (they sample the same operations).
  const ops = [...new Set(a.runs.flatMap((r) => r.series.map((p) => p.op)))].sort((x, y) => x - y);
  const at = (r: AllocResult['runs'][number], key: 'extentBytes' | 'liveBytes') => {
    const m = new Map(r.series.map((p) => [p.op, p[key] / 1024]));
    return ops.map((op) => m.get(op) ?? null);
  };
  const data: uPlot.AlignedData = [
    ops,
    ...a.runs.map((r) => at(r, 'extentBytes')),
    at(a.runs[0]!, 'liveBytes'),
  ];
  return (
    <div class="alloc-view">
      <div class="trace-side">
        <p class="small" id="alloc-summary">
          <b>{a.name}</b> ({a.format === 'rep' ? 'malloc-lab trace' : 'shim log'}):{' '}
          {counted(a.ops, 'operation')}, replayed through every allocator.
        </p>
        <table class="alloc-table small">
          <thead>
            <tr>
              <th class="cell-l">allocator</th>
              <th class="cell" title="peak live bytes / peak heap extent">
                util
              </th>
              <th class="cell" title="at the end: chunk bytes not asked for">
                int frag
              </th>
              <th class="cell" title="at the end: 1 - largest free block / free bytes">
                ext frag
              </th>
              <th class="cell">brk</th>
              <th class="cell-l">outcome</th>
            </tr>
          </thead>
          <tbody>
            {a.runs.map((r) => (
              <tr key={r.allocator} class={r.allocator === choice.allocator ? 'chosen' : ''}>
                <td class="cell-l">
                  <button type="button" class="link" onClick={() => showHeapAt(r.allocator, choice.op)}>
                    {r.allocator}
                  </button>
                </td>
                <td class="cell">{r.utilization.toFixed(3)}</td>
                <td class="cell">{percent(r.internalFragmentation, 1)}</td>
                <td class="cell">{percent(r.externalFragmentation, 1)}</td>
                <td class="cell">{count(r.brkCalls)}</td>
                <td class={r.outcome === 'ok' ? 'cell-l outcome' : 'cell-l outcome bad'}>{r.outcome}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <label class="small">
          heap of{' '}
          <select
            id="heap-allocator"
            value={choice.allocator}
            onChange={(e) => showHeapAt((e.target as HTMLSelectElement).value, choice.op)}
          >
            {ALLOCATOR_NAMES.map((n) => (
              <option key={n}>{n}</option>
            ))}
          </select>{' '}
          after operation{' '}
          <input
            type="range"
            id="heap-op"
            min={0}
            max={a.ops}
            value={choice.op}
            onInput={(e) => showHeapAt(choice.allocator, Number((e.target as HTMLInputElement).value))}
          />{' '}
          {count(choice.op)}
        </label>
        {h && <HeapView h={h} a={a} />}
      </div>
      <Chart
        id="chart-alloc"
        title="Heap extent per allocator and live bytes (black), KiB, by operation"
        series={[
          ...a.runs.map((r, i) => ({ label: r.allocator, color: CURVE_COLORS[i % CURVE_COLORS.length]! })),
          { label: 'live bytes', color: '#111827' },
        ]}
        data={data}
        cursorX={choice.op}
        onPick={(op) => showHeapAt(choice.allocator, op)}
      />
    </div>
  );
}

export function TraceTab() {
  const t = trace.value;
  const a = alloc.value;
  const problem = traceProblem.value;
  return (
    <div class="traces">
      <TraceForm />
      {problem && (
        <p class="bad small" id="trace-problem" role="alert">
          {problem}
        </p>
      )}
      {a && <AllocView a={a} />}
      {t && (
        <div class="trace-tab">
          <div class="trace-side">
            <TraceSummary t={t} />
          </div>
          <CurveChart t={t} />
        </div>
      )}
    </div>
  );
}
