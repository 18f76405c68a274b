// The isolation of one container: its isolators' parts together — the command that puts
// the executor into the container before it runs, limits, watchers that look for a
// limitation at each isolator's interval, usage, cleanup.
import { existsSync } from 'node:fs';
import { ResourceStatistics, type Clock, type Logger, type TimerHandle } from '@meso/proto';
import { cpuQuotaUs, CPU_PERIOD_US } from './cgroup-files.js';
import type { ContainerLimits } from './limits.js';
import type { Command, ContainerIsolator, Limitation } from './types.js';

/** Single-quotes a string for /bin/sh. */
function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

const BASH = '/bin/bash';

/**
 * Runs `command` with its argv[0] through bash's `exec -a` (a wrapper would lose it
 * otherwise; POSIX sh has no way to set it). Without bash, argv[0] is the program's path.
 */
export function keepArgv0(command: Command): Command {
  if (command.argv0 === undefined || command.argv0 === command.file || !existsSync(BASH)) return { file: command.file, args: command.args };
  return { file: BASH, args: ['-c', 'exec -a "$0" "$@"', command.argv0, command.file, ...command.args] };
}

export class ContainerIsolation {
  /** Resolves with the first limitation found; the container is then to be killed. */
  readonly limited: Promise<Limitation>;
  private resolveLimited!: (l: Limitation) => void;
  private found: Limitation | undefined;
  private readonly timers = new Set<TimerHandle>();
  private stopped = false;
  private cleaned: Promise<void> | undefined;
  private updated = false;

  constructor(
    readonly runId: string,
    private readonly parts: ContainerIsolator[],
    private limits: ContainerLimits,
    private readonly o: { clock: Clock; logger: Logger; cpuQuota: boolean; processes: (runId: string) => Promise<number[]> },
  ) {
    this.limited = new Promise((resolve) => (this.resolveLimited = resolve));
  }

  /** The isolators applied, by name. */
  get names(): string[] {
    return this.parts.map((p) => p.name);
  }

  get currentLimits(): ContainerLimits {
    return this.limits;
  }

  /**
   * The command that runs `command` inside the container: it joins the container's
   * cgroups (writes its own pid to each cgroup.procs) and then execs — through the pid
   * namespace wrapper when there is one — so no process of the executor is ever outside.
   */
  wrap(command: Command): Command {
    const wrappers = this.parts.filter((p) => p.wrap);
    const procs = this.parts.flatMap((p) => p.procsFiles ?? []);
    if (wrappers.length === 0 && procs.length === 0) return command;
    let c = keepArgv0(command);
    for (const p of wrappers) c = p.wrap?.(c) ?? c;
    if (procs.length === 0) return c;
    const join = procs.map((f) => `echo $$ > ${shQuote(f)}`).join(' && ');
    return { file: '/bin/sh', args: ['-c', `${join} && exec "$@"`, 'meso-container', c.file, ...c.args] };
  }

  /**
   * Applies new limits (the container's tasks changed). Memory is never lowered during the
   * container's life (as Mesos): below what is in use, a lower hard limit would make the
   * kernel kill, or the posix check report a limitation, for a task that merely ended.
   */
  async update(next: ContainerLimits): Promise<void> {
    const limits = this.updated ? { ...next, memBytes: Math.max(next.memBytes, this.limits.memBytes) } : next;
    this.updated = true;
    this.limits = limits;
    for (const p of this.parts) {
      try {
        await p.update?.(limits);
      } catch (e) {
        this.o.logger.warn('could not apply a container limit', { runId: this.runId, isolator: p.name, error: (e as Error).message });
      }
    }
  }

  /**
   * Reads the container's processes from its cgroup, when it has one (undefined otherwise):
   * always current, and no process leaves its cgroup on its own.
   */
  get cgroupPids(): (() => Promise<number[]>) | undefined {
    const own = this.parts.find((p) => p.pids);
    return own?.pids ? () => own.pids?.() ?? Promise.resolve([]) : undefined;
  }

