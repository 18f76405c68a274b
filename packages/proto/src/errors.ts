import { Metadata, status, type ServiceError } from '@grpc/grpc-js';

/**
 * Stable error codes shared by every Meso server and SDK. A refused call carries one in
 * the trailing metadata `meso-error-code`, and the field at fault in `meso-error-field`;
 * SDKs turn them into typed errors. Codes are never renamed once published.
 */
export const MesoErrorCode = {
  /** A request field is missing or malformed. */
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  /** A resource is malformed (negative, NaN, bad ranges, unknown kind). */
  INVALID_RESOURCES: 'INVALID_RESOURCES',
  /** A call other than SUBSCRIBE came from a framework that has no live subscription. */
  NOT_SUBSCRIBED: 'NOT_SUBSCRIBED',
  /** A call named a subscription stream that has been replaced. */
  STALE_STREAM: 'STALE_STREAM',
  /** A re-subscription named a framework id the master does not know. */
  UNKNOWN_FRAMEWORK: 'UNKNOWN_FRAMEWORK',
  /** The framework was torn down or timed out; it cannot subscribe again with that id. */
  FRAMEWORK_REMOVED: 'FRAMEWORK_REMOVED',
  /** Another subscriber took over this framework id. */
  FRAMEWORK_REPLACED: 'FRAMEWORK_REPLACED',
  UNKNOWN_OFFER: 'UNKNOWN_OFFER',
  /** The offer was made to another framework. */
  OFFER_NOT_OWNED: 'OFFER_NOT_OWNED',
  /** The same offer id appears twice in one call. */
  DUPLICATE_OFFER: 'DUPLICATE_OFFER',
  /** The offers of one ACCEPT are on more than one agent. */
  OFFERS_ON_DIFFERENT_AGENTS: 'OFFERS_ON_DIFFERENT_AGENTS',
  /** The operations need more than the offers hold. */
  RESOURCES_EXCEED_OFFER: 'RESOURCES_EXCEED_OFFER',
  /** A task id is already in use by a live task of the framework, or repeated in the call. */
  DUPLICATE_TASK_ID: 'DUPLICATE_TASK_ID',
  /** A task is malformed (bad id, no command or executor, both, ...). */
  INVALID_TASK: 'INVALID_TASK',
  /** An executor is malformed or conflicts with the running executor of the same id. */
  INVALID_EXECUTOR: 'INVALID_EXECUTOR',
  /** An operation type that is not supported (yet). */
  UNSUPPORTED_OPERATION: 'UNSUPPORTED_OPERATION',
  UNKNOWN_AGENT: 'UNKNOWN_AGENT',
  UNKNOWN_TASK: 'UNKNOWN_TASK',
  UNKNOWN_EXECUTOR: 'UNKNOWN_EXECUTOR',
  /** The master refused an agent's registration. */
  AGENT_REFUSED: 'AGENT_REFUSED',
  /**
   * The agent was removed after its removal timeout (partitioned too long); it may not
   * re-register under its id: shut down what it runs and register afresh.
   */
  AGENT_GONE: 'AGENT_GONE',
  /** The caller is not allowed to do this. */
  PERMISSION_DENIED: 'PERMISSION_DENIED',
  /** The server could not do it now; retry later. */
  UNAVAILABLE: 'UNAVAILABLE',
  INTERNAL: 'INTERNAL',
} as const;

export type MesoErrorCode = (typeof MesoErrorCode)[keyof typeof MesoErrorCode];

export const ERROR_CODE_METADATA_KEY = 'meso-error-code';
export const ERROR_FIELD_METADATA_KEY = 'meso-error-field';

const GRPC_STATUS_OF: Record<MesoErrorCode, status> = {
  INVALID_ARGUMENT: status.INVALID_ARGUMENT,
  INVALID_RESOURCES: status.INVALID_ARGUMENT,
  NOT_SUBSCRIBED: status.FAILED_PRECONDITION,
  STALE_STREAM: status.FAILED_PRECONDITION,
  UNKNOWN_FRAMEWORK: status.NOT_FOUND,
  FRAMEWORK_REMOVED: status.FAILED_PRECONDITION,
  FRAMEWORK_REPLACED: status.ABORTED,
  UNKNOWN_OFFER: status.NOT_FOUND,
  OFFER_NOT_OWNED: status.PERMISSION_DENIED,
  DUPLICATE_OFFER: status.INVALID_ARGUMENT,
  OFFERS_ON_DIFFERENT_AGENTS: status.INVALID_ARGUMENT,
  RESOURCES_EXCEED_OFFER: status.INVALID_ARGUMENT,
  DUPLICATE_TASK_ID: status.ALREADY_EXISTS,
  INVALID_TASK: status.INVALID_ARGUMENT,
  INVALID_EXECUTOR: status.INVALID_ARGUMENT,
  UNSUPPORTED_OPERATION: status.UNIMPLEMENTED,
  UNKNOWN_AGENT: status.NOT_FOUND,
  UNKNOWN_TASK: status.NOT_FOUND,
  UNKNOWN_EXECUTOR: status.NOT_FOUND,
  AGENT_REFUSED: status.FAILED_PRECONDITION,
  AGENT_GONE: status.FAILED_PRECONDITION,
  PERMISSION_DENIED: status.PERMISSION_DENIED,
  UNAVAILABLE: status.UNAVAILABLE,
  INTERNAL: status.INTERNAL,
};

/** What a server says when it refuses a call. */
export interface MesoErrorDetails {
  code: MesoErrorCode;
  message: string;
  /** The request field at fault, e.g. `offer_ids[1]`. */
  field?: string;
}

/** Builds the gRPC error a server returns for a refused call (code and field in trailers). */
export function toServiceError(details: MesoErrorDetails): Partial<ServiceError> & { code: status; details: string } {
  const metadata = new Metadata();
  metadata.set(ERROR_CODE_METADATA_KEY, details.code);
  if (details.field) metadata.set(ERROR_FIELD_METADATA_KEY, details.field);
  const message = details.field ? `${details.field}: ${details.message}` : details.message;
  return { code: GRPC_STATUS_OF[details.code], details: message, message, metadata, name: 'MesoError' };
}

function isMesoErrorCode(value: unknown): value is MesoErrorCode {
  return typeof value === 'string' && value in MesoErrorCode;
}

/** Reads the Meso error out of a failed gRPC call; codes outside Meso's map to UNAVAILABLE/INTERNAL. */
export function fromServiceError(err: Partial<ServiceError>): MesoErrorDetails {
  const codeValue = err.metadata?.get(ERROR_CODE_METADATA_KEY)[0];
  const fieldValue = err.metadata?.get(ERROR_FIELD_METADATA_KEY)[0];
  const message = err.details ?? err.message ?? 'unknown error';
  if (isMesoErrorCode(codeValue)) {
    return { code: codeValue, message, ...(typeof fieldValue === 'string' ? { field: fieldValue } : {}) };
  }
  const transient = err.code === status.UNAVAILABLE || err.code === status.DEADLINE_EXCEEDED || err.code === status.CANCELLED;
  return { code: transient ? 'UNAVAILABLE' : 'INTERNAL', message };
}
