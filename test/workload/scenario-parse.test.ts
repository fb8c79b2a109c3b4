import { describe, expect, test } from 'vitest';
import { InputError, InputErrors } from '../../src/base/errors.js';
import { ERROR_LIMIT, parseScenario } from '../../src/workload/scenario/parse.js';

/** The formatted error a scenario gives, or null when it parses. */
function errorOf(text: string): string | null {
  try {
    parseScenario('t.vms', text);
    return null;
  } catch (e) {
    if (e instanceof InputError) return e.format();
    throw e;
  }
}

describe('scenario parser', () => {
  test('parses every statement kind of the issue example', () => {
    const sc = parseScenario(
      't.vms',
      [
        'machine x86_64 ram=16MiB tlb=64/4',
        'spawn A code=8K data=4K bss=8K',
        'A: read 0x1000 8',
        'A: write heap+16',
        'A: fetch code',
        'A: sbrk -4K',
        'A: brk brk+0x2000',
        'A: mmap m1 1MiB rw- shared fixed=0x7f0000000000',
        'A: munmap m1 4K',
        'A: mprotect m1+4K 4K r--',
        'show A pagetable stack-8',
        'show meminfo',
        'expect A VmRSS == 16 kB',
        'expect A signal == SIGSEGV',
        'expect A @m1 == 0x7ffff7eff000',
        'expect meminfo MemFree == boot',
        'expect A ret == -ENOMEM',
        'A: exit 3',
      ].join('\n'),
    );
    expect(sc.machine).toEqual({ arch: 'x86_64', ramBytes: 16 << 20, tlbEntries: 64, tlbWays: 4 });
    expect(sc.statements.map((s) => (s.kind === 'op' ? s.body.op : s.kind))).toEqual([
      'spawn',
      'read',
      'write',
      'fetch',
      'sbrk',
      'brk',
      'mmap',
      'munmap',
      'mprotect',
      'show',
      'show',
      'expect',
      'expect',
      'expect',
      'expect',
      'expect',
      'exit',
    ]);
    const mmap = sc.statements[6]!;
    expect(mmap.kind === 'op' && mmap.body.op === 'mmap' && mmap.body).toMatchObject({
      label: 'm1',
      len: 1 << 20,
      prot: 3,
      shared: true,
      placement: 'fixed',
    });
    const rss = sc.statements[11]!;
    expect(rss.kind === 'expect' && rss.value).toEqual({ kind: 'number', value: 16 * 1024 });
    const sbrk = sc.statements[4]!;
    expect(sbrk.kind === 'op' && sbrk.body).toEqual({ op: 'sbrk', delta: -4096 });
  });

  test('a bare number compares status sizes in kB, as /proc prints them', () => {
    const sc = parseScenario(
      't.vms',
      'spawn A\nexpect A VmRSS == 16\nexpect A VmRSS == 16384 B\nexpect A minflt >= 3',
    );
    const values = sc.statements.slice(1).map((s) => s.kind === 'expect' && s.value);
    expect(values).toEqual([
      { kind: 'number', value: 16384 },
      { kind: 'number', value: 16384 },
      { kind: 'number', value: 3 },
    ]);
  });

  test('malloc, free and realloc name blocks with labels; machine picks the allocator', () => {
    const sc = parseScenario(
      't.vms',
      'machine x86_64 malloc=tlsf\nspawn A\nA: malloc p 100\nA: realloc p 4K\nA: write p+8 4\nA: free p',
    );
    expect(sc.malloc).toBe('tlsf');
    expect(sc.statements.slice(1).map((s) => s.kind === 'op' && s.body)).toEqual([
      { op: 'malloc', label: 'p', size: 100 },
      { op: 'realloc', label: 'p', size: 4096 },
      expect.objectContaining({ op: 'write' }),
      { op: 'free', label: 'p' },
    ]);
    expect(errorOf('spawn A\nA: free p')).toBe(
      "t.vms:2:9: error: no label 'p' (it comes from an earlier malloc)",
    );
    expect(errorOf('machine x86_64 malloc=binnd')).toBe(
      "t.vms:1:23: error: unknown allocator 'binnd' (one of first-fit, next-fit, best-fit, worst-fit, segregated, buddy, tlsf, binned) (did you mean 'binned'?)",
    );
  });

  test('comments and blank lines are ignored; lines keep their numbers', () => {
    const sc = parseScenario('t.vms', '# title\n\nspawn A   # the process\n\n  A: write heap  # touch\n');
    expect(sc.statements.map((s) => s.place.line)).toEqual([3, 5]);
    expect(sc.statements[1]!.text).toBe('A: write heap');
  });

  test.each([
    ['spawn A\nA: wrte heap', "t.vms:2:4: error: unknown operation 'wrte' (did you mean 'write'?)"],
    ['spawn A\nA: write heap\nB: read heap', "t.vms:3:1: error: no process 'B' (spawn it first)"],
    [
      'spawn Alpha\nAlpah: read code',
      "t.vms:2:1: error: no process 'Alpah' (spawn it first) (did you mean 'Alpha'?)",
    ],
    [
      'spawn A\nshow A mapz',
      "t.vms:2:8: error: cannot show 'mapz' of a process (one of maps, status, smaps, smaps_rollup, pagetable, tlb) (did you mean 'maps'?)",
    ],
    ['spawn A\nexpect A VmRS == 4', "t.vms:2:10: error: unknown field 'VmRS' for A (did you mean 'VmRSS'?)"],
    [
      'spawn A\nA: write m1',
      "t.vms:2:10: error: no label 'm1' (labels come from an earlier mmap of this process)",
    ],
    [
      'machine x86 ram=1M',
      "t.vms:1:9: error: unknown architecture 'x86' (one of x86_64, riscv-sv39, i386, teach16, ostep15) (did you mean 'x86_64'?)",
    ],
    ['machine x86_64 ram=1000', 't.vms:1:16: error: ram must be a multiple of the 4096-byte page'],
    ['machine x86_64 tlb=64/3', 't.vms:1:16: error: tlb ways must divide the entries'],
    [
      'spawn A code=8Q',
      "t.vms:1:14: error: expected code=SIZE (a size such as 4096, 0x1000, 8K or 1MiB), got '8Q'",
    ],
    [
      'spawn A\nA: mmap m 4K rwz',
      "t.vms:2:14: error: expected a protection such as rw-, r-x or --- , got 'rwz'",
    ],
    ['spawn A\nA: read', 't.vms:2:8: error: expected an address'],
    [
      'spawn A\nexpect A state == dead',
      "t.vms:2:19: error: expected one of running, exited, killed, got 'dead'",
    ],
    ['spawn A\nspawn A', "t.vms:2:7: error: process 'A' already exists"],
    ['spawn A\nmachine teach16', "t.vms:2:1: error: 'machine' must come before every other statement"],
    [
      'spawn A\nfrobnicate A',
      "t.vms:2:1: error: unknown statement 'frobnicate' (expected machine, spawn, exec, replay, strace, file, truncate, kill, sync, drop_caches, show, expect, or 'NAME: operation')",
    ],
    [
      'spawn A\nA: mmap m 4K rw- shared private',
      "t.vms:2:25: error: a mapping is 'shared' or 'private', not both",
    ],
    [
      'spawn A\nA: read heap+zz',
      "t.vms:2:14: error: no label 'zz' (labels come from an earlier mmap of this process)",
    ],
    ['spawn A\nA: exit 300', 't.vms:2:9: error: an exit code is 0..255'],
    ['spawn 9A', "t.vms:1:7: error: '9A' is not a process name (letters, digits, _)"],
    [
      'spawn A\nA: mmap heap 4K rw-',
      "t.vms:2:9: error: 'heap' cannot be a label (letters, digits and _, not a base name)",
    ],
    ['spawn A\nA: mmap m 4K rw-\nA: malloc m 8', "t.vms:3:11: error: label 'm' is already defined"],
  ])('rejects %j with its line and column', (text, message) => {
    expect(errorOf(text)).toBe(message);
  });

  test('an error in the last line means nothing earlier was run: parsing is all-or-nothing', () => {
    expect(errorOf('spawn A\nA: write heap\nA: bogus')).toMatch(
      /^t\.vms:3:4: error: unknown operation 'bogus'/,
    );
  });
});