  /** The container's processes: its cgroup's, else every process carrying the run's marker. */
  readonly pids = async (): Promise<number[]> => {
    const own = this.parts.find((p) => p.pids);
    return own?.pids ? own.pids() : this.o.processes(this.runId);
  };

  /** Starts the watchers (each isolator at its own interval). */
  start(): void {
    for (const p of this.parts) {
      if (!p.check || !p.watchIntervalMs) continue;
      const loop = (): void => {
        if (this.stopped) return;
        const t = this.o.clock.setTimeout(() => {
          this.timers.delete(t);
          void this.run(p).finally(loop);
        }, p.watchIntervalMs as number);
        this.timers.add(t);
      };
      loop();
    }
  }

  /** Looks for a limitation now: every isolator's check, or only the urgent ones (memory). */
  async check(urgentOnly = false): Promise<Limitation | undefined> {
    if (this.found) return this.found;
    for (const p of this.parts) {
      if (!p.check || (urgentOnly && !p.urgent)) continue;
      const l = await this.run(p);
      if (l) return l;
    }
    return undefined;
  }

  private async run(p: ContainerIsolator): Promise<Limitation | undefined> {
    if (this.found || this.stopped || !p.check) return this.found;
    try {
      const l = await p.check(this.pids, this.limits);
      if (l && !this.found) {
        this.found = l;
        this.o.logger.warn('container over its limit: killing it', { runId: this.runId, isolator: p.name, message: l.message });
        this.stopWatching();
        this.resolveLimited(l);
      }
      return this.found;
    } catch (e) {
      this.o.logger.debug('isolator check failed', { runId: this.runId, isolator: p.name, error: (e as Error).message });
      return undefined;
    }
  }

  /** Usage now, with the limits (Mesos's ResourceStatistics). */
  async usage(now: number): Promise<ResourceStatistics> {
    const s: ResourceStatistics = {
      ...ResourceStatistics.fromPartial({}),
      timestamp: now / 1000,
      cpusLimit: this.limits.cpus,
      cpusQuota: this.o.cpuQuota ? cpuQuotaUs(this.limits.cpus) / CPU_PERIOD_US : 0,
      memLimitBytes: this.limits.memBytes,
      diskLimitBytes: this.limits.diskBytes,
    };
    for (const p of this.parts) {
      if (!p.usage) continue;
      try {
        const u = await p.usage(this.pids);
        if (u.cpusUserTimeSecs !== undefined) s.cpusUserTimeSecs = u.cpusUserTimeSecs;
        if (u.cpusSystemTimeSecs !== undefined) s.cpusSystemTimeSecs = u.cpusSystemTimeSecs;
        if (u.memRssBytes !== undefined) s.memRssBytes = u.memRssBytes;
        if (u.diskUsedBytes !== undefined) s.diskUsedBytes = u.diskUsedBytes;
        if (u.processes !== undefined) s.processes = u.processes;
      } catch (e) {
        this.o.logger.debug('isolator usage failed', { runId: this.runId, isolator: p.name, error: (e as Error).message });
      }
    }
    return s;
  }

  /** Stops the watchers (the agent detaches, or the container is being killed). */
  stopWatching(): void {
    this.stopped = true;
    for (const t of this.timers) this.o.clock.clearTimeout(t);
    this.timers.clear();
  }

  /** Removes what the isolators made; call once the container's processes are gone. Idempotent. */
  cleanup(): Promise<void> {
    this.stopWatching();
    this.cleaned ??= (async () => {
      for (const p of this.parts) {
        try {
          await p.cleanup?.();
        } catch (e) {
          this.o.logger.warn('could not clean up after a container', { runId: this.runId, isolator: p.name, error: (e as Error).message });
        }
      }
    })();
    return this.cleaned;
  }
}
