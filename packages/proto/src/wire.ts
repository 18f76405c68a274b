// The generated wire types and gRPC service definitions of meso.v1, re-exported in one
// place. Generated code lives in ./gen and is never edited (regenerate with
// `npm run proto:generate --workspace @meso/proto`).
export * from './gen/meso/v1/common.js';
export * from './gen/meso/v1/scheduler.js';
export * from './gen/meso/v1/agent.js';
export * from './gen/meso/v1/executor.js';
export * from './gen/meso/v1/operator.js';
// Names every generated file declares; the explicit export settles which one is meant.
export { type DeepPartial, type MessageFns, protobufPackage, protobufFileName } from './gen/meso/v1/common.js';
