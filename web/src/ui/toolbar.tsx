/** The bar on top: examples, run, the time controls, files, share and help. */
import { useRef } from 'preact/hooks';
import {
  addFiles,
  cancel,
  goTo,
  openExample,
  runEditor,
  share,
  step,
  toggleHelp,
  togglePlay,
} from './actions.js';
import { pickedFiles } from './drop.js';
import { EXAMPLES } from './examples.js';
import {
  busy,
  dirty,
  exampleName,
  fileName,
  lastPosition,
  loaded,
  playing,
  position,
  stateMs,
} from './store.js';

/** Small icons (drawn: not every system font has the media-control glyphs). */
function Icon({ d }: { d: string }) {
  return (
    <svg width="14" height="14" viewBox="0 0 16 16" aria-hidden="true">
      <path d={d} fill="currentColor" />
    </svg>
  );
}
const FIRST = 'M2 2h2v12H2zM14 2v12L5 8z';
const BACK = 'M13 2v12L4 8z';
const PLAY = 'M4 2v12l9-6z';
const PAUSE = 'M3 2h4v12H3zM9 2h4v12H9z';
const LAST = 'M12 2h2v12h-2zM2 2v12l9-6z';

function stepLabel(): string {
  const sc = loaded.value;
  const p = position.value;
  if (!sc) return '';
  if (p === 0) return 'boot';
  const st = sc.steps[p - 1];
  return st ? `line ${st.line}` : '';
}

export function Toolbar() {
  const fileInput = useRef<HTMLInputElement>(null);
  const folderInput = useRef<HTMLInputElement>(null);
  const last = lastPosition.value;
  const p = position.value;
  const b = busy.value;
  const sc = loaded.value;
  return (
    <header class="toolbar">
      <h1 title="vmscope: an OS memory manager you can watch">vmscope</h1>
      <label class="examples">
        <span class="sr">Scenario</span>
        <select
          id="example-select"
          value={exampleName.value ?? ''}
          onChange={(e) => {
            const ex = EXAMPLES.find((x) => x.name === (e.target as HTMLSelectElement).value);
            if (ex) openExample(ex);
          }}
        >
          {exampleName.value === null && (
            <option value="">
              {/* "(edited)" only for an example changed in the editor, not for a file of its own. */}
              {EXAMPLES.some((ex) => `${ex.name}.vms` === fileName.value)
                ? `${fileName.value} (edited)`
                : fileName.value}
            </option>
          )}
          {EXAMPLES.map((ex) => (
            <option key={ex.name} value={ex.name}>
              {ex.name === 'tour' ? 'Tour' : (/^\d+/.exec(ex.name)?.[0] ?? ex.name)} ·{' '}
              {ex.title.replace(/:.*$/, '')}
            </option>
          ))}
        </select>
      </label>
      <button
        type="button"
        id="run"
        class={`primary${dirty.value ? ' attention' : ''}`}
        onClick={runEditor}
        title="Run the scenario in the editor (Ctrl+Enter)"
      >
        Run
      </button>
      <fieldset class="timeline">
        <legend class="sr">Time</legend>
        <button
          type="button"
          id="first"
          onClick={() => goTo(0)}
          disabled={p === 0}
          title="To boot (Home)"
          aria-label="To boot"
        >
          <Icon d={FIRST} />
        </button>
        <button
          type="button"
          id="back"
          onClick={() => step(-1)}
          disabled={p === 0}
          title="Step back (←)"
          aria-label="Step back"
        >
          <Icon d={BACK} />
        </button>
        <button
          type="button"
          id="play"
          onClick={togglePlay}
          disabled={last === 0}
          title="Play / pause (Space)"
          aria-label="Play or pause"
        >
          <Icon d={playing.value ? PAUSE : PLAY} />
        </button>
        <button
          type="button"
          id="forward"
          onClick={() => step(1)}
          disabled={p >= last}
          title="Step forward (→)"
          aria-label="Step forward"
        >
          <Icon d={PLAY} />
          <Icon d="M1 2h2v12H1z" />
        </button>
        <button
          type="button"
          id="last"
          onClick={() => goTo(last)}
          disabled={p >= last}
          title="To the end (End)"
          aria-label="To the end"
        >
          <Icon d={LAST} />
        </button>
        <input
          type="range"
          id="position"
          min={0}
          max={last}
          value={p}
          aria-label="Step"
          onInput={(e) => goTo(Number((e.target as HTMLInputElement).value))}
        />
        <span class="position" id="position-label">
          step <b>{p}</b>/{last} <span class="muted">{stepLabel()}</span>
        </span>
      </fieldset>
      <div class="spacer" />
      {b !== null ? (
        <span class="busy" id="busy">
          {b.what === 'run' ? 'running' : 'replaying trace'}
          {b.total > 0 ? ` ${Math.round((100 * b.done) / b.total)}%` : '…'}{' '}
          <button type="button" onClick={cancel}>
            Stop
          </button>
        </span>
      ) : (
        sc && (
          <span class="muted small status" title="Time the engine took to build this state (worker)">
            {sc.passed + sc.failed > 0 && (
              <span class={sc.failed ? 'bad' : 'good'}>
                {sc.passed}/{sc.passed + sc.failed}{' '}
                {sc.steps[0]?.kind.startsWith('strace-') ? 'agree with Linux' : 'expect ok'}
              </span>
            )}{' '}
            <span class="engine-ms">{stateMs.value.toFixed(1)} ms</span>
          </span>
        )
      )}
      <button
        type="button"
        onClick={() => fileInput.current?.click()}
        title="Open a scenario, an ELF binary or a trace"
      >
        Open file…
      </button>
      <input
        ref={fileInput}
        type="file"
        id="file-input"
        multiple
        hidden
        onChange={(e) => {
          const input = e.target as HTMLInputElement;
          if (input.files) void addFiles(pickedFiles(input.files));
          input.value = '';
        }}
      />
      <button
        type="button"
        onClick={() => folderInput.current?.click()}
        title="Open a folder of the recorded machine's files (a sysroot: programs, interpreters, libraries) for an strace log or exec"
      >
        Folder…
      </button>
      <input
        ref={folderInput}
        type="file"
        id="folder-input"
        {...{ webkitdirectory: true }}
        hidden
        onChange={(e) => {
          const input = e.target as HTMLInputElement;
          if (input.files) void addFiles(pickedFiles(input.files));
          input.value = '';
        }}
      />
      <button
        type="button"
        onClick={() => void share()}
        title="Copy a link to this scenario, step and selection"
      >
        Share
      </button>
      <button type="button" onClick={toggleHelp} title="Keys and how to read the views (?)">
        ?
      </button>
    </header>
  );
}
