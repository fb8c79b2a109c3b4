/**
 * Each process's address space, high addresses on top: its VMAs with permissions, names and
 * resident pages (the strip on the right: one cell per page, or per bucket of pages for big VMAs;
 * a mark on its left edge where the pages' frames are mapped by others too, and the zero page's
 * pages in its colour), the gaps between them compressed to a band that says how big they are, and
 * its smaps. The frame in focus is marked in every address space that maps it.
 */
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { ProcView, VmaView } from '../engine/protocol.js';
import { COW_COLOR, cacheColor, processColor, ZERO_PAGE_COLOR } from '../logic/grid.js';
import { gapText, heightOfVa, layoutAddressSpace, layoutHeight, vaAtHeight } from '../logic/layout.js';
import type { Mapper } from '../logic/sharing.js';
import { formatSize, formatVa, hex, parseAddress } from '../logic/va.js';
import { selectAddress, selectVma } from './actions.js';
import { Smaps } from './smaps.js';
import {
  bug,
  focusAddress,
  focusMappers,
  loaded,
  loadProblem,
  selectedVma,
  selection,
  state,
} from './store.js';

/** Pages out in swap, in the residency strip. */
const SWAPPED_COLOR = '#a78bfa';

const KIND_FILL: Record<string, string> = {
  file: '#f6ecc9',
  shmem: '#d6f1f4',
  special: '#eceff2',
};

/** The strip's mark for pages whose frames others map too: copy-on-write, or the page cache's. */
const FILE_KIND = 3;
const SHMEM_KIND = 4;
function sharedMarkColor(kind: string): string {
  if (kind === 'file') return cacheColor(FILE_KIND, 2);
  if (kind === 'shmem') return cacheColor(SHMEM_KIND, 2);
  return COW_COLOR;
}

/** Frame markers drawn per VMA at most (a zero page read over a big range maps it at every page). */
const MARKERS_PER_VMA = 32;

/** A cheap fingerprint of what a strip shows, to skip redrawing it when a step changed nothing. */
function stripKey(v: VmaView, h: number, color: string): string {
  let a = 0;
  for (let i = 0; i < v.resident.length; i++) {
    a = (Math.imul(a, 31) + v.resident[i]! * 65536 + v.dirty[i]! * 256 + v.swapped[i]!) | 0;
    a = (Math.imul(a, 31) + v.zero[i]! * 256 + v.shared[i]!) | 0;
  }
  return `${v.start}:${v.end}:${h}:${color}:${a}`;
}

