/**
 * Traces in CSV (or tab- or blank-separated) columns whose meaning the user names, in order:
 * `--csv 'time,addr,op'`, `--csv 'ts,-,obj,size'`. Block I/O traces are one preset of it: MSR
 * Cambridge (`Timestamp,Hostname,DiskNumber,Type,Offset,Size,ResponseTime`, no header) is
 * `time,disk,disk,op,addr,size,-`.
 *
 * Column names (a name given twice is an error, except `disk`):
 *
 *   addr | address | offset   byte address of the request (decimal, or hex with 0x)
 *   lba | sector              512-byte sector number of the request
 *   page                      page number
 *   obj | key | id            an object's name (any text; objects are renumbered as first seen)
 *   size | bytes | len        request size in bytes (without it: one byte, or one page for obj)
 *   op | type | rw            read or write (below); without it every request reads
 *   disk | host | volume      part of the id space: requests of each distinct (disk, …) value
 *                             get pages of their own (several columns make one key)
 *   time | timestamp | ts | - (or any name starting with '-' or '_') ignored
 *
 * Exactly one of addr, lba, page and obj. A request covers the pages its bytes touch: with an
 * address, `floor(addr / page) … floor((addr + size − 1) / page)` — `ceil(size / page)` pages when
 * it is aligned; with a page number, `ceil(size / page)` pages from it; with an object,
 * `ceil(size / page)` pages of that object's own space. Page ids are `disk × 2^32 + page` (disks
 * numbered as first seen; one disk or none: the page itself), and objects' pages are numbered
 * densely as first seen. Columns past the named ones are ignored.
 *
 * Operations (any case): `r read get gets load rd 0` and SCSI `28 88 a8` read; `w write set put
 * store update add replace cas append prepend incr decr wr 1` and SCSI `2a 8a aa` write; `delete`
 * and `del` are skipped (counted in `skippedLines`): the cache simulation has no invalidation.
 *
 * The first line may be a header: when a column that must hold a number does not, on the first
 * line, the line is skipped as a header. The delimiter is a comma when the first line has one, else
 * a tab, else runs of blanks.
 */
import { closest } from 'fastest-levenshtein';
import { InputError } from '../../base/errors.js';
import { grouped } from '../../base/units.js';
import { PageIdMap } from '../../kernel/reclaim/idmap.js';
import type { PageSink } from './batch.js';
import { type Delimiter, delimiterOf, FieldParser } from './fields.js';

/** What a column means. */
export type CsvRole = 'addr' | 'lba' | 'page' | 'obj' | 'size' | 'op' | 'disk' | 'skip';

const NAMES: Readonly<Record<string, CsvRole>> = {
  addr: 'addr',
  address: 'addr',
  offset: 'addr',
  lba: 'lba',
  sector: 'lba',
  page: 'page',
  obj: 'obj',
  key: 'obj',
  id: 'obj',
  size: 'size',
  bytes: 'size',
  len: 'size',
  op: 'op',
  type: 'op',
  rw: 'op',
  disk: 'disk',
  host: 'disk',
  volume: 'disk',
  time: 'skip',
  timestamp: 'skip',
  ts: 'skip',
};

/** The column layout of MSR Cambridge block traces. */
export const MSR_SPEC = 'time,disk,disk,op,addr,size,-';

/** A checked column spec: each column's role. */
export interface CsvSpec {
  readonly text: string;
  readonly roles: readonly CsvRole[];
}

/**
 * Checks a `--csv` column list.
 * @throws InputError (naming `--csv`) for an unknown name, a repeated one, or no address column.
 */
export function parseCsvSpec(text: string, where = '--csv'): CsvSpec {
  const names = text.split(',').map((n) => n.trim().toLowerCase());
  const roles: CsvRole[] = [];
  const seen = new Set<CsvRole>();
  for (const [i, name] of names.entries()) {
    let role: CsvRole | undefined;
    if (name.startsWith('-') || name.startsWith('_')) role = 'skip';
    else role = NAMES[name];
    if (role === undefined) {
      throw new InputError(
        'flag',
        `column ${i + 1} of '${text}': unknown column name '${name}'; expected addr, lba, page, obj, size, op, disk, time or - (ignored)`,
        { file: where },
        name ? `did you mean '${closest(name, Object.keys(NAMES))}'?` : undefined,
      );
    }
    if (role !== 'skip' && role !== 'disk' && seen.has(role))
      throw new InputError('flag', `'${text}' names the ${role} column twice`, { file: where });
    seen.add(role);
    roles.push(role);
  }
  const keys = roles.filter((r) => r === 'addr' || r === 'lba' || r === 'page' || r === 'obj');
  if (keys.length !== 1) {
    throw new InputError(
      'flag',
      `'${text}' must name exactly one of addr, lba, page or obj (what each request touches)`,
      { file: where },
    );
  }
  if (roles.includes('obj') && roles.includes('disk'))
    throw new InputError('flag', `'${text}': objects have their own spaces; drop the disk column`, {
      file: where,
    });
  return { text, roles };
}

