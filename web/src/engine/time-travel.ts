/**
 * What a session that can stand at any of its steps shares, whatever replays the steps (a scenario,
 * an strace log): the kernels at hand (the one at the page's position, pinned, and one for background
 * work), a few recent views, and the address each step is about, which the walk follows when nothing
 * is selected. A session says how to get the kernel at a position; the rest is here.
 */
import type { Kernel } from '../../../src/kernel/kernel.js';
import type { AddressSelection, RssSample, StateView } from './protocol.js';
import { stateView } from './view-state.js';

/** Views kept (each holds a copy of the frame table: ~1.6 MB at 64 Ki frames). */
const VIEW_CACHE = 24;

export abstract class TimeTravel {
  /** Positions that can be reached: the steps that ran (fewer than the statements after an error). */
  protected reachable = 0;
  /**
   * At most two kernels: the one at the page's position (pinned: selecting things there costs no
   * re-run) and one for background work (prefetching neighbours, chart samples).
   */
  protected readonly kernels = new Map<number, Kernel>();
  protected pinned = -1;
  private readonly views = new Map<string, StateView>();
  /** Per step, the address it is about (what the walk follows when nothing is selected). */
  protected focus: (AddressSelection | null)[] = [];

  /** The kernel as it is after the first `position` steps. */
  abstract kernelAt(position: number, background?: boolean): Kernel;

  /** Whether the kernel at `position` is at hand (no re-run needed). */
  isLive(position: number): boolean {
    return this.kernels.has(position);
  }

  /**
   * The address the walk shows at `position`: the selection, else the address of the latest
   * step (up to `position`) that was about one.
   */
  private walkTarget(position: number, select: AddressSelection | null): AddressSelection | null {
    if (select !== null) return select;
    for (let i = position - 1; i >= 0; i--) {
      const f = this.focus[i];
      if (f) return f;
    }
    return null;
  }

  private key(position: number, select: AddressSelection | null): string {
    return `${position}:${select ? `${select.pid}:${select.va}` : '-'}`;
  }

  /** Whether the view for (`position`, `select`) is ready without running anything. */
  hasView(position: number, select: AddressSelection | null): boolean {
    return this.views.has(this.key(Math.max(0, Math.min(position, this.reachable)), select));
  }

  /**
   * What the page draws at `position`, with the walk of `select` — or, when it is null, of the
   * address the last step was about.
   */
  stateAt(position: number, select: AddressSelection | null, background = false): StateView {
    const p = Math.max(0, Math.min(position, this.reachable));
    const key = this.key(p, select);
    const cached = this.views.get(key);
    if (cached) {
      this.views.delete(key);
      this.views.set(key, cached);
      if (!background && this.kernels.has(p)) this.pinned = p;
      return cached;
    }
    const target = this.walkTarget(p, select);
    const view = {
      ...stateView(this.kernelAt(p, background), p, target),
      walkFollowsStep: select === null && target !== null,
    };
    this.views.set(key, view);
    if (this.views.size > VIEW_CACHE) this.views.delete(this.views.keys().next().value!);
    return view;
  }

  /** Free frames and each live process's resident pages at `position`, for the charts. */
  sample(position: number): RssSample {
    const k = this.kernelAt(position, true);
    const rssPages: Record<number, number> = {};
    for (const p of k.live()) rssPages[p.pid] = p.mm!.rss;
    return { position, freeFrames: k.frames.freeFrames, rssPages };
  }
}
