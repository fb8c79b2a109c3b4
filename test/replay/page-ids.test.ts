/**
 * Opaque page ids in the full system: any id below 2^53 is a page, placed in the process's space in
 * blocks a leaf page table maps, so a pages file replays in the full system as with --policy-only
 * (regression: `replay --format pages` refused ids from 2^35 up, "page 68719476736 is beyond the
 * 46.999999999958014-bit user space").
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { bufferIo } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { archPreset } from '../../src/hw/arch.js';
import { userLayout } from '../../src/kernel/layout.js';
import { policyNames } from '../../src/kernel/reclaim/registry.js';
import { replayPages } from '../../src/sim/cachesim.js';
import { IdPlacement } from '../../src/sim/page-ids.js';
import { SystemReplay } from '../../src/sim/replay.js';

const POLICIES = policyNames.filter((p) => p !== 'opt' && !p.startsWith('ostep') && p !== 'unopt');
const FAR = [0, 2 ** 35 - 3, 2 ** 35, 2 ** 40 + 511, 2 ** 47, 2 ** 52, 2 ** 53 - 600];

/** Ids near a few far-apart places, up to 2^53 - 1. */
const farIds = fc.array(
  fc.tuple(fc.constantFrom(...FAR), fc.nat({ max: 599 })).map(([base, d]) => Math.min(base + d, 2 ** 53 - 1)),
  { minLength: 1, maxLength: 200 },
);

describe.each(POLICIES)('%s', (policy) => {
  test('ids anywhere below 2^53 fault in the full system exactly as in the pure simulation', () => {
    fc.assert(
      fc.property(farIds, fc.integer({ min: 1, max: 10 }), (refs, frames) => {
        const writes = refs.map((id) => id & 1);
        const pure = replayPages(refs, { policy, frames, writes });
        const r = new SystemReplay({
          frames,
          policy,
          tlbEntries: 16,
          tlbWays: 4,
          names: ['t'],
          addressing: 'ids',
        });
        expect(r.run(0, Float64Array.from(refs), Uint8Array.from(writes), refs.length)).toBe(refs.length);
        const s = r.stats();
        expect(r.kernel.check()).toEqual([]);
        expect([s.faults, s.hits, s.evictions, s.writebacks]).toEqual([
          pure.faults,
          pure.hits,
          pure.evictions,
          pure.writebacks,
        ]);
      }),
      { numRuns: 8, seed: 53 },
    );
  });
});

describe('the placement of ids', () => {
  const x86 = IdPlacement.forSpace(userLayout('x86_64'), archPreset('x86_64'));

  test('is one-to-one, keeps neighbours in one leaf table, and starts above mmap_min_addr', () => {
    const ids = [2 ** 53 - 1, 0, 1, 511, 512, 2 ** 53 - 2, 2 ** 35];
    const vpns = ids.map((id) => x86.vpn(id));
    expect(new Set(vpns).size).toBe(ids.length);
    expect(vpns.slice(0, 2)).toEqual([512 + 511, 1024]); // first block seen: 2^53-1's; id 0 opens the next
    expect(vpns[2]! - vpns[1]!).toBe(1);
    expect(Math.floor(vpns[3]! / 512)).toBe(Math.floor(vpns[1]! / 512));
    expect(Math.floor(vpns[4]! / 512)).not.toBe(Math.floor(vpns[3]! / 512));
    expect(x86.vpn(0)).toBe(vpns[1]); // the same id, the same page, every time
  });

  test('on the teaching machine blocks are its 32-entry tables, and a full space says so', () => {
    const t = IdPlacement.forSpace(userLayout('teach16'), archPreset('teach16'));
    expect(t.blockPages).toBe(32);
    const capacity = t.capacity;
    expect(capacity).toBeGreaterThan(0);
    for (let b = 0; b < capacity; b++) expect(t.vpn(b * 1000 * 32)).toBeGreaterThan(0);
    expect(t.vpn(2 ** 50)).toBe(-1);
    expect(t.vpn(0)).toBeGreaterThan(0); // blocks already placed still are
  });
});

describe('vmscope replay --format pages', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmscope-ids-'));

  test('ids from 2^35 to 2^53 - 1 replay in the full system with the faults of --policy-only', async () => {
    const file = join(dir, 'far.txt');
    const ids = [68719476736, 0, 68719476737, 9007199254740991, 68719476736, 1, 9007199254740991, 2 ** 40];
    writeFileSync(file, `${ids.join('\n')}\n`);
    const runJson = async (...argv: string[]) => {
      const io = bufferIo();
      expect(await main([...argv, '--json'], io)).toBe(0);
      expect(io.stderr).toBe('');
      return JSON.parse(io.stdout);
    };
    const full = await runJson('replay', '--format', 'pages', '--frames', '3', '--policy', 'lru', file);
    const pure = await runJson(
      'replay',
      '--format',
      'pages',
      '--frames',
      '3',
      '--policy',
      'lru',
      '--policy-only',
      file,
    );
    expect(full.accesses).toBe(ids.length);
    expect([full.faults, full.hits]).toEqual([pure.faults, pure.hits]);
    expect(full.faults).toBe(7); // LRU, 3 frames: only the second 2^53 - 1 hits
  });

  test('a lackey address beyond user space names the access and the end of user space in hex', async () => {
    const file = join(dir, 'high.lackey');
    writeFileSync(file, ' L 1000,8\n L 800000000000,8\n');
    const io = bufferIo();
    expect(await main(['replay', file], io)).toBe(2);
    expect(io.stderr).toBe(
      `high.lackey: error: access 2: address 0x800000000000 is beyond user space, which ends at 0x7ffffffff000\n`,
    );
  });
});
