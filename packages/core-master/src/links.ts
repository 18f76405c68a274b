import type { Event, MasterMessage } from '@meso/proto';

/**
 * A framework's subscription stream, as the master sees it (the transport implements it).
 * `close` ends the stream, after an ERROR event when `error` is given.
 */
export interface FrameworkLink {
  readonly streamId: string;
  send(event: Event): void;
  close(error?: { code: string; message: string }): void;
}

/** An agent's link stream, as the master sees it. */
export interface AgentLink {
  send(message: MasterMessage): void;
  close(): void;
}
