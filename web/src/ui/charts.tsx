/**
 * The TLB and the charts, in tabs: the TLB's entries; faults and resident memory over the scenario's steps (uPlot; the current
 * step is the vertical line, a click goes there), a dropped trace's replay with its LRU miss-ratio
 * curve, and the swap device.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { processColor } from '../logic/grid.js';
import { goTo, runTrace } from './actions.js';
import { loaded, position, samples, samplesDone, state, trace, traceOptions, traceProblem } from './store.js';
import { Swap } from './swap.js';
import { Tlb } from './tlb.js';

/** Policies the browser replays (those that need no knowledge of the future). */
const POLICIES = [
  'lru',
  'fifo',
  'clock',
  'second-chance',
  'nru',
  'lfu',
  'arc',
  '2q',
  's3-fifo',
  'sieve',
  'random',
];

interface ChartProps {
  readonly title: string;
  readonly series: readonly { readonly label: string; readonly color: string }[];
  readonly data: uPlot.AlignedData;
  readonly cursorX: number | null;
  readonly onPick?: (x: number) => void;
  readonly xLog?: boolean;
  readonly yLabel?: string;
  readonly id?: string;
}

function Chart({ title, series, data, cursorX, onPick, xLog, yLabel, id }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const cursor = useRef<number | null>(cursorX);
  cursor.current = cursorX;
  const pick = useRef(onPick);
  pick.current = onPick;
  const shape = series.map((s) => s.label).join('|');
  // uPlot cannot lay out axes without data: wait for the first points.
  const hasData = data[0].length > 0;

  useEffect(() => {
    const el = box.current;
    if (!el || !hasData) return;
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height: Math.max(90, el.clientHeight - 4),
      legend: { show: false },
      cursor: { drag: { x: false, y: false }, points: { show: false } },
      scales: { x: xLog ? { time: false, distr: 3, log: 2 } : { time: false } },
      axes: [
        { size: 28, font: '11px system-ui, sans-serif' },
        {
          size: 44,
          font: '11px system-ui, sans-serif',
          ...(yLabel ? { label: yLabel, labelSize: 14, labelFont: '11px system-ui' } : {}),
        },
      ],
      series: [
        {},
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: 1.5,
          spanGaps: true,
          points: { show: false },
        })),
      ],
      hooks: {
        draw: [
          (u: uPlot) => {
            const x = cursor.current;
            if (x === null) return;
            const px = u.valToPos(x, 'x', true);
            const g = u.ctx;
            g.save();
            g.strokeStyle = '#e11d48';
            g.lineWidth = 2 * (window.devicePixelRatio || 1);
            g.beginPath();
            g.moveTo(px, u.bbox.top);
            g.lineTo(px, u.bbox.top + u.bbox.height);
            g.stroke();
            g.restore();
          },
        ],
      },
    };
    const u = new uPlot(opts, data, el);
    plot.current = u;
    u.over.addEventListener('click', () => {
      const idx = u.cursor.idx;
      const xs = u.data[0];
      if (idx !== null && idx !== undefined && xs[idx] !== undefined) pick.current?.(xs[idx]!);
    });
    const ro = new ResizeObserver(() =>
      u.setSize({ width: Math.max(200, el.clientWidth), height: Math.max(90, el.clientHeight - 4) }),
    );
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
    // Rebuilt only when the series change; data and the cursor are updated below.
  }, [shape, xLog, hasData]);

  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);
  useEffect(() => {
    plot.current?.redraw(false, false);
  }, [cursorX]);

  return (
    <div class="chart">
      <div class="chart-title small">
        {title}{' '}
        {series.map((s) => (
          <span key={s.label} class="chart-key">
            <i style={{ background: s.color }} />
            {s.label}
          </span>
        ))}
      </div>
      <div class="chart-box" ref={box} id={id}>
        {!hasData && <span class="muted small">no data yet</span>}
      </div>
    </div>
  );
}

function OverTime() {
  const sc = loaded.value;
  const smp = samples.value;
  // Rebuilt only when the run or the samples change; stepping moves the cursor alone.
  const data = useMemo(() => {
    if (!sc) return null;
    const n = sc.steps.length + 1;
    const xs = Array.from({ length: n }, (_, i) => i);
    const faults: uPlot.AlignedData = [
      xs,
      Array.from(sc.series.minorFaults),
      Array.from(sc.series.majorFaults),
      Array.from(sc.series.tlbMisses),
    ];
    const pids = Object.keys(sc.names).map(Number);
    const sorted = [...smp].sort((a, b) => a.position - b.position);
    const kib = sc.machine.pageSize / 1024;
    const rss: uPlot.AlignedData = [
      sorted.map((s) => s.position),
      ...pids.map((pid) =>
        sorted.map((s) => (s.rssPages[pid] !== undefined ? s.rssPages[pid]! * kib : null)),
      ),
      sorted.map((s) => (sc.machine.frameCount - s.freeFrames) * kib),
    ];
    return { faults, rss, pids };
  }, [sc, smp]);
  if (!sc || !data) return null;
  const { pids } = data;
  const faultData = data.faults;
  const rssData = data.rss;
  return (
    <div class="charts-row">
      <Chart
        id="chart-faults"
        title="Page faults and TLB misses, cumulative, by step"
        series={[
          { label: 'minor faults', color: '#4e79a7' },
          { label: 'major faults', color: '#e15759' },
          { label: 'TLB misses', color: '#9ca3af' },
        ]}
        data={faultData}
        cursorX={position.value}
        onPick={goTo}
      />
      <Chart
        id="chart-rss"
        title={`Resident memory (KiB), by step${samplesDone.value ? '' : ' — computing…'}`}
        series={[
          ...pids.map((pid) => ({ label: `${sc.names[pid]} RSS`, color: processColor(pid) })),
          { label: 'frames in use', color: '#6b7280' },
        ]}
        data={rssData}
        cursorX={position.value}
        onPick={goTo}
      />
    </div>
  );
}

