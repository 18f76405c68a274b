import type { Logger, Offer } from '@meso/sdk-scheduler';
import type { ChronosMetrics } from './metrics.js';

/** The scheduler calls offer planning makes. */
export type OfferCalls = {
  decline(offerIds: string | readonly string[], filters?: { refuseSeconds?: number }): Promise<void>;
  revive(roles?: readonly string[]): Promise<void>;
  suppress(roles?: readonly string[]): Promise<void>;
};

/** How long an offer no wanted run fits is refused: the other frameworks get its resources meanwhile. */
const UNUSABLE_REFUSE_SECONDS = 5;

/**
 * Offers held for runs about to be due, and the revive/suppress state. While work is wanted
 * (a run queued, or due within the revive lead) the offers those runs fit are kept for up to
 * `holdMs` and then declined for fresh ones (refuse 1 s), the others declined at once; when idle they are declined (refuse 30 s) and offers are
 * suppressed. The first wish for offers always revives: a new subscription starts unsuppressed,
 * but declines of an earlier process may still filter offers, and revive clears filters.
 */
export class OfferPlanner {
  private readonly held = new Map<string, { offer: Offer; since: number }>();
  /** Undefined until the first decision (or after a failed call): unknown. */
  private state: boolean | undefined = undefined;

  constructor(
    private readonly calls: OfferCalls,
    private readonly metrics: ChronosMetrics,
    private readonly logger: Logger,
    private readonly holdMs: number,
  ) {}

  /** Whether offers are suppressed (undefined: not known). */
  get suppressed(): boolean | undefined {
    return this.state;
  }

  get size(): number {
    return this.held.size;
  }

  /** The held offers, oldest first. */
  offers(): Offer[] {
    return [...this.held.values()].map((h) => h.offer);
  }

  add(offers: readonly Offer[], now: number): void {
    for (const offer of offers) this.held.set(offer.id, { offer, since: now });
  }

  /** Forgets an offer (used for a launch, or rescinded). */
  remove(offerId: string): void {
    this.held.delete(offerId);
  }

  /** Forgets every offer (void after a disconnection). */
  clear(): void {
    this.held.clear();
  }

  /** When the oldest held offer is due to be declined, if any. */
  nextExpiry(): number | undefined {
    let at: number | undefined;
    for (const h of this.held.values()) at = Math.min(at ?? Infinity, h.since + this.holdMs);
    return at;
  }

  /**
   * Declines what should not be held, and revives or suppresses, given whether offers are wanted
   * now and which held offers the wanted runs would use (`useful`). Offers no wanted run fits are
   * declined at once (refuse `UNUSABLE_REFUSE_SECONDS`: the master's filter covers only what was
   * declined, so more resources freed on that agent come back sooner); useful ones are declined
   * after `holdMs` (refuse 1 s); everything when idle (refuse 30 s).
   */
  plan(wanted: boolean, now: number, useful: ReadonlySet<string> = new Set()): void {
    const declines = new Map<number, string[]>();
    for (const h of this.held.values()) {
      const refuse = !wanted ? 30 : !useful.has(h.offer.id) ? UNUSABLE_REFUSE_SECONDS : now - h.since >= this.holdMs ? 1 : undefined;
      if (refuse === undefined) continue;
      declines.set(refuse, [...(declines.get(refuse) ?? []), h.offer.id]);
    }
    for (const [refuseSeconds, ids] of declines) {
      for (const id of ids) this.held.delete(id);
      void this.calls.decline(ids, { refuseSeconds }).catch(() => undefined);
    }
    if (wanted && this.state !== false) {
      this.state = false;
      this.metrics.counters.revives++;
      void this.calls.revive().catch((e) => {
        this.state = undefined;
        this.logger.warn(`revive failed: ${(e as Error).message}`);
      });
    } else if (!wanted && this.state !== true) {
      this.state = true;
      this.metrics.counters.suppresses++;
      void this.calls.suppress().catch((e) => {
        this.state = undefined;
        this.logger.warn(`suppress failed: ${(e as Error).message}`);
      });
    }
  }
}
