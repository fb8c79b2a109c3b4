/**
 * Loading plug-in policies: `--policy ./my-policy.js` (any ES module) becomes a policy every command
 * can create by name. The module is imported once per thread, its shape checked
 * (`kernel/reclaim/plugin.ts`), and it is registered under its absolute path, which is also what
 * worker threads are told to load.
 *
 * TypeScript plug-ins (`.ts`, `.mts`) load through tsx: when this thread already runs under a
 * TypeScript loader (`node --import tsx`, a test runner) a plain `import()` works; otherwise tsx's
 * `tsImport` loads the module, provided the `tsx` package is installed beside vmscope. Worker
 * threads take the second way: Node 20 does not run `--import` loader hooks in workers.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InputError, type SourceSpan } from '../base/errors.js';
import { pluginFromModule } from '../kernel/reclaim/plugin.js';
import {
  isPluginSpec,
  isPolicyName,
  pluginAt,
  policyNames,
  registerPlugin,
} from '../kernel/reclaim/registry.js';
import { suggest } from '../workload/scenario/parse.js';

/** What to do so that `.ts` plug-ins load (also in the README). */
export const TS_LOADER_HINT =
  'TypeScript plug-ins load through tsx, which is not installed where vmscope is: npm install tsx (or compile the plug-in to .js)';

/**
 * Resolves a policy given on the command line or in a scenario: a built-in name is checked and
 * returned; a module path is resolved against `base`, imported, checked and registered.
 * @param where where the value came from (the flag, or the scenario's line and column), for errors.
 * @returns the name to create the policy by (the built-in name, or the module's absolute path).
 * @throws InputError for an unknown name, a missing or broken module, or a module of the wrong shape.
 */
export async function loadPolicy(spec: string, base: string, where: SourceSpan): Promise<string> {
  if (!isPluginSpec(spec)) {
    // Built-in names in any case (`LRU`, as OSTEP's homework takes them).
    const lower = spec.trim().toLowerCase();
    if (isPolicyName(lower)) return lower;
    const hint = suggest(lower, policyNames);
    throw new InputError(
      'policy',
      `unknown policy '${spec}' (one of ${policyNames.join(', ')}, or a plug-in module such as ./my-policy.js)`,
      where,
      hint && `did you mean '${hint}'?`,
    );
  }
  const file = isAbsolute(spec) ? spec : resolve(base, spec);
  if (pluginAt(file)) return file;
  let isFile = false;
  try {
    isFile = statSync(file).isFile();
  } catch {
    isFile = false;
  }
  if (!isFile) throw new InputError('policy', `no plug-in module at ${file}`, where);
  let mod: unknown;
  try {
    mod = await importModule(file);
  } catch (e) {
    throw loadError(e, file);
  }
  registerPlugin(file, pluginFromModule(mod, file, policyNames));
  return file;
}

/** Each of `specs` through {@link loadPolicy}, in order, without repeats. */
export async function loadPolicies(
  specs: readonly string[],
  base: string,
  where: SourceSpan,
): Promise<string[]> {
  const out: string[] = [];
  for (const s of specs) {
    const key = await loadPolicy(s, base, where);
    if (!out.includes(key)) out.push(key);
  }
  return out;
}

/** A module's namespace object: plain `import()`, or tsx's `tsImport` for TypeScript without a loader. */
async function importModule(file: string): Promise<unknown> {
  const url = pathToFileURL(file).href;
  try {
    return await import(url);
  } catch (e) {
    if ((e as NodeJS.ErrnoException)?.code !== 'ERR_UNKNOWN_FILE_EXTENSION' || !/\.[mc]?ts$/.test(file))
      throw e;
  }
  // A variable specifier: tsx is optional, and its types are not vmscope's concern.
  const tsxApi = 'tsx/esm/api';
  let api: { tsImport?: unknown };
  try {
    api = (await import(tsxApi)) as { tsImport?: unknown };
  } catch {
    throw Object.assign(new Error(TS_LOADER_HINT), { code: 'ERR_UNKNOWN_FILE_EXTENSION' });
  }
  if (typeof api.tsImport !== 'function') throw new Error(`${tsxApi} has no tsImport(): update tsx`);
  return (api.tsImport as (specifier: string, parentURL: string) => Promise<unknown>)(url, import.meta.url);
}

/**
 * Where a JavaScript module's syntax error is. Node 20's `import()` does not say, so the source is
 * checked again with `node --check` (only on this failure path), which prints the line and a caret.
 */
function syntaxErrorPlace(file: string): SourceSpan {
  if (!/\.[mc]?js$/.test(file)) return { file };
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch {
    return { file };
  }
  const r = spawnSync(process.execPath, ['--input-type=module', '--check'], {
    input: source,
    encoding: 'utf8',
    timeout: 10_000,
  });
  const lines = (r.stderr ?? '').split('\n');
  const at = lines.findIndex((l) => /^\[stdin\]:[0-9]+$/.test(l));
  if (at < 0) return { file };
  const line = Number(lines[at]!.slice('[stdin]:'.length));
  const caret = lines[at + 2]?.indexOf('^') ?? -1;
  return caret >= 0 ? { file, line, column: caret + 1 } : { file, line };
}

/** Why `import()` of a plug-in failed, as an input error about the module. */
function loadError(e: unknown, file: string): InputError {
  const err = e as NodeJS.ErrnoException;
  if (err?.code === 'ERR_UNKNOWN_FILE_EXTENSION' && /\.m?ts$/.test(file)) {
    return new InputError('policy', TS_LOADER_HINT, { file });
  }
  if (e instanceof SyntaxError) {
    return new InputError('policy', `the module does not parse: ${e.message}`, syntaxErrorPlace(file));
  }
  const why = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return new InputError('policy', `the module failed to load: ${why}`, { file });
}
