/**
 * Address-space identifiers: which tag each address space's TLB entries carry, and the shootdowns that
 * keep the TLB coherent with page tables (Linux `arch/x86/mm/tlb.c`'s PCID generations, simplified).
 *
 * With ASIDs (x86-64 PCID, RISC-V ASID, teach16), an address space keeps its tag across context
 * switches while its generation is current; when the tags run out every address space gets a fresh one
 * after a full flush. Without them (i386) a switch flushes the whole TLB.
 */
import type { Mmu } from '../hw/mmu.js';
import type { Tlb } from '../hw/tlb.js';
import type { EventSink } from './events.js';
import type { Mm } from './mm.js';

export class Asids {
  readonly bits: number;
  private readonly tlb: Tlb;
  private readonly mmu: Mmu;
  private generation = 1;
  private nextAsid = 1;
  private readonly generationOf = new Map<Mm, number>();
  /** The address space loaded in the MMU, or null. */
  current: Mm | null = null;
  sink: EventSink | null = null;

  constructor(bits: number, mmu: Mmu) {
    this.bits = bits;
    this.mmu = mmu;
    this.tlb = mmu.tlb;
  }

  /** A context switch to `mm`: picks its ASID (flushing when needed) and loads the MMU. */
  switchTo(mm: Mm): void {
    if (this.bits === 0) {
      if (this.current !== mm) this.tlb.flushAll();
      mm.asid = 0;
    } else if (this.generationOf.get(mm) !== this.generation) {
      if (this.nextAsid >= 2 ** this.bits) {
        // Rollover: every address space gets a fresh ASID on its next switch.
        this.tlb.flushAll();
        this.generation++;
        this.nextAsid = 1;
      }
      mm.asid = this.nextAsid++;
      this.generationOf.set(mm, this.generation);
    }
    this.current = mm;
    this.mmu.setContext(mm.rootPfn, mm.asid);
  }

  /** True when `mm`'s TLB entries are tagged with its current ASID (the TLB may hold some). */
  isLive(mm: Mm): boolean {
    return this.bits === 0 ? this.current === mm : this.generationOf.get(mm) === this.generation;
  }

  /** TLB shootdown for pages [startVpn, endVpn) of `mm` (only its live entries can be cached). */
  flushRange(mm: Mm, startVpn: number, endVpn: number): void {
    if (this.bits === 0) {
      if (this.current === mm) this.tlb.invalidateRange(0, startVpn, endVpn);
    } else if (this.generationOf.get(mm) === this.generation) {
      this.tlb.invalidateRange(mm.asid, startVpn, endVpn);
    }
    if (this.sink) this.sink.push({ type: 'tlb-flush', asid: mm.asid, startVpn, endVpn });
  }

  /** The address space is gone: its entries are dropped and its tag forgotten. */
  release(mm: Mm): void {
    if (this.bits === 0) {
      if (this.current === mm) this.tlb.flushAll();
    } else if (this.generationOf.get(mm) === this.generation) {
      this.tlb.invalidateAsid(mm.asid);
    }
    this.generationOf.delete(mm);
    if (this.current === mm) this.current = null;
  }
}
