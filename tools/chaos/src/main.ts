#!/usr/bin/env node
/**
 * The chaos soak (issue 3, item 10): a master and agents as child processes, frameworks that
 * keep launching short and long tasks, random faults for M minutes, then a quiet period and
 * the invariant checks. See README.md.
 */
import { readFile } from 'node:fs/promises';
import {
  Cleanup,
  pidsWithEnvironment,
  restartAgentProcess,
  restartMasterProcess,
  startAgentProcess,
  startMasterProcess,
  type RunningAgent,
  type RunningMaster,
} from '@meso/testing';
import { ChaosFramework, latest, endsTask } from './framework.js';
import { overcommit, registryProblems, streamViolations, taskProblems, type StateJson } from './invariants.js';
import { USAGE, parseOptions, random, type ChaosOptions } from './options.js';

type FaultKind = 'master-kill' | 'agent-kill' | 'agent-pause' | 'executor-kill' | 'framework-failover';
const FAULT_WEIGHTS: [FaultKind, number][] = [
  ['master-kill', 1],
  ['agent-kill', 2],
  ['agent-pause', 2],
  ['executor-kill', 3],
  ['framework-failover', 2],
];

const started = Date.now();
function log(line: string): void {
  const s = ((Date.now() - started) / 1000).toFixed(1).padStart(6);
  console.log(`[chaos ${s}s] ${line}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class Soak {
  readonly cleanup = new Cleanup();
  master!: RunningMaster;
  agents: RunningAgent[] = [];
  frameworks: ChaosFramework[] = [];
  readonly faults = new Map<FaultKind, number>();
  readonly violations: string[] = [];
  private readonly overcommitSeen = new Set<string>();
  private sampler: NodeJS.Timeout | undefined;
  samples = 0;
  stopping = false;

  constructor(
    readonly o: ChaosOptions,
    readonly rnd: () => number,
  ) {}

  async start(): Promise<void> {
    this.master = await startMasterProcess(this.cleanup, ['--agent_ping_timeout', '500ms', '--max_agent_ping_timeouts', '4']);
    log(`master at ${this.master.address} (work dir ${this.master.workDir})`);
    for (let i = 0; i < this.o.agents; i++) {
      const agent = await startAgentProcess(this.cleanup, this.master.address, 'cpus:4;mem:4096;disk:10240', ['--executor_shutdown_grace_period', '1']);
      this.agents.push(agent);
      log(`agent ${agent.agentId} at ${agent.endpoint}`);
    }
    for (let i = 0; i < this.o.frameworks; i++) {
      const fw = new ChaosFramework(`chaos-${i + 1}`, this.master.address, this.rnd);
      await fw.connect();
      this.frameworks.push(fw);
      log(`framework ${fw.name} subscribed as ${fw.frameworkId}`);
    }
    this.sampler = setInterval(() => void this.sample(), 1000);
  }

  async state(): Promise<StateJson | undefined> {
    try {
      const res = await fetch(`http://${this.master.address}/state`, { signal: AbortSignal.timeout(3000) });
      return (await res.json()) as StateJson;
    } catch {
      return undefined;
    }
  }

  /** "At no moment was an agent's used resource above its total": a /state sample each second. */
  private async sample(): Promise<void> {
    const s = await this.state();
    if (!s) return;
    this.samples++;
    for (const v of overcommit(s)) {
      const key = v.replace(/[\d.]+ > total/, '');
      if (this.overcommitSeen.has(key)) continue;
      this.overcommitSeen.add(key);
      this.violations.push(`resources: at ${((Date.now() - started) / 1000).toFixed(1)}s ${v}`);
    }
  }

  private pick<T>(list: readonly T[]): T | undefined {
    return list[Math.floor(this.rnd() * list.length)];
  }

  private pickFault(): FaultKind {
    const total = FAULT_WEIGHTS.reduce((n, [, w]) => n + w, 0);
    let x = this.rnd() * total;
    for (const [k, w] of FAULT_WEIGHTS) if ((x -= w) < 0) return k;
    return 'executor-kill';
  }

  /** One fault, carried out to the end (a restarted process is up again) before the next. */
  async fault(kind: FaultKind): Promise<string | undefined> {
    switch (kind) {
      case 'master-kill': {
        await this.master.proc.kill9();
        this.master = await this.retry('restart the master', () => restartMasterProcess(this.cleanup, this.master));
        return `master killed -9 and restarted as ${this.master.proc.stdout.match(/meso master (\S+)/)?.[1] ?? '?'}`;
      }
      case 'agent-kill': {
        const i = Math.floor(this.rnd() * this.agents.length);
        const a = this.agents[i];
        if (!a) return undefined;
        await a.proc.kill9();
        this.agents[i] = await this.retry('restart an agent', () => restartAgentProcess(this.cleanup, a, false));
        return `agent ${a.agentId} killed -9 and restarted`;
      }
      case 'agent-pause': {
        const a = this.pick(this.agents);
        if (!a) return undefined;
        const ms = 500 + Math.floor(this.rnd() * 4500);
        a.proc.pause();
        await sleep(ms);
        a.proc.resume();
        return `agent ${a.agentId} SIGSTOP for ${ms} ms, then SIGCONT${ms > 2000 ? ' (past the ping window)' : ''}`;
      }
      case 'executor-kill': {
        const s = await this.state();
        const running = (s?.tasks ?? []).filter((t) => t.state === 'TASK_RUNNING' && t.sandbox);
        const t = this.pick(running);
        if (!t) return undefined;
        const pids = await pidsWithEnvironment(`MESO_SANDBOX=${t.sandbox}\0`);
        // The executor: the process of the run whose parent is not of the run.
        let executor: number | undefined;
        for (const pid of pids) {
          const ppid = await parentPid(pid);
          if (ppid !== undefined && !pids.includes(ppid)) executor = pid;
        }
        if (executor === undefined) return undefined;
        try {
          process.kill(executor, 'SIGKILL');
        } catch {
          return undefined; // it ended by itself meanwhile: no fault
        }
        return `executor ${executor} of task ${t.id} killed -9`;
      }
      case 'framework-failover': {
        const fw = this.pick(this.frameworks);
        if (!fw) return undefined;
        await fw.crash();
        fw.setMaster(this.master.address);
        await this.retry(`re-connect ${fw.name}`, () => fw.connect());
        return `framework ${fw.name} closed abruptly and re-subscribed as ${fw.frameworkId}`;
      }
    }
  }

  private async retry<T>(what: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        if (attempt >= 5) throw new Error(`could not ${what}: ${(e as Error).message}`);
        log(`could not ${what} (attempt ${attempt}): ${(e as Error).message.split('\n')[0]}; retrying`);
        await sleep(1000);
      }
    }
  }

  async faultLoop(untilMs: number): Promise<void> {
    let nextProgress = Date.now() + 30_000;
    while (!this.stopping && Date.now() < untilMs) {
      const gapMs = this.o.faultsPerMinute > 0 ? (-Math.log(1 - this.rnd()) * 60_000) / this.o.faultsPerMinute : Infinity;
      const at = Math.min(Date.now() + gapMs, untilMs);
      while (!this.stopping && Date.now() < at) {
        await sleep(Math.min(500, at - Date.now()));
        if (Date.now() >= nextProgress) {
          nextProgress += 30_000;
          this.progress();
        }
      }
      if (this.stopping || Date.now() >= untilMs) break;
      const kind = this.pickFault();
      try {
        const what = await this.fault(kind);
        if (what) {
          this.faults.set(kind, (this.faults.get(kind) ?? 0) + 1);
          log(`fault: ${what}`);
        }
      } catch (e) {
        this.violations.push(`harness: the ${kind} fault could not be carried out: ${(e as Error).message.split('\n')[0]}`);
        log(`fault ${kind} failed: ${(e as Error).message.split('\n')[0]}`);
      }
    }
  }

  get taskCount(): number {
    return this.frameworks.reduce((n, f) => n + f.tasks.size, 0);
  }

  get faultCount(): number {
    return [...this.faults.values()].reduce((a, b) => a + b, 0);
  }

  progress(): void {
    const tasks = this.frameworks.flatMap((f) => [...f.tasks.values()]);
    const running = tasks.filter((t) => latest(t)?.state === 'TASK_RUNNING').length;
    const ended = tasks.filter((t) => endsTask(latest(t)?.state)).length;
    log(`progress: tasks=${tasks.length} running=${running} ended=${ended} faults=${this.faultCount} (${this.faultSummary()}) samples=${this.samples} violations so far=${this.violations.length}`);
  }

  faultSummary(): string {
    return FAULT_WEIGHTS.map(([k]) => `${k}=${this.faults.get(k) ?? 0}`).join(' ');
  }

  /** After the faults: every process up, then checks until they hold or the quiet period ends. */
  async converge(): Promise<void> {
    for (const f of this.frameworks) f.launching = false;
    for (const a of this.agents) a.proc.resume();
    for (const f of this.frameworks) {
      if (!f.connected) {
        f.setMaster(this.master.address);
        await this.retry(`re-connect ${f.name}`, () => f.connect()).catch((e: Error) => this.violations.push(`harness: ${e.message}`));
      }
    }
    log(`faults stopped; quiet period of up to ${this.o.quietSeconds} s for the cluster to converge`);
    const deadline = Date.now() + this.o.quietSeconds * 1000;
    let problems: string[] = [];
    for (;;) {
      for (const f of this.frameworks) await f.reconcile();
      await sleep(3000);
      const s = await this.state();
      if (!s) {
        problems = ['the master does not answer /state'];
      } else {
        const tasks = this.frameworks.flatMap((f) => [...f.tasks.values()]);
        problems = [...taskProblems(tasks, s), ...(await registryProblems(s, this.agents.map((a) => a.workDir)))];
        const down = s.agents.filter((a) => a.status !== 'ACTIVE');
        for (const a of down) problems.push(`agent ${a.id} is ${a.status} at the end`);
      }
      if (problems.length === 0) {
        log(`converged after ${((Date.now() - (deadline - this.o.quietSeconds * 1000)) / 1000).toFixed(1)} s`);
        break;
      }
      if (Date.now() > deadline) {
        log(`not converged after ${this.o.quietSeconds} s: ${problems.length} problem(s)`);
        break;
      }
    }
    this.violations.push(...problems);
    for (const f of this.frameworks) {
      for (const t of f.tasks.values()) this.violations.push(...streamViolations(t));
      this.violations.push(...f.errors.map((e) => `framework: ${e}`));
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.sampler);
    for (const f of this.frameworks) await f.close().catch(() => undefined);
    for (const a of this.agents) a.proc.resume();
    await this.cleanup.run();
  }
}