const READS = new Set([
  'r',
  'read',
  'get',
  'gets',
  'load',
  'rd',
  '0',
  '28',
  '0x28',
  '88',
  '0x88',
  'a8',
  '0xa8',
]);
const WRITES = new Set([
  ...['w', 'write', 'set', 'put', 'store', 'update', 'add', 'replace', 'cas', 'append', 'prepend'],
  ...['incr', 'decr', 'wr', '1', '2a', '0x2a', '8a', '0x8a', 'aa', '0xaa'],
]);
const SKIPPED = new Set(['delete', 'del']);

/** Disk pages live below 2^32 in each disk's space. */
const DISK_SPAN = 2 ** 32;
/** An object spans at most this many pages (its index is kept beside the page number). */
const OBJECT_SPAN = 2 ** 20;
/** Requests covering more pages than this are refused (a size column that is not one). */
const MAX_REQUEST_PAGES = 2 ** 20;

/** `skippedLines` counts blank lines, a header, and deletes. */
export class CsvParser extends FieldParser {
  readonly spec: CsvSpec;
  readonly pageSize: number;
  /** The header line skipped, if any. */
  header: string | null = null;
  private readonly keyCol: number;
  private readonly keyRole: CsvRole;
  private readonly sizeCol: number;
  private readonly opCol: number;
  private readonly diskCols: readonly number[];
  private readonly needed: number;
  private delimiterKnown: boolean;
  private firstData = true;
  private readonly disks = new Map<string, number>();
  private lastDisk = '';
  private lastDiskIndex = 0;
  private readonly objects = new Map<string, number>();
  private readonly objectPages = new PageIdMap(1024);

  /** @param delimiter the delimiter, or null to take it from the first line. */
  constructor(
    file: string,
    sink: PageSink,
    spec: CsvSpec,
    pageSize: number,
    delimiter: Delimiter | null = null,
  ) {
    super(file, sink, delimiter ?? ',');
    this.delimiterKnown = delimiter !== null;
    this.spec = spec;
    this.pageSize = pageSize;
    const roles = spec.roles;
    this.keyCol = roles.findIndex((r) => r === 'addr' || r === 'lba' || r === 'page' || r === 'obj');
    this.keyRole = roles[this.keyCol]!;
    this.sizeCol = roles.indexOf('size');
    this.opCol = roles.indexOf('op');
    this.diskCols = roles.flatMap((r, i) => (r === 'disk' ? [i] : []));
    let last = 0;
    roles.forEach((r, i) => {
      if (r !== 'skip') last = i;
    });
    this.needed = last + 1;
  }

  /** Distinct disks (id spaces) seen. */
  get diskCount(): number {
    return this.disks.size;
  }

  protected override parseLines(buf: Uint8Array, start: number, end: number): void {
    if (!this.delimiterKnown) {
      // The first line tells the delimiter (a header or data alike).
      let e = buf.indexOf(10, start);
      if (e < 0 || e > end) e = end;
      let line = '';
      for (let p = start; p < e; p++) line += String.fromCharCode(buf[p]!);
      if (line.trim() !== '') {
        this.delimiter = delimiterOf(line);
        this.delimiterKnown = true;
      }
    }
    super.parseLines(buf, start, end);
  }

