/**
 * `vmscope quiz`: the same seed gives the same problem, `-c` only adds answers, and the answers are
 * the simulator's: the TLB's hits and misses equal a naive LRU-per-set model's, and every address
 * mmap returned lies inside the final maps unless it was unmapped.
 */
import { describe, expect, test } from 'vitest';
import { findQuizTopic } from '../../src/ostep/quiz.js';

const tlb = findQuizTopic('tlb')!;
const mmap = findQuizTopic('mmap')!;

describe.each([tlb, mmap])('quiz $name', (topic) => {
  test('a seed is one problem; -c adds answers to the same questions', () => {
    for (const seed of [0, 1, 7, 123]) {
      const q = topic.make({ seed, solve: false });
      expect(topic.make({ seed, solve: false })).toBe(q);
      const a = topic.make({ seed, solve: true });
      const questions = q
        .split('\n')
        .filter((l) => / --> /.test(l))
        .map((l) => l.split(' --> ')[0]);
      const answered = a
        .split('\n')
        .filter((l) => / --> /.test(l))
        .map((l) => l.split(' --> ')[0]);
      expect(answered).toEqual(questions);
    }
    expect(topic.make({ seed: 1, solve: false })).not.toBe(topic.make({ seed: 2, solve: false }));
  });
});

test('TLB answers agree with a naive model: sets by VPN mod sets, LRU within a set', () => {
  for (let seed = 0; seed < 40; seed++) {
    const text = tlb.make({ seed, solve: true });
    const m = /A TLB of (\d+) entries, .*\((\d+) sets?;/.exec(text)!;
    const entries = Number(m[1]);
    const sets = Number(m[2]);
    const ways = entries / sets;
    const lru: number[][] = Array.from({ length: sets }, () => []);
    for (const line of text.split('\n').filter((l) => l.includes('(VPN'))) {
      const vpn = Number(/VPN +(\d+)\)/.exec(line)![1]);
      const set = lru[vpn % sets]!;
      const at = set.indexOf(vpn);
      let want: string;
      if (at >= 0) {
        set.splice(at, 1);
        want = 'HIT';
      } else {
        want = 'MISS';
        if (set.length === ways) expect(line).toContain(`replaces VPN ${set.shift()}`);
        else expect(line).not.toContain('replaces');
      }
      set.push(vpn);
      expect(line, `seed ${seed}`).toContain(`--> ${want}`);
    }
  }
});

test('every mmap answer is page-aligned, below the stack and, unless unmapped, inside the final maps', () => {
  for (let seed = 0; seed < 20; seed++) {
    const text = mmap.make({ seed, solve: true });
    const maps = text
      .split('\n')
      .filter((l) => /^ {2}[0-9a-f]+-[0-9a-f]+ /.test(l))
      .map(
        (l) =>
          l
            .trim()
            .split(/[- ]/)
            .slice(0, 2)
            .map((h) => Number.parseInt(h, 16)) as [number, number],
      );
    const unmapped = new Set([...text.matchAll(/munmap\(m(\d+),/g)].map((x) => Number(x[1])));
    for (const x of text.matchAll(/m(\d+) = mmap\(NULL, (\d+) KiB\) --> returns 0x([0-9a-f]+)/g)) {
      const addr = Number.parseInt(x[3]!, 16);
      expect(addr % 4096).toBe(0);
      expect(addr).toBeLessThan(0x7ffffffde000);
      if (!unmapped.has(Number(x[1])))
        expect(
          maps.some(([lo, hi]) => lo <= addr && addr + Number(x[2]) * 1024 <= hi),
          `seed ${seed}`,
        ).toBe(true);
    }
  }
});
