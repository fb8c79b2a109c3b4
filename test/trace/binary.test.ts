/** vmscope's binary trace format and libCacheSim's oracleGeneral: round trips, chunking, bad input. */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { NEVER } from '../../src/kernel/reclaim/policy.js';
import { detectInputKind } from '../../src/workload/kind.js';
import type { FuturePageBatch } from '../../src/workload/trace/batch.js';
import { detectCompression, detectTraceFormat } from '../../src/workload/trace/detect.js';
import {
  looksLikeOracleGeneral,
  OracleGeneralDecoder,
  OracleGeneralEncoder,
} from '../../src/workload/trace/oracle-general.js';
import {
  MAX_BLOCK_RECORDS,
  VmtDecoder,
  VmtEncoder,
  type VmtHeader,
} from '../../src/workload/trace/vmtrace.js';
import { cut, encode, errorOf } from './support.js';

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const HEADER: VmtHeader = { addressing: 'addresses', pageSize: 4096, writes: true };

function encodeVmt(pages: readonly number[], writes: readonly number[], header = HEADER): Uint8Array {
  const parts: Uint8Array[] = [];
  const e = new VmtEncoder(header, (b) => parts.push(b));
  // Pushed in uneven pieces: the encoding must not depend on how the stream was cut.
  for (let i = 0; i < pages.length; i += 1000) {
    const n = Math.min(1000, pages.length - i);
    e.push(Float64Array.from(pages.slice(i, i + n)), Uint8Array.from(writes.slice(i, i + n)), n);
  }
  e.end();
  return concat(parts);
}

function decodeVmt(chunks: readonly Uint8Array[], file = 't.vmt') {
  const pages: number[] = [];
  const writes: number[] = [];
  const d = new VmtDecoder(file, (b) => {
    for (let i = 0; i < b.count; i++) {
      pages.push(b.page[i]!);
      writes.push(b.write[i]!);
    }
  });
  for (const c of chunks) d.push(c);
  d.end();
  return { pages, writes, header: d.header, records: d.records };
}

