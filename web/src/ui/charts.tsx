/**
 * The TLB and the charts, in tabs: the TLB's entries; faults and resident memory over the scenario's
 * steps (uPlot; the current step is the vertical line, a click goes there); dropped traces (see
 * traces.tsx); and the swap device.
 */
import { useMemo } from 'preact/hooks';
import type uPlot from 'uplot';
import { processColor } from '../logic/grid.js';
import { goTo } from './actions.js';
import { Chart } from './chart.js';
import { chartTab, loaded, position, samples, samplesDone, state } from './store.js';
import { Swap } from './swap.js';
import { Tlb } from './tlb.js';
import { TraceTab } from './traces.js';

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
    // Bytes per page in the chart's unit: a teaching machine's few KiB read in bytes (0–640 B, not 0–0.6 KiB).
    const unit = sc.machine.ramBytes <= 64 * 1024 ? sc.machine.pageSize : sc.machine.pageSize / 1024;
    const rss: uPlot.AlignedData = [
      sorted.map((s) => s.position),
      ...pids.map((pid) =>
        sorted.map((s) => (s.rssPages[pid] !== undefined ? s.rssPages[pid]! * unit : null)),
      ),
      sorted.map((s) => (sc.machine.frameCount - s.freeFrames) * unit),
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
        title={`Resident memory (${sc.machine.ramBytes <= 64 * 1024 ? 'bytes' : 'KiB'}), by step${samplesDone.value ? '' : ' — computing…'}`}
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

export function Charts() {
  const tab = chartTab.value;
  const setTab = (k: typeof tab) => {
    chartTab.value = k;
  };
  const hasSwap = state.value?.swap != null;
  return (
    <section class="panel charts-panel" aria-label="TLB, charts and swap">
      <div class="tabs" role="tablist">
        {(
          [
            ['tlb', 'TLB'],
            ['time', 'Over time'],
            ['trace', 'Traces'],
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
