// fw-marathon benchmark: scale one app 0 → 1,000 instances, and /v2/apps latency with 1,000 apps.
//
// SIMULATED LOAD: a 2-core machine cannot run 1,000 real tasks (each is an executor process),
// so the master is the SDK's in-memory FakeSchedulerTransport playing a cluster of AGENTS
// agents: it offers their resources while fw-marathon is revived and answers every launch
// with TASK_RUNNING. Everything else is the real thing: the REST API over HTTP, validation,
// the planner, placement, the SDK's ACCEPT path and fw-marathon's state persisted to disk
// (FileStateStore, fsync per write) before every launch.
//
// With BENCH_REAL=N it also scales 0 → N on a REAL local cluster (a meso master, 2 agents and
// meso-marathon as processes; every task a real process): N of 100 or so fits a 2-core machine.
//
// Run: npm run bench --workspace @meso/fw-marathon   (after building the CLI and fw-marathon)
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeSchedulerTransport, silentLogger } from '@meso/sdk-scheduler';
import { startMarathon } from '../dist/index.js';

const AGENTS = Number(process.env.BENCH_AGENTS ?? 20);
const INSTANCES = Number(process.env.BENCH_INSTANCES ?? 1000);
const APPS = Number(process.env.BENCH_APPS ?? 1000);

/** A fake cluster: offers every agent while revived, runs whatever is launched. */
function simulatedCluster(master) {
  let revived = true;
  let stopped = false;
  master.onCall('revive', () => void (revived = true));
  master.onCall('suppress', () => void (revived = false));
  master.onCall('accept', (req) => {
    for (const op of req.operations) {
      for (const t of op.launch?.taskInfos ?? []) {
        setImmediate(() => !stopped && master.update({ taskId: t.taskId.value, state: 'TASK_RUNNING', agentId: t.agentId?.value ?? 'a', uuid: `u-${t.taskId.value}` }));
      }
    }
  });
  master.onCall('kill', (req) => {
    setImmediate(() => !stopped && master.update({ taskId: req.taskId.value, state: 'TASK_KILLED', uuid: `k-${req.taskId.value}` }));
  });
  const timer = setInterval(() => {
    if (!revived || !master.streamOpen) return;
    master.offer(...Array.from({ length: AGENTS }, (_, i) => ({ agentId: `agent-${i}`, hostname: `host-${i}`, resources: 'cpus:64;mem:262144;disk:100000;ports:[31000-32999]' })));
  }, 100);
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}

