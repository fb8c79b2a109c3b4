/**
 * Physical memory: one cell per frame, coloured by what it holds, for whom, and how it is shared
 * (copy-on-write, page cache mapped by several, the zero page), drawn on a canvas from one
 * `ImageData` (64 Ki frames redraw in a few milliseconds). The selected frame is ringed,
 * the tables of the current walk are marked, and selecting a VMA or a process fades everything
 * else.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { count } from '../../../src/report/format.js';
import type { FramesView, ProcView } from '../engine/protocol.js';
import {
  COW_COLOR,
  cacheColor,
  gridGeometry,
  KIND_ANON,
  KIND_COLORS,
  KIND_FILE,
  KIND_FREE,
  KIND_KERNEL,
  KIND_NAMES,
  KIND_PAGETABLE,
  KIND_SHMEM,
  paintFrames,
  pfnAt,
  processColor,
  shownFrames,
  ZERO_PAGE_COLOR,
} from '../logic/grid.js';
import {
  type Mapper,
  mapperMask,
  mappersOf,
  SHARE_CACHE,
  SHARE_COW,
  SHARE_UNMAPPED,
  shareClass,
  shareCounts,
} from '../logic/sharing.js';
import { hex } from '../logic/va.js';
import { selectFrame } from './actions.js';
import { focusPfn, loaded, selectedVma, selection, state } from './store.js';

/** How long the last redraw of the grid took (for the benchmark). */
export const frameTimes: number[] = [];

/** A process's name by the pid its address space goes by (a thread's frames are its process's). */
function nameOf(procs: readonly ProcView[], pid: number): string {
  return (procs.find((p) => p.pid === pid) ?? procs.find((p) => p.mmPid === pid))?.name ?? `pid ${pid}`;
}

/** Mappers listed in the frame line before the rest are counted. */
const MAPPERS_SHOWN = 6;

function describe(pfn: number, f: FramesView, procs: readonly ProcView[], pageSize: number): string {
  const kind = f.kinds[pfn]!;
  const name = (pid: number) => nameOf(procs, pid);
  const parts = [`frame ${hex(pfn)} (pa ${hex(pfn * pageSize)})`, KIND_NAMES[kind] ?? `kind ${kind}`];
  if (kind === KIND_PAGETABLE && f.ptLevel[pfn]! >= 0) {
    const levelName = loaded.value?.machine.levelNames[f.ptLevel[pfn]!] ?? '';
    parts[1] = `page table (${levelName})`;
  }
  if (pfn === f.zeroPfn) {
    // Linux's ZERO_PAGE: no mapcount, in no RSS; the views count its entries per address space.
    parts[1] = 'the shared zero page';
    const per = procs
      .filter((p) => p.pid === p.mmPid && p.state === 'running')
      .map((p) => ({ p, n: p.vmas.reduce((s, v) => s + v.zeroPages, 0) }))
      .filter((x) => x.n > 0);
    parts.push(
      f.zeroMappers === 0
        ? 'mapped by no one now: a read of untouched private memory maps it read-only'
        : `mapped read-only at ${f.zeroMappers} page${f.zeroMappers === 1 ? '' : 's'} (${per.map((x) => `${x.p.name} ${x.n}`).join(', ')}), in no RSS; the first write gives a page its own frame`,
    );
    return parts.join(' · ');
  }
  const share = shareClass(kind, f.mapcount[pfn]!, false);
  if (share === SHARE_COW) parts[1] = 'anonymous, shared copy-on-write';
  if (share === SHARE_CACHE) parts[1] += ', mapped by several';
  if (share === SHARE_UNMAPPED) parts[1] += ', mapped by no one (still cached)';
  const owner = f.owners[pfn]!;
  if (owner > 0) parts.push(`of ${name(owner)}`);
  const mappers = mappersOf(f, pfn);
  const at = (m: Mapper) => `${name(m.pid)} ${hex(m.vpn * pageSize)}`;
  if (mappers.length === 1) parts.push(`mapped at ${at(mappers[0]!)}`);
  else if (mappers.length > 1) {
    const shown = mappers.slice(0, MAPPERS_SHOWN).map(at).join(', ');
    const more = mappers.length > MAPPERS_SHOWN ? ` and ${mappers.length - MAPPERS_SHOWN} more` : '';
    parts.push(`mapped ${mappers.length} times: ${shown}${more}`);
  }
  if (kind !== KIND_FREE) parts.push(`refcount ${f.refcount[pfn]}, mapcount ${f.mapcount[pfn]}`);
  return parts.join(' · ');
}

