import { MesoErrorCode, type MesoErrorDetails } from '@meso/proto';

/**
 * Codes the SDK itself raises, beside the master's {@link MesoErrorCode} values.
 * Codes are stable: they are never renamed once published.
 */
export const SdkErrorCode = {
  /** A call was made while the SDK is (re)connecting to the master; retry after `subscribed`. */
  NOT_CONNECTED: 'NOT_CONNECTED',
  /** `Scheduler.connect` did not receive SUBSCRIBED within `connectTimeoutMs`. */
  CONNECT_TIMEOUT: 'CONNECT_TIMEOUT',
  /** The scheduler was closed (by `close()`, `teardown()` or a fatal error from the master). */
  CLOSED: 'CLOSED',
  /** The tasks of a launch do not fit in the offers; the message names the resource short. */
  TASK_DOES_NOT_FIT: 'TASK_DOES_NOT_FIT',
} as const;

/** Every code a {@link SchedulerError} can carry: the master's codes plus the SDK's. */
export type SchedulerErrorCode = MesoErrorCode | (typeof SdkErrorCode)[keyof typeof SdkErrorCode];

/**
 * The one error type every public method of the SDK throws or rejects with.
 *
 * - `code`: stable, machine-readable ({@link SchedulerErrorCode}); switch on it.
 * - `field`: the request field at fault when the master named one (trailer `meso-error-field`),
 *   e.g. `operations[0].launch.task_infos[1].resources`, or the SDK-side field (`tasks[1].command`).
 * - `cause`: the underlying error (a gRPC error, a resource error, ...), for logs only.
 */
export class SchedulerError extends Error {
  override readonly name = 'SchedulerError';
  readonly code: SchedulerErrorCode;
  readonly field: string | undefined;

  constructor(code: SchedulerErrorCode, message: string, options: { field?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.field = options.field;
  }

  /**
   * Whether the same call may succeed later without change: the master was unreachable or
   * busy, or the SDK was between connections.
   */
  get retryable(): boolean {
    return isRetryableCode(this.code);
  }
}

/** Codes that mean "not now" rather than "no": the call or subscription may be retried. */
export function isRetryableCode(code: SchedulerErrorCode): boolean {
  return code === 'UNAVAILABLE' || code === 'INTERNAL' || code === 'NOT_CONNECTED';
}

/** @internal Builds a SchedulerError from what a server said (see `fromServiceError`). */
export function errorFromDetails(details: MesoErrorDetails, cause?: unknown): SchedulerError {
  return new SchedulerError(details.code, details.message, {
    ...(details.field ? { field: details.field } : {}),
    ...(cause === undefined ? {} : { cause }),
  });
}

/** @internal Anything thrown below the public API, as a SchedulerError (never a raw error). */
export function toSchedulerError(err: unknown, fallbackCode: SchedulerErrorCode = 'INTERNAL'): SchedulerError {
  if (err instanceof SchedulerError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const maybe = err as { code?: unknown; field?: unknown } | null;
  if (maybe && typeof maybe.code === 'string' && maybe.code in MesoErrorCode) {
    return new SchedulerError(maybe.code as MesoErrorCode, message, {
      ...(typeof maybe.field === 'string' ? { field: maybe.field } : {}),
      cause: err,
    });
  }
  return new SchedulerError(fallbackCode, message, { cause: err });
}

/** @internal A code received on the wire (ERROR event) as a SchedulerErrorCode; unknown codes become INTERNAL. */
export function codeFromWire(code: string): SchedulerErrorCode {
  return code in MesoErrorCode || code in SdkErrorCode ? (code as SchedulerErrorCode) : 'INTERNAL';
}
