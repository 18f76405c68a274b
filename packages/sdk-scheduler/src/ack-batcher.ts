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
 * Coalesces acknowledgements into few ACKNOWLEDGE calls: those added in one turn of the event
 * loop (e.g. every update of a burst the consumer handled) go in one call, sent once the turn
 * ends (`setImmediate`); while that call is in flight, the next ones wait and go together when
 * it ends (at most `MAX_ACKS_PER_CALL` per call). So a busy master gets a few large calls
 * rather than a unary call per update, which was the SDK's dominant cost when many tasks start
 * at once; an idle one gets each acknowledgement at once.
 */
export class AckBatcher {
  private waiting: PendingAck[] = [];
  private scheduled = false;
  private inFlight: Promise<void> | undefined;

  /** `send` makes one call; `failed` hears a call's failure (the agent re-sends those updates). */
  constructor(
    private readonly send: (body: AcknowledgeBody) => Promise<void>,
    private readonly failed: (acks: readonly PendingAck[], error: unknown) => void,
  ) {}

  add(ack: PendingAck): void {
    this.waiting.push(ack);
    if (this.scheduled || this.inFlight) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  /** Sends (up to `MAX_ACKS_PER_CALL` of) what is waiting, unless a call is in flight. */
  flush(): void {
    if (this.inFlight || this.waiting.length === 0) return;
    const acks = this.waiting.length <= MAX_ACKS_PER_CALL ? this.waiting : this.waiting.slice(0, MAX_ACKS_PER_CALL);
    this.waiting = acks === this.waiting ? [] : this.waiting.slice(MAX_ACKS_PER_CALL);
    this.inFlight = this.send(acknowledgeBody(acks))
      .catch((e: unknown) => this.failed(acks, e))
      .finally(() => {
        this.inFlight = undefined;
        this.flush();
      });
  }

  /** Acknowledgements waiting or in flight. */
  get busy(): boolean {
    return this.waiting.length > 0 || this.inFlight !== undefined;
  }

  /** Sends everything waiting, call after call; resolves when the last call ended. Never rejects. */
  async drain(): Promise<void> {
    this.flush();
    while (this.inFlight) await this.inFlight;
  }
}
