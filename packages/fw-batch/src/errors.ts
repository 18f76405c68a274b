/** Stable codes of {@link BatchError}; never renamed once published. */
export type BatchErrorCode =
  /** A job failed validation (type, range, unknown dependency, cycle, ...). HTTP 400. */
  | 'INVALID_JOB'
  /** A job with that id exists with a different definition. HTTP 409. */
  | 'JOB_CONFLICT'
  /** No job with that id. HTTP 404. */
  | 'JOB_NOT_FOUND'
  /** The job is in a state where the request makes no sense (e.g. retry of a running job). HTTP 409. */
  | 'INVALID_STATE'
  /** A request other than a job was malformed (bad JSON, bad query, bad share or quota). HTTP 400. */
  | 'BAD_REQUEST'
  /** Options given to `startBatch` are invalid. */
  | 'INVALID_OPTIONS'
  /** The store or the master failed underneath. HTTP 500. */
  | 'INTERNAL';

/** The one error type of fw-batch: a stable `code`, the `field` at fault if any, a `cause`. */
export class BatchError extends Error {
  override readonly name = 'BatchError';
  readonly code: BatchErrorCode;
  readonly field: string | undefined;

  constructor(code: BatchErrorCode, message: string, options: { field?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.field = options.field;
  }
}

/** An INVALID_JOB error naming the field. */
export function invalidJob(field: string, message: string): BatchError {
  return new BatchError('INVALID_JOB', `${field}: ${message}`, { field });
}

/** HTTP status of each code. */
export const HTTP_STATUS: Record<BatchErrorCode, number> = {
  INVALID_JOB: 400,
  JOB_CONFLICT: 409,
  JOB_NOT_FOUND: 404,
  INVALID_STATE: 409,
  BAD_REQUEST: 400,
  INVALID_OPTIONS: 400,
  INTERNAL: 500,
};