describe('the vmscope trace format', () => {
  test('round-trips any stream of page ids below 2^53 and write flags, cut anywhere', () => {
    const page = fc.oneof(
      fc.integer({ min: 0, max: 40 }),
      fc.integer({ min: 0, max: 2 ** 36 }),
      fc.constantFrom(0, 1, 2 ** 49, 2 ** 50, 2 ** 53 - 1),
      fc.maxSafeNat(),
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(page, fc.integer({ min: 0, max: 1 })), { maxLength: 300 }),
        fc.array(fc.nat(4000), { maxLength: 8 }),
        (recs, offsets) => {
          const pages = recs.map((r) => r[0]);
          const writes = recs.map((r) => r[1]);
          const bytes = encodeVmt(pages, writes);
          expect(detectTraceFormat(bytes)).toBe('vmscope');
          const whole = decodeVmt([bytes]);
          expect(whole.pages).toEqual(pages);
          expect(whole.writes).toEqual(writes);
          expect(whole.header).toEqual(HEADER);
          expect(decodeVmt(cut(bytes, offsets)).pages).toEqual(pages);
        },
      ),
      { numRuns: 300 },
    );
  });

  test('a real program alternating two pages costs about one byte an access; blocks split long traces', () => {
    const pages: number[] = [];
    const writes: number[] = [];
    for (let i = 0; i < 3 * MAX_BLOCK_RECORDS + 5; i++) {
      // Instruction fetches in one page, data in a page far away, now and then the next page.
      pages.push(i % 3 === 2 ? 0x1ffeffe + (i % 7 === 0 ? 1 : 0) : 0x108 + Math.floor(i / 50000));
      writes.push(i % 5 === 0 ? 1 : 0);
    }
    const bytes = encodeVmt(pages, writes);
    expect(bytes.length / pages.length).toBeLessThan(1.1);
    const bytewise = decodeVmt([
      ...[...bytes.subarray(0, 40000)].map((b) => Uint8Array.of(b)),
      bytes.subarray(40000),
    ]);
    expect(bytewise.pages).toEqual(pages);
    expect(bytewise.writes).toEqual(writes);
  });

  test('a truncated file says it ended early; corruption names the byte offset', () => {
    const bytes = encodeVmt([5, 6, 7, 1000, 5], [0, 1, 0, 0, 1]);
    const hex = (n: number) => `0x${n.toString(16)}`;
    expect(errorOf(() => decodeVmt([bytes.subarray(0, bytes.length - 3)]))).toBe(
      `t.vmt: offset ${hex(bytes.length - 3)}: error: the trace ends early, after 5 records: no end block (is the file truncated?)`,
    );
    expect(errorOf(() => decodeVmt([bytes.subarray(0, 10)]))).toBe(
      't.vmt: offset 0xa: error: the file ends inside the 16-byte header',
    );
    const badVersion = bytes.slice();
    badVersion[8] = 9;
    expect(errorOf(() => decodeVmt([badVersion]))).toBe(
      't.vmt: offset 0x8: error: vmscope trace version 9; this vmscope reads version 1',
    );
    const badRecord = bytes.slice();
    badRecord[24] = 0x87; // a continuation byte where the block's last varint ends
    expect(errorOf(() => decodeVmt([badRecord]))).toMatch(/^t\.vmt: offset 0x1[0-9a-f]: error: a corrupt /);
    expect(errorOf(() => decodeVmt([concat([bytes, Uint8Array.of(1)])]))).toBe(
      `t.vmt: offset ${hex(bytes.length)}: error: bytes after the end of the trace`,
    );
  });

  test('a corrupt block header cut off from its payload is refused as when read whole (found by fuzzing)', () => {
    // An empty trace whose end block claims 9 payload bytes where 8 follow: read whole, the header
    // was refused; cut one byte into the payload, the decoder waited for bytes that never came and
    // said the file was truncated.
    const bytes = encodeVmt([], []);
    bytes[16] = 9;
    const whole = errorOf(() => decodeVmt([bytes]));
    expect(whole).toBe('t.vmt: offset 0x10: error: a corrupt block header (0 records in 9 bytes)');
    for (let at = 1; at < bytes.length; at++) expect(errorOf(() => decodeVmt(cut(bytes, [at])))).toBe(whole);
  });
});

function decodeOracle(chunks: readonly Uint8Array[]) {
  const pages: number[] = [];
  const next: number[] = [];
  const d = new OracleGeneralDecoder('t.oracleGeneral', (b: FuturePageBatch) => {
    for (let i = 0; i < b.count; i++) {
      pages.push(b.page[i]!);
      next.push(b.next[i]!);
      expect(b.write[i]).toBe(0);
    }
  });
  for (const c of chunks) d.push(c);
  d.end();
  return { pages, next };
}

/** Next uses of a stream, the obvious way. */
function nextUses(pages: readonly number[]): number[] {
  return pages.map((p, i) => {
    const j = pages.indexOf(p, i + 1);
    return j < 0 ? NEVER : j;
  });
}

