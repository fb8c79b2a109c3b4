import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { runScenario } from '../../src/sim/scenario-runner.js';
import { parseScenario } from '../../src/workload/scenario/parse.js';
import { checkScenario, ScenarioSession, samplePositions } from '../../web/src/engine/session.js';
import { TraceReplay } from '../../web/src/engine/trace.js';
import { stateView } from '../../web/src/engine/view-state.js';
import { CORPUS, testCorpus } from '../corpus.js';

const example = (name: string) =>
  readFileSync(new URL(`../../examples/${name}.vms`, import.meta.url), 'utf8');
const tour = readFileSync(new URL('../../web/scenarios/default.vms', import.meta.url), 'utf8');

describe('a scenario session in the engine worker', () => {
  test('records every step in words, with the faults and the TLB of each', () => {
    const s = new ScenarioSession('02-paging.vms', example('02-paging'));
    const run = s.run();
    expect(run.runError).toBeNull();
    expect(run.bug).toBeNull();
    expect(run.steps.length).toBe(run.statementCount);
    expect(run.failed).toBe(0);
    expect(run.machine).toMatchObject({ arch: 'teach16', pageSize: 64, frameCount: 256, levels: 2 });
    const first = run.steps.find((st) => st.text === 'A: write bss 1')!;
    expect(first.minorFaults).toBe(1);
    expect(first.events.some((e) => !e.detail && e.text.includes('demand-zero fill'))).toBe(true);
    expect(first.focus).toEqual({ pid: 1, va: expect.any(Number) });
    const again = run.steps.find((st) => st.text === 'A: read bss 1')!;
    expect(again.tlb.hits).toBeGreaterThan(0);
    expect(again.minorFaults).toBe(0);
    expect(run.series.minorFaults[run.steps.length]).toBe(run.steps.reduce((n, st) => n + st.minorFaults, 0));
  });

  test('time travel: the state at a position equals a fresh run of that prefix, whatever the order of visits', () => {
    const s = new ScenarioSession('tour.vms', tour);
    const run = s.run();
    const last = run.steps.length;
    const order = [last, 3, 12, 4, 0, last - 1, 12];
    const fresh = new ScenarioSession('tour.vms', tour);
    fresh.run();
    for (const p of order) {
      const view = s.stateAt(p, null);
      const k = fresh.kernelAt(p);
      const expected = stateView(k, p, null);
      expect(view.position).toBe(p);
      expect(view.frames.kinds).toEqual(expected.frames.kinds);
      expect(view.procs.map((x) => [x.name, x.state, x.status.VmRSS])).toEqual(
        expected.procs.map((x) => [x.name, x.state, x.status.VmRSS]),
      );
    }
  });

  test.each([
    ['tour', tour],
    ['05-reclaim-at-exit', example('05-reclaim-at-exit')],
    ['06-reclaim-and-swap', example('06-reclaim-and-swap')],
  ])('a re-run prefix shows what the full run showed at that point: %s', (name, text) => {
    const sc = parseScenario(`${name}.vms`, text);
    const full = runScenario(sc, { readTrace: () => new Uint8Array() });
    const s = new ScenarioSession(`${name}.vms`, text);
    s.run();
    let checked = 0;
    full.steps.forEach((step, i) => {
      const snap = step.snapshot;
      if (snap?.what === 'meminfo') {
        expect(s.stateAt(i + 1, null).meminfo).toEqual(snap.fields);
        checked++;
      }
      if (snap?.what === 'status') {
        const proc = s.stateAt(i + 1, null).procs.find((p) => p.name === snap.proc)!;
        const { minflt, majflt, ...fields } = proc.status;
        expect(fields).toEqual(snap.fields);
        expect([minflt, majflt]).toEqual([snap.minflt, snap.majflt]);
        checked++;
      }
    });
    expect(checked).toBeGreaterThanOrEqual(1);
  });

  test('swap: the slots in use, and the pages of a VMA that are out in swap', () => {
    const s = new ScenarioSession('06.vms', example('06-reclaim-and-swap'));
    const run = s.run();
    expect(run.runError).toBeNull();
    const i = run.steps.findIndex((st) => st.text === 'A: write bss 512');
    const st = s.stateAt(i + 1, null);
    expect(st.swap).not.toBeNull();
    const used = st.swap!.slotCount - st.swap!.freeSlots;
    expect(used).toBeGreaterThan(0);
    const a = st.procs.find((p) => p.name === 'A')!;
    const swapped = a.vmas.reduce((n, v) => n + v.swappedPages, 0);
    expect(swapped * run.machine.pageSize).toBe(a.status.VmSwap);
    expect(run.steps[i]!.events.some((e) => e.type === 'swap-out')).toBe(true);
  });

  test('RSS per VMA is the resident pages the page tables map, and adds up to VmRSS', () => {
    const s = new ScenarioSession('tour.vms', tour);
    const run = s.run();
    for (const p of [5, 12, run.steps.length]) {
      const st = s.stateAt(p, null);
      for (const proc of st.procs.filter((x) => x.state === 'running')) {
        const sum = proc.vmas.reduce((n, v) => n + v.rssPages, 0);
        expect(sum * run.machine.pageSize).toBe(proc.status.VmRSS);
        for (const v of proc.vmas) {
          const buckets = v.resident.length;
          expect(buckets).toBeLessThanOrEqual(256);
          expect(buckets * v.bucketPages).toBeGreaterThanOrEqual(v.pages);
        }
      }
    }
  });

  test('the frames view: who maps each frame, and the level of each page-table frame', () => {
    const s = new ScenarioSession('tour.vms', tour);
    const run = s.run();
    const st = s.stateAt(run.steps.length, null);
    const f = st.frames;
    const a = st.procs.find((p) => p.name === 'A')!;
    expect(f.ptLevel[a.rootPfn]).toBe(0);
    let mapped = 0;
    for (let pfn = 0; pfn < f.kinds.length; pfn++) {
      if (f.mapPid[pfn]! >= 0) {
        mapped++;
        expect(f.mapcount[pfn]).toBeGreaterThan(0);
      }
      if (f.ptLevel[pfn]! >= 0) expect(f.kinds[pfn]).toBe(1);
    }
    expect(mapped).toBeGreaterThan(0);
    expect(f.freeFrames).toBe(st.meminfo.MemFree / run.machine.pageSize);
  });

  test('the walk of an address, level by level, ends at the frame the frames view says maps it', () => {
    const s = new ScenarioSession('tour.vms', tour);
    const run = s.run();
    const st = s.stateAt(run.steps.length, null);
    const a = st.procs.find((p) => p.name === 'A')!;
    const heap = a.vmas.find((v) => v.name === '[heap]')!;
    const view = s.stateAt(run.steps.length, { pid: a.pid, va: heap.start + 5 });
    const w = view.walk!;
    expect(view.walkFollowsStep).toBe(false);
    expect(w.levels.map((l) => l.levelName)).toEqual(['PML4', 'PDPT', 'PD', 'PT']);
    expect(w.levels.at(-1)!.entry.leaf).toBe(true);
    expect(w.pa).toBeGreaterThanOrEqual(0);
    const pfn = Math.floor(w.pa / 4096);
    expect(view.frames.mapPid[pfn]).toBe(a.pid);
    expect(view.frames.mapVpn[pfn]).toBe(heap.start / 4096);
    expect(w.levels[0]!.tablePfn).toBe(a.rootPfn);
    expect(w.vma?.name).toBe('[heap]');
    const unmapped = s.stateAt(run.steps.length, { pid: a.pid, va: 0x1000 }).walk!;
    expect(unmapped.pa).toBe(-1);
    expect(unmapped.fault).toBe('not-present');
    expect(unmapped.vma).toBeNull();
  });

  test('with nothing selected the walk follows the address of the latest step about one', () => {
    const s = new ScenarioSession('02-paging.vms', example('02-paging'));
    const run = s.run();
    const i = run.steps.findIndex((st) => st.text === 'A: write bss+64 1');
    const view = s.stateAt(i + 1, null);
    expect(view.walkFollowsStep).toBe(true);
    expect(view.walk?.va).toBe(run.steps[i]!.focus!.va);
    const next = s.stateAt(i + 2, null); // an expect line: still the same address
    expect(next.walk?.va).toBe(run.steps[i]!.focus!.va);
  });

  test('a statement the scenario cannot do stops the recording there, with its place', () => {
    const text = 'machine teach16\nspawn A code=128\nA: exit 0\nA: read code 1\n';
    const s = new ScenarioSession('bad.vms', text);
    const run = s.run();
    expect(run.steps.length).toBe(2);
    expect(run.runError).toMatchObject({ line: 4, file: 'bad.vms' });
    expect(s.stateAt(99, null).position).toBe(2);
  });

  test('parse errors carry line and column for the editor', () => {
    expect(checkScenario('x.vms', 'machine teach16\nspawn A\nA: wrte code 1\n')).toMatchObject({
      line: 3,
      column: 4,
      hint: "did you mean 'write'?",
    });
    expect(checkScenario('x.vms', example('01-loading'))).toBeNull();
    expect(() => new ScenarioSession('x.vms', 'spawn 1A\n')).toThrow(/process name/);
  });

  testCorpus('exec runs a dropped ELF by name', () => {
    const bytes = gunzipSync(readFileSync(`${CORPUS}/elf/hello-static/prog.gz`));
    const text = 'machine x86_64 ram=64MiB\nexec P hello\nshow P maps\n';
    const s = new ScenarioSession('e.vms', text, [{ name: 'hello', bytes: new Uint8Array(bytes) }]);
    const run = s.run();
    expect(run.runError).toBeNull();
    const names = s.stateAt(run.steps.length, null).procs[0]!.vmas.map((v) => v.name);
    expect(names).toContain('[stack]');
    expect(names).toContain('hello');
    const without = new ScenarioSession('e.vms', text).run();
    expect(without.runError?.message).toMatch(/exec needs access to files/);
  });

  testCorpus('a dynamic ELF finds its interpreter among the dropped files by its last name', () => {
    const prog = gunzipSync(readFileSync(`${CORPUS}/elf/hello-pie/prog.gz`));
    const ld = readFileSync(`${CORPUS}/elf/sysroot/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2`);
    const text = 'machine x86_64 ram=64MiB\nexec P hello\n';
    const missing = new ScenarioSession('e.vms', text, [
      { name: 'hello', bytes: new Uint8Array(prog) },
    ]).run();
    expect(missing.runError?.message).toMatch(/ld-linux-x86-64\.so\.2/);
    const s = new ScenarioSession('e.vms', text, [
      { name: 'hello', bytes: new Uint8Array(prog) },
      { name: 'ld-linux-x86-64.so.2', bytes: new Uint8Array(ld) },
    ]);
    const run = s.run();
    expect(run.runError).toBeNull();
    const names = s.stateAt(run.steps.length, null).procs[0]!.vmas.map((v) => v.name);
    expect(names.some((n) => n.endsWith('ld-linux-x86-64.so.2'))).toBe(true);
  });

  test('chart samples: all positions when few, spread out when many', () => {
    expect(samplePositions(5)).toEqual([0, 1, 2, 3, 4, 5]);
    const many = samplePositions(10_000, 100);
    expect(many.length).toBe(100);
    expect(many[0]).toBe(0);
    expect(many.at(-1)).toBe(10_000);
    const s = new ScenarioSession('tour.vms', tour);
    const run = s.run();
    const sample = s.sample(run.steps.length);
    const st = s.stateAt(run.steps.length, null);
    const a = st.procs.find((p) => p.name === 'A')!;
    expect(sample.rssPages[a.pid]! * 4096).toBe(a.status.VmRSS);
  });
});

