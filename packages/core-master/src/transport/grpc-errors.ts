import { toServiceError } from '@meso/proto';
import { isMasterError, protocolCodeOf } from '../errors.js';
import type { Master } from '../master.js';

/**
 * The one place a master error becomes a gRPC status (with `meso-error-code` and
 * `meso-error-field` trailers). Anything unexpected is logged and answered INTERNAL: the
 * master keeps running whatever a client sends.
 */
export function toGrpcError(master: Master, e: unknown, what: string): ReturnType<typeof toServiceError> {
  const code = protocolCodeOf(e);
  master.metrics.countError(code);
  if (isMasterError(e)) {
    master.logger.debug('call refused', { call: what, code, field: e.field, reason: e.reason });
    return toServiceError({ code, message: e.reason, ...(e.field ? { field: e.field } : {}) });
  }
  master.logger.error('call failed unexpectedly', { call: what, error: e, stack: (e as Error)?.stack });
  return toServiceError({ code: 'INTERNAL', message: `internal error in ${what}` });
}
