/**
 * The page-table walk for the selected address, as the MMU does it: the address cut into one index
 * per level and the page offset, then each level's table, the entry read there with its bits
 * decoded, and where it leads. The levels appear one after another when the address changes.
 */
import { useState } from 'preact/hooks';
import type { MachineInfo, PteInfo, WalkLevel, WalkView } from '../engine/protocol.js';
import { formatVa, hex, vaFields } from '../logic/va.js';
import { selectAddress, selectFrame } from './actions.js';
import { loaded, selection, state } from './store.js';

export const LEVEL_COLORS = ['#7b5ea7', '#2f8f83', '#c0702f', '#3a78c2', '#a34d6d'];

const FAULT_WORDS: Record<string, string> = {
  'not-present':
    'not present: no translation. An access here faults; the kernel resolves it if a VMA allows the access (demand paging), else the process gets SIGSEGV.',
  protection: 'the entry does not allow this access',
  reserved: 'a malformed entry',
  'bad-address': 'outside the translatable user range',
};

function VaBar({ va, m }: { va: number; m: MachineInfo }) {
  const fields = vaFields(va, m);
  const total = fields.reduce((s, f) => s + f.bits, 0);
  return (
    <div class="va-bar" title="the address, cut into one index per level and the page offset">
      {fields.map((f, i) => (
        <div
          key={f.name}
          class="va-field"
          style={{
            flexGrow: f.bits,
            flexBasis: `${(100 * f.bits) / total}%`,
            background: i < fields.length - 1 ? LEVEL_COLORS[i % LEVEL_COLORS.length] : '#6b7280',
          }}
          title={`bits ${f.shift + f.bits - 1}..${f.shift}`}
        >
          <span class="va-name">{f.name}</span>
          <span class="va-value mono">{f.name === 'offset' ? hex(f.value) : f.value}</span>
          <span class="va-bits">
            {f.shift + f.bits - 1}:{f.shift}
          </span>
        </div>
      ))}
    </div>
  );
}

function Bits({ e }: { e: PteInfo }) {
  const chip = (on: boolean, label: string, title: string) => (
    <span class={`chip${on ? ' on' : ''}`} title={title}>
      {label}
    </span>
  );
  return (
    <span class="bits">
      {chip(e.present, 'P', 'present / valid')}
      {chip(e.rights.read && e.present, 'R', 'readable')}
      {chip(e.rights.write && e.present, 'W', 'writable')}
      {chip(e.rights.user && e.present, 'U', 'user-accessible')}
      {chip(e.rights.exec && e.present, 'X', 'executable (x86-64: NX clear)')}
      {chip(e.accessed, 'A', 'accessed: set by the MMU on a walk')}
      {chip(e.dirty, 'D', 'dirty: set by the MMU on a write')}
    </span>
  );
}

function Level({ lvl, i, pageSize }: { lvl: WalkLevel; i: number; pageSize: number }) {
  const e = lvl.entry;
  // The other entries (up to 64) are drawn only when asked for.
  const [open, setOpen] = useState(false);
  const others = lvl.table.filter((x) => x.index !== lvl.index);
  return (
    <li class="walk-level" style={{ '--i': i, borderLeftColor: LEVEL_COLORS[i % LEVEL_COLORS.length] }}>
      <div class="level-head">
        <b>{lvl.levelName}</b>
        <span class="muted">
          {' '}
          table in frame{' '}
          <button type="button" class="link mono" onClick={() => selectFrame(lvl.tablePfn)}>
            {hex(lvl.tablePfn)}
          </button>
          , entry <b class="mono">[{lvl.index}]</b> at pa <span class="mono">{hex(lvl.entryPa)}</span>
        </span>
      </div>
      <div class="entry">
        <span class="mono raw">{e.raw}</span> <Bits e={e} />{' '}
        <span class="muted small">{e.flags.join(' ')}</span>
      </div>
      <div class="leads">
        {!e.present ? (
          <span class="bad">
            ✗ not present
            {e.swapSlot !== null && (
              <span class="swapped">
                : the page is in swap slot {e.swapSlot} (an access is a major fault)
              </span>
            )}
            {e.protNone && ': PROT_NONE page, its frame kept (any access faults)'}
          </span>
        ) : e.leaf ? (
          <span>
            → page in frame{' '}
            <button type="button" class="link mono" onClick={() => selectFrame(e.pfn)}>
              {hex(e.pfn)}
            </button>
          </span>
        ) : (
          <span>
            → next table in frame{' '}
            <button type="button" class="link mono" onClick={() => selectFrame(e.pfn)}>
              {hex(e.pfn)}
            </button>
          </span>
        )}
        <span class="muted small">
          {' '}
          · {lvl.tableNonEmpty} of {lvl.tableEntries} entries in use
        </span>
      </div>
      {others.length > 0 && (
        <details
          class="table-entries"
          onToggle={(e) => setOpen((e.currentTarget as HTMLDetailsElement).open)}
        >
          <summary>the table's other entries ({lvl.tableNonEmpty - 1})</summary>
          {open && (
            <ul>
              {others.map((x) => (
                <li key={x.index} class="mono small">
                  [{x.index}] {hex(x.vaStart)} →{' '}
                  {x.present ? `${x.leaf ? 'page' : 'table'} ${hex(x.pfn)}` : 'not present'}{' '}
                  <span class="muted">{x.flags.join(' ')}</span>
                  {x.leaf && x.present && (
                    <button
                      type="button"
                      class="link small"
                      onClick={() => {
                        const pid = selection.value.pid;
                        if (pid !== null) selectAddress(pid, x.vaStart);
                      }}
                    >
                      {' '}
                      walk
                    </button>
                  )}
                </li>
              ))}
            </ul>
          )}
          {open && lvl.tableNonEmpty > lvl.table.length && (
            <p class="muted small">… and {lvl.tableNonEmpty - lvl.table.length} more</p>
          )}
          <p class="muted small">page size {pageSize} bytes</p>
        </details>
      )}
    </li>
  );
}