describe('a trace streamed through the worker replay', () => {
  testCorpus('a gzip page trace from the corpus: every access counted, whatever the chunking', () => {
    const bytes = gunzipSync(readFileSync(`${CORPUS}/memtrace/memwalk.pages.gz`));
    const meta = JSON.parse(readFileSync(`${CORPUS}/memtrace/memwalk.meta.json`, 'utf8'));
    const results = [4096, 65536, 1_000_003].map((chunk) => {
      const r = new TraceReplay('memwalk.pages', { frames: 64, policy: 'lru', pageSize: 4096 });
      for (let i = 0; i < bytes.length; i += chunk) r.push(bytes.subarray(i, i + chunk));
      return r.end();
    });
    for (const r of results) {
      expect(r.format).toBe('pages');
      expect(r.accesses).toBe(meta.kept.accesses);
      expect(r.distinctPages).toBe(meta.kept.distinct_pages);
      expect(r.faults).toBe(results[0]!.faults);
    }
    const mrc = results[0]!.curves[0]!;
    expect(mrc.policy).toBe('lru');
    // LRU with 64 frames: the curve at 64 gives the same faults as the simulation.
    const at64 = mrc.sizes.indexOf(64);
    expect(mrc.faults[at64]).toBe(results[0]!.faults);
    for (let i = 1; i < mrc.missRatio.length; i++)
      expect(mrc.missRatio[i]).toBeLessThanOrEqual(mrc.missRatio[i - 1]!);
  });

  test('not a trace: an input error at line 1', () => {
    const r = new TraceReplay('x.txt', { frames: 4, policy: 'fifo', pageSize: 4096 });
    r.push(new TextEncoder().encode('hello world\n'));
    expect(() => r.end()).toThrow(/not a trace/);
    expect(() => new TraceReplay('x', { frames: 4, policy: 'lruu', pageSize: 4096 })).toThrow(
      /unknown replacement policy/,
    );
  });
});

