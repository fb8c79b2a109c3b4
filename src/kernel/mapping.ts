/**
 * What a user page belongs to, for the reverse map: an anon_vma for anonymous memory, a file's or
 * shmem's object (memobject.ts) for the page cache. Both get a small id from one table, so that a frame
 * can name its mapping in a typed array (`frames.mapping`) and a replacement policy can name a page by
 * (mapping, index) in one exact double ({@link pageKey}).
 *
 * An anon_vma (Linux `mm/rmap.c`) is the identity of a VMA's private anonymous pages. A VMA sits on the
 * list of its own anon_vma and of every anon_vma it inherited across fork (`anonChain`, Linux's
 * anon_vma_chain), so that the VMAs that may map a page are found from the page alone: a page born in
 * the parent before fork is on the parent's anon_vma, whose list holds the child's VMA too; a page born
 * in the child (a COW copy) is on the child's own anon_vma, which the parent's VMA is not on.
 */
import { invariant } from '../base/errors.js';
import type { MemObject } from './memobject.js';
import type { Vma } from './vma.js';

/** Bits of a page's index in its mapping inside a page key (enough for every arch's vpn). */
export const INDEX_BITS = 36;
/** Mapping ids are below this, so that `id * 2^INDEX_BITS + index` stays an exact double. */
export const MAX_MAPPINGS = 2 ** (53 - INDEX_BITS);

/** The identity a replacement policy knows a page by (it outlives the frame: ghosts remember it). */
export function pageKey(mappingId: number, index: number): number {
  return mappingId * 2 ** INDEX_BITS + index;
}

export class AnonVma {
  id = -1;
  /** VMAs whose pages may belong here: this anon_vma's own and those forked from them. */
  readonly vmas = new Set<Vma>();
  /** Frames and swap slots that carry this identity. */
  users = 0;
}

export type Mapping = AnonVma | MemObject;

/** Mapping ids in use, recycled once nothing refers to them. */
export class MappingTable {
  private readonly byId: (Mapping | undefined)[] = [undefined];
  private readonly freeIds: number[] = [];

  /** Gives `m` an id. */
  add(m: Mapping): number {
    const id = this.freeIds.pop() ?? this.byId.length;
    if (id >= MAX_MAPPINGS)
      invariant(false, `mappings: more than ${MAX_MAPPINGS - 1} anon_vmas and files at once`);
    this.byId[id] = m;
    m.id = id;
    return id;
  }

  get(id: number): Mapping | undefined {
    return this.byId[id];
  }

  /** An anon_vma that no VMA, frame or swap slot refers to gives its id back. */
  releaseIfUnused(av: AnonVma): void {
    if (av.vmas.size > 0 || av.users > 0 || av.id < 0) return;
    this.remove(av);
  }

  remove(m: Mapping): void {
    if (this.byId[m.id] !== m) invariant(false, `mappings: ${m.id} is not registered`);
    this.byId[m.id] = undefined;
    this.freeIds.push(m.id);
    m.id = -1;
  }

  /** Every live mapping (for the checker and inspection). */
  *all(): IterableIterator<Mapping> {
    for (const m of this.byId) if (m !== undefined) yield m;
  }
}
