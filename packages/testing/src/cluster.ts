import { join } from 'node:path';
import type { Cleanup, Proc } from './processes.js';

export interface RunningMaster {
  proc: Proc;
  address: string;
  workDir: string;
  /** The extra flags and environment it was started with (a restart repeats them). */
  extra: string[];
  env: Record<string, string>;
}

export interface RunningAgent {
  proc: Proc;
  endpoint: string;
  agentId: string;
  workDir: string;
  master: string;
  resources: string;
  extra: string[];
}

function portOf(address: string): string {
  return address.slice(address.lastIndexOf(':') + 1);
}

/**
 * Starts `meso master` on a free port with fast allocation, and waits until it listens.
 * `env` reaches the process (e.g. `MESO_FAULT_INJECTION`).
 */
export async function startMasterProcess(cleanup: Cleanup, extra: string[] = [], env: Record<string, string> = {}): Promise<RunningMaster> {
  const workDir = join(await cleanup.tempDir('meso-master-'), 'work');
  return launchMaster(cleanup, '0', workDir, extra, env);
}

/**
 * Starts a master again on the same port and work dir as `previous` (which must have
 * exited, e.g. after `proc.kill9()`): agents and schedulers find it at the same address.
 */
export async function restartMasterProcess(cleanup: Cleanup, previous: RunningMaster, env: Record<string, string> = previous.env): Promise<RunningMaster> {
  await previous.proc.exited;
  return launchMaster(cleanup, portOf(previous.address), previous.workDir, previous.extra, env);
}

async function launchMaster(cleanup: Cleanup, port: string, workDir: string, extra: string[], env: Record<string, string>): Promise<RunningMaster> {
  const proc = cleanup.meso(['master', '--port', port, '--work_dir', workDir, '--allocation_interval', '100ms', ...extra], env);
  const [, address = ''] = await proc.line(/listening on (\S+)/);
  return { proc, address, workDir, extra, env };
}

/** Starts `meso agent` on a free port and waits until the master registered it. */
export async function startAgentProcess(cleanup: Cleanup, master: string, resources: string, extra: string[] = []): Promise<RunningAgent> {
  const workDir = join(await cleanup.tempDir('meso-agent-'), 'work');
  return launchAgent(cleanup, master, '0', workDir, resources, extra, true);
}

/**
 * Starts an agent again on the same port and work dir as `previous` (which must have
 * exited). With `waitRegistered` false it returns once the agent listens (e.g. when the
 * master is down or will refuse it).
 */
export async function restartAgentProcess(cleanup: Cleanup, previous: RunningAgent, waitRegistered = true): Promise<RunningAgent> {
  await previous.proc.exited;
  const agent = await launchAgent(cleanup, previous.master, portOf(previous.endpoint), previous.workDir, previous.resources, previous.extra, waitRegistered);
  // Not waiting: the id is the one it had (the same work dir, the same boot).
  return waitRegistered ? agent : { ...agent, agentId: previous.agentId };
}

async function launchAgent(
  cleanup: Cleanup,
  master: string,
  port: string,
  workDir: string,
  resources: string,
  extra: string[],
  waitRegistered: boolean,
): Promise<RunningAgent> {
  const proc = cleanup.meso(['agent', '--master', master, '--port', port, '--work_dir', workDir, '--resources', resources, ...extra]);
  const [, endpoint = ''] = await proc.line(/listening on (\S+),/);
  const agentId = waitRegistered ? ((await proc.line(/registered as (\S+)/))[1] ?? '') : '';
  return { proc, endpoint, agentId, workDir, master, resources, extra };
}
