import { toServiceError } from '@meso/proto';
import { describe, expect, it } from 'vitest';
import { codeFromWire, isRetryableCode, SchedulerError, toSchedulerError } from './errors.js';
import { errorFromGrpc } from './grpc-transport.js';

describe('errors', () => {
  it('reads code and field from the gRPC trailers of a refused call', () => {
    const grpcError = toServiceError({ code: 'RESOURCES_EXCEED_OFFER', message: 'needs 3 cpus', field: 'operations[0].launch.task_infos[1].resources' });
    const err = errorFromGrpc(grpcError);
    expect(err).toBeInstanceOf(SchedulerError);
    expect(err.code).toBe('RESOURCES_EXCEED_OFFER');
    expect(err.field).toBe('operations[0].launch.task_infos[1].resources');
    expect(err.message).toContain('needs 3 cpus');
    expect(err.cause).toBe(grpcError);
    expect(err.retryable).toBe(false);
  });

  it('maps a gRPC failure without Meso trailers to UNAVAILABLE (transient) or INTERNAL', () => {
    expect(errorFromGrpc({ code: 14, details: 'connect ECONNREFUSED' }).code).toBe('UNAVAILABLE');
    expect(errorFromGrpc({ code: 4, details: 'deadline' }).code).toBe('UNAVAILABLE');
    expect(errorFromGrpc({ code: 13, details: 'boom' }).code).toBe('INTERNAL');
  });

  it('wraps anything else, keeping a typed code where one is given', () => {
    expect(toSchedulerError(new Error('x')).code).toBe('INTERNAL');
    const resErr = Object.assign(new Error('bad'), { code: 'INVALID_RESOURCES', field: 'resources[0]' });
    expect(toSchedulerError(resErr)).toMatchObject({ code: 'INVALID_RESOURCES', field: 'resources[0]' });
    const same = new SchedulerError('CLOSED', 'closed');
    expect(toSchedulerError(same)).toBe(same);
  });

  it('says which codes are retryable and reads wire codes', () => {
    expect(['UNAVAILABLE', 'INTERNAL', 'NOT_CONNECTED'].every((c) => isRetryableCode(c as never))).toBe(true);
    expect(isRetryableCode('UNKNOWN_OFFER')).toBe(false);
    expect(codeFromWire('STALE_STREAM')).toBe('STALE_STREAM');
    expect(codeFromWire('nope')).toBe('INTERNAL');
  });
});
