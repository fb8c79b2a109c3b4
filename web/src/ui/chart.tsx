/**
 * One uPlot chart: a title with the series' keys, lines over a shared x, a red cursor at `cursorX`,
 * and a click that picks the x under the pointer.
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

export interface ChartProps {
  readonly title: string;
  readonly series: readonly { readonly label: string; readonly color: string }[];
  readonly data: uPlot.AlignedData;
  readonly cursorX: number | null;
  readonly onPick?: (x: number) => void;
  readonly xLog?: boolean;
  readonly yLabel?: string;
  readonly id?: string;
}

export function Chart({ title, series, data, cursorX, onPick, xLog, yLabel, id }: ChartProps) {
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
