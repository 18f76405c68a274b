// Short-task throughput: no-op tasks through fw-batch's long-lived executor (in-process no-ops,
// and child processes started by the executor) vs plain command tasks (one command executor
// process per task), beside BullMQ no-op jobs on a local redis-server — same machine, same run.
//
//   npm run build --workspace @meso/fw-batch && npm run bench --workspace @meso/fw-batch
//
// Env: BENCH_TASKS (default 1000), BENCH_COMMAND_TASKS (default 200), BENCH_AGENTS (2).
// Never part of the test suite.
import { spawn, spawnSync } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { Cleanup, startAgentProcess, startMasterProcess, waitFor } from '@meso/testing';
import { silentLogger } from '@meso/sdk-scheduler';
import { startBatch } from '../dist/index.js';

const N = Number(process.env.BENCH_TASKS ?? 1000);
const N_COMMAND = Number(process.env.BENCH_COMMAND_TASKS ?? 200);
const AGENTS = Number(process.env.BENCH_AGENTS ?? 2);

const cleanup = new Cleanup();
const rows = [];

async function run() {
  const master = await startMasterProcess(cleanup);
  for (let i = 0; i < AGENTS; i++) await startAgentProcess(cleanup, master.address, 'cpus:4;mem:8192;disk:8192');
  const dir = await cleanup.tempDir('meso-batch-bench-');
  const batch = await startBatch({ master: master.address, httpPort: 0, workDir: dir, logger: silentLogger });
  const api = async (method, path, body) => (await fetch(`http://${batch.address}${path}`, { method, ...(body ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}) })).json();
  try {
    // Warm-up: starts the batch executor on every agent (its start is paid once, not per task).
    await measure(api, 'warmup', 'true', 'batch', AGENTS * 4);
    rows.push(['fw-batch, long-lived executor, in-process no-op (`true`)', N, await measure(api, 'noop', 'true', 'batch', N)]);
    rows.push(['fw-batch, long-lived executor, child process per task (`echo`)', N, await measure(api, 'child', 'echo ok', 'batch', N)]);
    rows.push(['fw-batch, plain command tasks (command executor per task)', N_COMMAND, await measure(api, 'command', 'true', 'command', N_COMMAND)]);
  } finally {
    await batch.close();
  }
}

async function measure(api, id, command, executor, n) {
  const t0 = performance.now();
  const res = await api('POST', '/v1/jobs', { id, user: 'bench', command, executor, instances: n, cpus: 0.05, mem: 8 });
  if (!res.jobs) throw new Error(`submit ${id}: ${JSON.stringify(res)}`);
  await waitFor(`${id} done`, async () => {
    const j = await api('GET', `/v1/jobs/${id}`);
    if (j.state === 'failed') throw new Error(`${id} failed: ${JSON.stringify(j.instances)}`);
    return j.state === 'succeeded' || undefined;
  }, 600_000);
  const seconds = (performance.now() - t0) / 1000;
  return n / seconds;
}

function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function bullmq() {
  if (spawnSync('redis-server', ['--version']).error) {
    console.log('redis-server is not installed (apt-get install -y redis-server): BullMQ column skipped');
    return;
  }
  const { Queue, Worker, QueueEvents } = await import('bullmq');
  const port = await freePort();
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  try {
    const connection = { host: '127.0.0.1', port };
    await waitFor('redis-server', () => new Promise((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('data', (d) => {
        socket.destroy();
        resolve(String(d).startsWith('+PONG') || undefined);
      });
      socket.once('error', () => resolve(undefined));
      socket.once('connect', () => socket.write('PING\r\n'));
    }), 10_000);
    for (const concurrency of [1, 50]) {
      const name = `noop-${concurrency}`;
      const queue = new Queue(name, { connection });
      let done = 0;
      let resolveAll;
      const all = new Promise((r) => (resolveAll = r));
      const worker = new Worker(name, async () => undefined, { connection, concurrency });
      let failure;
      const failed = new Promise((_, reject) => (failure = reject));
      worker.on('error', (e) => failure(e));
      worker.on('completed', () => {
        if (++done === N) resolveAll();
      });
      await worker.waitUntilReady();
      const t0 = performance.now();
      await queue.addBulk(Array.from({ length: N }, (_, i) => ({ name: 'noop', data: { i } })));
      await Promise.race([all, failed]);
      rows.push([`BullMQ no-op jobs, 1 worker, concurrency ${concurrency}`, N, N / ((performance.now() - t0) / 1000)]);
      await worker.close();
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
    }
  } finally {
    redis.kill('SIGTERM');
  }
}

try {
  await run();
  await bullmq();
} finally {
  await cleanup.run();
}
console.log(`\nShort-task throughput on this machine (${new Date().toISOString()}):\n`);
console.log(`${'what'.padEnd(68)} ${'tasks'.padStart(6)} ${'tasks/s'.padStart(9)}`);
for (const [what, n, rate] of rows) console.log(`${what.padEnd(68)} ${String(n).padStart(6)} ${rate.toFixed(1).padStart(9)}`);
