/**
 * The swap device, when the machine has one: each slot as a cell (used slots dark, shared ones
 * darker), with its counters and who holds each used slot — a process's page (click: walk it) or a
 * shared object's. Without swap, a note says where it will appear.
 */
import { useEffect, useRef } from 'preact/hooks';
import { count, counted } from '../../../src/report/format.js';
import { processColor } from '../logic/grid.js';
import { hex } from '../logic/va.js';
import { selectAddress } from './actions.js';
import { loaded, state } from './store.js';

export function Swap() {
  const st = state.value;
  const sc = loaded.value;
  const canvas = useRef<HTMLCanvasElement>(null);
  const swap = st?.swap ?? null;
  useEffect(() => {
    const c = canvas.current;
    if (!c || !swap) return;
    const n = swap.slotCount;
    const cols = Math.min(128, Math.max(8, 2 ** Math.ceil(Math.log2(Math.sqrt(n * 4)))));
    const rows = Math.ceil(n / cols);
    const cell = Math.max(2, Math.min(10, Math.floor(480 / cols)));
    c.width = cols * cell;
    c.height = rows * cell;
    const g = c.getContext('2d')!;
    for (let i = 0; i < n; i++) {
      const users = swap.count[i]!;
      g.fillStyle = users === 0 ? '#e9ecef' : users === 1 ? '#7c3aed' : '#3b0764';
      g.fillRect(
        (i % cols) * cell,
        Math.floor(i / cols) * cell,
        cell - (cell > 3 ? 1 : 0),
        cell - (cell > 3 ? 1 : 0),
      );
    }
  }, [swap]);
  if (!sc) return null;
  if (!swap) {
    return (
      <p class="muted small" id="swap-none">
        This machine has no swap device, so every page stays in RAM until its process ends. When the kernel
        has swap (a machine with a swap size), its slots appear here: free, used, and shared, with pages going
        out and coming back in the event log.
      </p>
    );
  }
  const used = swap.slotCount - swap.freeSlots;
  return (
    <div class="swap">
      <p class="small" id="swap-stats">
        {counted(swap.slotCount, 'slot')} of {sc.machine.pageSize} bytes · {count(used)} used ·{' '}
        {counted(swap.writes, 'page')} written out · {count(swap.reads)} read back
      </p>
      <canvas ref={canvas} id="swap-canvas" />
      {swap.holders.length > 0 && (
        <ul class="swap-holders small" id="swap-holders">
          {swap.holders.map((h) => (
            <li key={h.slot}>
              slot {h.slot} →{' '}
              {h.pid !== null && h.va !== null ? (
                <button type="button" class="link" onClick={() => selectAddress(h.pid!, h.va!)}>
                  <b style={{ color: processColor(h.pid) }}>{h.owner}</b> {hex(h.va)}
                </button>
              ) : (
                <span>{h.owner}</span>
              )}
            </li>
          ))}
          {used > swap.holders.length && <li class="muted">… {used - swap.holders.length} more</li>}
        </ul>
      )}
    </div>
  );
}
