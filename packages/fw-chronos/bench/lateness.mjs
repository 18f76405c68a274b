// Benchmark: lateness (scheduled time → TASK_RUNNING seen by fw-chronos) and CPU use of
// fw-chronos with many jobs due at the same instants.
//
// Shortened by default: 1,000 jobs firing every 10 s for 4 rounds (BENCH_PERIOD_S=60 gives the
// issue's "every minute"; the work per firing is the same, only the wait between rounds differs).
// The master is the SDK's in-process FakeSchedulerTransport, answering every launch with
// TASK_RUNNING at once and TASK_FINISHED 100 ms later, so the figures are fw-chronos's own share
// (timer → ledger write → placement → ACCEPT) without agents spawning 1,000 processes on this
// machine; the ledger is the real FileStateStore with fsync. Not part of the test suite.
//
//   npm run build && npm run bench --workspace @meso/fw-chronos
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeSchedulerTransport, silentLogger } from '@meso/sdk-scheduler';
import { startChronos } from '../dist/index.js';

const JOBS = Number(process.env.BENCH_JOBS ?? 1000);
const PERIOD_S = Number(process.env.BENCH_PERIOD_S ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);

const master = new FakeSchedulerTransport();
let suppressed = false;
let outstanding = 0;
master.onCall('suppress', () => void (suppressed = true));
master.onCall('revive', () => void (suppressed = false));
master.onCall('decline', (r) => void (outstanding -= r.offerIds.length));
const accepts = [];
master.onCall('accept', (r) => {
  outstanding -= r.offerIds.length;
  accepts.push({ at: Date.now(), tasks: r.operations.reduce((n, op) => n + (op.launch?.taskInfos.length ?? 0), 0) });
  setImmediate(() => {
    if (!master.streamOpen) return;
    for (const op of r.operations) {
      for (const t of op.launch?.taskInfos ?? []) {
        const taskId = t.taskId.value;
        master.update({ taskId, state: 'TASK_RUNNING', uuid: `${taskId}-r` });
        setTimeout(() => master.streamOpen && master.update({ taskId, state: 'TASK_FINISHED', uuid: `${taskId}-f`, exitCode: 0 }), 100);
      }
    }
  });
});
// The master's allocation: every 100 ms, offer a big agent while not suppressed.
const allocator = setInterval(() => {
  if (suppressed || outstanding >= 2 || !master.streamOpen) return;
  outstanding++;
  master.offer({ resources: 'cpus:1000;mem:1000000;disk:10000000' });
}, 100);

const dir = await mkdtemp(join(tmpdir(), 'chronos-bench-'));
const chronos = await startChronos({ transport: master, httpPort: 0, workDir: dir, logger: silentLogger });
// The first firing leaves time to create every job first (about 5-20 ms each with fsync).
const start = Math.ceil((Date.now() + 10_000 + JOBS * 25) / 1000) * 1000;
const startIso = new Date(start).toISOString();
const t0 = Date.now();
for (let i = 0; i < JOBS; i++) {
  await chronos.engine.upsertJob({ name: `job-${i}`, command: 'true', schedule: `R/${startIso}/PT${PERIOD_S}S`, cpus: 0.01, mem: 1, disk: 0, concurrent: true });
}
console.log(`created ${JOBS} jobs in ${Date.now() - t0} ms; first firing at ${startIso}, every ${PERIOD_S} s, ${ROUNDS} rounds`);

const end = start + (ROUNDS - 1) * PERIOD_S * 1000 + 3000;
await new Promise((r) => setTimeout(r, Math.max(0, start - Date.now() - 500)));
const cpu0 = process.cpuUsage();
const wall0 = Date.now();
while (Date.now() < end) await new Promise((r) => setTimeout(r, 250));
const cpu = process.cpuUsage(cpu0);
const wall = Date.now() - wall0;

const lateness = [...chronos.engine.metrics.lateness.values()].sort((a, b) => a - b);
const pct = (p) => lateness[Math.min(lateness.length - 1, Math.max(0, Math.ceil((p / 100) * lateness.length) - 1))];
const cpuPct = ((cpu.user + cpu.system) / 1000 / wall) * 100;
console.log(`runs observed RUNNING: ${lateness.length} of ${JOBS * ROUNDS} expected`);
console.log(`lateness p50 ${pct(50)} ms, p99 ${pct(99)} ms, max ${lateness[lateness.length - 1]} ms`);
console.log(`CPU (fw-chronos + the in-process fake master): ${cpuPct.toFixed(1)}% of one core over ${(wall / 1000).toFixed(1)} s (user ${(cpu.user / 1e6).toFixed(2)} s, system ${(cpu.system / 1e6).toFixed(2)} s)`);
const firstRound = accepts.filter((a) => a.at >= start && a.at < start + PERIOD_S * 1000);
console.log(`first round: ${firstRound.length} ACCEPT call(s) carrying ${firstRound.reduce((n, a) => n + a.tasks, 0)} tasks, the first ${firstRound[0] ? firstRound[0].at - start : '-'} ms and the last ${firstRound.length ? firstRound[firstRound.length - 1].at - start : '-'} ms after the scheduled time`);
console.log(`per round: ${(((cpu.user + cpu.system) / 1000) / ROUNDS).toFixed(0)} ms of CPU for ${JOBS} runs`);

clearInterval(allocator);
await chronos.close();
await rm(dir, { recursive: true, force: true });
