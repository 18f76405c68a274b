/**
 * @meso/state — durable key-value state for Meso components.
 *
 * `FileStateStore` (the default: crash-safe files in a work directory) and
 * `MemoryStateStore` (tests) implement one `StateStore` contract.
 */
export type { Entry, StateStore } from './store.js';
export { FileStateStore } from './file-store.js';
export { MemoryStateStore } from './memory-store.js';
export { StateError, type StateErrorCode } from './errors.js';
