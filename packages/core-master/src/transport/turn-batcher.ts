/**
 * Coalesces the messages written to one stream in one turn of the event loop into one message
 * (`wrap` makes it from several, in order), written once the turn ends (`setImmediate`); a
 * lone message goes out as it is. Until `enable`, every message is written at once (the peer
 * did not say it understands batches). The master uses it for the RunTasks of one ACCEPT, the
 * acknowledgements of one call, the updates of one agent batch: one gRPC message, one HTTP/2
 * write instead of hundreds.
 */
export class TurnBatcher<M> {
  private queued: M[] = [];
  private batching = false;

  constructor(
    private readonly write: (message: M) => void,
    private readonly wrap: (messages: M[]) => M,
  ) {}

  /** From now on, batch (or, with false, write each at once after what is queued). */
  enable(yes = true): void {
    if (!yes) this.flush();
    this.batching = yes;
  }

  send(message: M): void {
    if (!this.batching) {
      this.write(message);
      return;
    }
    if (this.queued.push(message) === 1) setImmediate(() => this.flush());
  }

  /** Writes what is queued now (e.g. before the stream ends). */
  flush(): void {
    const messages = this.queued;
    if (messages.length === 0) return;
    this.queued = [];
    this.write(messages.length === 1 ? (messages[0] as M) : this.wrap(messages));
  }
}