function WalkBody({ w, m }: { w: WalkView; m: MachineInfo }) {
  return (
    <>
      <VaBar va={w.va} m={m} />
      <p class="small">
        Root table ({m.levelNames[0]}) of this address space in frame{' '}
        <button type="button" class="link mono" onClick={() => selectFrame(w.rootPfn)}>
          {hex(w.rootPfn)}
        </button>
        {w.vma ? (
          <>
            ; the address is in <b>{w.vma.name || 'an anonymous mapping'}</b>{' '}
            <span class="mono">{w.vma.perms}</span>
          </>
        ) : (
          <span class="bad">; no VMA holds this address: an access is SIGSEGV (SEGV_MAPERR)</span>
        )}
      </p>
      <ol class="walk-levels">
        {w.levels.map((l, i) => (
          <Level key={l.level} lvl={l} i={i} pageSize={m.pageSize} />
        ))}
      </ol>
      <p class="walk-result" style={{ '--i': w.levels.length }}>
        {w.pa >= 0 ? (
          <>
            ⇒ physical address <b class="mono">{hex(w.pa)}</b> (frame {hex(Math.floor(w.pa / m.pageSize))} +
            offset {hex(w.pa % m.pageSize)})
          </>
        ) : w.levels.at(-1)?.entry.swapSlot != null ? (
          <span class="bad">
            ⇒ no translation: the page is out in swap slot {w.levels.at(-1)!.entry.swapSlot}. An access is a
            major fault: the kernel reads the slot back into a frame (evicting another page if it must).
          </span>
        ) : (
          <span class="bad">⇒ {FAULT_WORDS[w.fault] ?? w.fault}</span>
        )}
      </p>
    </>
  );
}

export function Walk() {
  const st = state.value;
  const sc = loaded.value;
  const sel = selection.value;
  const [replay, setReplay] = useState(0);
  const w = st?.walk ?? null;
  const proc = sel.pid !== null ? st?.procs.find((p) => p.pid === sel.pid) : undefined;
  return (
    <section class="panel walk-panel" aria-label="Page-table walk">
      <h2>
        Page-table walk{' '}
        {w && sc && (
          <small class="mono">
            {proc?.name} {formatVa(w.va, sc.machine.addrHexDigits)}
          </small>
        )}
        {w && st?.walkFollowsStep && <span class="tag follow">following the step</span>}
        {w && (
          <button
            type="button"
            class="small-btn"
            onClick={() => setReplay(replay + 1)}
            title="show the walk again, level by level"
          >
            replay
          </button>
        )}
      </h2>
      {/* Remounted (so the levels appear one by one) when an address is picked or replayed; when
          the walk follows the steps it is updated in place, which keeps stepping cheap. */}
      <div class="walk" key={st?.walkFollowsStep ? `follow:${replay}` : `${w?.pid}:${w?.va}:${replay}`}>
        {!sc ? null : w ? (
          <WalkBody w={w} m={sc.machine} />
        ) : sel.va !== null && proc && proc.state !== 'running' ? (
          <p class="muted">{proc.name} has ended: its page tables were freed.</p>
        ) : (
          <p class="muted">
            Click a page (the strip at the right of a VMA), a frame, or an event with an address — or press{' '}
            <kbd>a</kbd> and type one — to see how the MMU translates it, level by level.
          </p>
        )}
      </div>
    </section>
  );
}
