import { describe, expect, test } from 'vitest';
import { errorRange, highlightLine, markRange, positionForLine } from '../../web/src/logic/editor.js';
import {
  frameColor,
  gridGeometry,
  KIND_ANON,
  KIND_FREE,
  KIND_KERNEL,
  MIN_SHOWN_FRAMES,
  paintFrames,
  pfnAt,
  shownFrames,
} from '../../web/src/logic/grid.js';
import { decodeText, encodeText, formatHash, parseHash } from '../../web/src/logic/hash.js';
import { keyAction } from '../../web/src/logic/keys.js';
import {
  gapText,
  heightOfVa,
  layoutAddressSpace,
  layoutHeight,
  rangeAt,
  vaAtHeight,
} from '../../web/src/logic/layout.js';
import { startPosition } from '../../web/src/logic/start.js';
import { formatSize, formatVa, parseAddress, vaFields } from '../../web/src/logic/va.js';

const X86 = {
  pageShift: 12,
  indexBits: [9, 9, 9, 9],
  levelNames: ['PML4', 'PDPT', 'PD', 'PT'],
  addrHexDigits: 8,
};

describe('a virtual address cut into its page-table indices', () => {
  test('the top of the x86-64 user stack: PML4 255, PDPT 511, PD 511, PT 510, offset 0xff8', () => {
    const fields = vaFields(0x7ffffffdeff8 + 0x20000, X86);
    expect(fields.map((f) => [f.name, f.value])).toEqual([
      ['PML4', 255],
      ['PDPT', 511],
      ['PD', 511],
      ['PT', 510],
      ['offset', 0xff8],
    ]);
    expect(fields.map((f) => f.shift)).toEqual([39, 30, 21, 12, 0]);
  });

  test('works above 2^32, where >>> would cut the address', () => {
    const va = 0x7ffff7eff123;
    const f = vaFields(va, X86);
    const back = f.reduce((sum, x) => sum + x.value * 2 ** x.shift, 0);
    expect(back).toBe(va);
  });

  test('teach16: two levels of 32 entries and 64-byte pages', () => {
    const f = vaFields(0x1234, {
      pageShift: 6,
      indexBits: [5, 5],
      levelNames: ['PD', 'PT'],
      addrHexDigits: 4,
    });
    expect(f.map((x) => x.value)).toEqual([0x1234 >> 11, (0x1234 >> 6) & 31, 0x1234 & 63]);
  });

  test('addresses people type', () => {
    expect(parseAddress('0x7ffff7eff000')).toBe(0x7ffff7eff000);
    expect(parseAddress(' 4096 ')).toBe(4096);
    expect(parseAddress('7fff_f7ef_f000')).toBe(0x7ffff7eff000);
    expect(parseAddress('deadbeef')).toBe(0xdeadbeef);
    expect(parseAddress('0x')).toBeNull();
    expect(parseAddress('heap+16')).toBeNull();
    expect(parseAddress('-1')).toBeNull();
    expect(formatVa(0x400000, 8)).toBe('0x00400000');
  });

  test('sizes read as people read them', () => {
    expect(formatSize(4096)).toBe('4 KiB');
    expect(formatSize(1536 * 1024)).toBe('1.5 MiB');
    expect(formatSize(132 * 1024)).toBe('132 KiB');
    expect(formatSize(10)).toBe('10 B');
    expect(formatSize(2 ** 47 - 0x400000)).toBe('128 TiB');
  });
});

describe('the address-space layout compresses gaps', () => {
  const vmas = [
    { start: 0x400000, end: 0x402000 },
    { start: 0x402000, end: 0x403000 },
    { start: 0x7ffffffde000, end: 0x7ffffffff000 },
  ];
  const rows = layoutAddressSpace(vmas, { pageSize: 4096 });

  test('high addresses first, a gap row between non-adjacent VMAs and below the lowest', () => {
    expect(rows.map((r) => r.kind)).toEqual(['vma', 'gap', 'vma', 'vma', 'gap']);
    expect(rows[0]).toMatchObject({ kind: 'vma', index: 2 });
    expect(rows[1]).toMatchObject({ kind: 'gap', start: 0x403000, end: 0x7ffffffde000 });
    expect(rows[4]).toMatchObject({ kind: 'gap', start: 0, end: 0x400000 });
  });

  test('a 128 TiB gap costs no more height than a small one; bigger VMAs are taller, within bounds', () => {
    const gaps = rows.filter((r) => r.kind === 'gap');
    expect(new Set(gaps.map((g) => g.h)).size).toBe(1);
    const [stack, , data, code] = rows;
    expect(stack!.h).toBeGreaterThan(code!.h);
    expect(code!.h).toBeGreaterThan(data!.h);
    expect(layoutHeight(rows)).toBeLessThan(400);
    // rows are stacked without overlap
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.y).toBe(rows[i - 1]!.y + rows[i - 1]!.h);
  });

  test('a height inside a VMA maps to a page, and back', () => {
    const stack = vmas[2]!;
    const h = 60;
    expect(vaAtHeight(stack, h, 0, 4096)).toBe(stack.end - 4096);
    expect(vaAtHeight(stack, h, h - 0.01, 4096)).toBe(stack.start);
    for (const va of [stack.start, stack.start + 5 * 4096 + 12, stack.end - 1]) {
      const y = heightOfVa(stack, h, va, 4096);
      expect(vaAtHeight(stack, h, y, 4096)).toBe(va - (va % 4096));
    }
  });

  test('finding the range that holds an address', () => {
    expect(rangeAt(vmas, 0x401fff)).toBe(0);
    expect(rangeAt(vmas, 0x402000)).toBe(1);
    expect(rangeAt(vmas, 0x403000)).toBe(-1);
    expect(rangeAt(vmas, 0x7ffffffff000)).toBe(-1);
    expect(rangeAt([], 5)).toBe(-1);
  });
});

