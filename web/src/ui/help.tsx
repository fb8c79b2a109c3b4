/** The keyboard and reading guide (press `?`). */
import { KEY_HELP } from '../logic/keys.js';
import { toggleHelp } from './actions.js';
import { helpOpen } from './store.js';

export function Help() {
  if (!helpOpen.value) return null;
  return (
    <div class="help-backdrop">
      <div class="help" role="dialog" aria-label="Help">
        <h2>Keys</h2>
        <table>
          <tbody>
            {KEY_HELP.map(([k, what]) => (
              <tr key={k}>
                <th>
                  <kbd>{k}</kbd>
                </th>
                <td>{what}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <h2>Reading the views</h2>
        <ul>
          <li>
            <b>Step</b> n is the machine after the first n statements; step 0 is the machine just booted.
            Every step can be revisited: the engine re-runs the scenario to it (it is deterministic).
          </li>
          <li>
            <b>Address spaces</b>: each VMA with its rights and name; the strip on its right has one cell per
            page (coloured when resident, dark edge when dirty). Gaps are compressed.
          </li>
          <li>
            <b>Page-table walk</b>: how the MMU translates the selected address, one table per level, each
            entry's bits decoded (P present, R/W/U/X rights, A accessed, D dirty).
          </li>
          <li>
            <b>Physical memory</b>: one cell per frame. A process's pages in its colour, its page tables
            darker, the page cache gold. The red ring is the selected frame; orange rings are the tables of
            the walk.
          </li>
          <li>
            Select an address, a VMA, a frame or an event and every view marks it. <kbd>Esc</kbd> clears.
          </li>
          <li>
            Drop an ELF binary to exec it, a trace to replay it, a .vms file to open it. Nothing leaves this
            page.
          </li>
        </ul>
        <button type="button" onClick={toggleHelp}>
          Close
        </button>
      </div>
    </div>
  );
}
