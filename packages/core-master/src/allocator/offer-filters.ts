import type { FilterLookup, OfferFilter } from './types.js';

/** The lower `until` first: a binary min-heap's order. */
const earlier = (a: OfferFilter, b: OfferFilter): boolean => a.until < b.until;

/**
 * Offer filters kept indexed by (framework, agent), as the allocator looks them up, and by
 * expiry (a min-heap of `until`), so that neither an allocation cycle nor a DECLINE walks
 * every filter: adding one, dropping the expired ones and dropping a framework's cost what
 * they touch. The master's model keeps one, changed only by `apply`; the allocator reads it
 * through `forPair` (and ignores filters whose `until` has passed, pruned or not).
 */
export class OfferFilters implements FilterLookup {
  private readonly byFramework = new Map<string, Map<string, OfferFilter[]>>();
  /** Every filter added and not yet popped; a dropped framework's stay until they expire (`stale` counts them). */
  private heap: OfferFilter[] = [];
  private stale = 0;
  private count = 0;

  /** @param rebuildAfter dropped filters waiting in the heap before it may be rebuilt without them (tests lower it). */
  constructor(private readonly rebuildAfter = 1024) {}

  /** An index of `filters` (all of them, expired or not). */
  static of(filters: Iterable<OfferFilter>): OfferFilters {
    const index = new OfferFilters();
    for (const f of filters) index.add(f);
    return index;
  }

  /** Filters held (expired ones not yet pruned included). */
  get size(): number {
    return this.count;
  }

  /** The filters of one (framework, agent) pair, or undefined; callers check `until`. */
  forPair(frameworkId: string, agentId: string): readonly OfferFilter[] | undefined {
    return this.byFramework.get(frameworkId)?.get(agentId);
  }

  /** Every filter held, in no particular order. */
  list(): OfferFilter[] {
    const out: OfferFilter[] = [];
    for (const byAgent of this.byFramework.values()) for (const list of byAgent.values()) out.push(...list);
    return out;
  }

  add(filter: OfferFilter): void {
    let byAgent = this.byFramework.get(filter.frameworkId);
    if (!byAgent) this.byFramework.set(filter.frameworkId, (byAgent = new Map()));
    const list = byAgent.get(filter.agentId);
    if (list) list.push(filter);
    else byAgent.set(filter.agentId, [filter]);
    this.count++;
    this.push(filter);
  }

  /** Drops every filter of a framework (REVIVE, removal). */
  removeFramework(frameworkId: string): void {
    const byAgent = this.byFramework.get(frameworkId);
    if (!byAgent) return;
    let n = 0;
    for (const list of byAgent.values()) n += list.length;
    this.byFramework.delete(frameworkId);
    this.count -= n;
    this.stale += n;
    // Dropped filters wait in the heap until they expire; rebuild it when they are most of it.
    if (this.stale > this.rebuildAfter && this.stale > this.heap.length / 2) this.rebuildHeap();
  }

  /** Drops the filters whose `until` is at or before `now`. */
  expire(now: number): void {
    for (let top = this.heap[0]; top !== undefined && top.until <= now; top = this.heap[0]) {
      this.pop();
      this.unlink(top);
    }
  }

  /**
   * The earliest `until` of a filter held that is after `now` (Infinity when none): until
   * then, which filters are live cannot change without a write. Prunes the expired ones.
   */
  nextExpiry(now: number): number {
    this.expire(now);
    // A dropped framework's filter is no bound: pop those first.
    for (let top = this.heap[0]; top !== undefined && !this.byFramework.get(top.frameworkId)?.get(top.agentId)?.includes(top); top = this.heap[0]) {
      this.pop();
      this.stale--;
    }
    return this.heap[0]?.until ?? Number.POSITIVE_INFINITY;
  }

  /** Takes a popped filter out of its pair's list; a dropped framework's is only counted off. */
  private unlink(filter: OfferFilter): void {
    const byAgent = this.byFramework.get(filter.frameworkId);
    const list = byAgent?.get(filter.agentId);
    const i = list ? list.indexOf(filter) : -1;
    if (!byAgent || !list || i < 0) {
      this.stale--;
      return;
    }
    list.splice(i, 1);
    this.count--;
    if (list.length === 0) byAgent.delete(filter.agentId);
    if (byAgent.size === 0) this.byFramework.delete(filter.frameworkId);
  }

  private rebuildHeap(): void {
    const live = this.list();
    this.heap = [];
    this.stale = 0;
    for (const f of live) this.push(f);
  }

  private push(filter: OfferFilter): void {
    const heap = this.heap;
    let i = heap.push(filter) - 1;
    while (i > 0) {
      const parent = (i - 1) >>> 1;
      if (!earlier(filter, heap[parent] as OfferFilter)) break;
      heap[i] = heap[parent] as OfferFilter;
      i = parent;
    }
    heap[i] = filter;
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= heap.length) break;
      const r = l + 1;
      const child = r < heap.length && earlier(heap[r] as OfferFilter, heap[l] as OfferFilter) ? r : l;
      if (!earlier(heap[child] as OfferFilter, last)) break;
      heap[i] = heap[child] as OfferFilter;
      i = child;
    }
    heap[i] = last;
  }
}

function isList(filters: readonly OfferFilter[] | FilterLookup): filters is readonly OfferFilter[] {
  return Array.isArray(filters);
}

/** `AllocatorInput.filters` as a lookup by (framework, agent): a list is indexed, an index used as it is. */
export function filterLookup(filters: readonly OfferFilter[] | FilterLookup): FilterLookup {
  return isList(filters) ? OfferFilters.of(filters) : filters;
}

/** `AllocatorInput.filters` as a list (for tests and the reference allocator). */
export function filterList(filters: readonly OfferFilter[] | FilterLookup): readonly OfferFilter[] {
  if (isList(filters)) return filters;
  if (filters instanceof OfferFilters) return filters.list();
  throw new TypeError('filterList: a FilterLookup that is not an OfferFilters cannot be listed');
}
