import type { MesoErrorDetails } from '@meso/proto';

/**
 * Stable codes of {@link AgentError}. Never renamed once published.
 *
 * - `INVALID_OPTIONS`: an option is missing or malformed (the message names it).
 * - `INVALID_RESOURCES`: `resources` cannot be parsed (the message names the fragment).
 * - `INVALID_ATTRIBUTES`: `attributes` cannot be parsed (the message names the fragment).
 * - `WORK_DIR`: the work directory cannot be created or written.
 * - `MISSING_PROGRAM`: a program the agent needs is not installed (the message names it and its package).
 * - `BIND_FAILED`: the agent's gRPC server cannot listen on host:port.
 * - `REFUSED`: the master refused to register this agent (its reason is in the message).
 * - `CLOSED`: the agent was closed.
 */
export type AgentErrorCode = 'INVALID_OPTIONS' | 'INVALID_RESOURCES' | 'INVALID_ATTRIBUTES' | 'WORK_DIR' | 'MISSING_PROGRAM' | 'BIND_FAILED' | 'REFUSED' | 'CLOSED';

/** Every failure the agent reports to its caller; the underlying error is the `cause`. */
export class AgentError extends Error {
  override readonly name = 'AgentError';
  /** The option at fault, when there is one (e.g. `resources`, `port`). */
  readonly field?: string;

  constructor(
    readonly code: AgentErrorCode,
    message: string,
    options?: { cause?: unknown; field?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    if (options?.field !== undefined) this.field = options.field;
  }
}

/** A refused call from an executor; the gRPC server turns it into a status with Meso's error code. @internal */
export class CallRefusedError extends Error {
  override readonly name = 'CallRefusedError';

  constructor(readonly details: MesoErrorDetails) {
    super(details.message);
  }
}
