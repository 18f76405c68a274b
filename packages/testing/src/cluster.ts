import { join } from 'node:path';
import type { Cleanup, Proc } from './processes.js';

export interface RunningMaster {
  proc: Proc;
  address: string;
  workDir: string;
}

export interface RunningAgent {
  proc: Proc;
  endpoint: string;
  agentId: string;
  workDir: string;
}

/** Starts `meso master` on a free port with fast allocation, and waits until it listens. */
export async function startMasterProcess(cleanup: Cleanup, extra: string[] = []): Promise<RunningMaster> {
  const workDir = join(await cleanup.tempDir('meso-master-'), 'work');
  const proc = cleanup.meso(['master', '--port', '0', '--work_dir', workDir, '--allocation_interval', '100ms', ...extra]);
  const [, address = ''] = await proc.line(/listening on (\S+)/);
  return { proc, address, workDir };
}

/** Starts `meso agent` on a free port and waits until the master registered it. */
export async function startAgentProcess(cleanup: Cleanup, master: string, resources: string, extra: string[] = []): Promise<RunningAgent> {
  const workDir = join(await cleanup.tempDir('meso-agent-'), 'work');
  const proc = cleanup.meso(['agent', '--master', master, '--port', '0', '--work_dir', workDir, '--resources', resources, ...extra]);
  const [, endpoint = ''] = await proc.line(/listening on (\S+),/);
  const [, agentId = ''] = await proc.line(/registered as (\S+)/);
  return { proc, endpoint, agentId, workDir };
}