describe('every parse error is reported, as a compiler does', () => {
  test("run reports only the first parse error: 'spwan' on line 3 and 'wrte' on line 5 are both reported", () => {
    const text = ['machine x86_64', 'spawn B', 'spwan A code=8K', 'B: read code', 'A: wrte heap 4'].join(
      '\n',
    );
    expect(errorOf(text)).toBe(
      [
        "t.vms:3:1: error: unknown statement 'spwan' (expected machine, spawn, exec, replay, strace, file, truncate, kill, sync, drop_caches, show, expect, or 'NAME: operation') (did you mean 'spawn'?)",
        "t.vms:5:4: error: unknown operation 'wrte' (did you mean 'write'?)",
      ].join('\n'),
    );
  });

  test('three errors on three lines: each with line, column and suggestion; a bad line still names its label', () => {
    const text = [
      'spawn A',
      'A: mmap m1 1MiB rwz',
      'A: write m1 8', // m1 was named on the bad line: no error here
      'A: raed m1',
      'expect A VmRSS == 4 furlongs',
      'show A mpas',
    ].join('\n');
    expect(errorOf(text)!.split('\n')).toEqual([
      "t.vms:2:17: error: expected a protection such as rw-, r-x or --- , got 'rwz'",
      "t.vms:4:4: error: unknown operation 'raed' (did you mean 'read'?)",
      "t.vms:5:19: error: expected a size such as 16 kB or 4096 B, got '4 furlongs'",
      "t.vms:6:8: error: cannot show 'mpas' of a process (one of maps, status, smaps, smaps_rollup, pagetable, tlb) (did you mean 'maps'?)",
    ]);
  });

  test('past the limit, the rest are counted', () => {
    const text = ['spawn A', ...Array.from({ length: ERROR_LIMIT + 5 }, () => 'A: wrte code')].join('\n');
    const lines = errorOf(text)!.split('\n');
    expect(lines).toHaveLength(ERROR_LIMIT + 1);
    expect(lines[ERROR_LIMIT - 1]).toMatch(
      new RegExp(`^t.vms:${ERROR_LIMIT + 1}:4: error: unknown operation`),
    );
    expect(lines[ERROR_LIMIT]).toBe(`t.vms: 5 more errors not shown (${ERROR_LIMIT + 5} in all)`);
  });

  test('one error is still one InputError with its place', () => {
    try {
      parseScenario('t.vms', 'spawn A\nA: wrte code\n');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      expect(e).not.toBeInstanceOf(InputErrors);
      expect((e as InputError).span).toEqual({ file: 't.vms', line: 2, column: 4 });
    }
  });
});

describe('addresses above 2^53 (the kernel half)', () => {
  test('a page-aligned kernel address is taken exactly; the access is a SIGSEGV at that very address', async () => {
    const { runScenario } = await import('../../src/sim/scenario-runner.js');
    const sc = parseScenario('t.vms', 'spawn A\nA: read 0xffffffffff600000\nexpect A signal == SIGSEGV\n');
    const run = runScenario(sc);
    expect(run.failed).toBe(0);
    const signal = run.steps[1]!.events.find((e) => e.type === 'signal');
    expect(signal && BigInt(signal.va)).toBe(0xffffffffff600000n);
  });

  test('one a double cannot hold is refused with the page it is in, never rounded', () => {
    expect(errorOf('spawn A\nA: read 0xffffffffff600008\n')).toBe(
      "t.vms:2:9: error: '0xffffffffff600008' cannot be held exactly: above 2^53 vmscope holds only multiples of 2048 (no user space reaches that high) (the page holding it starts at 0xffffffffff600000)",
    );
    expect(errorOf('spawn A\nA: read 0x10000000000000000\n')).toMatch(/does not fit in 64 bits/);
    expect(errorOf('spawn A\nA: read 0xffffffffff600000+8\n')).toMatch(/takes no offsets/);
  });
});
