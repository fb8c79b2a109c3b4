/**
 * The replay's use of the kernel's sharing calls, on doctored copies of the corpus's logs: after an
 * mremap whose result is not Linux's, the replay carries on from Linux's result (vmscope's move is
 * carried to Linux's address, or taken back where Linux refused), so later calls still agree.
 */
import { expect } from 'vitest';
import { describeCorpus, testCorpus } from '../corpus.js';
import { ourMaps, replayCase } from './strace-cases.js';

const MOVE = 'mremap(0x7ffff7db1000, 32768, 65536, MREMAP_MAYMOVE) = 0x7ffff7dc1000';
const SHRINK = 'mremap(0x7ffff7dc1000, 65536, 8192, 0) = 0x7ffff7dc1000';
const GROW = 'mremap(0x7ffff7db1000, 16384, 32768, 0) = 0x7ffff7db1000';

describeCorpus('strace replay: mremap divergences carry on from Linux', () => {
  testCorpus("a move to another address than Linux's: carried there, the later calls agree", () => {
    const { summary } = replayCase('mremap-a-pie', {}, (t) => {
      expect(t).toContain(MOVE);
      return t
        .replace(MOVE, 'mremap(0x7ffff7db1000, 32768, 65536, MREMAP_MAYMOVE) = 0x7ffff7a00000')
        .replace(SHRINK, 'mremap(0x7ffff7a00000, 65536, 8192, 0) = 0x7ffff7a00000');
    });
    expect(summary.divergences.map((d) => [d.line, d.linux, d.vmscope])).toEqual([
      [330, '0x7ffff7a00000', '0x7ffff7dc1000'],
    ]);
    expect(summary.agree).toBe(summary.syscalls - 1);
    const maps = ourMaps(summary.processes[0]!.maps);
    expect(maps).toContain('7ffff7a00000-7ffff7a02000 rw-p 00000000 ');
    expect(maps.some((l) => l.startsWith('7ffff7dc1000-'))).toBe(false);
  });

  testCorpus('a growth Linux refused: taken back, the mapping keeps its old length', () => {
    const { summary } = replayCase('mremap-a-pie', { stop: { line: 221 } }, (t) =>
      t.replace(GROW, 'mremap(0x7ffff7db1000, 16384, 32768, 0) = -1 ENOMEM (Cannot allocate memory)'),
    );
    expect(summary.divergences.map((d) => [d.line, d.linux, d.vmscope])).toEqual([
      [220, 'ENOMEM', '0x7ffff7db1000'],
    ]);
    expect(ourMaps(summary.processes[0]!.maps)).toContain('7ffff7db1000-7ffff7db5000 rw-p 00000000 ');
  });

  testCorpus('a growth vmscope refused and Linux made: made as Linux did', () => {
    // Linux is said to have grown the mapping in place over the blocker vmscope sees there.
    const { summary } = replayCase('mremap-a-pie', { stop: { line: 321 } }, (t) =>
      t.replace(
        'mremap(0x7ffff7db1000, 32768, 65536, 0) = -1 ENOMEM (Cannot allocate memory)',
        'mremap(0x7ffff7db1000, 32768, 65536, 0) = 0x7ffff7db1000',
      ),
    );
    expect(summary.divergences.map((d) => [d.line, d.linux, d.vmscope])).toEqual([
      [320, '0x7ffff7db1000', 'ENOMEM'],
    ]);
    expect(ourMaps(summary.processes[0]!.maps)).toContain('7ffff7db1000-7ffff7dc1000 rw-p 00000000 ');
  });
});
