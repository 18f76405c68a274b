import { fileURLToPath } from 'node:url';
import { startAgentProcess, startMasterProcess, waitFor, type Cleanup, type Proc, type RunningAgent, type RunningMaster } from '@meso/testing';

/** The built meso-marathon binary (tests run after the build). */
export const MARATHON_BIN = fileURLToPath(new URL('../dist/bin/meso-marathon.js', import.meta.url));

export interface Cluster {
  master: RunningMaster;
  agents: RunningAgent[];
}

/** A master (fast agent-loss detection) and `n` agents named host-1.. with rack:r1.. attributes. */
export async function startCluster(cleanup: Cleanup, n: number, resources = 'cpus:2;mem:1024;disk:1000;ports:[31000-31100]'): Promise<Cluster> {
  const master = await startMasterProcess(cleanup, ['--agent_ping_timeout', '200ms', '--max_agent_ping_timeouts', '3']);
  const agents: RunningAgent[] = [];
  for (let i = 1; i <= n; i++) {
    agents.push(await startAgentProcess(cleanup, master.address, resources, ['--hostname', `host-${i}`, '--attributes', `rack:r${i}`]));
  }
  return { master, agents };
}

export interface RunningMarathonProcess {
  proc: Proc;
  url: string;
}

/** Starts meso-marathon on a free port with a work dir, and waits until it serves. */
export async function startMarathonProcess(cleanup: Cleanup, master: string, workDir: string): Promise<RunningMarathonProcess> {
  const proc = cleanup.node(MARATHON_BIN, ['--master', master, '--http_port', '0', '--work_dir', workDir], {}, 'meso-marathon');
  const [, address = ''] = await proc.line(/listening on (\S+)/);
  const url = `http://${address}`;
  await waitFor('meso-marathon to subscribe', async () => ((await (await fetch(`${url}/v2/info`)).json()) as { frameworkId: string | null }).frameworkId ?? undefined, 20_000);
  return { proc, url };
}

/** A small Marathon HTTP client for tests. */
export function client(base: () => string) {
  const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> => {
    const res = await fetch(`${base()}${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  return {
    call,
    app: async (id: string): Promise<any> => (await call('GET', `/v2/apps${id}`)).body.app,
    tasks: async (id: string): Promise<any[]> => (await call('GET', `/v2/apps${id}/tasks`)).body.tasks,
    deployments: async (): Promise<any[]> => (await call('GET', '/v2/deployments')).body,
    queue: async (): Promise<any[]> => (await call('GET', '/v2/queue')).body.queue,
  };
}

/** The master's /state. */
export async function masterState(master: string): Promise<{ tasks: { id: string; state: string; agentId: string; frameworkId: string }[]; agents: { id: string; hostname: string; status: string }[] }> {
  return (await (await fetch(`http://${master}/state`)).json()) as never;
}
