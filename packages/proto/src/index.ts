/**
 * @meso/proto — Meso's wire protocol (protobuf package meso.v1).
 *
 * - The generated message types and gRPC service definitions (from `proto/`, by ts-proto).
 * - `Resources`: the one implementation of resource arithmetic, with Mesos's text and
 *   JSON syntaxes (`parseResources`) and conversion to and from the wire.
 * - The stable error codes every Meso server and SDK share.
 */
export * from './wire.js';
export { Resources, validateResource } from './resources/resources.js';
export { UNRESERVED_ROLE, type Range, type Resource, type ResourceKind, type VolumeInfo } from './resources/types.js';
export { type Attribute, attributeText } from './resources/attributes.js';
export { ResourceError } from './resources/resource-error.js';
export { parseResources, parseAttributes } from './resources/parse.js';
export { resourcesFromWire, resourcesToWire, attributesFromWire, attributesToWire } from './resources/convert.js';
export { normalizeRanges, subtractRanges, addRanges, rangesContain, rangesSize, formatRanges } from './resources/ranges.js';
export { SCALAR_SCALE, roundScalar } from './resources/precision.js';
export {
  MesoErrorCode,
  ERROR_CODE_METADATA_KEY,
  ERROR_FIELD_METADATA_KEY,
  toServiceError,
  fromServiceError,
  type MesoErrorDetails,
} from './errors.js';
export { type Clock, type TimerHandle, systemClock, FakeClock, MAX_TIMER_MS } from './runtime/clock.js';
export { type Logger, type LogLevel, type LogFields, type ConsoleLoggerOptions, createLogger, silentLogger } from './runtime/logger.js';
export { createPortMux, type PortMuxTargets } from './runtime/port-mux.js';
export { type TaskStateName, TASK_STATE_NAMES, isTerminalStateName } from './task-state.js';