function Legend({ procs, f }: { procs: readonly ProcView[]; f: FramesView }) {
  const kinds = [KIND_FREE, KIND_FILE, KIND_SHMEM, KIND_KERNEL];
  const shares = useMemo(() => shareCounts(f), [f]);
  const cache = [KIND_FILE, KIND_SHMEM].filter((k) => f.kinds.includes(k));
  return (
    <div class="legend small">
      {procs
        .filter((p) => p.state === 'running' && p.pid === p.mmPid)
        .map((p) => (
          <span key={p.pid}>
            <i style={{ background: processColor(p.pid) }} /> {p.name} anon{' '}
            <i style={{ background: processColor(p.pid), filter: 'brightness(0.45)' }} /> {p.name} page tables
          </span>
        ))}
      {kinds.map((k) => (
        <span key={k}>
          <i style={{ background: KIND_COLORS[k] }} /> {KIND_NAMES[k]}
        </span>
      ))}
      {shares[SHARE_COW] > 0 && (
        <span class="legend-share" data-share="cow">
          <i style={{ background: COW_COLOR }} /> COW-shared ({shares[SHARE_COW]})
        </span>
      )}
      {shares[SHARE_CACHE] > 0 && (
        <span class="legend-share" data-share="cache">
          {cache.map((k) => (
            <i key={k} style={{ background: cacheColor(k, SHARE_CACHE) }} />
          ))}{' '}
          cache, mapped by several ({shares[SHARE_CACHE]})
        </span>
      )}
      {shares[SHARE_UNMAPPED] > 0 && (
        <span class="legend-share" data-share="unmapped">
          {cache.map((k) => (
            <i key={k} style={{ background: cacheColor(k, SHARE_UNMAPPED) }} />
          ))}{' '}
          cache, unmapped ({shares[SHARE_UNMAPPED]})
        </span>
      )}
      {f.zeroMappers > 0 && (
        <span class="legend-share" data-share="zero">
          <i style={{ background: ZERO_PAGE_COLOR }} /> zero page ({f.zeroMappers} mapping
          {f.zeroMappers === 1 ? '' : 's'})
        </span>
      )}
    </div>
  );
}

function counts(f: FramesView): Record<number, number> {
  const c: Record<number, number> = {};
  for (let i = 0; i < f.kinds.length; i++) c[f.kinds[i]!] = (c[f.kinds[i]!] ?? 0) + 1;
  return c;
}

