import type { Logger, Offer } from '@meso/sdk-scheduler';
import type { ChronosMetrics } from './metrics.js';

/** The scheduler calls offer planning makes. */
export type OfferCalls = {
  decline(offerIds: string | readonly string[], filters?: { refuseSeconds?: number }): Promise<void>;
  revive(roles?: readonly string[]): Promise<void>;
  suppress(roles?: readonly string[]): Promise<void>;
};

/**
 * Offers held for runs about to be due, and the revive/suppress state. While work is wanted
 * (a run queued, or due within the revive lead) offers are kept for up to `holdMs` and then
 * declined for fresh ones (refuse 1 s); when idle they are declined (refuse 30 s) and offers are
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

  /** Declines stale offers and revives or suppresses, given whether offers are wanted now. */
  plan(wanted: boolean, now: number): void {
    const stale = [...this.held.values()].filter((h) => !wanted || now - h.since >= this.holdMs).map((h) => h.offer.id);
    if (stale.length > 0) {
      for (const id of stale) this.held.delete(id);
      void this.calls.decline(stale, { refuseSeconds: wanted ? 1 : 30 }).catch(() => undefined);
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
