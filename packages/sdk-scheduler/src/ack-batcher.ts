import type { AcknowledgeRequest } from '@meso/proto';

/** The body of an ACKNOWLEDGE call (without its CallContext). */
export type AcknowledgeBody = Omit<AcknowledgeRequest, 'context'>;

/** One update to acknowledge. */
export interface PendingAck {
  taskId: string;
  agentId: string | undefined;
  uuid: string;
}

/** At most this many acknowledgements go in one call (about 100 bytes each). */
export const MAX_ACKS_PER_CALL = 1000;

/** The ACKNOWLEDGE request for `acks`: the single fields for one, `acknowledgements` for more. */
export function acknowledgeBody(acks: readonly PendingAck[]): AcknowledgeBody {
  const wire = acks.map((a) => ({ taskId: { value: a.taskId }, agentId: a.agentId ? { value: a.agentId } : undefined, uuid: a.uuid }));
  if (wire.length === 1) return { ...(wire[0] as (typeof wire)[number]), acknowledgements: [] };
  return { taskId: undefined, agentId: undefined, uuid: '', acknowledgements: wire };
}

/**
 * Coalesces acknowledgements: those added in one turn of the event loop (e.g. every update of
 * a burst the consumer handled) go to the master in one ACKNOWLEDGE call, sent once the turn
 * ends (`setImmediate`) or as soon as `MAX_ACKS_PER_CALL` are waiting. Without it each update
 * cost a unary gRPC call of its own, the SDK's dominant cost when many tasks start at once.
 */
export class AckBatcher {
  private waiting: PendingAck[] = [];
  private scheduled = false;
  private readonly inFlight = new Set<Promise<void>>();

  /** `send` makes one call; `failed` hears a call's failure (the agent re-sends those updates). */
  constructor(
    private readonly send: (body: AcknowledgeBody) => Promise<void>,
    private readonly failed: (acks: readonly PendingAck[], error: unknown) => void,
  ) {}

  add(ack: PendingAck): void {
    this.waiting.push(ack);
    if (this.waiting.length >= MAX_ACKS_PER_CALL) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.flush();
      });
    }
  }

  /** Sends what is waiting now. */
  flush(): void {
    const acks = this.waiting;
    if (acks.length === 0) return;
    this.waiting = [];
    const call: Promise<void> = this.send(acknowledgeBody(acks))
      .catch((e: unknown) => this.failed(acks, e))
      .finally(() => this.inFlight.delete(call));
    this.inFlight.add(call);
  }

  /** Acknowledgements waiting or in flight. */
  get busy(): boolean {
    return this.waiting.length > 0 || this.inFlight.size > 0;
  }

  /** Sends what is waiting and resolves when every call made so far has ended. Never rejects. */
  async drain(): Promise<void> {
    this.flush();
    await Promise.allSettled([...this.inFlight]);
  }
}
