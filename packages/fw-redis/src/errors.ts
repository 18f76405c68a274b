/** Stable codes of {@link RedisFwError}; never renamed once published. */
export type RedisFwErrorCode =
  /** A request failed validation (name, capacity, replicas, distribution, JSON). HTTP 400. */
  | 'INVALID_REQUEST'
  /** The cluster cannot hold what was asked (capacity above every agent, replicas that cannot be spread). HTTP 422. */
  | 'UNSATISFIABLE'
  /** An instance of that name exists. HTTP 409. */
  | 'INSTANCE_EXISTS'
  /** No instance of that name. HTTP 404. */
  | 'INSTANCE_NOT_FOUND'
  /** The instance is in a state where the request makes no sense (e.g. scaling one being deleted). HTTP 409. */
  | 'INVALID_STATE'
  /** Options given to `startRedis` are invalid. */
  | 'INVALID_OPTIONS'
  /** The store or the master failed underneath. HTTP 500. */
  | 'INTERNAL';

/** The one error type of fw-redis: a stable `code`, the `field` at fault if any, a `cause`. */
export class RedisFwError extends Error {
  override readonly name = 'RedisFwError';
  readonly code: RedisFwErrorCode;
  readonly field: string | undefined;

  constructor(code: RedisFwErrorCode, message: string, options: { field?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.field = options.field;
  }
}

/** An INVALID_REQUEST error naming the field. */
export function invalid(field: string, message: string): RedisFwError {
  return new RedisFwError('INVALID_REQUEST', `${field}: ${message}`, { field });
}

/** HTTP status of each code. */
export const HTTP_STATUS: Record<RedisFwErrorCode, number> = {
  INVALID_REQUEST: 400,
  UNSATISFIABLE: 422,
  INSTANCE_EXISTS: 409,
  INSTANCE_NOT_FOUND: 404,
  INVALID_STATE: 409,
  INVALID_OPTIONS: 400,
  INTERNAL: 500,
};
