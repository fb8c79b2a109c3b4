/**
 * The page: a toolbar over three columns — the scenario and its log; the address spaces and
 * physical memory; the page-table walk, and the TLB, charts and swap in tabs. Keys step through time from
 * anywhere outside the editor; files dropped anywhere are loaded.
 */
import { useEffect, useState } from 'preact/hooks';
import { keyAction } from '../logic/keys.js';
import { addFiles, clearSelection, goTo, runEditor, step, toggleHelp, togglePlay } from './actions.js';
import { AddressSpaces } from './address-space.js';
import { Charts } from './charts.js';
import { droppedEntries, walkEntries } from './drop.js';
import { Editor } from './editor.js';
import { Frames } from './frames.js';
import { Help } from './help.js';
import { Log } from './log.js';
import { helpOpen, lastPosition, toast } from './store.js';
import { Toolbar } from './toolbar.js';
import { Walk } from './walk.js';

/** Elements that use the keys themselves: text fields, selects, the step slider. */
function isTextTarget(t: EventTarget | null): boolean {
  if (!(t instanceof HTMLElement)) return false;
  if (t.isContentEditable || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT') return true;
  return t.tagName === 'INPUT' && (t as HTMLInputElement).type !== 'checkbox';
}

function onKey(e: KeyboardEvent): void {
  // Space and Enter on a focused button press it; they are not ours then.
  const tag = e.target instanceof HTMLElement ? e.target.tagName : '';
  if ((e.key === ' ' || e.key === 'Enter') && (tag === 'BUTTON' || tag === 'SUMMARY')) return;
  const a = keyAction({
    key: e.key,
    shiftKey: e.shiftKey,
    ctrlKey: e.ctrlKey,
    metaKey: e.metaKey,
    altKey: e.altKey,
    inText: isTextTarget(e.target),
  });
  if (a === null) return;
  e.preventDefault();
  switch (a.kind) {
    case 'step':
      step(a.by);
      break;
    case 'first':
      goTo(0);
      break;
    case 'last':
      goTo(lastPosition.value);
      break;
    case 'play':
      togglePlay();
      break;
    case 'run':
      runEditor();
      break;
    case 'leave':
      if (helpOpen.value) toggleHelp();
      else if (isTextTarget(document.activeElement)) (document.activeElement as HTMLElement).blur();
      else clearSelection();
      break;
    case 'help':
      toggleHelp();
      break;
    case 'address':
      document.getElementById('address-input')?.focus();
      break;
    case 'edit':
      document.getElementById('editor-text')?.focus();
      break;
  }
}

export function App() {
  const [dragging, setDragging] = useState(false);
  useEffect(() => {
    const over = (e: DragEvent) => {
      e.preventDefault();
      setDragging(true);
    };
    const leave = (e: DragEvent) => {
      if (e.relatedTarget === null) setDragging(false);
    };
    const drop = (e: DragEvent) => {
      e.preventDefault();
      setDragging(false);
      if (!e.dataTransfer) return;
      // Folders are walked to their files (a folder is a sysroot); the entries go with the event.
      const { entries, files } = droppedEntries(e.dataTransfer);
      if (entries.length > 0) void walkEntries(entries).then(addFiles);
      else if (files.length > 0) void addFiles(files);
    };
    window.addEventListener('keydown', onKey);
    window.addEventListener('dragover', over);
    window.addEventListener('dragleave', leave);
    window.addEventListener('drop', drop);
    return () => {
      window.removeEventListener('keydown', onKey);
      window.removeEventListener('dragover', over);
      window.removeEventListener('dragleave', leave);
      window.removeEventListener('drop', drop);
    };
  }, []);
  return (
    <div class={`app${dragging ? ' dragging' : ''}`}>
      <Toolbar />
      <main class="grid">
        <Editor />
        <Log />
        <AddressSpaces />
        <Frames />
        <Walk />
        <Charts />
      </main>
      <Help />
      {toast.value && (
        <div class="toast" role="status">
          {toast.value}
        </div>
      )}
      {dragging && (
        <div class="drop-hint">
          Drop a scenario (.vms), an ELF binary, a memory or allocation trace, an strace log with its program
          (or a folder of the recorded machine's files)
        </div>
      )}
    </div>
  );
}
