/**
 * Stable codes of {@link ExecutorError}. Never renamed once published.
 *
 * - `INVALID_OPTIONS`: an option (or the environment variable it defaults from) is missing or malformed.
 * - `INVALID_ARGUMENT`: a call got a bad argument (unknown state, empty task id, ...).
 * - `CONNECTION_FAILED`: the agent could not be reached or refused the subscription.
 * - `UNAUTHORIZED`: the agent rejected the executor token.
 * - `UNKNOWN_EXECUTOR`: the agent does not know this executor (it did not start it, or the run
 *   has ended, e.g. the agent restarted and cleaned it up); retrying cannot help.
 * - `RECOVERY_TIMEOUT`: the agent stayed unreachable for longer than the recovery timeout.
 * - `DISCONNECTED`: the agent connection is down (a message could not be sent).
 * - `REJECTED`: the agent refused a call (e.g. an update for a task it does not know).
 * - `CLOSED`: the executor was closed.
 * - `HANDLER_FAILED`: one of your handlers threw; the SDK caught it.
 */
export type ExecutorErrorCode =
  | 'INVALID_OPTIONS'
  | 'INVALID_ARGUMENT'
  | 'CONNECTION_FAILED'
  | 'UNAUTHORIZED'
  | 'UNKNOWN_EXECUTOR'
  | 'RECOVERY_TIMEOUT'
  | 'DISCONNECTED'
  | 'REJECTED'
  | 'CLOSED'
  | 'HANDLER_FAILED';

/** Every failure the executor SDK reports. Raw gRPC errors never escape; they are the `cause`. */
export class ExecutorError extends Error {
  override readonly name = 'ExecutorError';

  constructor(
    readonly code: ExecutorErrorCode,
    message: string,
    options?: { cause?: unknown; field?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    if (options?.field !== undefined) this.field = options.field;
  }

  /** The option or argument at fault, when there is one. */
  readonly field?: string;
}
