/**
 * @meso/agent — the Meso agent: registers a machine with the master, runs executors and
 * their tasks as real processes in sandboxes, and delivers task status updates reliably.
 *
 * @packageDocumentation
 */
export { startAgent, readBootId, AGENT_VERSION, type AgentHandle } from './agent.js';
export { type AgentOptions, AGENT_DEFAULTS } from './options.js';
export { AgentError, type AgentErrorCode } from './errors.js';
export { MAX_STATUS_UPDATE_RETRY_MS } from './status-update-manager.js';
export { DEFAULT_PORTS } from './resources.js';
export { buildTaskEnv, portVariables, type TaskEnvInput } from './task-env.js';
export { sandboxPath } from './paths.js';
export { volumePath } from './volumes/volume-paths.js';
