/**
 * The source tree's import graph, read from the files: each layer imports only the layers below it,
 * only the CLI imports Node's modules, no module depends on itself through value imports, and the
 * kernel's parts below its facade and syscall paths never see the `Kernel` at all — so reclaim and the
 * kernel cannot call each other in a loop.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { checkoutRoot } from './corpus.js';

const SRC = join(checkoutRoot(), 'src');
const LAYERS = ['base', 'hw', 'kernel', 'user', 'workload', 'sim', 'ostep', 'report', 'cli'];

interface Import {
  readonly target: string;
  /** False for `import type` and for specifiers that are all `type`. */
  readonly value: boolean;
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** The imports (and re-exports) of one file, resolved to files of the tree or kept as module names. */
function importsOf(path: string): Import[] {
  const text = readFileSync(path, 'utf8');
  const out: Import[] = [];
  const re = /^(import|export)\s+(type\s+)?([^'";]*?)\s*from\s+'([^']+)'/gms;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const typeOnly = m[2] !== undefined;
    const spec = m[3] ?? '';
    const names = /\{([^}]*)\}/.exec(spec)?.[1];
    const allTypes =
      names !== undefined &&
      !/^\s*\w+\s*,/.test(spec.replace(/\{[^}]*\}/, '')) &&
      names
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .every((s) => s.startsWith('type '));
    const from = m[4]!;
    const target = from.startsWith('.') ? resolve(dirname(path), from.replace(/\.js$/, '.ts')) : from;
    out.push({ target, value: !typeOnly && !allTypes });
  }
  return out;
}

const all = files(SRC);
const graph = new Map(all.map((f) => [f, importsOf(f)]));
const layerOf = (f: string) => LAYERS.indexOf(relative(SRC, f).split('/')[0]!);

describe('the import graph of src/', () => {
  test('every layer imports only itself and the layers below it', () => {
    const wrong: string[] = [];
    for (const [f, imports] of graph) {
      if (!f.startsWith(SRC) || relative(SRC, f) === 'index.ts') continue;
      for (const i of imports) {
        if (!i.target.startsWith(SRC)) continue;
        if (layerOf(i.target) > layerOf(f))
          wrong.push(`${relative(SRC, f)} imports ${relative(SRC, i.target)}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  test('only the CLI imports node:* modules', () => {
    const wrong: string[] = [];
    for (const [f, imports] of graph)
      for (const i of imports)
        if (i.target.startsWith('node:') && !relative(SRC, f).startsWith('cli/'))
          wrong.push(`${relative(SRC, f)}: ${i.target}`);
    expect(wrong).toEqual([]);
  });

  test('no module depends on itself through value imports', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (f: string): void => {
      state.set(f, 'open');
      stack.push(f);
      for (const i of graph.get(f) ?? []) {
        if (!i.value || !graph.has(i.target)) continue;
        const s = state.get(i.target);
        if (s === 'open') {
          const loop = stack.slice(stack.indexOf(i.target)).map((x) => relative(SRC, x));
          cycles.push(loop.join(' -> '));
        } else if (s === undefined) visit(i.target);
      }
      stack.pop();
      state.set(f, 'done');
    };
    for (const f of graph.keys()) if (!state.has(f)) visit(f);
    expect(cycles).toEqual([]);
  });

  test("the kernel's parts below its paths never import the Kernel, not even its type", () => {
    const parts = [
      'buddy',
      'frames',
      'mapping',
      'memobject',
      'pagetable',
      'swap',
      'reclaim',
      'rmap',
      'vm',
      'asid',
      'pagecache',
      'fs',
      'vmscan',
      'commit',
      'mm',
      'vma',
    ];
    const kernelTs = join(SRC, 'kernel', 'kernel.ts');
    const wrong: string[] = [];
    for (const part of parts) {
      const f = join(SRC, 'kernel', `${part}.ts`);
      if ((graph.get(f) ?? []).some((i) => i.target === kernelTs)) wrong.push(part);
    }
    for (const f of all)
      if (
        relative(SRC, f).startsWith('kernel/reclaim/') &&
        (graph.get(f) ?? []).some((i) => i.target === kernelTs)
      )
        wrong.push(relative(SRC, f));
    expect(wrong).toEqual([]);
  });
});
