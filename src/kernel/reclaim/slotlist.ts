/**
 * An intrusive doubly linked list of slots in two `Int32Array`s (`prev`/`next` by slot, -1 = none):
 * O(1) append, unlink and move, no allocation. `head` is the front (oldest, least recently used),
 * `tail` the back (newest). A slot is in at most one list; the owner tracks which.
 */
export class SlotList {
  readonly prev: Int32Array;
  readonly next: Int32Array;
  head = -1;
  tail = -1;
  size = 0;

  constructor(capacity: number) {
    this.prev = new Int32Array(capacity).fill(-1);
    this.next = new Int32Array(capacity).fill(-1);
  }

  /** Appends `slot` (not in any list) at the back. */
  pushBack(slot: number): void {
    const tail = this.tail;
    this.prev[slot] = tail;
    this.next[slot] = -1;
    if (tail === -1) this.head = slot;
    else this.next[tail] = slot;
    this.tail = slot;
    this.size++;
  }

  /** Inserts `slot` (not in any list) at the front. */
  pushFront(slot: number): void {
    const head = this.head;
    this.next[slot] = head;
    this.prev[slot] = -1;
    if (head === -1) this.tail = slot;
    else this.prev[head] = slot;
    this.head = slot;
    this.size++;
  }

  /** Unlinks `slot`, which is in this list. */
  unlink(slot: number): void {
    const p = this.prev[slot]!;
    const n = this.next[slot]!;
    if (p === -1) this.head = n;
    else this.next[p] = n;
    if (n === -1) this.tail = p;
    else this.prev[n] = p;
    this.prev[slot] = -1;
    this.next[slot] = -1;
    this.size--;
  }

  /** Moves `slot`, which is in this list, to the back. */
  moveToBack(slot: number): void {
    if (this.tail === slot) return;
    const p = this.prev[slot]!;
    const n = this.next[slot]!;
    // slot is not the tail, so n !== -1.
    if (p === -1) this.head = n;
    else this.next[p] = n;
    this.prev[n] = p;
    const tail = this.tail;
    this.prev[slot] = tail;
    this.next[slot] = -1;
    this.next[tail] = slot;
    this.tail = slot;
  }

  /** Removes and returns the front slot (-1 when empty). */
  popFront(): number {
    const slot = this.head;
    if (slot !== -1) this.unlink(slot);
    return slot;
  }

  /** Empties the list (the arrays are reset too). */
  clear(): void {
    this.prev.fill(-1);
    this.next.fill(-1);
    this.head = -1;
    this.tail = -1;
    this.size = 0;
  }

  /** The slots front to back. Slow path. */
  toArray(): number[] {
    const out: number[] = [];
    for (let s = this.head; s !== -1 && out.length <= this.prev.length; s = this.next[s]!) out.push(s);
    return out;
  }

  /** Broken links, as text (for `validate`): the walk both ways must agree with `size`. */
  check(label: string): string[] {
    const errors: string[] = [];
    const fwd = this.toArray();
    if (fwd.length !== this.size) errors.push(`${label}: ${fwd.length} slots linked, size says ${this.size}`);
    let back = 0;
    let expectNext = -1;
    for (let s = this.tail; s !== -1 && back <= this.prev.length; s = this.prev[s]!) {
      if (this.next[s] !== expectNext)
        errors.push(`${label}: next[${s}] is ${this.next[s]}, not ${expectNext}`);
      expectNext = s;
      back++;
    }
    if (back !== fwd.length) errors.push(`${label}: ${back} slots backwards, ${fwd.length} forwards`);
    if ((this.head === -1) !== (this.size === 0))
      errors.push(`${label}: head ${this.head} with size ${this.size}`);
    return errors;
  }
}

/** A list must hold exactly the slots marked present. Shared by the list-based policies' validate(). */
export function checkListMembership(list: SlotList, present: Uint8Array, label: string): string[] {
  const errors = list.check(label);
  const inList = new Uint8Array(present.length);
  for (const s of list.toArray()) {
    if (inList[s]) errors.push(`${label}: slot ${s} linked twice`);
    inList[s] = 1;
  }
  for (let s = 0; s < present.length; s++) {
    if ((present[s] === 1) !== (inList[s] === 1)) {
      errors.push(`${label}: slot ${s} ${present[s] ? 'present but not linked' : 'linked but not present'}`);
    }
  }
  return errors;
}

/**
 * For the policies that split the occupied slots over lists and mark in `where` which list holds
 * each slot (`lists[i]` is marked i + 1, a free slot 0: 2Q, S3-FIFO, ARC): every listed slot must be
 * marked for its list, and as many slots marked as the lists hold. The lists' own links are
 * checked by `SlotList.check`.
 */
export function checkWhere(
  label: string,
  where: Uint8Array,
  lists: readonly (readonly [list: SlotList, name: string])[],
): string[] {
  const errors: string[] = [];
  let listed = 0;
  for (let i = 0; i < lists.length; i++) {
    const [list, name] = lists[i]!;
    for (const s of list.toArray())
      if (where[s] !== i + 1) errors.push(`${label}: slot ${s} in ${name}, where says ${where[s]}`);
    listed += list.size;
  }
  let n = 0;
  for (let s = 0; s < where.length; s++) if (where[s] !== 0) n++;
  if (n !== listed) errors.push(`${label}: ${n} slots marked, lists hold ${listed}`);
  return errors;
}

/**
 * What the policies that keep every occupied slot in one {@link SlotList} share (`fifo`,
 * `second-chance`, `lru`, `mru`, `sieve`): the list, a present bit per slot, and the slow-path methods
 * over them. Each policy's extra per-slot state is its own (it extends `remove` and `reset` for it).
 * The hot methods (`insert`, `touch`, `victim`) stay in each policy's class, even where two are
 * alike: see `hand.ts` for why.
 */
export abstract class ListPolicy {
  abstract readonly name: string;
  readonly needsFuture = false;
  readonly capacity: number;
  /** Every occupied slot, in the order the policy keeps them. */
  protected readonly list: SlotList;
  protected readonly present: Uint8Array;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.list = new SlotList(capacity);
    this.present = new Uint8Array(capacity);
  }

  get resident(): number {
    return this.list.size;
  }

  remove(slot: number): void {
    this.list.unlink(slot);
    this.present[slot] = 0;
  }

  reset(): void {
    this.list.clear();
    this.present.fill(0);
  }

  isResident(slot: number): boolean {
    return this.present[slot] === 1;
  }

  /** The list front to back. */
  order(): number[] {
    return this.list.toArray();
  }

  validate(): string[] {
    return checkListMembership(this.list, this.present, this.name);
  }
}
