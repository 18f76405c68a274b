export type StateErrorCode =
  /** A stored file cannot be read back (truncated, corrupt, wrong checksum). */
  | 'STATE_CORRUPT'
  /** A compare-and-set found another version than the caller expected. */
  | 'STATE_CONFLICT'
  /** A key is empty or has characters a key may not have. */
  | 'STATE_INVALID_KEY'
  /** The value cannot be stored as JSON. */
  | 'STATE_INVALID_VALUE'
  /** The store was closed. */
  | 'STATE_CLOSED'
  /** The file system refused (permissions, disk full, ...). */
  | 'STATE_IO';

/** Every failure of a state store; `path` names the file where there is one. */
export class StateError extends Error {
  override readonly name = 'StateError';

  constructor(
    readonly code: StateErrorCode,
    message: string,
    readonly path?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