function TraceTab() {
  const t = trace.value;
  const o = traceOptions.value;
  const problem = traceProblem.value;
  const fileRef = useRef<HTMLInputElement>(null);
  return (
    <div class="trace-tab">
      <div class="trace-side">
        <form class="trace-form small" onSubmit={(e) => e.preventDefault()}>
          Replay a memory trace (valgrind lackey, or one page number per line; .gz too) through{' '}
          <select
            aria-label="Policy"
            value={o.policy}
            onChange={(e) => {
              traceOptions.value = { ...o, policy: (e.target as HTMLSelectElement).value };
            }}
          >
            {POLICIES.map((p) => (
              <option key={p}>{p}</option>
            ))}
          </select>{' '}
          with{' '}
          <input
            type="number"
            min={1}
            max={1 << 24}
            aria-label="Frames"
            value={o.frames}
            onInput={(e) => {
              const v = Number((e.target as HTMLInputElement).value);
              if (Number.isInteger(v) && v > 0) traceOptions.value = { ...o, frames: v };
            }}
          />{' '}
          frames;{' '}
          <label>
            <input
              type="checkbox"
              id="trace-mrc"
              checked={o.mrc}
              onChange={(e) => {
                traceOptions.value = { ...o, mrc: (e.target as HTMLInputElement).checked };
              }}
            />{' '}
            with the LRU curve.
          </label>{' '}
          <button type="button" onClick={() => fileRef.current?.click()}>
            Choose trace…
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
          />{' '}
          <span class="muted">(or drop it anywhere: it is streamed in the worker, never uploaded)</span>
        </form>
        {problem && <p class="bad small">{problem}</p>}
        {t && (
          <p class="small" id="trace-summary">
            <b>{t.name}</b> ({t.format}): {t.accesses.toLocaleString('en-US')} page accesses,{' '}
            {t.distinctPages.toLocaleString('en-US')} distinct pages. <b>{t.policy}</b> with {t.frames}{' '}
            frames: {t.faults.toLocaleString('en-US')} faults (miss ratio{' '}
            {((100 * t.faults) / Math.max(1, t.accesses)).toFixed(2)}
            %), {t.evictions.toLocaleString('en-US')} evictions, {t.writebacks.toLocaleString('en-US')}{' '}
            write-backs; {(t.accesses / Math.max(1e-3, t.ms) / 1000).toFixed(1)} M accesses/s.
          </p>
        )}
        {!t && !problem && (
          <p class="muted small">
            The exact LRU miss-ratio curve of the trace appears on the right; curves of the other policies
            (one simulation per size) are to come.
          </p>
        )}
      </div>
      {t?.mrc ? (
        <Chart
          id="chart-mrc"
          title="LRU miss ratio by frames (exact, one pass of stack distances)"
          series={[{ label: 'LRU miss ratio', color: '#4e79a7' }]}
          data={[[...t.mrc.sizes], [...t.mrc.missRatio]]}
          cursorX={t.frames}
          xLog
        />
      ) : (
        <div class="chart muted small">miss-ratio curve: drop a trace</div>
      )}
    </div>
  );
}

export function Charts() {
  const [tab, setTab] = useState<'tlb' | 'time' | 'trace' | 'swap'>('tlb');
  const t = trace.value;
  useEffect(() => {
    if (t) setTab('trace');
  }, [t]);
  const hasSwap = state.value?.swap != null;
  return (
    <section class="panel charts-panel" aria-label="TLB, charts and swap">
      <div class="tabs" role="tablist">
        {(
          [
            ['tlb', 'TLB'],
            ['time', 'Over time'],
            ['trace', 'Trace & miss ratio'],
            ['swap', hasSwap ? 'Swap' : 'Swap (none)'],
          ] as const
        ).map(([k, label]) => (
          <button
            key={k}
            type="button"
            role="tab"
            id={`tab-${k}`}
            aria-selected={tab === k}
            class={tab === k ? 'active' : ''}
            onClick={() => setTab(k)}
          >
            {label}
          </button>
        ))}
      </div>
      <div class="tab-body">
        {tab === 'tlb' && <Tlb />}
        {tab === 'time' && <OverTime />}
        {tab === 'trace' && <TraceTab />}
        {tab === 'swap' && <Swap />}
      </div>
    </section>
  );
}
