import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Cleanup, Proc, freePortRange, startAgentProcess, startMasterProcess, waitFor } from '@meso/testing';
import { Redis } from 'ioredis';

/** The built meso-redis of this package (tests run after the build). */
export const REDIS_BIN = fileURLToPath(new URL('../dist/bin/meso-redis.js', import.meta.url));

/**
 * The redis-server the tasks run: `$MESO_REDIS_SERVER` or `redis-server` on the PATH. Missing,
 * the tests fail saying so (CI installs it; `apt-get install -y redis-server` here).
 */
export function redisServerPath(): string {
  const configured = process.env['MESO_REDIS_SERVER'];
  if (configured) return configured;
  try {
    return execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('fw-redis tests need redis-server: install it (apt-get install -y redis-server) or set MESO_REDIS_SERVER to its path');
  }
}

export interface Cluster {
  master: string;
  dir: string;
  agents: Array<{ agentId: string; proc: Proc }>;
}

/** A master and `count` agents, each with its own port range (all share loopback). */
export async function startCluster(cleanup: Cleanup, count = 3, resources = 'cpus:2;mem:2048;disk:4096'): Promise<Cluster> {
  redisServerPath();
  const master = await startMasterProcess(cleanup);
  // Ranges free now (other tests and the container suite's cluster share this host's loopback),
  // below Linux's ephemeral range (32768-60999), where outgoing connections take their local ports.
  const taken = new Set<number>();
  const belowEphemeral = { from: 20_000, to: 32_768 };
  const agents = [];
  for (let i = 0; i < count; i++) {
    const [first, last] = await freePortRange(30, taken, belowEphemeral);
    const a = await startAgentProcess(cleanup, master.address, `${resources};ports:[${first}-${last}]`);
    agents.push({ agentId: a.agentId, proc: a.proc });
  }
  return { master: master.address, dir: await cleanup.tempDir('meso-redis-test-'), agents };
}

export interface Api {
  (method: string, path: string, body?: unknown): Promise<{ status: number; json: any; text: string }>;
}

export interface RedisFw {
  proc: Proc;
  address: string;
  sentinel: { host: string; port: number };
  api: Api;
}

/** Starts meso-redis on free ports with its state in `workDir`, and waits until it serves. */
export async function startRedisFw(cleanup: Cleanup, cluster: Cluster, workDir = join(cluster.dir, 'redis'), extra: string[] = []): Promise<RedisFw> {
  const proc = cleanup.node(REDIS_BIN, ['--master', cluster.master, '--http_port', '0', '--sentinel_port', '0', '--work_dir', workDir, '--redis_server', redisServerPath(), ...extra], {}, 'meso-redis');
  const [, address = '', sentinel = ''] = await proc.line(/listening on (\S+), sentinel on (\S+)/);
  const api: Api = async (method, path, body) => {
    const res = await fetch(`http://${address}${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text };
  };
  const i = sentinel.lastIndexOf(':');
  return { proc, address, sentinel: { host: sentinel.slice(0, i), port: Number(sentinel.slice(i + 1)) }, api };
}

/** Polls an instance (our JSON view) until `check` holds; on timeout, says what it last was and what meso-redis logged. */
export async function waitForInstance(r: RedisFw, name: string, what: string, check: (i: any) => boolean, timeoutMs = 60_000): Promise<any> {
  let last = '';
  try {
    return await waitFor(`${name}: ${what}`, async () => {
      const res = await r.api('GET', `/v2/instances/${name}`);
      last = res.text;
      return res.status === 200 && check(res.json) ? res.json : undefined;
    }, timeoutMs);
  } catch (e) {
    throw new Error(`${(e as Error).message}\nlast: ${last}\nmeso-redis:\n${r.proc.stdout.slice(-4000)}\n${r.proc.stderr.slice(-6000)}`);
  }
}

/** A direct connection to one server, closed by the cleanup. */
export function connect(cleanup: Cleanup, address: string): Redis {
  const i = address.lastIndexOf(':');
  const client = new Redis({ host: address.slice(0, i), port: Number(address.slice(i + 1)), maxRetriesPerRequest: 1, retryStrategy: () => null, lazyConnect: false });
  client.on('error', () => undefined);
  cleanup.onCleanup(async () => client.disconnect());
  return client;
}

/**
 * A client in Sentinel mode with ioredis's defaults (`sentinels` and `name` only; retries every
 * 100 ms), as an application would configure it, closed by the cleanup. It follows a failover by
 * reconnecting when its master goes away and asking the sentinel again (then checking the ROLE).
 * Not `failoverDetector: true`: seen here, a +switch-master that arrives while ioredis is already
 * reconnecting ends the client for good (status `end`).
 */
export function sentinelClient(cleanup: Cleanup, r: RedisFw, name: string): Redis {
  const client = new Redis({ sentinels: [r.sentinel], name, sentinelRetryStrategy: () => 100, retryStrategy: () => 100 });
  client.on('error', () => undefined);
  cleanup.onCleanup(async () => client.disconnect());
  return client;
}