function Residency({ vma, h, color }: { vma: VmaView; h: number; color: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const key = stripKey(vma, h, color);
  useEffect(() => {
    const c = canvas.current;
    if (!c) return;
    const dpr = window.devicePixelRatio || 1;
    if (c.width !== Math.round(12 * dpr) || c.height !== Math.round(h * dpr)) {
      c.width = Math.round(12 * dpr);
      c.height = Math.round(h * dpr);
    }
    const g = c.getContext('2d')!;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.fillStyle = '#eef0f2';
    g.fillRect(0, 0, 12, h);
    const n = vma.resident.length;
    const cell = h / n;
    for (let b = 0; b < n; b++) {
      const r = vma.resident[b]!;
      // Top of the strip is the highest address: bucket n-1.
      const y = (n - 1 - b) * cell;
      if (vma.swapped[b]! > 0) {
        g.globalAlpha = 0.4 + (0.6 * vma.swapped[b]!) / 255;
        g.fillStyle = SWAPPED_COLOR;
        g.fillRect(0, y, 12, Math.max(1, cell - (cell > 4 ? 1 : 0)));
      }
      if (vma.zero[b]! > 0) {
        // Read, never written: the zero page, in no RSS.
        g.globalAlpha = 0.35 + (0.5 * vma.zero[b]!) / 255;
        g.fillStyle = ZERO_PAGE_COLOR;
        g.fillRect(0, y, 12, Math.max(1, cell - (cell > 4 ? 1 : 0)));
      }
      if (r === 0) continue;
      const d = vma.dirty[b]!;
      g.globalAlpha = 0.35 + (0.65 * r) / 255;
      g.fillStyle = color;
      g.fillRect(0, y, 12, Math.max(1, cell - (cell > 4 ? 1 : 0)));
      if (d > 0) {
        g.globalAlpha = 1;
        g.fillStyle = '#222';
        g.fillRect(8, y, 4, Math.max(1, cell - (cell > 4 ? 1 : 0)));
      }
      if (vma.shared[b]! > 0) {
        g.globalAlpha = 1;
        g.fillStyle = sharedMarkColor(vma.kind);
        g.fillRect(0, y, 4, Math.max(1, cell - (cell > 4 ? 1 : 0)));
      }
    }
    g.globalAlpha = 1;
  }, [key]);
  return <canvas ref={canvas} class="residency" style={{ height: `${h}px` }} />;
}

function Vma({
  proc,
  vma,
  row,
  pageSize,
  mapping,
}: {
  proc: ProcView;
  vma: VmaView;
  row: { y: number; h: number };
  pageSize: number;
  /** This VMA's pages that map the frame in focus, and whether it is the zero page. */
  mapping: { readonly vas: readonly number[]; readonly zero: boolean };
}) {
  const at = focusAddress.value;
  const chosen = selectedVma.value;
  const isSel = chosen !== null && chosen.pid === proc.pid && chosen.vma.start === vma.start;
  const mapsFrame = mapping.vas.length > 0 || (mapping.zero && vma.zeroPages > 0);
  const color = processColor(proc.pid);
  const marker = at !== null && at.pid === proc.pid && at.va >= vma.start && at.va < vma.end ? at.va : null;
  const digits = loaded.value?.machine.addrHexDigits ?? 8;
  return (
    <div
      class={`vma kind-${vma.kind}${isSel ? ' selected' : ''}${mapsFrame ? ' maps-frame' : ''}`}
      style={{
        top: `${row.y}px`,
        height: `${row.h - 2}px`,
        borderLeftColor: color,
        background: KIND_FILL[vma.kind],
      }}
      data-start={hex(vma.start)}
      data-name={vma.name}
    >
      <button
        type="button"
        class="vma-body"
        onClick={() => selectVma(proc.pid, vma.start, vma.end)}
        title={`${formatVa(vma.start, digits)}-${formatVa(vma.end, digits)} ${vma.perms} ${vma.name}\nclick: highlight its pages and frames`}
      >
        <span class="vma-line1">
          <b>{vma.name || (vma.kind === 'anon' ? 'anonymous' : vma.kind)}</b>
          <span class="perms mono">{vma.perms}</span>
        </span>
        <span class="vma-line2 mono">
          {/* As /proc/PID/maps writes it: 64-bit kernel addresses fit the box without 0x. */}
          {vma.start.toString(16)}-{vma.end.toString(16)}
        </span>
        {row.h >= 54 && (
          <span class="vma-line3">
            {formatSize(vma.end - vma.start)} · RSS {formatSize(vma.rssPages * pageSize)}
            {vma.dirtyPages > 0 && <span class="muted"> ({vma.dirtyPages} dirty)</span>}
            {vma.swappedPages > 0 && (
              <span class="swapped"> · {formatSize(vma.swappedPages * pageSize)} in swap</span>
            )}
          </span>
        )}
      </button>
      <button
        type="button"
        class="residency-hit"
        title="resident pages (dark edge: dirty); click a page to walk it"
        onClick={(e) => {
          const r = (e.currentTarget as HTMLElement).getBoundingClientRect();
          selectAddress(proc.pid, vaAtHeight(vma, r.height, Math.max(0, e.clientY - r.top), pageSize));
        }}
      >
        <Residency vma={vma} h={row.h - 2} color={color} />
      </button>
      {marker !== null && (
        <div
          class="va-marker"
          title={hex(marker)}
          style={{ top: `${heightOfVa(vma, row.h - 2, marker, pageSize)}px` }}
        />
      )}
      {mapping.vas.slice(0, MARKERS_PER_VMA).map((va) => (
        <div
          key={va}
          class="frame-marker"
          data-va={hex(va)}
          title={`${hex(va)} maps the frame in focus`}
          // The whole box inside the VMA, even for its first or last page.
          style={{
            top: `${Math.max(3.5, Math.min(row.h - 5.5, heightOfVa(vma, row.h - 2, va, pageSize)))}px`,
          }}
        />
      ))}
    </div>
  );
}

/** The pages of `proc`'s address space that map the frame in focus. */
function mappingOf(proc: ProcView, pageSize: number): { vas: number[]; zero: boolean; pfn: number } | null {
  const fm = focusMappers.value;
  const f = state.value?.frames;
  if (fm === null || f === undefined || proc.state !== 'running') return null;
  const vas = fm.mappers.filter((m: Mapper) => m.pid === proc.mmPid).map((m) => m.vpn * pageSize);
  const zero = fm.pfn === f.zeroPfn;
  if (vas.length === 0 && !(zero && proc.vmas.some((v) => v.zeroPages > 0))) return null;
  return { vas, zero, pfn: fm.pfn };
}

/** Where this address space maps the frame in focus, and who else does. */
function MapsFrame({ proc, m }: { proc: ProcView; m: { vas: number[]; zero: boolean; pfn: number } }) {
  const fm = focusMappers.value!;
  const procs = state.value?.procs ?? [];
  const others = [...new Set(fm.mappers.filter((x) => x.pid !== proc.mmPid).map((x) => x.pid))].map(
    (pid) => procs.find((p) => p.pid === pid)?.name ?? `pid ${pid}`,
  );
  if (m.zero) {
    const n = proc.vmas.reduce((sum, v) => sum + v.zeroPages, 0);
    return (
      <div class="maps-frame-line small">
        {n} page{n === 1 ? '' : 's'} map the shared zero page {hex(m.pfn)} (read, never written)
      </div>
    );
  }
  const more = m.vas.length - 1;
  return (
    <div class="maps-frame-line small">
      frame {hex(m.pfn)} at {hex(m.vas[0]!)}
      {more > 0 ? ` and ${more} more page${more === 1 ? '' : 's'}` : ''}
      {others.length > 0 ? `, also in ${others.join(', ')}` : more === 0 ? ', here only' : ''}
    </div>
  );
}

function Space({ proc }: { proc: ProcView }) {
  const pageSize = loaded.value?.machine.pageSize ?? 4096;
  const userVaLimit = loaded.value?.machine.userVaLimit ?? 2 ** 47;
  const rows = layoutAddressSpace(proc.vmas, { pageSize, userVaLimit });
  const focusPid = selection.value.pid ?? focusAddress.value?.pid ?? null;
  const color = processColor(proc.pid);
  const s = proc.status;
  const mapping = mappingOf(proc, pageSize);
  const none = { vas: [] as number[], zero: false };
  return (
    <div
      class={`space${focusPid === proc.pid ? ' focus' : ''}${proc.state === 'running' ? '' : ' ended'}`}
      data-pid={proc.pid}
    >
      <div class="space-head" style={{ borderTopColor: color }}>
        <b style={{ color }}>{proc.name}</b> <span class="muted">pid {proc.pid}</span>{' '}
        {proc.state === 'running' ? (
          <span class="small">
            RSS {formatSize(s.VmRSS)} · VmSize {formatSize(s.VmSize)} · PTE {formatSize(s.VmPTE)}
            <br />
            faults: {s.minflt} minor, {s.majflt} major{proc.asid !== null ? ` · ASID ${proc.asid}` : ''}
          </span>
        ) : (
          <span class="small bad">
            {proc.state === 'killed' ? `killed: ${proc.signal ?? ''}` : `exited (${proc.exitCode})`}
            {'; everything reclaimed'}
          </span>
        )}
        {mapping !== null && <MapsFrame proc={proc} m={mapping} />}
      </div>
      {proc.state === 'running' && proc.rollup !== null && <Smaps proc={proc} />}
      {proc.vmas.length > 0 && (
        <div class="space-body" style={{ height: `${layoutHeight(rows)}px` }}>
          {rows.map((row) =>
            row.kind === 'gap' ? (
              <div
                key={`g${row.start}`}
                class="gap"
                style={{ top: `${row.y}px`, height: `${row.h}px` }}
                title={gapText(row.start, row.end, userVaLimit, formatSize).title}
              >
                ⋮ {gapText(row.start, row.end, userVaLimit, formatSize).text}
              </div>
            ) : (
              <Vma
                key={`v${row.start}`}
                proc={proc}
                vma={proc.vmas[row.index]!}
                row={row}
                pageSize={pageSize}
                mapping={
                  mapping === null
                    ? none
                    : {
                        vas: mapping.vas.filter(
                          (va) => va >= proc.vmas[row.index]!.start && va < proc.vmas[row.index]!.end,
                        ),
                        zero: mapping.zero,
                      }
                }
              />
            ),
          )}
        </div>
      )}
    </div>
  );
}

function AddressForm() {
  const st = state.value;
  const live = st?.procs.filter((p) => p.state === 'running') ?? [];
  const sel = selection.value;
  const [value, setValue] = useState('');
  const [pid, setPid] = useState<number | null>(null);
  const chosenPid = pid !== null && live.some((p) => p.pid === pid) ? pid : (sel.pid ?? live[0]?.pid ?? null);
  const va = parseAddress(value);
  return (
    <form
      class="address-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (va !== null && chosenPid !== null) selectAddress(chosenPid, va);
      }}
    >
      <select
        aria-label="Process"
        value={chosenPid ?? ''}
        onChange={(e) => setPid(Number((e.target as HTMLSelectElement).value))}
      >
        {live.map((p) => (
          <option key={p.pid} value={p.pid}>
            {p.name}
          </option>
        ))}
      </select>
      <input
        id="address-input"
        class={`mono${value !== '' && va === null ? ' invalid' : ''}`}
        placeholder="address, e.g. 0x401000"
        value={value}
        onInput={(e) => setValue((e.target as HTMLInputElement).value)}
      />
      <button type="submit" disabled={va === null || chosenPid === null}>
        Walk
      </button>
    </form>
  );
}

