/** An entry of a ShareOrder: an id and its current share. */
export interface Ranked {
  readonly id: string;
  share: number;
}

/** (share, id) ascending: the order DRF serves in, deterministic on ties. */
function before(a: Ranked, b: Ranked): boolean {
  return a.share < b.share || (a.share === b.share && a.id < b.id);
}

/**
 * Ids kept sorted by ascending share, ties by id, under point updates: when one id's share
 * changes it is moved to its new place by binary search (O(log n) compares and one array
 * move), instead of the whole list being re-sorted. `items` is the current order.
 */
export class ShareOrder {
  readonly items: Ranked[];

  constructor(entries: Iterable<Ranked>) {
    this.items = [...entries].sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
  }

  /** Sets the share of the entry at `index` and moves it to where it now belongs. */
  update(index: number, share: number): void {
    const [entry] = this.items.splice(index, 1);
    if (!entry) throw new RangeError(`ShareOrder.update: no entry at ${index}`);
    entry.share = share;
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (before(this.items[mid] as Ranked, entry)) lo = mid + 1;
      else hi = mid;
    }
    this.items.splice(lo, 0, entry);
  }

  /** The index of `id` (a linear scan; for the rare updates of entries not just visited). */
  indexOf(id: string): number {
    return this.items.findIndex((e) => e.id === id);
  }
}