export function Frames() {
  const st = state.value;
  const sc = loaded.value;
  const box = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const [size, setSize] = useState({ w: 400, h: 200 });
  const [hover, setHover] = useState<number>(-1);
  const pixels = useRef<{ img: ImageData; words: Uint32Array; off: OffscreenCanvas } | null>(null);
  const f = st?.frames;
  const [showAll, setShowAll] = useState(false);
  const n = f?.kinds.length ?? 0;
  const sel = selection.value;
  const vma = selectedVma.value;
  const focus = focusPfn.value;
  const walkTables = st?.walk?.levels.map((l) => l.tablePfn) ?? [];
  const walkKey = walkTables.join(',');
  // The used part of a large machine (and the frames in focus), unless every frame is asked for.
  const used = useMemo(
    () => (f ? shownFrames(f.kinds, focus === null ? walkTables : [focus, ...walkTables]) : 0),
    [f, focus, walkKey],
  );
  // "Show all" is for this scenario: another one opens on its used part.
  useEffect(() => setShowAll(false), [sc]);
  const drawn = showAll ? n : used;
  const geo = useMemo(() => gridGeometry(drawn, size.w, size.h), [drawn, size.w, size.h]);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    // The box's content size: its padding is 8 px across and 6 px down each side.
    const measure = () => setSize({ w: el.clientWidth - 16, h: el.clientHeight - 12 });
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    measure();
    return () => ro.disconnect();
  }, []);

  useEffect(() => {
    const c = canvas.current;
    if (!c || !f || !sc) return;
    const t0 = performance.now();
    const ps = sc.machine.pageSize;
    // Frames outside the selected VMA or process fade: those any of its pages map stay, whoever
    // else maps them too.
    let keep: ((pfn: number) => boolean) | null = null;
    const mmPid = (pid: number) => st?.procs.find((p) => p.pid === pid)?.mmPid ?? pid;
    if (sel.vma !== null && vma !== null) {
      const lo = vma.vma.start / ps;
      const hi = vma.vma.end / ps;
      const space = mmPid(vma.pid);
      const mask = mapperMask(f, (pid, vpn) => pid === space && vpn >= lo && vpn < hi);
      keep = (pfn) => mask[pfn] === 1;
    } else if (sel.pid !== null && sel.va === null && sel.pfn === null) {
      const pid = sel.pid;
      const space = mmPid(pid);
      const mask = mapperMask(f, (p) => p === space);
      keep = (pfn) => mask[pfn] === 1 || f.owners[pfn] === pid;
    }
    // One pixel per frame in an offscreen canvas, scaled up without smoothing; both reused.
    let buf = pixels.current;
    if (buf === null || buf.img.width !== geo.cols || buf.img.height !== geo.rows) {
      const img = new ImageData(geo.cols, geo.rows);
      buf = { img, words: new Uint32Array(img.data.buffer), off: new OffscreenCanvas(geo.cols, geo.rows) };
      pixels.current = buf;
    }
    // The zero page is drawn apart while something maps it (until then it is one more kernel page).
    paintFrames(f.kinds, f.owners, keep, buf.words.subarray(0, drawn), {
      mapcount: f.mapcount,
      zeroPfn: f.zeroMappers > 0 ? f.zeroPfn : -1,
    });
    const off = buf.off;
    off.getContext('2d')!.putImageData(buf.img, 0, 0);
    const dpr = window.devicePixelRatio || 1;
    const w = geo.cols * geo.cell;
    const h = geo.rows * geo.cell;
    if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h * dpr)) {
      c.width = Math.round(w * dpr);
      c.height = Math.round(h * dpr);
      c.style.width = `${w}px`;
      c.style.height = `${h}px`;
    }
    const g = c.getContext('2d')!;
    g.setTransform(1, 0, 0, 1, 0, 0);
    g.clearRect(0, 0, c.width, c.height);
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.imageSmoothingEnabled = false;
    g.drawImage(off, 0, 0, w, h);
    if (geo.cell >= 6) {
      // Grid lines between cells when they are big enough to read.
      g.strokeStyle = 'rgba(255,255,255,0.9)';
      g.lineWidth = 1;
      g.beginPath();
      for (let x = 0; x <= geo.cols; x++) {
        g.moveTo(x * geo.cell + 0.5, 0);
        g.lineTo(x * geo.cell + 0.5, h);
      }
      for (let y = 0; y <= geo.rows; y++) {
        g.moveTo(0, y * geo.cell + 0.5);
        g.lineTo(w, y * geo.cell + 0.5);
      }
      g.stroke();
    }
    const ring = (pfn: number, color: string, width: number) => {
      const x = (pfn % geo.cols) * geo.cell;
      const y = Math.floor(pfn / geo.cols) * geo.cell;
      // Around the cell, a little beyond it: big cells' rings must not cover their neighbours.
      const pad = Math.min(3, Math.max(2, geo.cell / 2));
      g.strokeStyle = color;
      g.lineWidth = width;
      g.strokeRect(x - pad + 0.5, y - pad + 0.5, geo.cell + 2 * pad - 1, geo.cell + 2 * pad - 1);
    };
    for (const t of walkTables) if (t < drawn) ring(t, '#f59e0b', 2);
    if (focus !== null && focus < drawn) ring(focus, '#e11d48', 3);
    frameTimes.push(performance.now() - t0);
    if (frameTimes.length > 200) frameTimes.shift();
  }, [f, geo, drawn, sel, vma, focus, walkKey]);

  const c = useMemo(() => (f ? counts(f) : {}), [f]);
  const ps = sc?.machine.pageSize ?? 4096;
  const shown = hover >= 0 ? hover : (focus ?? -1);
  return (
    <section class="panel frames-panel" aria-label="Physical memory">
      <h2>
        Physical memory{' '}
        {f && (
          <small>
            {count(n)} frames · {count(c[KIND_FREE] ?? 0)} free · {count(c[KIND_ANON] ?? 0)} anon ·{' '}
            {count(c[KIND_PAGETABLE] ?? 0)} page tables · {count((c[KIND_FILE] ?? 0) + (c[KIND_SHMEM] ?? 0))}{' '}
            page cache · {geo.cols} per row
          </small>
        )}
      </h2>
      {f && used < n && (
        <div class="frames-extent small" id="frames-extent">
          {showAll ? (
            <>
              all {count(n)} frames drawn; those past {hex(used - 1)} are free{' '}
              <button type="button" class="link" onClick={() => setShowAll(false)}>
                show the used part
              </button>
            </>
          ) : (
            <>
              frames 0–{hex(used - 1)} drawn; the {count(n - used)} past them are free{' '}
              <button type="button" class="link" onClick={() => setShowAll(true)}>
                show all {count(n)} frames
              </button>
            </>
          )}
        </div>
      )}
      <div class="frames-box" ref={box}>
        <canvas
          ref={canvas}
          id="frames-canvas"
          data-cols={geo.cols}
          data-cell={geo.cell}
          data-drawn={drawn}
          onMouseMove={(e) => {
            const r = (e.currentTarget as HTMLCanvasElement).getBoundingClientRect();
            setHover(pfnAt(geo, drawn, e.clientX - r.left, e.clientY - r.top));
          }}
          onMouseLeave={() => setHover(-1)}
          onClick={(e) => {
            const r = (e.currentTarget as HTMLCanvasElement).getBoundingClientRect();
            const pfn = pfnAt(geo, drawn, e.clientX - r.left, e.clientY - r.top);
            if (pfn >= 0) selectFrame(pfn);
          }}
        />
      </div>
      <div class="frame-info small" id="frame-info">
        {f && st && shown >= 0 && shown < n
          ? describe(shown, f, st.procs, ps)
          : 'Point at a frame; click to select it.'}
      </div>
      {st && f && <Legend procs={st.procs} f={f} />}
    </section>
  );
}
