import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { formatMapsLine, formatStatus } from '../../src/report/procfs.js';
import { corpusPath, fromCorpus, testCorpus } from '../corpus.js';

const ELF = corpusPath('elf');
const cases = fromCorpus(() => readdirSync(ELF).filter((c) => c !== 'sysroot'), []);

/** Parses a maps line into the fields vmscope formats. */
function parseMapsLine(line: string) {
  const m = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) ([0-9a-f]+) (\S+) (\d+) *(.*)$/.exec(line);
  if (!m) throw new Error(`unparsable maps line: ${line}`);
  return {
    start: Number(BigInt(`0x${m[1]}`)),
    end: Number(BigInt(`0x${m[2]}`)),
    perms: m[3]!,
    offset: Number.parseInt(m[4]!, 16),
    device: m[5]!,
    inode: Number(m[6]),
    name: m[7]!,
  };
}

describe('/proc text is byte for byte what Linux prints', () => {
  testCorpus.each(cases)('maps lines of the kernel-recorded %s re-format identically', (c) => {
    for (const file of ['maps-start.txt', 'maps-exit.txt']) {
      const text = readFileSync(join(ELF, c, file), 'utf8');
      for (const line of text.split('\n').filter(Boolean))
        expect(formatMapsLine(parseMapsLine(line))).toBe(line);
    }
  });

  testCorpus('status lines have the kernel layout (tab, value right-aligned in 8, " kB")', () => {
    const recorded = readFileSync(join(ELF, 'hello-static', 'proc', 'status-start'), 'utf8');
    const fields = Object.fromEntries(
      [...recorded.matchAll(/^(Vm\w+|Rss\w+):\s+(\d+) kB$/gm)].map((m) => [m[1]!, Number(m[2]) * 1024]),
    );
    const ours = formatStatus(fields as never);
    for (const line of ours.split('\n').filter(Boolean)) expect(recorded).toContain(`${line}\n`);
  });
});
