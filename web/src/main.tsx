/**
 * The visualizer's entry: renders the app, starts the engine worker, and exposes a small hook for
 * the end-to-end tests and the benchmark (`window.vmscope`).
 */
import 'uplot/dist/uPlot.min.css';
import './ui/style.css';
import { render } from 'preact';
import type { TraceResult } from './engine/protocol.js';
import { boot, goTo, redrawTimes, selectAddress, selectFrame, whenSettled } from './ui/actions.js';
import { App } from './ui/app.js';
import { loaded, position, state, stateMs, trace } from './ui/store.js';

declare global {
  interface Window {
    vmscope: {
      whenSettled(): Promise<void>;
      goTo(p: number): void;
      selectAddress(pid: number, va: number): void;
      selectFrame(pfn: number): void;
      position(): number;
      last(): number;
      frames(): number;
      ready(): boolean;
      /** Main-thread ms from each state's arrival to the frame after it was drawn. */
      redrawTimes(): number[];
      /** Worker ms to build the last state. */
      engineMs(): number;
      trace(): TraceResult | null;
    };
  }
}

window.vmscope = {
  whenSettled,
  goTo,
  selectAddress,
  selectFrame,
  position: () => position.value,
  last: () => loaded.value?.steps.length ?? 0,
  frames: () => state.value?.frames.kinds.length ?? 0,
  ready: () => state.value !== null,
  redrawTimes: () => [...redrawTimes],
  engineMs: () => stateMs.value,
  trace: () => trace.value,
};

render(<App />, document.getElementById('app')!);
void boot();
