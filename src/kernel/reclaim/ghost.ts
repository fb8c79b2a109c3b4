/**
 * A ghost list: the ids of recently evicted pages, no data — the history ARC, 2Q and S3-FIFO keep to
 * recognise a page that comes back soon after its eviction.
 *
 * A bounded queue, newest at the back, with O(1) membership and removal by page id: an intrusive
 * list over a pool of entries plus a `PageIdMap` from page id to entry. Pushing beyond `limit`
 * drops the oldest entry.
 */
import { invariant } from '../../base/errors.js';
import { PageIdMap } from './idmap.js';
import { SlotList } from './slotlist.js';

export class GhostList {
  readonly limit: number;
  private readonly map: PageIdMap;
  private readonly list: SlotList;
  private readonly pageOf: Float64Array;
  private readonly freeEntries: Int32Array;
  private freeTop: number;

  /** @param limit the most ids kept (≥ 1). */
  constructor(limit: number) {
    invariant(limit >= 1, 'ghost: limit must be at least 1');
    this.limit = limit;
    // One spare entry: a push may exceed the limit for a moment before the oldest is dropped.
    const pool = limit + 1;
    this.map = new PageIdMap(pool, { fixed: true });
    this.list = new SlotList(pool);
    this.pageOf = new Float64Array(pool);
    this.freeEntries = new Int32Array(pool);
    this.freeTop = 0;
    this.clear();
  }

  get size(): number {
    return this.list.size;
  }

  has(page: number): boolean {
    return this.map.get(page) >= 0;
  }

  /** Adds `page` as the newest id (moving it if present), dropping the oldest beyond the limit. */
  push(page: number): void {
    if (this.map.get(page) >= 0) this.remove(page);
    const e = this.freeEntries[--this.freeTop]!;
    this.pageOf[e] = page;
    this.map.set(page, e);
    this.list.pushBack(e);
    if (this.list.size > this.limit) this.popOldest();
  }

  /** Removes `page`. @returns whether it was there. */
  remove(page: number): boolean {
    const e = this.map.delete(page);
    if (e < 0) return false;
    this.list.unlink(e);
    this.freeEntries[this.freeTop++] = e;
    return true;
  }

  /** Drops the oldest id (none when empty). */
  popOldest(): void {
    const e = this.list.popFront();
    if (e < 0) return;
    this.map.delete(this.pageOf[e]!);
    this.freeEntries[this.freeTop++] = e;
  }

  clear(): void {
    this.map.clear();
    this.list.clear();
    this.freeTop = 0;
    for (let e = this.pageOf.length - 1; e >= 0; e--) this.freeEntries[this.freeTop++] = e;
  }

  /** The ids, oldest first. Slow path. */
  toArray(): number[] {
    return this.list.toArray().map((e) => this.pageOf[e]!);
  }

  /** Inconsistencies between the list, the map and the free pool. */
  check(label: string): string[] {
    const errors = this.list.check(label);
    if (this.list.size > this.limit)
      errors.push(`${label}: ${this.list.size} ids over the limit ${this.limit}`);
    if (this.map.size !== this.list.size)
      errors.push(`${label}: map holds ${this.map.size}, list ${this.list.size}`);
    for (const e of this.list.toArray()) {
      if (this.map.get(this.pageOf[e]!) !== e)
        errors.push(`${label}: page ${this.pageOf[e]} not mapped to its entry`);
    }
    if (this.freeTop + this.list.size !== this.pageOf.length) errors.push(`${label}: entries leaked`);
    return errors;
  }
}
