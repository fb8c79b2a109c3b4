/**
 * A machine with one frame for user pages (`frames=1`): malloc's first store needs a second frame
 * (the stack page holds the first), so the process ends in an OOM kill, told in words — not an
 * internal error from something thrown out of the allocator.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { bufferIo } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { ALLOCATOR_NAMES } from '../../src/user/malloc/api.js';

const dir = mkdtempSync(join(tmpdir(), 'vmscope-one-frame-'));

test.each(ALLOCATOR_NAMES)(
  'machine x86_64 frames=1, malloc=%s: malloc ends in an OOM kill in words (regression: internal error [object Object])',
  async (name) => {
    const file = join(dir, `${name}.vms`);
    writeFileSync(
      file,
      `machine x86_64 frames=1 malloc=${name}\nspawn A\nA: malloc a 16\nexpect A state == killed\nexpect A signal == SIGKILL\n`,
    );
    const io = bufferIo();
    const status = await main(['run', '--check', file], io);
    expect(io.stderr).toBe('');
    expect(io.stdout).toContain('out of memory: the OOM killer chose A');
    expect(io.stdout).toContain('-> malloc(16) = NULL -> a');
    expect(status).toBe(0);
  },
);
