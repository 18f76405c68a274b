/** Stable codes of {@link ChronosError}; never renamed once published. */
export type ChronosErrorCode =
  /** A job failed validation (bad name, schedule, zone, parents, cycle, ...). HTTP 400. */
  | 'INVALID_JOB'
  /** No job of that name. HTTP 404 (400 where Chronos answers 400). */
  | 'JOB_NOT_FOUND'
  /** A request other than a job was malformed (bad JSON, bad percentile, bad query). HTTP 400. */
  | 'BAD_REQUEST'
  /** The job has dependents and cannot be removed before them. HTTP 400. */
  | 'HAS_DEPENDENTS'
  /** Options given to `startChronos` are invalid. */
  | 'INVALID_OPTIONS'
  /** The store or the master failed underneath. HTTP 500. */
  | 'INTERNAL';

/** The one error type of fw-chronos: a stable `code`, the `field` at fault if any, a `cause`. */
export class ChronosError extends Error {
  override readonly name = 'ChronosError';
  readonly code: ChronosErrorCode;
  readonly field: string | undefined;

  constructor(code: ChronosErrorCode, message: string, options: { field?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.field = options.field;
  }
}

/** An INVALID_JOB error naming the field. */
export function invalidJob(field: string, message: string): ChronosError {
  return new ChronosError('INVALID_JOB', `${field}: ${message}`, { field });
}
