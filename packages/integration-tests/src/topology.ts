import { GenericContainer, Wait } from 'testcontainers';
import { freePort, freePortRange } from '@meso/testing';

/** Label on every container this suite starts; its value is the run's session. */
export const SESSION_LABEL = 'meso.integration-tests';

/** Inside the image (tools/test-image): the workspace is at /app. */
const MESO = '/app/packages/cli/dist/bin/meso.js';
const BINS = {
  marathon: '/app/packages/fw-marathon/dist/bin/meso-marathon.js',
  chronos: '/app/packages/fw-chronos/dist/bin/meso-chronos.js',
  batch: '/app/packages/fw-batch/dist/bin/meso-batch.js',
  redis: '/app/packages/fw-redis/dist/bin/meso-redis.js',
} as const;
export type FrameworkName = keyof typeof BINS;
export const FRAMEWORKS = Object.keys(BINS) as FrameworkName[];

export interface AgentSpec {
  /** The agent's --hostname (host networking shares the machine's UTS name, so the flag names it). */
  hostname: string;
  rack: string;
  port: number;
  ports: [number, number];
  containerId: string;
}

/** The running cluster, as the suites see it (plain data: it crosses from global setup to the test workers). */
export interface Topology {
  session: string;
  image: string;
  master: { address: string; containerId: string };
  agents: AgentSpec[];
  frameworks: Record<FrameworkName, { url: string; containerId: string }>;
}

/** Every agent offers this much (declared, not detected, so the suite behaves the same on any machine). */
export const AGENT_RESOURCES = { cpus: 2, mem: 2048, disk: 4096 };

/**
 * The master's flags: an agent is unreachable after 3 missed 1 s pings (the agent-loss scenario),
 * and after a master restart known agents have a minute to re-register.
 */
const MASTER_FLAGS = ['--agent_ping_timeout', '1secs', '--max_agent_ping_timeouts', '3', '--agent_reregister_timeout', '60secs', '--work_dir', '/data/master'];

/** One container of the image on the host's network, PID 1 catatonit (reaps orphaned task processes). */
function container(image: string, session: string, role: string, command: string[], ready: RegExp): GenericContainer {
  return new GenericContainer(image)
    .withNetworkMode('host')
    .withEntrypoint(['/usr/bin/catatonit', '--'])
    .withCommand(['node', ...command])
    .withEnvironment({ MESO_LOG_LEVEL: 'info', HOME: '/root' })
    .withLabels({ [SESSION_LABEL]: session, 'meso.role': role })
    .withWaitStrategy(Wait.forLogMessage(ready))
    .withStartupTimeout(60_000);
}

export async function startMaster(image: string, session: string, taken: Set<number>): Promise<Topology['master']> {
  const port = await freePort(taken);
  const started = await container(image, session, 'master', [MESO, 'master', '--ip', '127.0.0.1', '--port', String(port), ...MASTER_FLAGS], /listening on/).start();
  return { address: `127.0.0.1:${port}`, containerId: started.getId() };
}

/** An agent named `agent-N` with attribute rack:rN, its own server port and port range. */
export async function startAgent(image: string, session: string, master: string, n: number, taken: Set<number>): Promise<AgentSpec> {
  const port = await freePort(taken);
  // Below the kernel's ephemeral range (32768+), so no outgoing connection can hold a task's port.
  const ports = await freePortRange(50, taken, { from: 20_000, to: 32_768 });
  const hostname = `agent-${n}`;
  const rack = `r${n}`;
  const resources = `cpus:${AGENT_RESOURCES.cpus};mem:${AGENT_RESOURCES.mem};disk:${AGENT_RESOURCES.disk};ports:[${ports[0]}-${ports[1]}]`;
  const args = [MESO, 'agent', '--master', master, '--ip', '127.0.0.1', '--port', String(port), '--hostname', hostname, '--attributes', `rack:${rack}`, '--resources', resources, '--work_dir', '/data/agent'];
  const started = await container(image, session, hostname, args, /registered as/).start();
  return { hostname, rack, port, ports, containerId: started.getId() };
}

export async function startFramework(image: string, session: string, name: FrameworkName, master: string, taken: Set<number>): Promise<{ url: string; containerId: string }> {
  const port = await freePort(taken);
  const extra =
    name === 'chronos' ? ['--revive_lead_ms', '1000', '--reconcile_timeout_ms', '5000'] : name === 'redis' ? ['--sentinel_port', String(await freePort(taken))] : [];
  const args = [BINS[name], '--master', master, '--http_port', String(port), '--hostname', '127.0.0.1', '--work_dir', `/data/${name}`, ...extra];
  const started = await container(image, session, `fw-${name}`, args, /listening on/).start();
  return { url: `http://127.0.0.1:${port}`, containerId: started.getId() };
}

/** The whole cluster: a master, three agents (agent-1..3, rack r1..r3) and the reference frameworks. */
export async function startTopology(image: string, session: string): Promise<Topology> {
  const taken = new Set<number>();
  const master = await startMaster(image, session, taken);
  const agents: AgentSpec[] = [];
  for (const n of [1, 2, 3]) agents.push(await startAgent(image, session, master.address, n, taken));
  const frameworks = {} as Topology['frameworks'];
  for (const name of FRAMEWORKS) frameworks[name] = await startFramework(image, session, name, master.address, taken);
  return { session, image, master, agents, frameworks };
}