describe('the Traces tab replays what it is given', () => {
  const belady = new TextEncoder().encode('1\n2\n3\n4\n1\n2\n5\n1\n2\n3\n4\n5\n');
  /** Both passes over the same bytes, as the worker streams the file twice. */
  function both(options: ConstructorParameters<typeof TraceReplay>[1]) {
    const r = new TraceReplay('belady.txt', options);
    r.push(belady);
    const first = r.end();
    if (first.second === null) return first;
    first.second.push(belady);
    return first.second.end();
  }

  test("the trace tab offers 11 of the policies and draws only LRU: any chosen policy's curve is drawn, OPT included", () => {
    const t = both({ frames: 3, policy: 'fifo', pageSize: 4096, curves: ['lru', 'opt', 'fifo'] });
    expect(t.curves.map((c) => c.policy)).toEqual(['lru', 'opt', 'fifo']);
    const at = (p: string, frames: number) => {
      const c = t.curves.find((x) => x.policy === p)!;
      return c.faults[c.sizes.indexOf(frames)];
    };
    // Belady's string: FIFO 9 faults with 3 frames, 10 with 4; OPT 7 and 6; LRU 10 and 8.
    expect([at('fifo', 4), at('opt', 4), at('lru', 4)]).toEqual([10, 6, 8]);
    expect(t.faults).toBe(9);
  });

  test('a clairvoyant policy at the chosen size runs in the second pass', () => {
    const t = both({ frames: 3, policy: 'opt', pageSize: 4096, mrc: false });
    expect(t.faults).toBe(7);
    expect(t.curves).toEqual([]);
  });

  test("a lackey trace's pages are the trace's own size, not the open scenario's: 64-byte pages give more faults", () => {
    const lackey = new TextEncoder().encode(
      `${Array.from({ length: 64 }, (_, i) => ` L ${(0x400000 + i * 64).toString(16)},8`).join('\n')}\n`,
    );
    const run = (pageSize: number) => {
      const r = new TraceReplay('x.lackey', { frames: 64, policy: 'lru', pageSize });
      r.push(lackey);
      return r.end();
    };
    expect(run(4096)).toMatchObject({ faults: 1, pageSize: 4096, format: 'lackey' });
    expect(run(64)).toMatchObject({ faults: 64, pageSize: 64 });
  });
});
