/**
 * `--explain` adds vmscope's reasoning after each answer without changing a byte of the answers,
 * and the recorded steps (what the visualizer shows) are one per answer. Every reference case of
 * the corpus is run both ways; a few textbook cases check what the explanations say.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { nodeHost } from '../../src/cli/ostep.js';
import { findScript } from '../../src/ostep/index.js';
import { runRecorded } from '../../src/ostep/script.js';
import { corpusPath, describeCorpus, fromCorpus } from '../corpus.js';

function run(argv: string[], options: { explain?: boolean; record?: boolean } = {}, cwd = process.cwd()) {
  const [name, ...args] = argv;
  let stdout = '';
  let stderr = '';
  const r = runRecorded(
    findScript(name!)!,
    args,
    { ...nodeHost(cwd), columns: 80 },
    { out: (t) => (stdout += t), err: (t) => (stderr += t) },
    options,
  );
  return { ...r, stdout, stderr };
}

const withoutNotes = (text: string) =>
  text
    .split('\n')
    .filter((l) => !l.startsWith('    | '))
    .join('\n');

/** How many answers a solved run prints. */
function answers(script: string, stdout: string): number {
  const lines = stdout.split('\n');
  switch (script) {
    case 'paging-policy':
      return lines.filter((l) => l.startsWith('Access: ')).length;
    case 'paging-multilevel-translate':
      return lines.filter((l) => l.startsWith('Virtual Address ')).length;
    case 'malloc':
      return lines.filter((l) => l.startsWith('ptr[') || l.startsWith('Free(')).length;
    default:
      return lines.filter((l) => /^ {2}VA /.test(l)).length;
  }
}

const REFERENCE = corpusPath('reference');
const CASES = fromCorpus(
  () =>
    readdirSync(REFERENCE)
      .filter((f) => f !== 'paging-policy-realtrace' && existsSync(join(REFERENCE, f, 'expected.json')))
      .flatMap((folder) =>
        (
          JSON.parse(readFileSync(join(REFERENCE, folder, 'expected.json'), 'utf8')) as {
            cases: { id: string; command: string[] }[];
          }
        ).cases.map((c) => [`${folder} ${c.id}`, folder, c.command.slice(1)] as const),
      ),
  [] as (readonly [string, string, string[]])[],
);

describeCorpus('--explain on every reference case', () => {
  test.each(CASES)('%s: the same answers, one explained step per answer', (_id, folder, command) => {
    const [path, ...args] = command;
    const name = path!.slice(path!.lastIndexOf('/') + 1, -3);
    const cwd = join(REFERENCE, folder);
    const plain = run([name, ...args], {}, cwd);
    const explained = run([name, ...args], { explain: true, record: true }, cwd);
    expect(withoutNotes(explained.stdout)).toBe(plain.stdout);
    expect(explained.status).toBe(plain.status);
    const n = answers(name, plain.stdout);
    expect(explained.steps).toHaveLength(n);
    for (const step of explained.steps) expect(step.explain.length).toBeGreaterThan(0);
    // The steps' answers are the solved output's lines, in order.
    const joined = explained.steps.map((s) => s.answer).join('');
    expect(plain.stdout.includes(joined.trimEnd()), 'answers are contiguous output').toBe(true);
  });
});

describe('what the explanations say', () => {
  test("FIFO on Belady's string names the oldest page as each victim", () => {
    const r = run(['paging-policy', '-a', '1,2,3,4,1,2,5,1,2,3,4,5', '-p', 'FIFO', '-C', '3', '-c'], {
      record: true,
    });
    const victims = r.steps.flatMap((s) =>
      s.state?.kind === 'memory' && s.state.victim ? [s.state.victim] : [],
    );
    expect(victims).toEqual(['1', '2', '3', '4', '1', '2']);
    expect(r.steps[3]!.explain[0]).toContain('FIFO evicts the page in memory longest: 1, in since access 0');
    expect(r.stdout).toContain('FINALSTATS hits 3   misses 9');
  });

  test('OPT shows the next use of every resident page and evicts the furthest', () => {
    const r = run(['paging-policy', '-a', '1,2,3,4,1,2,5,1,2,3,4,5', '-p', 'OPT', '-C', '3', '-c'], {
      record: true,
    });
    expect(r.steps[3]!.explain[0]).toContain('3 (next uses: 1@4 2@5 3@9)');
  });

  test('CLOCK replays its random scan, and the scan ends at the victim the policy chose', () => {
    const r = run(['paging-policy', '-s', '2', '-n', '30', '-p', 'CLOCK', '-C', '3', '-c'], { record: true });
    const evictions = r.steps.filter((s) => s.state?.kind === 'memory' && s.state.victim !== null);
    expect(evictions.length).toBeGreaterThan(3);
    for (const s of evictions) {
      const victim = s.state?.kind === 'memory' ? s.state.victim : null;
      expect(s.explain[0]).toMatch(new RegExp(`${victim}:0 evict$`));
    }
  });

  test("the multi-level walk on vmscope's ostep15 MMU reads the PDE and PTE the script printed", () => {
    const r = run(['paging-multilevel-translate', '-s', '1', '-c'], { explain: true, record: true });
    expect(r.steps).toHaveLength(10);
    for (const s of r.steps) {
      if (s.state?.kind !== 'walk') throw new Error('a walk step');
      const pde = /pde contents:0x([0-9a-f]+)/.exec(s.answer)![1]!;
      expect(s.state.levels[0]!.entry.toString(16)).toBe(pde);
      const pte = /pte contents:0x([0-9a-f]+)/.exec(s.answer);
      if (pte) expect(s.state.levels[1]!.entry.toString(16)).toBe(pte[1]);
      const pa = /Physical Address 0x([0-9a-f]+) --> Value: 0x([0-9a-f]+)/.exec(s.answer);
      expect(s.state.pa).toBe(pa ? Number.parseInt(pa[1]!, 16) : null);
      if (pa) expect(s.state.value).toBe(Number.parseInt(pa[2]!, 16));
    }
  });

  test('malloc shows the list it searched and the split', () => {
    const r = run(['malloc', '-A', '+10,+20,-0,+5', '-p', 'FIRST', '-c'], { explain: true, record: true });
    expect(r.steps).toHaveLength(4);
    expect(r.steps[3]!.explain.join('\n')).toContain('FIRST visits 1: 1000:10 <- chosen');
    expect(r.steps[3]!.explain.join('\n')).toContain(
      'split 1000:10 -> allocated 1000:5, free remainder 1005:5',
    );
    const heap = r.steps[3]!.state;
    expect(heap?.kind === 'heap' && heap.used).toEqual([
      [1010, 20],
      [1000, 5],
    ]);
  });

  test('segmentation names the segment by the top bit and checks the limit', () => {
    const r = run(
      [
        'segmentation',
        '-a',
        '128',
        '-p',
        '512',
        '-b',
        '0',
        '-l',
        '20',
        '-B',
        '512',
        '-L',
        '20',
        '-A',
        '108,10,50',
        '-c',
      ],
      {
        explain: true,
      },
    );
    expect(r.stdout).toContain('VALID in SEG1: 0x000001ec (decimal:  492)');
    expect(r.stdout).toContain('top bit 1) -> segment 1');
    expect(r.stdout).toContain('bounds: offset 50 >= limit 20: a fault');
  });
});
