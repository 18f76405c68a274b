/**
 * @meso/testing (private) — the harness of Meso's process-level tests: real masters,
 * agents and frameworks as child processes on loopback (port 0 everywhere), conditions
 * polled with deadlines (never fixed sleeps), and everything a test started stopped and
 * removed afterwards, on failure too (also executors orphaned by a kill -9 of their agent).
 *
 * Faults: `Proc.kill9()`, `Proc.pause()`/`resume()` (SIGSTOP/SIGCONT, a partition as far
 * as peers can tell), `restartMasterProcess`/`restartAgentProcess` (same port and work
 * dir), `isAlive`, `signal`, `pidsWithEnvironment`, `killStrays`.
 */
export { Cleanup, Proc, waitFor, MESO_BIN } from './processes.js';
export {
  startMasterProcess,
  restartMasterProcess,
  startAgentProcess,
  restartAgentProcess,
  type RunningMaster,
  type RunningAgent,
} from './cluster.js';
export { isAlive, signal, pidsWithEnvironment, killStrays } from './faults.js';
export { freePort, freePortRange } from './ports.js';
