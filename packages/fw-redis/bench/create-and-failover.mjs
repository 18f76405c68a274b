// fw-redis figures: the time to create 1 master + 50 replicas (MrRedis claims under 15 s) and
// the failover time (kill -9 of the master → writes accepted again through a Sentinel-mode
// ioredis client; Sentinel's default detection alone is 30 s).
//
//   npm run build --workspace @meso/fw-redis && npm run bench --workspace @meso/fw-redis
//
// Env: BENCH_REPLICAS (default 50), BENCH_AGENTS (3), BENCH_FAILOVERS (3), MESO_REDIS_SERVER.
// Never part of the test suite.
import { Cleanup, startAgentProcess, startMasterProcess, waitFor } from '@meso/testing';
import { createLogger, silentLogger } from '@meso/sdk-scheduler';
import { Redis } from 'ioredis';
import { startRedis } from '../dist/index.js';

const REPLICAS = Number(process.env.BENCH_REPLICAS ?? 50);
const AGENTS = Number(process.env.BENCH_AGENTS ?? 3);
const FAILOVERS = Number(process.env.BENCH_FAILOVERS ?? 3);

const cleanup = new Cleanup();

async function run() {
  const master = await startMasterProcess(cleanup);
  const perAgent = Math.ceil((REPLICAS + 1) / AGENTS) + 4;
  const base = 20_000 + Math.floor(Math.random() * 100) * 100; // below the ephemeral port range
  for (let i = 0; i < AGENTS; i++) {
    await startAgentProcess(cleanup, master.address, `cpus:${Math.ceil(perAgent * 0.1) + 1};mem:${perAgent * 48 + 256};disk:8192;ports:[${base + i * 100}-${base + i * 100 + 99}]`);
  }
  const dir = await cleanup.tempDir('meso-redis-bench-');
  const fw = await startRedis({ master: master.address, httpPort: 0, sentinelPort: 0, workDir: dir, logger: process.env.BENCH_LOG ? createLogger('fw-redis') : silentLogger, persistentVolumes: process.env.BENCH_NO_VOLUMES ? false : true });
  const api = async (method, path, body) => (await fetch(`http://${fw.address}${path}`, { method, ...(body ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}) })).json();
  try {
    // Warm-up: offers from every agent are in.
    await waitFor('agents offered', () => fw.engine.agents.size === AGENTS || undefined, 30_000);
    const t0 = performance.now();
    const created = await api('POST', '/v2/instances', { name: 'bench', capacityMb: 16, replicas: REPLICAS });
    if (created.status !== 'CREATING') throw new Error(`create: ${JSON.stringify(created)}`);
    const marks = {};
    const mark = (what, ok) => {
      if (ok && marks[what] === undefined) marks[what] = (performance.now() - t0) / 1000;
    };
    await waitFor('every replica in sync', async () => {
      const x = await api('GET', '/v2/instances/bench');
      mark('all tasks RUNNING', x.members.length === REPLICAS + 1 && x.members.every((m) => m.state === 'RUNNING'));
      mark('all servers answering', x.members.length === REPLICAS + 1 && x.members.every((m) => m.answering));
      return x.status === 'RUNNING' ? x : undefined;
    }, 600_000);
    const createSeconds = (performance.now() - t0) / 1000;
    console.log(`create 1 master + ${REPLICAS} replicas (all RUNNING and in sync) on ${AGENTS} agents: ${createSeconds.toFixed(2)} s (MrRedis claims < 15 s); ${Object.entries(marks).map(([k, v]) => `${k} at ${v.toFixed(2)} s`).join(', ')}`);

    const [host, port] = fw.sentinelAddress.split(':');
    const app = new Redis({ sentinels: [{ host, port: Number(port) }], name: 'bench', sentinelRetryStrategy: () => 50, retryStrategy: () => 50 });
    app.on('error', () => undefined);
    const times = [];
    for (let f = 0; f < FAILOVERS; f++) {
      await app.set('k', String(f));
      const pid = Number(/process_id:(\d+)/.exec(await app.info('server'))[1]);
      process.kill(pid, 'SIGKILL');
      const killed = performance.now();
      await waitFor('writes accepted again', async () => {
        try {
          return (await app.set('after', String(f))) === 'OK';
        } catch {
          return false;
        }
      }, 120_000);
      times.push((performance.now() - killed) / 1000);
      await waitFor('the replacement replica in sync', async () => {
        const x = await api('GET', '/v2/instances/bench');
        return x.members.length === REPLICAS + 1 && x.members.every((m) => m.answering && (m.role === 'master' || m.linkUp)) ? x : undefined;
      }, 120_000);
    }
    app.disconnect();
    console.log(`failover, kill -9 of the master → writes accepted again (${FAILOVERS} runs): ${times.map((t) => t.toFixed(2)).join(', ')} s; median ${times.sort((a, b) => a - b)[Math.floor(times.length / 2)].toFixed(2)} s`);
  } finally {
    await fw.close();
  }
}

run()
  .catch((e) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(() => cleanup.run());
