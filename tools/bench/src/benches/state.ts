import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { Cleanup } from '@meso/testing';
import type { Benchmark } from '../benchmark.js';
import { loadCluster, startBenchMaster } from '../cluster.js';
import { LoadFramework } from '../load-framework.js';
import { median } from '../stats.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** After the churn framework starts, before allocation rates are taken. */
const WARM_UP_MS = 2000;
/** Allocation rates are taken over at least this long, without and with readers. */
const RATE_MS = 6000;

/**
 * The reader, in a worker thread of its own: this process also runs the simulated agents and
 * the frameworks, whose work would otherwise sit between the body's arrival and its reading
 * and be counted as the master's. Reads /state back to back, each until its
 * whole body arrived (counted as it comes, as a client streaming it to a file would).
 */
const READER = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
/** One GET /state: ms until its last byte arrived, and its size (the bytes are counted, not kept). */
function read(master) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    http.get('http://' + master + '/state', (res) => {
      let bytes = 0;
      res.on('data', (chunk) => { bytes += chunk.length; });
      res.on('end', () => res.statusCode === 200 ? resolve({ ms: performance.now() - t0, bytes }) : reject(new Error('/state answered ' + res.statusCode)));
      res.on('error', reject);
    }).on('error', reject);
  });
}
(async () => {
  const ms = [];
  let bytes = 0;
  const until = performance.now() + workerData.minMs;
  for (let i = 0; i < workerData.samples || performance.now() < until; i++) {
    const r = await read(workerData.master);
    ms.push(r.ms);
    bytes = r.bytes;
  }
  parentPort.postMessage({ ms, bytes });
})().catch((e) => parentPort.postMessage({ error: String((e && e.stack) || e) }));
`;

/**
 * /state read back to back from a worker thread, at least `samples` times and for at least
 * `minMs`: the latencies (ms) and the body size (bytes) of the last.
 */
async function sample(master: string, samples: number, minMs = 0): Promise<{ ms: number[]; bytes: number }> {
  const worker = new Worker(READER, { eval: true, workerData: { master, samples, minMs } });
  try {
    const [result] = (await once(worker, 'message')) as [{ ms: number[]; bytes: number } | { error: string }];
    if ('error' in result) throw new Error(`/state reader: ${result.error}`);
    return result;
  } finally {
    await worker.terminate();
  }
}

/** Allocation cycles computed so far (one /metrics read): cycles run, less those skipped as having nothing new to decide. */
async function computedCycles(master: string): Promise<number> {
  const text = await (await fetch(`http://${master}/metrics`)).text();
  const value = (name: string): number => Number(new RegExp(`^${name} ([0-9.e+]+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  return value('meso_master_allocation_runs_total') - value('meso_master_allocation_skipped_total');
}

/** Allocation cycles computed per second over `during`, read from /metrics. */
async function allocationRate(master: string, during: Promise<unknown> | number): Promise<number> {
  const before = await computedCycles(master);
  const t0 = Date.now();
  await (typeof during === 'number' ? sleep(during) : during);
  const after = await computedCycles(master);
  return (after - before) / ((Date.now() - t0) / 1000);
}

/**
 * /state at N agents and T tasks: its latency alone, and while allocation runs all the time
 * (a framework declining every offer at once), with the allocation rate with and without
 * /state readers (does serving /state stall allocation?).
 */
export const stateBenchmark: Benchmark = {
  name: 'state',
  async run(ctx) {
    const agents = ctx.full ? 10_000 : 2_000;
    const tasks = ctx.full ? 100_000 : 20_000;
    const samples = ctx.full ? 10 : 5;
    const cleanup = new Cleanup();
    try {
      const master = await startBenchMaster(cleanup);
      await loadCluster(cleanup, master.address, { agents, tasks, frameworks: 5, log: ctx.log });
      const quiet = await sample(master.address, samples);
      // A framework that declines everything at once keeps the allocator busy.
      const churn = await LoadFramework.start({ name: 'churn', master: master.address, tasks: 0, cpus: 1, mem: 1, command: 'true', declineSeconds: 0 });
      cleanup.onCleanup(() => churn.close());
      // Rates over windows of RATE_MS, after the churn's first cycles (every agent offered at once).
      await sleep(WARM_UP_MS);
      const idleRate = await allocationRate(master.address, RATE_MS);
      let busy: { ms: number[]; bytes: number } = { ms: [], bytes: 0 };
      const busyRate = await allocationRate(
        master.address,
        sample(master.address, samples, RATE_MS).then((r) => (busy = r)),
      );
      ctx.log(`state: ${(quiet.bytes / 2 ** 20).toFixed(1)} MB; alone p50 ${median(quiet.ms).toFixed(0)} ms; with allocation p50 ${median(busy.ms).toFixed(0)} ms; allocation ${idleRate.toFixed(1)}/s without readers, ${busyRate.toFixed(1)}/s while /state is read`);
      const atReference = agents === 10_000;
      return {
        parameters: { agents, tasks, samples, bodyMB: Math.round(quiet.bytes / 2 ** 20) },
        figures: [
          { name: `/state at ${agents / 1000}k agents / ${tasks / 1000}k tasks (median)`, value: median(quiet.ms), unit: 'ms', ...(atReference ? { reference: { value: 1860, source: 'Mesos 1.7' }, target: { op: '<' as const, value: 250 } } : {}) },
          { name: '/state while allocation runs (median)', value: median(busy.ms), unit: 'ms', ...(atReference ? { reference: { value: 1860, source: 'Mesos 1.7' }, target: { op: '<' as const, value: 250 } } : {}) },
          { name: '/state worst', value: Math.max(...quiet.ms, ...busy.ms), unit: 'ms' },
          { name: 'allocation cycles/s, no /state readers', value: idleRate, unit: 'cycles/s' },
          { name: 'allocation cycles/s while /state is read back to back', value: busyRate, unit: 'cycles/s' },
        ],
        notes: [
          'Latency: one GET /state until the whole body arrived (HTTP on loopback), readers one after another, from a worker thread (the benchmark process also runs the simulated agents and frameworks).',
          `Allocation cycles/s: over ${RATE_MS / 1000} s after ${WARM_UP_MS / 1000} s of churn, without readers, then while /state is read back to back (at least ${RATE_MS / 1000} s: the busy latencies are all the reads of that window); cycles computed (meso_master_allocation_runs_total less meso_master_allocation_skipped_total, the cycles skipped because nothing they depend on changed).`,
          'Mesos 1.7 measured 1.86 s at 10k agents with 100k running and 100k completed tasks; completed tasks here are only those the master keeps.',
        ],
      };
    } finally {
      await cleanup.run();
    }
  },
};
