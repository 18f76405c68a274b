/**
 * @meso/state — durable key-value state for Meso components.
 *
 * `FileStateStore` (crash-safe files in a work directory, a file per key),
 * `LogStateStore` (a snapshot and an append-only log with group commit: bulk reads at open,
 * one fsync for many writes; the master's registry) and `MemoryStateStore` (tests)
 * implement one `StateStore` contract.
 */
export type { BatchWrite, Entry, StateStore } from './store.js';
export { FileStateStore } from './file-store.js';
export { LogStateStore, type LogStateStoreOptions } from './log-store.js';
export { MemoryStateStore } from './memory-store.js';
export { StateError, type StateErrorCode } from './errors.js';
