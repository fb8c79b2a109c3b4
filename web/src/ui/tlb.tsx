/**
 * The TLB: its counters since boot and for this step, and its entries set by set, way by way, each
 * tagged with the ASID of the address space it belongs to. Entries for the selected page or frame
 * are marked; clicking one walks its page.
 */
import { count, counted } from '../../../src/report/format.js';
import type { TlbEntryInfo } from '../engine/protocol.js';
import { processColor } from '../logic/grid.js';
import { hex } from '../logic/va.js';
import { selectAddress } from './actions.js';
import { focusAddress, focusPfn, loaded, position, selectedVma, selection, state } from './store.js';

/** Above this many entries, only the valid ones are listed. */
const GRID_LIMIT = 256;

function pct(a: number, b: number): string {
  return b === 0 ? '–' : `${((100 * a) / b).toFixed(1)}%`;
}

/** The TLB tab (the panel's tab bar names it). */
export function Tlb() {
  const st = state.value;
  const sc = loaded.value;
  if (!st || !sc) return null;
  const t = st.tlb;
  const ps = sc.machine.pageSize;
  const sel = selection.value;
  const at = focusAddress.value;
  const vma = selectedVma.value;
  const pfn = focusPfn.value;
  const pid = sel.pid ?? at?.pid ?? null;
  const selProc = pid !== null ? st.procs.find((p) => p.pid === pid) : undefined;
  const asid = selProc?.asid ?? null;
  const stepTlb = position.value > 0 ? sc.steps[position.value - 1]?.tlb : undefined;
  const isHit = (e: TlbEntryInfo): boolean => {
    if (pfn !== null && e.pfn === pfn) return true;
    if (asid === null || e.asid !== asid) return false;
    if (at !== null) return e.vpn === Math.floor(at.va / ps);
    if (sel.vma !== null && vma !== null) return e.vpn >= vma.vma.start / ps && e.vpn < vma.vma.end / ps;
    return false;
  };
  const cell = (e: TlbEntryInfo | undefined, key: string) => {
    if (!e) return <td key={key} class="empty" />;
    const owner = t.asidOwner[e.asid];
    const color = owner !== undefined ? processColor(owner) : '#9ca3af';
    return (
      <td key={key} class={isHit(e) ? 'hit' : ''} style={{ borderLeftColor: color }}>
        <button
          type="button"
          class="link"
          title={`vpn ${hex(e.vpn)} → pfn ${hex(e.pfn)} · ASID ${e.asid}${owner === undefined ? ' (stale: no live address space has it)' : ''} · ${e.perm}`}
          onClick={() => owner !== undefined && selectAddress(owner, e.vpn * ps)}
        >
          <span class="mono">{e.vpn.toString(16)}</span>→<span class="mono">{e.pfn.toString(16)}</span>
        </button>
      </td>
    );
  };
  const bySlot = new Map<number, TlbEntryInfo>();
  for (const e of t.entries) bySlot.set(e.index, e);
  const total = t.hits + t.misses;
  return (
    <div class="tlb">
      <p class="tlb-stats small" id="tlb-stats">
        <b>
          {t.entryCount} entries, {t.ways}-way, {t.sets} sets: {t.entries.length} valid.
        </b>{' '}
        since boot: <b>{count(t.hits)}</b> {t.hits === 1 ? 'hit' : 'hits'}, <b>{count(t.misses)}</b>{' '}
        {t.misses === 1 ? 'miss' : 'misses'} (hit ratio {pct(t.hits, total)}), {counted(t.walks, 'walk')},{' '}
        {count(t.pteReads)} PTE {t.pteReads === 1 ? 'read' : 'reads'}
        {stepTlb && (
          <>
            {' '}
            · this step: {counted(stepTlb.hits, 'hit')}, {counted(stepTlb.misses, 'miss')}
          </>
        )}
      </p>
      <div class="tlb-table-box">
        {t.entryCount <= GRID_LIMIT ? (
          <table class="tlb-table small">
            <thead>
              <tr>
                <th>set</th>
                {Array.from({ length: t.ways }, (_, w) => (
                  <th key={w}>way {w}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {Array.from({ length: t.sets }, (_, s) => (
                <tr key={s}>
                  <th>{s}</th>
                  {Array.from({ length: t.ways }, (_, w) => cell(bySlot.get(s * t.ways + w), `${s}.${w}`))}
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <table class="tlb-table small">
            <tbody>
              {t.entries.map((e) => (
                <tr key={e.index}>
                  <th>
                    {e.set}.{e.way}
                  </th>
                  {cell(e, String(e.index))}
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
      <p class="muted tiny tlb-key">
        cells: vpn→pfn in hex; the edge is the colour of the process whose ASID tags the entry
      </p>
    </div>
  );
}
