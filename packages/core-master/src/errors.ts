import { MesoErrorCode } from '@meso/proto';

/**
 * Stable codes of the master's errors: every protocol code of `@meso/proto`'s
 * `MesoErrorCode`, plus `INVALID_OPTIONS` for a master started with bad options and
 * `REGISTRY_CORRUPT` for a registry file that cannot be read back (the master refuses to
 * start; `field` is the file's path).
 */
export type MasterErrorCode = MesoErrorCode | 'INVALID_OPTIONS' | 'REGISTRY_CORRUPT';

/**
 * The one error type the master throws. `code` is stable; `field` names what is at
 * fault in the caller's terms (a request field such as `offer_ids[1]`, or an option
 * such as `port`). It is mapped to a gRPC status once, at the transport boundary.
 */
export class MasterError extends Error {
  override readonly name = 'MasterError';

  constructor(
    readonly code: MasterErrorCode,
    message: string,
    readonly field?: string,
    options?: { cause?: unknown },
  ) {
    super(field ? `${field}: ${message}` : message, options);
  }

  /** The message without the field prefix. */
  get reason(): string {
    return this.field && this.message.startsWith(`${this.field}: `) ? this.message.slice(this.field.length + 2) : this.message;
  }
}

/** Whether a value is a MasterError (also across module copies). */
export function isMasterError(e: unknown): e is MasterError {
  return e instanceof MasterError;
}

/** The protocol code for an error, INTERNAL for anything unexpected. */
export function protocolCodeOf(e: unknown): MesoErrorCode {
  if (isMasterError(e)) {
    if (e.code === 'INVALID_OPTIONS') return MesoErrorCode.INVALID_ARGUMENT;
    if (e.code === 'REGISTRY_CORRUPT') return MesoErrorCode.INTERNAL;
    return e.code;
  }
  return MesoErrorCode.INTERNAL;
}
