/**
 * @meso/testing (private) — the harness of Meso's process-level tests: real masters,
 * agents and frameworks as child processes on loopback (port 0 everywhere), conditions
 * polled with deadlines (never fixed sleeps), and everything a test started stopped and
 * removed afterwards, on failure too.
 */
export { Cleanup, Proc, waitFor, MESO_BIN } from './processes.js';
export { startMasterProcess, startAgentProcess, type RunningMaster, type RunningAgent } from './cluster.js';
