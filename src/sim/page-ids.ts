/**
 * Where the opaque page ids of a pages file live in the replaying process. An id is any integer
 * below 2^53 (block traces number pages far above any address space), and the full system must
 * replay it as the pure cache simulation does, so ids are placed, not used as addresses:
 *
 *   id ──► block = ⌊id / B⌋, offset = id mod B          B = the pages one leaf page table maps
 *   block ──► the next free B-page slot of the process's space, in the order first touched
 *                                                       (x86-64: 512 pages, 2 MiB; teach16: 32)
 *
 * A block is what one leaf page table maps, so ids near each other share page tables and TLB reach
 * as neighbouring addresses would; ids far apart cost a table each, as sparse addresses do. The
 * placement is one-to-one, so the replacement policy sees the same stream of distinct pages and
 * faults exactly as with the ids themselves. The first slot is the first whole block above
 * mmap_min_addr, so id 0 is a page like any other.
 */
import { PageIdMap } from '../kernel/reclaim/idmap.js';

export class IdPlacement {
  /** Pages per block (a power of two). */
  readonly blockPages: number;
  private readonly invBlock: number;
  private readonly blocks = new PageIdMap(64);
  /** The block of the last id placed and the vpn where it starts: a hit costs one compare. */
  private lastBlock = -1;
  private lastVpn = 0;
  private nextVpn: number;
  private readonly endVpn: number;

  /** Blocks of `blockPages` (a power of two) go in [firstVpn, endVpn), firstVpn a multiple of it. */
  constructor(firstVpn: number, endVpn: number, blockPages: number) {
    this.blockPages = blockPages;
    this.invBlock = 1 / blockPages;
    this.nextVpn = firstVpn;
    this.endVpn = endVpn;
  }

  /**
   * The placement for a process of `arch` whose user space is [mmapMinAddr, taskSize): blocks as
   * large as a leaf page table's reach, from the first whole block above mmap_min_addr.
   */
  static forSpace(
    space: { readonly mmapMinAddr: number; readonly taskSize: number },
    arch: { readonly pageSize: number; readonly indexBits: readonly number[] },
  ): IdPlacement {
    const blockPages = 2 ** (arch.indexBits.at(-1) ?? 0);
    const firstVpn = Math.max(1, Math.ceil(space.mmapMinAddr / arch.pageSize / blockPages)) * blockPages;
    return new IdPlacement(firstVpn, Math.floor(space.taskSize / arch.pageSize), blockPages);
  }

  /** Blocks placed so far. */
  get blockCount(): number {
    return this.blocks.size;
  }

  /** The most blocks there is room for. */
  get capacity(): number {
    return this.blocks.size + Math.max(0, Math.floor((this.endVpn - this.nextVpn) / this.blockPages));
  }

  /** The vpn of page `id` (a non-negative integer below 2^53), or -1 when no block is left for it. */
  vpn(id: number): number {
    const block = Math.floor(id * this.invBlock); // exact: a power of two
    if (block !== this.lastBlock) {
      let at = this.blocks.get(block);
      if (at < 0) {
        if (this.nextVpn + this.blockPages > this.endVpn) return -1;
        at = this.nextVpn;
        this.nextVpn += this.blockPages;
        // The map holds int32 values: the slot's number, not its vpn (vpns reach 2^35).
        this.blocks.set(block, at / this.blockPages);
      } else {
        at *= this.blockPages;
      }
      this.lastBlock = block;
      this.lastVpn = at;
    }
    return this.lastVpn + (id - block * this.blockPages);
  }
}
