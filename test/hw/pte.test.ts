/** Page-table entry formats: the real bit layouts, encoded and decoded. */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { PteFormat, type PteFormatName } from '../../src/hw/pte.js';

const ALL_FORMATS: PteFormatName[] = ['x86_64', 'riscv-sv39', 'i386', 'teach16', 'ostep15'];

/** Width of the PFN field and where it sits, as each architecture manual draws it. */
const PFN_FIELD: Record<PteFormatName, { bytes: number; shift: number; bits: number }> = {
  x86_64: { bytes: 8, shift: 12, bits: 40 }, // bits 12..51
  'riscv-sv39': { bytes: 8, shift: 10, bits: 44 }, // PPN in bits 10..53
  i386: { bytes: 4, shift: 12, bits: 20 }, // bits 12..31
  teach16: { bytes: 2, shift: 6, bits: 10 }, // bits 6..15
  ostep15: { bytes: 1, shift: 0, bits: 7 }, // | V | PFN |
};

/** The whole entry as one bigint, from its two 32-bit halves. */
function entry(lo: number, hi: number): bigint {
  return (BigInt(hi) << 32n) | BigInt(lo);
}

describe.each(ALL_FORMATS)('%s entries', (name) => {
  const fmt = new PteFormat(name);
  const field = PFN_FIELD[name];
  /** Every named flag bit of the low word. */
  const flagBits = [fmt.present, fmt.read, fmt.write, fmt.user, fmt.exec, fmt.accessed, fmt.dirty].filter(
    (b) => b !== 0,
  );

  test('the PFN field has the architecture width and position', () => {
    expect(fmt.entryBytes).toBe(field.bytes);
    expect(fmt.maxPfn).toBe(2 ** field.bits - 1);
    const top = fmt.maxPfn;
    const raw = entry(fmt.encodeLo(top, 0), fmt.encodeHi(top, false));
    expect(raw).toBe(BigInt(top) << BigInt(field.shift));
  });

  test('any PFN and any set of flags survive an encode/decode round trip', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: fmt.maxPfn }),
        fc.subarray(flagBits),
        fc.boolean(),
        (pfn, bits, noExec) => {
          const flags = bits.reduce((a, b) => a | b, 0);
          const lo = fmt.encodeLo(pfn, flags);
          const hi = fmt.encodeHi(pfn, noExec);
          expect(fmt.pfnOf(lo, hi)).toBe(pfn);
          const d = fmt.decode(lo, hi);
          expect(d.pfn).toBe(pfn);
          expect(d.present).toBe((flags & fmt.present) !== 0);
          expect(d.accessed).toBe(fmt.accessed !== 0 && (flags & fmt.accessed) !== 0);
          expect(d.dirty).toBe(fmt.dirty !== 0 && (flags & fmt.dirty) !== 0);
          if (fmt.write !== 0) expect(d.write).toBe((flags & fmt.write) !== 0);
          if (fmt.user !== 0) expect(d.user).toBe((flags & fmt.user) !== 0);
          if (fmt.exec !== 0) expect(d.exec).toBe((flags & fmt.exec) !== 0);
          // The flag bits and the PFN field never overlap: the entry is exactly their sum.
          expect(entry(lo, hi)).toBe(
            (BigInt(pfn) << BigInt(field.shift)) |
              BigInt(flags) |
              (noExec && fmt.nxHi !== 0 ? 1n << 63n : 0n),
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  test('the raw entry prints at its real width', () => {
    expect(fmt.formatRaw(fmt.encodeLo(1, fmt.present), fmt.encodeHi(1, false))).toHaveLength(
      2 + 2 * field.bytes,
    );
  });
});

describe('x86-64', () => {
  const fmt = new PteFormat('x86_64');

  test('a dirty user data page at pfn 0x123 reads 0x8000000000123067: NX in bit 63, P RW US A D low', () => {
    const flags = fmt.leafFlags({ write: true, user: true, exec: false }) | fmt.dirty;
    const lo = fmt.encodeLo(0x123, flags);
    const hi = fmt.encodeHi(0x123, true);
    expect(fmt.formatRaw(lo, hi)).toBe('0x8000000000123067');
    expect(hi).toBe(0x8000_0000);
    const d = fmt.decode(lo, hi);
    expect(d.flags).toEqual(['NX', 'D', 'A', 'US', 'RW', 'P']);
    expect([d.present, d.read, d.write, d.user, d.exec]).toEqual([true, true, true, true, false]);
  });

  test('a PFN above 2^20 continues into the high word, below NX', () => {
    const pfn = 0x12_3456_789a; // 40 bits
    const lo = fmt.encodeLo(pfn, fmt.present);
    const hi = fmt.encodeHi(pfn, true);
    expect(fmt.formatRaw(lo, hi)).toBe('0x800123456789a001');
    expect(fmt.pfnOf(lo, hi)).toBe(pfn);
    expect(fmt.decode(lo, hi).exec).toBe(false);
    expect(fmt.decode(lo, fmt.encodeHi(pfn, false)).exec).toBe(true);
  });

  test('a table pointer carries P, RW and US so that the leaf alone decides the rights', () => {
    expect(fmt.tableFlags).toBe(0x7);
    expect(fmt.rightsAtEveryLevel).toBe(true);
  });
});

describe('RISC-V Sv39', () => {
  const fmt = new PteFormat('riscv-sv39');

  test('a leaf is marked by its R/W/X bits; a table pointer has V alone', () => {
    expect(fmt.leafMarkedByRights).toBe(true);
    expect(fmt.tableFlags).toBe(fmt.present);
    const pointer = fmt.decode(fmt.encodeLo(7, fmt.tableFlags), 0);
    expect([pointer.present, pointer.read, pointer.exec]).toEqual([true, false, false]);
    expect(pointer.flags).toEqual(['V']);
  });

  test('every leaf the kernel builds is readable: W without R is a reserved encoding', () => {
    for (const write of [false, true])
      for (const exec of [false, true]) {
        const flags = fmt.leafFlags({ write, user: true, exec });
        expect(flags & fmt.read).toBe(fmt.read);
      }
  });

  test('a user text page at ppn 0x80000 reads V R X U A: 0x2000005b', () => {
    const lo = fmt.encodeLo(0x80000, fmt.leafFlags({ write: false, user: true, exec: true }));
    const hi = fmt.encodeHi(0x80000, false);
    expect(fmt.formatRaw(lo, hi)).toBe('0x000000002000005b');
    expect(fmt.decode(lo, hi).flags).toEqual(['A', 'U', 'X', 'R', 'V']);
  });

  test('the 44-bit PPN crosses the word boundary at bit 32', () => {
    const ppn = 2 ** 44 - 1;
    const lo = fmt.encodeLo(ppn, fmt.present);
    const hi = fmt.encodeHi(ppn, false);
    expect(entry(lo, hi)).toBe(((2n ** 44n - 1n) << 10n) | 1n);
    expect(hi).toBe(0x3f_ffff); // bits 32..53
  });
});

describe('i386 without PAE', () => {
  const fmt = new PteFormat('i386');

  test('has no NX: asking for a non-executable page changes nothing, and every present page executes', () => {
    expect(fmt.encodeHi(0xfffff, true)).toBe(0);
    const lo = fmt.encodeLo(0xfffff, fmt.leafFlags({ write: false, user: true, exec: false }));
    expect(fmt.formatRaw(lo, 0)).toBe('0xfffff025');
    expect(fmt.decode(lo, 0).exec).toBe(true);
  });
});

describe('teach16', () => {
  const fmt = new PteFormat('teach16');

  test('packs P W U X A D under a 10-bit PFN in sixteen bits', () => {
    const lo = fmt.encodeLo(0x3ff, fmt.leafFlags({ write: true, user: true, exec: true }) | fmt.dirty);
    expect(fmt.formatRaw(lo, 0)).toBe('0xffff');
    expect(fmt.decode(lo, 0).flags).toEqual(['D', 'A', 'X', 'U', 'W', 'P']);
    const ro = fmt.encodeLo(1, fmt.leafFlags({ write: false, user: true, exec: false }));
    expect(fmt.formatRaw(ro, 0)).toBe('0x0055');
  });
});

describe('ostep15', () => {
  const fmt = new PteFormat('ostep15');

  test('is one byte: valid bit 0x80 and a 7-bit PFN, with no rights for a kernel to enforce', () => {
    expect(fmt.encodeLo(0x21, fmt.tableFlags)).toBe(0xa1);
    expect(fmt.pfnOf(0xa1, 0)).toBe(0x21);
    expect(fmt.decode(0x7f, 0).present).toBe(false);
    expect(fmt.enforcesRights).toBe(false);
    expect(new PteFormat('x86_64').enforcesRights).toBe(true);
  });
});