async function parentPid(pid: number): Promise<number | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

async function main(): Promise<number> {
  let options: ChaosOptions | 'help';
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (options === 'help') {
    console.log(USAGE);
    return 0;
  }
  const o = options;
  // Children log warnings and errors only, unless asked otherwise.
  process.env['MESO_LOG_LEVEL'] ??= 'warn';
  log(`seed=${o.seed} minutes=${o.minutes} faults-per-minute=${o.faultsPerMinute} agents=${o.agents} frameworks=${o.frameworks} quiet-seconds=${o.quietSeconds}`);
  const soak = new Soak(o, random(o.seed));
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) return;
    interrupted = true;
    log('interrupted: stopping every process started');
    soak.stopping = true;
    void soak.stop().finally(() => {
      console.log(`chaos: minutes=${o.minutes} tasks=${soak.taskCount} faults=${soak.faultCount} violations=${soak.violations.length} (interrupted)`);
      process.exit(130);
    });
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await soak.start();
    await soak.faultLoop(Date.now() + o.minutes * 60_000);
    if (interrupted) return 130;
    soak.progress();
    await soak.converge();
  } catch (e) {
    soak.violations.push(`harness: ${(e as Error).stack ?? String(e)}`);
  } finally {
    if (!interrupted) await soak.stop();
  }
  if (interrupted) return 130;
  log(`faults: ${soak.faultSummary()}; /state samples: ${soak.samples}`);
  if (soak.violations.length > 0) {
    console.log(`violations (${soak.violations.length}):`);
    for (const v of soak.violations) console.log(`  - ${v}`);
  }
  console.log(`chaos: minutes=${o.minutes} tasks=${soak.taskCount} faults=${soak.faultCount} violations=${soak.violations.length}`);
  return soak.violations.length > 0 ? 1 : 0;
}

process.exit(await main());