describe('the frame grid', () => {
  test('64 Ki frames fit a 520 × 300 box at 1 px with a power-of-two row', () => {
    const g = gridGeometry(65536, 520, 300);
    expect(g.cell).toBeGreaterThanOrEqual(1);
    expect(g.cols & (g.cols - 1)).toBe(0);
    expect(g.cols * g.cell).toBeLessThanOrEqual(520);
    expect(g.cols * g.rows).toBeGreaterThanOrEqual(65536);
  });

  test('few frames get big cells, capped', () => {
    const g = gridGeometry(256, 520, 300);
    expect(g.cell).toBe(16);
    expect(g.cols * g.cell).toBeLessThanOrEqual(520);
    expect(g.rows * g.cell).toBeLessThanOrEqual(300);
  });

  test('pixels map to frames and back', () => {
    const g = gridGeometry(4096, 512, 512);
    const pfn = 1234;
    const x = (pfn % g.cols) * g.cell + g.cell / 2;
    const y = Math.floor(pfn / g.cols) * g.cell + g.cell / 2;
    expect(pfnAt(g, 4096, x, y)).toBe(pfn);
    expect(pfnAt(g, 4096, -1, 0)).toBe(-1);
    expect(pfnAt(g, 4096, g.cols * g.cell + 1, 0)).toBe(-1);
  });

  test('a 16 MiB machine using its first 93 frames draws 256 of its 4,096, and they fill the box', () => {
    const kinds = new Uint8Array(4096);
    kinds.fill(KIND_ANON, 0, 93);
    expect(shownFrames(kinds)).toBe(MIN_SHOWN_FRAMES);
    // The whole machine in the frames panel at 1366×768 (about 488 × 140 px) is a 3 px strip...
    expect(gridGeometry(4096, 488, 140).cell).toBe(3);
    // ...the used part 15 px cells.
    const g = gridGeometry(shownFrames(kinds), 488, 140);
    expect(g.cell).toBe(15);
    expect((93 * g.cell * g.cell) / (g.cols * g.cell * g.rows * g.cell)).toBeGreaterThan(0.25);
  });

  test('the shown part reaches the next power of two at or above the highest used frame, or the frames asked for', () => {
    const kinds = new Uint8Array(65536);
    kinds[300] = KIND_KERNEL;
    expect(shownFrames(kinds)).toBe(512);
    kinds[512] = KIND_ANON;
    expect(shownFrames(kinds)).toBe(1024);
    // A selected frame past every used one is drawn too; one past the machine is not counted.
    expect(shownFrames(kinds, [5000])).toBe(8192);
    expect(shownFrames(kinds, [70000])).toBe(1024);
    kinds[65535] = KIND_ANON;
    expect(shownFrames(kinds)).toBe(65536);
  });

  test('the shown part is never more than the machine, and an idle machine shows the minimum', () => {
    expect(shownFrames(new Uint8Array(4096))).toBe(MIN_SHOWN_FRAMES);
    // teach16: 256 frames of 64 bytes; a machine of 48 MiB is no power of two.
    expect(shownFrames(new Uint8Array(256))).toBe(256);
    expect(shownFrames(new Uint8Array(100))).toBe(100);
    const odd = new Uint8Array(12288);
    odd[9000] = KIND_ANON;
    expect(shownFrames(odd)).toBe(12288);
  });

  test("a process's frames share its colour; fading keeps free frames as they are", () => {
    expect(frameColor(2, 1, false)).not.toBe(frameColor(2, 2, false));
    expect(frameColor(1, 1, false)).not.toBe(frameColor(2, 1, false));
    expect(frameColor(KIND_FREE, -1, true)).toBe(frameColor(KIND_FREE, -1, false));
    const kinds = Uint8Array.of(0, 2, 2, 1);
    const owners = Int32Array.of(-1, 1, 2, 1);
    const out = new Uint32Array(4);
    paintFrames(kinds, owners, (pfn) => owners[pfn] === 1, out);
    expect(out[1]).toBe(frameColor(2, 1, false));
    expect(out[2]).toBe(frameColor(2, 2, true));
    expect(out[3]! >>> 24).toBe(255);
  });
});