async function waitFor(check, timeoutMs = 600_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error('benchmark timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function run() {
  const dir = await mkdtemp(join(tmpdir(), 'marathon-bench-'));
  const master = new FakeSchedulerTransport();
  const stop = simulatedCluster(master);
  const m = await startMarathon({ master: '127.0.0.1:5050', httpPort: 0, workDir: join(dir, 'state'), transport: master, logger: silentLogger });
  const base = `http://${m.address}`;
  const api = async (method, path, body) => {
    const res = await fetch(`${base}${path}`, { method, ...(body ? { body: JSON.stringify(body) } : {}) });
    return res.json();
  };
  try {
    await waitFor(() => m.core.isReady);
    console.log(`fw-marathon benchmark — SIMULATED cluster of ${AGENTS} agents (in-memory master; real API, planner, placement, SDK, durable state)`);

    // 1. One app, 0 → INSTANCES.
    await api('POST', '/v2/apps', { id: '/bench/scale', cmd: 'sleep 1000', cpus: 0.01, mem: 1, instances: 0, portDefinitions: [] });
    await waitFor(async () => m.core.state.deployments.size === 0);
    const t0 = performance.now();
    await api('PUT', '/v2/apps/bench/scale', { instances: INSTANCES });
    let firstRunning = 0;
    await waitFor(() => {
      const running = m.core.state.tasksOf('/bench/scale').filter((t) => t.state === 'TASK_RUNNING').length;
      if (!firstRunning && running > 0) firstRunning = performance.now() - t0;
      return running === INSTANCES && m.core.state.deployments.size === 0;
    });
    const scaleMs = performance.now() - t0;
    console.log(`scale one app 0 → ${INSTANCES} instances: ${(scaleMs / 1000).toFixed(2)} s (first running after ${firstRunning.toFixed(0)} ms; ${(INSTANCES / (scaleMs / 1000)).toFixed(0)} instances/s)`);
    console.log(`  Marathon's published reference: one 500-instance app in 14-38 s`);
    await api('DELETE', '/v2/apps/bench/scale');
    await waitFor(() => m.core.state.apps.size === 0, 120_000);

    // 2. /v2/apps latency with APPS apps (one instance each).
    const t1 = performance.now();
    for (let i = 0; i < APPS; i += 100) {
      const batch = Array.from({ length: Math.min(100, APPS - i) }, (_, j) => ({ id: `/bench/apps/app-${i + j}`, cmd: 'sleep 1000', cpus: 0.01, mem: 1, portDefinitions: [], labels: { n: String(i + j) } }));
      await api('PUT', '/v2/apps', batch);
    }
    await waitFor(() => m.core.state.tasks.size === APPS && m.core.state.deployments.size === 0);
    console.log(`create ${APPS} apps (bulk PUT of 100) until all ${APPS} tasks run: ${((performance.now() - t1) / 1000).toFixed(2)} s`);
    for (const [label, path] of [['GET /v2/apps', '/v2/apps'], ['GET /v2/apps?embed=apps.tasks', '/v2/apps?embed=apps.tasks'], ['GET /v2/apps/{id}', `/v2/apps/bench/apps/app-${Math.floor(APPS / 2)}`], ['GET /v2/tasks', '/v2/tasks']]) {
      const times = [];
      let bytes = 0;
      for (let i = 0; i < 20; i++) {
        const s = performance.now();
        const res = await fetch(`${base}${path}`);
        bytes = (await res.arrayBuffer()).byteLength;
        times.push(performance.now() - s);
      }
      times.sort((a, b) => a - b);
      console.log(`${label} with ${APPS} apps / ${APPS} tasks: p50 ${times[10].toFixed(1)} ms, p95 ${times[18].toFixed(1)} ms, max ${times[19].toFixed(1)} ms (${(bytes / 1024).toFixed(0)} KiB)`);
    }
    console.log(`  Marathon's published reference: /v2/apps over 10 s at 1,000 tasks (2015)`);
  } finally {
    stop();
    await m.close();
    await rm(dir, { recursive: true, force: true });
  }
}


/** Scales one app 0 → n on real processes: master, 2 agents, meso-marathon (all on port 0). */
async function runReal(n) {
  const meso = new URL('../../cli/dist/bin/meso.js', import.meta.url).pathname;
  const marathonBin = new URL('../dist/bin/meso-marathon.js', import.meta.url).pathname;
  const dir = await mkdtemp(join(tmpdir(), 'marathon-bench-real-'));
  const procs = [];
  const start = (script, args) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MESO_LOG_LEVEL: 'warn' } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    procs.push(child);
    return { child, line: (re) => waitFor(() => re.exec(out)?.[1], 30_000).then(() => re.exec(out)[1]) };
  };
  try {
    const master = start(meso, ['master', '--port', '0', '--work_dir', join(dir, 'm'), '--allocation_interval', '100ms']);
    const address = await master.line(/listening on (\S+)/);
    for (let i = 1; i <= 2; i++) {
      const agent = start(meso, ['agent', '--master', address, '--port', '0', '--work_dir', join(dir, `a${i}`), '--resources', `cpus:${n};mem:${n * 64};ports:[31000-32000]`, '--hostname', `host-${i}`]);
      await agent.line(/registered as (\S+)/);
    }
    const marathon = start(marathonBin, ['--master', address, '--http_port', '0', '--work_dir', join(dir, 'mw')]);
    const base = `http://${await marathon.line(/listening on (\S+)/)}`;
    await waitFor(async () => (await (await fetch(`${base}/v2/info`)).json()).frameworkId, 30_000);
    await fetch(`${base}/v2/apps`, { method: 'POST', body: JSON.stringify({ id: '/bench/real', cmd: 'exec sleep 600', cpus: 0.5, mem: 16, instances: 0, portDefinitions: [] }) });
    const t0 = performance.now();
    await fetch(`${base}/v2/apps/bench/real?force=true`, { method: 'PUT', body: JSON.stringify({ instances: n }) });
    await waitFor(async () => (await (await fetch(`${base}/v2/apps/bench/real`)).json()).app.tasksRunning === n, 600_000);
    const ms = performance.now() - t0;
    console.log(`REAL cluster (master + 2 agents + meso-marathon as processes, ${n} real task processes): 0 → ${n} instances running in ${(ms / 1000).toFixed(2)} s`);
  } finally {
    for (const p of procs.reverse()) {
      p.kill('SIGTERM');
      await new Promise((r) => (p.exitCode !== null ? r() : p.once('exit', r)));
    }
    await rm(dir, { recursive: true, force: true });
  }
}

run()
  .then(async () => {
    if (process.env.BENCH_REAL) await runReal(Number(process.env.BENCH_REAL));
  })
  .then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
