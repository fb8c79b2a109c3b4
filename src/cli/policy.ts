/**
 * `vmscope policy check SPEC` runs the conformance suite the built-in policies pass (and an
 * exactness check against a naive reference where there is one) on a policy — typically a plug-in
 * — and says in words what fails. `vmscope policy list` lists the built-in policies.
 */
import Table from 'cli-table3';
import { describePolicy, policyInfo, policyNames } from '../kernel/reclaim/registry.js';
import { jsonText } from '../report/json.js';
import { runConformance } from '../sim/conformance.js';
import { colors, EXIT_FAILED, EXIT_OK, type Io } from './io.js';
import { loadPolicy } from './plugins.js';

export interface PolicyCheckFlags {
  readonly seed: number;
  readonly effort: number;
  readonly json: boolean;
}

/** @returns 0 when every check passes, 1 when one fails (input errors propagate: exit 2). */
export async function runPolicyCheck(spec: string, flags: PolicyCheckFlags, io: Io): Promise<number> {
  const key = await loadPolicy(spec, process.cwd(), { file: spec });
  const d = describePolicy(key);
  const results = runConformance(key, { seed: flags.seed, effort: flags.effort, policyOptions: { seed: 0 } });
  const failed = results.filter((r) => r.problems.length > 0).length;
  if (flags.json) {
    io.out(
      jsonText({
        policy: d.name,
        file: d.file,
        kind: d.kind,
        needsFuture: d.needsFuture,
        checks: results,
        failed,
      }),
    );
    return failed > 0 ? EXIT_FAILED : EXIT_OK;
  }
  const c = colors(io);
  const what = d.file ? `plug-in ${d.file}` : 'built-in';
  io.out(`${d.name} (${d.kind}${d.needsFuture ? ', needs the future' : ''}; ${what})`);
  io.out(d.summary ? `: ${d.summary}\n` : '\n');
  for (const r of results) {
    if (!r.ran) {
      io.out(`  ${c.dim('-')} ${r.title}: no reference to compare with`);
      io.out(d.file ? ' (declare reference(capacity, options) in the plug-in)\n' : '\n');
    } else if (r.problems.length === 0) {
      io.out(`  ${c.green('ok')} ${r.title}\n`);
    } else {
      io.out(`  ${c.red('FAILED')} ${r.title}\n`);
      for (const p of r.problems) io.out(`      ${p}\n`);
    }
  }
  const ran = results.filter((r) => r.ran).length;
  io.out(`${ran} checks: ${ran - failed} passed, ${failed} failed (seed ${flags.seed})\n`);
  return failed > 0 ? EXIT_FAILED : EXIT_OK;
}

export function runPolicyList(json: boolean, io: Io): number {
  const rows = policyNames.map((name) => ({ name, ...policyInfo(name) }));
  if (json) {
    io.out(jsonText(rows));
    return EXIT_OK;
  }
  const t = new Table({ head: ['policy', 'kind', 'rule'], style: { head: [], border: [], compact: true } });
  for (const r of rows) t.push([r.name, r.kind, r.summary]);
  io.out(`${t.toString()}\nA plug-in module (--policy ./my-policy.js) works wherever these names do.\n`);
  return EXIT_OK;
}
