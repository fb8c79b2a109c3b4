/**
 * Physical memory: one ArrayBuffer, addressed by physical address (`pa`) or frame number (`pfn`).
 * Page tables, user pages and kernel pages all live here. Typed views are little-endian, as on every
 * machine vmscope models (checked at start-up).
 */
import { invariant } from '../base/errors.js';

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export class PhysicalMemory {
  readonly sizeBytes: number;
  readonly pageSize: number;
  readonly frameCount: number;
  readonly bytes: Uint8Array;
  readonly u16: Uint16Array;
  readonly u32: Uint32Array;

  /**
   * @param sizeBytes a multiple of `pageSize`, at most 4 GiB (physical addresses stay below 2^32).
   */
  constructor(sizeBytes: number, pageSize: number) {
    invariant(LITTLE_ENDIAN, 'vmscope needs a little-endian host');
    invariant(sizeBytes > 0 && sizeBytes % pageSize === 0, 'physical memory must be whole frames');
    invariant(sizeBytes <= 2 ** 32, 'physical memory is limited to 4 GiB');
    this.sizeBytes = sizeBytes;
    this.pageSize = pageSize;
    this.frameCount = sizeBytes / pageSize;
    const buffer = new ArrayBuffer(sizeBytes);
    this.bytes = new Uint8Array(buffer);
    this.u16 = new Uint16Array(buffer, 0, Math.floor(sizeBytes / 2));
    this.u32 = new Uint32Array(buffer, 0, Math.floor(sizeBytes / 4));
  }

  /** Reads a byte without side effects (for the UI and the kernel's own bookkeeping). */
  peek8(pa: number): number {
    return this.bytes[pa]!;
  }

  poke8(pa: number, value: number): void {
    this.bytes[pa] = value;
  }

  /** The bytes of frame `pfn`, as a view (no copy). */
  frame(pfn: number): Uint8Array {
    const start = pfn * this.pageSize;
    return this.bytes.subarray(start, start + this.pageSize);
  }

  zeroFrame(pfn: number): void {
    const start = pfn * this.pageSize;
    this.bytes.fill(0, start, start + this.pageSize);
  }

  copyFrame(dstPfn: number, srcPfn: number): void {
    const src = srcPfn * this.pageSize;
    this.bytes.copyWithin(dstPfn * this.pageSize, src, src + this.pageSize);
  }
}