describe('the scenario editor', () => {
  test('segments put the line back together and colour the words', () => {
    const line = 'A: write heap+16 4   # a comment';
    const segs = highlightLine(line);
    expect(segs.map((s) => s.text).join('')).toBe(line);
    expect(segs.find((s) => s.text === 'A:')?.cls).toBe('proc');
    expect(segs.find((s) => s.text === 'write')?.cls).toBe('op');
    expect(segs.find((s) => s.text === '4')?.cls).toBe('num');
    expect(segs.at(-1)).toEqual({ text: '# a comment', cls: 'com' });
    expect(highlightLine('spawn A code=8K')[0]).toEqual({ text: 'spawn', cls: 'kw' });
  });

  test('an error squiggles the word at its column, or a space past the end', () => {
    expect(errorRange('A: wrte bss 1', 4)).toEqual({ from: 3, to: 7 });
    expect(errorRange('A: write', 9)).toEqual({ from: 8, to: 9 });
    const marked = markRange(highlightLine('A: wrte bss 1'), 3, 7, 'err');
    expect(marked.map((s) => s.text).join('')).toBe('A: wrte bss 1');
    expect(marked.filter((s) => s.cls.includes('err')).map((s) => s.text)).toEqual(['wrte']);
    const past = markRange(highlightLine('A: write'), 8, 9, 'err');
    expect(past.at(-1)).toEqual({ text: ' ', cls: 'err' });
  });

  test('a line maps to the position after its statement', () => {
    const lines = [3, 4, 7, 9];
    expect(positionForLine(lines, 1)).toBe(0);
    expect(positionForLine(lines, 4)).toBe(2);
    expect(positionForLine(lines, 8)).toBe(3);
    expect(positionForLine(lines, 99)).toBe(4);
  });
});

describe('keys', () => {
  const k = (key: string, more: Partial<Parameters<typeof keyAction>[0]> = {}) =>
    keyAction({
      key,
      shiftKey: false,
      ctrlKey: false,
      metaKey: false,
      altKey: false,
      inText: false,
      ...more,
    });

  test('arrows step, shift jumps ten, Home and End go to the ends', () => {
    expect(k('ArrowRight')).toEqual({ kind: 'step', by: 1 });
    expect(k('ArrowLeft', { shiftKey: true })).toEqual({ kind: 'step', by: -10 });
    expect(k('Home')).toEqual({ kind: 'first' });
    expect(k('End')).toEqual({ kind: 'last' });
  });

  test('in the editor only Ctrl+Enter and Escape are taken', () => {
    expect(k('ArrowRight', { inText: true })).toBeNull();
    expect(k('a', { inText: true })).toBeNull();
    expect(k('Enter', { inText: true, ctrlKey: true })).toEqual({ kind: 'run' });
    expect(k('Escape', { inText: true })).toEqual({ kind: 'leave' });
  });
});

describe('the URL holds the scenario', () => {
  test('text survives deflate + base64url, including non-ASCII', async () => {
    const text = `# ünïcode ✓\nmachine teach16\n${'spawn A code=128\n'.repeat(50)}`;
    const enc = await encodeText(text);
    expect(enc).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(enc.length).toBeLessThan(text.length / 3);
    expect(await decodeText(enc)).toBe(text);
  });

  test('garbage decodes to null, not an exception', async () => {
    expect(await decodeText('!!!')).toBeNull();
    expect(await decodeText('AAAA')).toBeNull();
  });

  test('hash fields round-trip; malformed ones are dropped', () => {
    const h = { example: '02-paging', encoded: null, position: 5, address: { pid: 1, va: 0x7ffff7eff000 } };
    expect(parseHash(`#${formatHash(h)}`)).toEqual(h);
    expect(parseHash('#p=-3&a=x:0x1&ex=../../etc')).toEqual({
      example: null,
      encoded: null,
      position: null,
      address: null,
    });
    expect(parseHash('')).toEqual({ example: null, encoded: null, position: null, address: null });
  });
});

describe('where a scenario opens', () => {
  test('run and choosing an example jump to the last step: they open after the first statement instead', () => {
    expect(startPosition([3, 4, 9], 'machine teach16\n\nspawn A\nA: write bss 1\n')).toBe(1);
    expect(startPosition([], '')).toBe(0);
  });

  test('or after the statement that follows a `# start here` comment', () => {
    const text = 'spawn A\nA: write bss 1\n# start here: the interesting part\nA: write bss+64 1\nA: exit\n';
    expect(startPosition([1, 2, 4, 5], text)).toBe(3);
  });
});

describe('gaps in an address space', () => {
  test('"16 EiB unmapped" hides that the gap is kernel and non-canonical space: it says so', () => {
    const g = gapText(0x7ffffffff000, Number(0xffffffffff600000n), 2 ** 47, formatSize);
    expect(g.text).toBe('4 KiB unmapped, then no user space: non-canonical hole, kernel half');
    expect(g.title).toMatch(/above it the process has no addresses at all/);
    expect(gapText(0x1000, 0x2000, 2 ** 47, formatSize).text).toBe('4 KiB unmapped');
  });
});
