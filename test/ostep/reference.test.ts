/**
 * `vmscope ostep SCRIPT ARGS` against OSTEP's own outputs: the corpus's reference folders hold, for
 * every case, the command (`python3 vm-…/SCRIPT.py ARGS`), its exit status and its stdout (after a
 * first line `$ command`). Each case runs in-process from its folder, as the script ran from the
 * checkout (some read a trace file by relative path), and must print exactly that and exit the same.
 * The cases over whole real traces read gunzipped copies of the corpus's page traces in a temporary
 * folder, under the name the command gives.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, test } from 'vitest';
import { nodeHost, runOstep } from '../../src/cli/ostep.js';
import { corpusPath, describeCorpus, fromCorpus } from '../corpus.js';

interface Case {
  id: string;
  command: string[];
  exit_code: number;
  output_file: string;
  inputs: Record<string, unknown>;
}

const REFERENCE = corpusPath('reference');
const FOLDERS = fromCorpus(
  () => readdirSync(REFERENCE).filter((f) => existsSync(join(REFERENCE, f, 'expected.json'))),
  [] as string[],
);

function cases(folder: string): Case[] {
  return (JSON.parse(readFileSync(join(REFERENCE, folder, 'expected.json'), 'utf8')) as { cases: Case[] })
    .cases;
}

/** The script's stdout as recorded: the file without its `$ command` line. */
function recorded(folder: string, file: string): string {
  let bytes: Buffer = readFileSync(join(REFERENCE, folder, file));
  if (file.endsWith('.gz')) bytes = gunzipSync(bytes);
  const text = bytes.toString('utf8');
  expect(text.startsWith('$ ')).toBe(true);
  return text.slice(text.indexOf('\n') + 1);
}

async function run(
  args: readonly string[],
  cwd: string,
): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io = {
    out: (t: string) => {
      stdout += t;
    },
    err: (t: string) => {
      stderr += t;
    },
    color: false,
    isTTY: false,
  };
  const status = await runOstep(args, io, { ...nodeHost(cwd), columns: 80 });
  return { status, stdout, stderr };
}

describeCorpus('vmscope ostep reproduces OSTEP reference outputs byte for byte', () => {
  test('the corpus has the six reference folders', () => {
    expect(FOLDERS.sort()).toEqual([
      'malloc',
      'paging-linear-translate',
      'paging-multilevel-translate',
      'paging-policy',
      'paging-policy-realtrace',
      'segmentation',
    ]);
  });

  for (const folder of FOLDERS.filter((f) => f !== 'paging-policy-realtrace')) {
    test.each(cases(folder).map((c) => [c.id, c] as const))(`${folder} %s`, async (_id, c) => {
      const [python, script, ...args] = c.command;
      expect(python).toBe('python3');
      const got = await run([script!, ...args], join(REFERENCE, folder));
      expect(got.stderr).toBe('');
      expect(got.stdout).toBe(recorded(folder, c.output_file));
      expect(got.status).toBe(c.exit_code);
    });
  }

  describe('paging-policy over whole real page traces', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmscope-ostep-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    // Every case over memwalk (1.4 M accesses) and one over each longer trace (3 M): all 32 take
    // half a minute, and test/reclaim/ostep.test.ts checks every count through the simulation.
    const all = (FOLDERS.includes('paging-policy-realtrace') ? cases('paging-policy-realtrace') : []).filter(
      (c) => c.id.startsWith('memwalk-') || c.id.endsWith('-C32-LRU'),
    );
    test.each(all.map((c) => [c.id, c] as const))('%s', async (_id, c) => {
      const [, script, ...args] = c.command;
      const file = args[args.indexOf('-f') + 1]!;
      const trace = String(c.inputs['page_trace']).split(' ')[0]!;
      if (!existsSync(join(dir, file)))
        writeFileSync(join(dir, file), gunzipSync(readFileSync(corpusPath(...trace.split('/')))));
      const got = await run([script!, ...args], dir);
      expect(got.stdout).toBe(recorded('paging-policy-realtrace', c.output_file));
      expect(got.status).toBe(c.exit_code);
    });
  });
});
