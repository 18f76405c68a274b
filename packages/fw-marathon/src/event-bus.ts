/** One event of `/v2/events`, with its increasing id. */
export interface MarathonEvent {
  id: number;
  eventType: string;
  data: Record<string, unknown>;
}

/** What `EventBus.since` returns: the events after an id, and whether some were lost. */
export interface Replay {
  events: MarathonEvent[];
  /** Events after the id fell out of the buffer: the client must re-read state. */
  gap: boolean;
}

/**
 * Marathon's event stream with ids: every event gets the next id and goes into a bounded
 * ring buffer, so a client reconnecting with `Last-Event-ID` gets what it missed, or an explicit
 * gap when the buffer no longer holds it.
 */
export class EventBus {
  private readonly buffer: MarathonEvent[] = [];
  private readonly listeners = new Set<(e: MarathonEvent) => void>();
  private nextId = 1;

  constructor(private readonly capacity = 10_000, private readonly now: () => number = Date.now) {}

  /** The id of the last event published (0 before any). */
  get lastId(): number {
    return this.nextId - 1;
  }

  /** Publishes an event (adds `eventType` and `timestamp` to its data, as Marathon does). */
  publish(eventType: string, data: Record<string, unknown>): MarathonEvent {
    const event: MarathonEvent = { id: this.nextId++, eventType, data: { eventType, timestamp: new Date(this.now()).toISOString(), ...data } };
    this.buffer.push(event);
    if (this.buffer.length > this.capacity) this.buffer.shift();
    for (const l of this.listeners) l(event);
    return event;
  }

  /** The buffered events after `id`. */
  since(id: number): Replay {
    const first = this.buffer[0];
    const gap = id < this.lastId && (first === undefined || first.id > id + 1);
    return { events: this.buffer.filter((e) => e.id > id), gap };
  }

  /** Calls `listener` for every later event; returns the unsubscribe function. */
  subscribe(listener: (e: MarathonEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** How many clients listen. */
  get subscribers(): number {
    return this.listeners.size;
  }
}