describe('libCacheSim oracleGeneral', () => {
  test("records are 24 bytes: time, id, size, and the next access's 1-based index or -1", () => {
    const parts: Uint8Array[] = [];
    const e = new OracleGeneralEncoder(4096, (b) => parts.push(b));
    e.push(Float64Array.of(7, 9, 7, 2 ** 40 + 3), Float64Array.of(2, NEVER, NEVER, NEVER), 4);
    const bytes = concat(parts);
    expect(bytes.length).toBe(96);
    const dv = new DataView(bytes.buffer);
    // Record 0: time 0, id 7, size 4096, next access = record 2, written as 3 (libCacheSim counts from 1).
    expect([dv.getUint32(0, true), Number(dv.getBigUint64(4, true)), dv.getUint32(12, true)]).toEqual([
      0, 7, 4096,
    ]);
    expect(dv.getBigInt64(16, true)).toBe(3n);
    expect(dv.getBigInt64(24 + 16, true)).toBe(-1n);
    expect(dv.getBigUint64(72 + 4, true)).toBe(2n ** 40n + 3n);
    expect(decodeOracle([bytes])).toEqual({ pages: [7, 9, 7, 2 ** 40 + 3], next: [2, NEVER, NEVER, NEVER] });
    expect(looksLikeOracleGeneral(bytes)).toBe(true);
    expect(detectTraceFormat(bytes)).toBe('oracleGeneral');
  });

  test('INT64_MAX also means never (libCacheSim reads both)', () => {
    const bytes = new Uint8Array(24);
    const dv = new DataView(bytes.buffer);
    dv.setBigUint64(4, 5n, true);
    dv.setBigInt64(16, 2n ** 63n - 1n, true);
    expect(decodeOracle([bytes])).toEqual({ pages: [5], next: [NEVER] });
  });

  test('round-trips a stream with its next uses, cut anywhere', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 12 }), { maxLength: 200 }),
        fc.array(fc.nat(5000), { maxLength: 6 }),
        (pages, offsets) => {
          const next = nextUses(pages);
          const parts: Uint8Array[] = [];
          const e = new OracleGeneralEncoder(4096, (b) => parts.push(b));
          e.push(Float64Array.from(pages), Float64Array.from(next), pages.length);
          const bytes = concat(parts);
          expect(decodeOracle(cut(bytes, offsets))).toEqual({ pages, next });
        },
      ),
      { numRuns: 200 },
    );
  });

  test('a cut record, an id beyond 2^53 and a next access in the past are errors at their offset', () => {
    const bytes = new Uint8Array(48);
    const dv = new DataView(bytes.buffer);
    dv.setBigInt64(16, -1n, true);
    dv.setBigInt64(40, -1n, true);
    expect(errorOf(() => decodeOracle([bytes.subarray(0, 40)]))).toBe(
      't.oracleGeneral: offset 0x18: error: the trace ends inside a record: 16 of its 24 bytes (is the file truncated?)',
    );
    const big = bytes.slice();
    new DataView(big.buffer).setBigUint64(24 + 4, 2n ** 60n, true);
    expect(errorOf(() => decodeOracle([big]))).toBe(
      't.oracleGeneral: offset 0x18: error: record 2 has an object id of 2^53 or more; vmscope replays ids below 2^53',
    );
    const back = bytes.slice();
    new DataView(back.buffer).setBigInt64(40, 1n, true);
    expect(errorOf(() => decodeOracle([back]))).toBe(
      't.oracleGeneral: offset 0x18: error: record 2 has a next access (1) that is not after the record',
    );
  });
});

describe('format detection by content', () => {
  test('gzip and zstd by their magic bytes; text formats by their first data line', () => {
    expect(detectCompression(Uint8Array.of(0x1f, 0x8b, 8, 0))).toBe('gzip');
    expect(detectCompression(Uint8Array.of(0x28, 0xb5, 0x2f, 0xfd, 0))).toBe('zstd');
    expect(detectCompression(encode('12\n'))).toBeNull();
    expect(detectTraceFormat(encode('12\n13\n'))).toBe('pages');
    expect(looksLikeOracleGeneral(encode('12\n13\n14\n15\n16\n17\n18\n19\n20\n21\n22\n'))).toBe(false);
    // A file handed to the visualizer is routed by the same rules.
    expect(detectInputKind(encodeVmt([1, 2, 3], [0, 0, 1]), 'x.bin')).toBe('vmscope');
    const og = new Uint8Array(48);
    new DataView(og.buffer).setBigInt64(16, -1n, true);
    new DataView(og.buffer).setBigInt64(40, -1n, true);
    expect(detectInputKind(og, 'x.rep')).toBe('oracleGeneral');
  });
});
