/**
 * A process's /proc/PID/smaps in its address-space column: one line of smaps_rollup (PSS, shared and
 * private), opening into a table of every mapping with resident pages — Rss, Pss, Shared, Private and
 * Dirty, in kB as /proc prints them (PSS cut, not rounded). A page is shared when mapped more than
 * once, whatever MAP_SHARED says; Pss gives each mapper its part. Clicking a row selects the VMA.
 */
import { signal } from '@preact/signals';
import type { ProcView, SmapsView, VmaView } from '../engine/protocol.js';
import { hex } from '../logic/va.js';
import { selectVma } from './actions.js';
import { selectedVma } from './store.js';

/** Processes whose table is open, by pid. */
const opened = signal<ReadonlySet<number>>(new Set());

function toggle(pid: number): void {
  const next = new Set(opened.value);
  if (next.has(pid)) next.delete(pid);
  else next.add(pid);
  opened.value = next;
}

/** Linux's kB: bytes >> 10; `pss` values carry 12 more fraction bits (PSS_SHIFT), cut the same way. */
export function smapsKb(value: number, pss = false): string {
  return `${Math.floor(value / (pss ? 4096 * 1024 : 1024))} kB`;
}

const num = (value: number, pss = false) => Math.floor(value / (pss ? 4096 * 1024 : 1024));

/** Every field of a mapping's smaps, as /proc names them, for the row's tooltip. */
function fieldsText(v: SmapsView): string {
  return [
    `Rss: ${smapsKb(v.rss)}`,
    `Pss: ${smapsKb(v.pss, true)}`,
    `Shared_Clean: ${smapsKb(v.sharedClean)}`,
    `Shared_Dirty: ${smapsKb(v.sharedDirty)}`,
    `Private_Clean: ${smapsKb(v.privateClean)}`,
    `Private_Dirty: ${smapsKb(v.privateDirty)}`,
    `Anonymous: ${smapsKb(v.anonymous)}`,
    `Swap: ${smapsKb(v.swap)}`,
    `SwapPss: ${smapsKb(v.swapPss, true)}`,
  ].join('\n');
}

function Cells({ v }: { v: SmapsView }) {
  return (
    <>
      <td>{num(v.rss)}</td>
      <td>{num(v.pss, true)}</td>
      <td>{num(v.sharedClean + v.sharedDirty)}</td>
      <td>{num(v.privateClean + v.privateDirty)}</td>
      <td>{num(v.sharedDirty + v.privateDirty)}</td>
    </>
  );
}

function label(v: VmaView): string {
  if (v.name === '') return v.kind === 'anon' ? 'anon' : v.kind;
  const slash = v.name.lastIndexOf('/');
  return slash >= 0 && !v.name.startsWith('[') ? v.name.slice(slash + 1) : v.name;
}

export function Smaps({ proc }: { proc: ProcView }) {
  const r = proc.rollup;
  if (r === null) return null;
  const open = opened.value.has(proc.pid);
  const chosen = selectedVma.value;
  const rows = proc.vmas.filter((v) => v.smaps !== null && (v.smaps.rss > 0 || v.smaps.swap > 0));
  const idle = proc.vmas.length - rows.length;
  return (
    <div class="smaps" data-pid={proc.pid}>
      <button
        type="button"
        class="smaps-toggle small"
        aria-expanded={open}
        title="smaps_rollup, in kB: PSS divides each page among the address spaces that map it; shared pages are mapped more than once. Click for every mapping's smaps."
        onClick={() => toggle(proc.pid)}
      >
        {open ? '▾' : '▸'} PSS {smapsKb(r.pss, true)}, shared {num(r.sharedClean + r.sharedDirty)}, private{' '}
        {num(r.privateClean + r.privateDirty)}
        {r.swap > 0 ? `, swap ${num(r.swap)}` : ''}
      </button>
      {open && (
        <table class="smaps-table small">
          <thead>
            <tr>
              <th class="smaps-name smaps-head">kB</th>
              <th class="smaps-head" title="Rss: resident pages">
                Rss
              </th>
              <th class="smaps-head" title="Pss: each page divided among the address spaces that map it">
                Pss
              </th>
              <th class="smaps-head" title="Shared_Clean + Shared_Dirty: pages mapped more than once">
                Shared
              </th>
              <th class="smaps-head" title="Private_Clean + Private_Dirty: pages mapped once">
                Private
              </th>
              <th class="smaps-head" title="Shared_Dirty + Private_Dirty">
                Dirty
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((v) => (
              <tr
                key={v.start}
                data-name={v.name}
                data-start={hex(v.start)}
                class={chosen?.pid === proc.pid && chosen.vma.start === v.start ? 'selected' : ''}
                title={`${v.start.toString(16)}-${v.end.toString(16)} ${v.perms} ${v.name}\n${fieldsText(v.smaps!)}`}
                onClick={() => selectVma(proc.pid, v.start, v.end)}
              >
                <th class="smaps-name">{label(v)}</th>
                <Cells v={v.smaps!} />
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr title={fieldsText(r)}>
              <th class="smaps-name">total</th>
              <Cells v={r} />
            </tr>
            {idle > 0 && (
              <tr>
                <td colSpan={6} class="muted">
                  and {idle} mapping{idle === 1 ? '' : 's'} with nothing resident
                </td>
              </tr>
            )}
          </tfoot>
        </table>
      )}
    </div>
  );
}