export function AddressSpaces() {
  const st = state.value;
  const box = useRef<HTMLDivElement>(null);
  const focusPid = selection.value.pid ?? focusAddress.value?.pid ?? null;
  // Running processes first; ended ones (nothing left to draw) after them, narrow.
  const procs =
    st === null
      ? []
      : [...st.procs].sort(
          (a, b) => Number(b.state === 'running') - Number(a.state === 'running') || a.pid - b.pid,
        );
  useLayoutEffect(() => {
    box.current
      ?.querySelector(`.space[data-pid="${focusPid}"]`)
      ?.scrollIntoView({ block: 'nearest', inline: 'nearest' });
  }, [focusPid]);
  return (
    <section class="panel space-panel" aria-label="Address spaces">
      <h2>
        Address spaces <small>high addresses on top; gaps compressed</small>
        <AddressForm />
      </h2>
      <div class="spaces" ref={box}>
        {st === null && loaded.value === null && (loadProblem.value !== null || bug.value !== null) ? (
          // Nothing ran (a link or a file whose scenario has a bad line): say so, not "Loading…".
          <p class="bad" id="spaces-problem">
            Nothing to show: the scenario did not run
            {loadProblem.value?.line != null
              ? ` (line ${loadProblem.value.line}, said under the editor)`
              : ''}
            . Fix it and press Run (Ctrl+Enter).
          </p>
        ) : st === null ? (
          <p class="muted">Loading…</p>
        ) : st.procs.length === 0 ? (
          <p class="muted">No process yet: the machine has just booted. Step forward (→).</p>
        ) : (
          procs.map((p) => <Space key={p.pid} proc={p} />)
        )}
      </div>
    </section>
  );
}