  protected record(buf: Uint8Array): void {
    const first = this.firstData;
    this.firstData = false;
    if (this.fields < this.needed) {
      if (first && this.skipHeader(buf)) return;
      throw this.failAt(
        this.fieldEnd[this.fields - 1]!,
        `expected ${this.needed} ${this.delimiterName()}-separated fields (${this.spec.text}), found ${this.fields}`,
      );
    }
    let write = 0;
    if (this.opCol >= 0) {
      const op = this.text(buf, this.opCol).toLowerCase();
      if (WRITES.has(op)) write = 1;
      else if (SKIPPED.has(op)) {
        this.skippedLines++;
        return;
      } else if (!READS.has(op)) {
        if (first && this.skipHeader(buf)) return;
        throw this.failAt(
          this.fieldStart[this.opCol]!,
          `expected an operation in column ${this.opCol + 1} (read or write: R, W, get, set, …), found ${this.shown(buf, this.opCol)}`,
        );
      }
    }
    let size = 0;
    if (this.sizeCol >= 0) {
      size = this.number(buf, this.sizeCol);
      if (Number.isNaN(size)) {
        if (first && this.skipHeader(buf)) return;
        throw this.failAt(
          this.fieldStart[this.sizeCol]!,
          `expected a size in bytes in column ${this.sizeCol + 1}, found ${this.shown(buf, this.sizeCol)}`,
        );
      }
    }
    const ps = this.pageSize;
    if (this.keyRole === 'obj') {
      const name = this.text(buf, this.keyCol);
      if (name === '')
        throw this.failAt(
          this.fieldStart[this.keyCol]!,
          `expected an object name in column ${this.keyCol + 1}`,
        );
      const pages = Math.max(1, Math.ceil(size / ps));
      this.checkSpan(pages, this.sizeCol, OBJECT_SPAN);
      let obj = this.objects.get(name);
      if (obj === undefined) {
        obj = this.objects.size;
        this.objects.set(name, obj);
      }
      this.records++;
      for (let i = 0; i < pages; i++) {
        const fresh = this.objectPages.size;
        const got = this.objectPages.getOrAdd(obj * OBJECT_SPAN + i, fresh);
        this.emit(got >= 0 ? got : fresh, write);
      }
      return;
    }
    const v = this.number(buf, this.keyCol);
    if (Number.isNaN(v)) {
      if (first && this.skipHeader(buf)) return;
      const what =
        this.keyRole === 'page' ? 'a page number' : this.keyRole === 'lba' ? 'a sector number' : 'an address';
      throw this.failAt(
        this.fieldStart[this.keyCol]!,
        `expected ${what} in column ${this.keyCol + 1} (decimal, or hexadecimal with 0x), found ${this.shown(buf, this.keyCol)}`,
      );
    }
    let firstPage: number;
    let lastPage: number;
    if (this.keyRole === 'page') {
      firstPage = v;
      lastPage = v + Math.max(1, Math.ceil(size / ps)) - 1;
    } else {
      const addr = this.keyRole === 'lba' ? v * 512 : v;
      firstPage = Math.floor(addr / ps);
      lastPage = Math.floor((addr + Math.max(1, size) - 1) / ps);
    }
    this.checkSpan(lastPage - firstPage + 1, this.sizeCol, MAX_REQUEST_PAGES);
    let base = 0;
    if (this.diskCols.length > 0) {
      if (lastPage >= DISK_SPAN) {
        throw this.failAt(
          this.fieldStart[this.keyCol]!,
          `page ${lastPage} is beyond the 2^32 pages each disk's space holds`,
        );
      }
      base = this.diskIndex(buf) * DISK_SPAN;
    } else if (lastPage > Number.MAX_SAFE_INTEGER) {
      throw this.failAt(this.fieldStart[this.keyCol]!, 'the request ends beyond page 2^53');
    }
    this.records++;
    this.emitPages(base + firstPage, base + lastPage, write);
  }

  private checkSpan(pages: number, col: number, max: number): void {
    if (pages > max) {
      throw this.failAt(
        this.fieldStart[col]!,
        `a request of ${grouped(pages)} pages (more than ${grouped(max)}): is column ${col + 1} a size in bytes?`,
      );
    }
  }

  /** The index of the current line's disk (its disk columns' text, as first seen). */
  private diskIndex(buf: Uint8Array): number {
    let key = '';
    for (const c of this.diskCols) key += `${this.text(buf, c)}\u0000`;
    if (key === this.lastDisk) return this.lastDiskIndex;
    let i = this.disks.get(key);
    if (i === undefined) {
      i = this.disks.size;
      if (i * DISK_SPAN > Number.MAX_SAFE_INTEGER)
        throw this.failAt(this.fieldStart[this.diskCols[0]!]!, 'too many disks');
      this.disks.set(key, i);
    }
    this.lastDisk = key;
    this.lastDiskIndex = i;
    return i;
  }

  /** A first line whose number columns hold no digits at all is a header. */
  private looksLikeHeader(buf: Uint8Array): boolean {
    for (let i = 0; i < this.fields; i++) {
      for (let p = this.fieldStart[i]!; p < this.fieldEnd[i]!; p++) {
        const c = buf[p]!;
        if (c >= 48 && c <= 57) {
          if (this.spec.roles[i] === 'addr' || this.spec.roles[i] === 'size' || this.spec.roles[i] === 'lba')
            return false;
        }
      }
    }
    return true;
  }

  /** Skips the current line as a header when it looks like one. @returns true when it did. */
  private skipHeader(buf: Uint8Array): boolean {
    if (!this.looksLikeHeader(buf)) return false;
    const names: string[] = [];
    for (let i = 0; i < this.fields; i++) names.push(this.text(buf, i));
    this.header = names.join(this.delimiter === ' ' ? ' ' : this.delimiter);
    this.skippedLines++;
    return true;
  }

  private delimiterName(): string {
    return this.delimiter === ',' ? 'comma' : this.delimiter === '\t' ? 'tab' : 'blank';
  }
}
