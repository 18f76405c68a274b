import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startSimAgents, type SimAgents } from '@meso/cli';
import { MESO_BIN, Proc, waitFor, type Cleanup } from '@meso/testing';
import { LoadFramework } from './load-framework.js';

/** A master process of a benchmark. */
export interface BenchMaster {
  proc: Proc;
  address: string;
  port: number;
  workDir: string;
}

/** Runs `meso ARGS` as a child process stopped at cleanup; with MESO_BENCH_PROFILE=DIR set, it writes a CPU profile into DIR when it exits. */
function spawnMeso(cleanup: Cleanup, args: string[], label: string): Proc {
  const profile = process.env['MESO_BENCH_PROFILE'];
  if (profile) mkdirSync(profile, { recursive: true });
  const node = profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : [];
  const child = spawn(process.execPath, [...node, MESO_BIN, ...args], { env: { ...process.env, MESO_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const proc = new Proc(child, label);
  cleanup.onCleanup(() => proc.stop(profile ? 300_000 : 10_000)); // writing a profile takes a while
  return proc;
}

/**
 * Starts `meso master` (quiet logs, allocation every 100 ms) on a free port, or on
 * `previous`'s port and work dir (a restart), and waits until it listens.
 */
export async function startBenchMaster(cleanup: Cleanup, previous?: BenchMaster): Promise<BenchMaster> {
  const workDir = previous?.workDir ?? join(await cleanup.tempDir('meso-bench-'), 'master');
  const proc = spawnMeso(cleanup, ['master', '--port', String(previous?.port ?? 0), '--work_dir', workDir, '--allocation_interval', '100ms'], 'meso master');
  const [, address = ''] = await proc.line(/listening on (\S+)/, 120_000);
  return { proc, address, port: Number(address.slice(address.lastIndexOf(':') + 1)), workDir };
}

/** Starts a real `meso agent` with `resources` and waits until the master registered it. */
export async function startBenchAgent(cleanup: Cleanup, master: string, resources: string): Promise<{ proc: Proc; agentId: string }> {
  const workDir = join(await cleanup.tempDir('meso-bench-agent-'), 'agent');
  const proc = spawnMeso(cleanup, ['agent', '--master', master, '--port', '0', '--work_dir', workDir, '--resources', resources], 'meso agent');
  const [, agentId = ''] = await proc.line(/registered as (\S+)/, 120_000);
  return { proc, agentId };
}

/** Resident set size of a process, in MB (from /proc). */
export async function rssMB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1]);
  if (!Number.isFinite(kb)) throw new Error(`no VmRSS for process ${pid}`);
  return kb / 1024;
}

/** GET /state: milliseconds until the whole body arrived, and its size. */
export async function timedState(master: string): Promise<{ ms: number; bytes: number; body: string }> {
  const t0 = performance.now();
  const res = await fetch(`http://${master}/state`);
  const body = await res.text();
  if (!res.ok) throw new Error(`/state answered ${res.status}`);
  return { ms: performance.now() - t0, bytes: body.length, body };
}

/** The value of one Prometheus counter from /metrics. */
export async function metric(master: string, name: string): Promise<number> {
  const text = await (await fetch(`http://${master}/metrics`)).text();
  return Number(new RegExp(`^${name} ([0-9.e+]+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
}

/**
 * Runs `meso sim-agents` (<8 cpus, 16 GB> each) against `master` as a child process, so the
 * agents do not share the benchmark's event loop, and waits until all registered.
 */
export async function spawnSimAgents(cleanup: Cleanup, master: string, count: number, timeoutMs = 600_000): Promise<Proc> {
  const proc = spawnMeso(cleanup, ['sim-agents', '--master', master, '--count', String(count)], 'meso sim-agents');
  await proc.line(/all \d+ registered/, timeoutMs);
  return proc;
}

/** CPU seconds (user + system) a process has used so far, from /proc. */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS; // utime, stime (fields 14 and 15 of stat)
}

/** Clock ticks per second of /proc times (USER_HZ: 100 on Linux). */
const CLOCK_TICKS = 100;

/** Starts `count` simulated agents (<8 cpus, 16 GB>) against `master` and waits until all registered. */
export async function registerFleet(cleanup: Cleanup, master: string, count: number, log: (line: string) => void): Promise<SimAgents> {
  const t0 = performance.now();
  const fleet = startSimAgents({ master, count });
  cleanup.onCleanup(async () => fleet.close());
  await fleet.waitRegistered(600_000);
  log(`${count} simulated agents registered in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return fleet;
}

/**
 * Places `tasks` long-running tasks (<0.05 cpus, 16 MB>) by `frameworks` SDK frameworks, at
 * most `tasks / agents` per offer so they spread; resolves once every task is RUNNING.
 */
export async function placeTasks(cleanup: Cleanup, master: string, o: { agents: number; tasks: number; frameworks: number; log: (line: string) => void }): Promise<LoadFramework[]> {
  const t0 = performance.now();
  const frameworks = await startFrameworks(cleanup, master, o.frameworks, o.tasks, Math.ceil(o.tasks / o.agents));
  await waitFor(`${o.tasks} tasks RUNNING`, () => runningCount(frameworks) >= o.tasks || undefined, 1_800_000);
  o.log(`${o.tasks} tasks RUNNING in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return frameworks;
}

/** `agents` simulated agents running `tasks` tasks of `frameworks` SDK frameworks. */
export async function loadCluster(
  cleanup: Cleanup,
  master: string,
  o: { agents: number; tasks: number; frameworks: number; log: (line: string) => void },
): Promise<{ fleet: SimAgents; frameworks: LoadFramework[] }> {
  const fleet = await registerFleet(cleanup, master, o.agents, o.log);
  return { fleet, frameworks: await placeTasks(cleanup, master, o) };
}

/**
 * Starts `count` load frameworks sharing `tasks` among them, subscribing all at once (one after
 * the other, the first would place its share while the last is still subscribing).
 */
export async function startFrameworks(
  cleanup: Cleanup,
  master: string,
  count: number,
  tasks: number,
  maxPerOffer?: number,
  command = 'sleep 3600',
  size = { cpus: 0.05, mem: 16 },
): Promise<LoadFramework[]> {
  const starting = Array.from({ length: count }, async (_, i) => {
    const share = Math.floor(tasks / count) + (i < tasks % count ? 1 : 0);
    const fw = await LoadFramework.start({ name: `bench-${i}`, master, tasks: share, ...size, command, ...(maxPerOffer ? { maxPerOffer } : {}) });
    cleanup.onCleanup(() => fw.close());
    return fw;
  });
  const started = await Promise.allSettled(starting);
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  return started.map((s) => (s as PromiseFulfilledResult<LoadFramework>).value);
}

export function runningCount(frameworks: readonly LoadFramework[]): number {
  return frameworks.reduce((n, f) => n + f.runningAt.size, 0);
}

export function frameworkErrors(frameworks: readonly LoadFramework[]): string[] {
  return frameworks.flatMap((f) => f.errors);
}
