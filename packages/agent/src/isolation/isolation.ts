// The agent's isolation: which isolators apply (from --isolation and the machine), said
// once at start, and each container's isolation assembled from them. Containers' cgroups
// live at <agent's own cgroup>/<cgroupsRoot>/agent-<hash of the work dir>/<runId>, so
// agents sharing a machine never touch each other's and a restarted agent finds its own.
import { createHash } from 'node:crypto';
import { readdir, readFile, rmdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock, Logger, Range } from '@meso/proto';
import { detectMachineCgroups } from './cgroup-facts.js';
import type { CgroupSupport } from './cgroup-detect.js';
import { parsePids } from './cgroup-files.js';
import { cgroupsIsolator, makeContainerCgroups, removeCgroup, type ContainerCgroups } from './cgroups-isolator.js';
import { ContainerIsolation } from './container-isolation.js';
import { diskIsolator } from './disk-isolator.js';
import { chooseIsolators, type IsolatorName } from './isolation-flags.js';
import type { ContainerLimits } from './limits.js';
import { pidNamespaceIsolator, pidNamespaceSupport } from './pid-namespace.js';
import { portsIsolator } from './ports-isolator.js';
import { posixIsolator } from './posix-isolator.js';
import { RunProcessTable } from './run-processes.js';
import type { ContainerIsolator } from './types.js';

export interface IsolationConfig {
  /** `--isolation`; undefined: the best available. */
  flag: string | undefined;
  enableCfs: boolean;
  cgroupsRoot: string;
  workDir: string;
  memoryWatchIntervalMs: number;
  diskWatchIntervalMs: number;
  portsWatchIntervalMs: number;
  checkAgentPortRangeOnly: boolean;
  agentPorts: Range[];
  clock: Clock;
  logger: Logger;
  /** Detected cgroups (tests); defaults to this machine's. */
  cgroups?: CgroupSupport;
}

/** A container cgroup without processes this old is a leftover of an agent that died (a live agent removes its own within seconds). */
export const STALE_CGROUP_MS = 60_000;

/**
 * Removes, below `root` (`<agent's cgroup>/<cgroupsRoot>`), what agents that died left and
 * nobody will recover (their work dir gone): container cgroups without processes older
 * than STALE_CGROUP_MS, then agent cgroups without containers. A live agent's are never
 * touched: its containers hold processes, or are younger, and it remakes its own
 * directory when it needs it.
 */
async function sweepStale(root: string, now: number, log: Logger): Promise<void> {
  let agents: string[];
  try {
    agents = (await readdir(root, { withFileTypes: true })).filter((d) => d.isDirectory() && d.name.startsWith('agent-')).map((d) => join(root, d.name));
  } catch {
    return;
  }
  let removed = 0;
  for (const agent of agents) {
    let runs: string[] = [];
    try {
      runs = (await readdir(agent, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => join(agent, d.name));
    } catch {
      continue;
    }
    for (const run of runs) {
      try {
        const empty = parsePids(await readFile(join(run, 'cgroup.procs'), 'utf8')).length === 0;
        if (empty && now - (await stat(run)).ctimeMs > STALE_CGROUP_MS) {
          await rmdir(run);
          removed++;
        }
      } catch {
        // busy or gone meanwhile
      }
    }
    await rmdir(agent).then(
      () => removed++,
      () => undefined,
    );
  }
  if (removed > 0) log.info('removed cgroups left by agents that are gone', { root, removed });
}

/** Where this agent's containers' cgroups go. */
type AgentCgroups = { version: 1; cpu: string; cpuacct: string; memory: string } | { version: 2; dir: string };

/** The name of the cgroup holding one agent's containers: the same for every process of the agent on `workDir`. */
export function agentCgroupName(workDir: string): string {
  return `agent-${createHash('sha1').update(workDir).digest('hex').slice(0, 12)}`;
}

async function enableControllers(dirs: string[]): Promise<void> {
  for (const d of dirs) await writeFile(join(d, 'cgroup.subtree_control'), '+cpu +memory');
}

/** The agent's directories, one per hierarchy. */
function agentDirs(b: AgentCgroups): string[] {
  return b.version === 2 ? [b.dir] : [...new Set([b.cpu, b.cpuacct, b.memory])];
}

/**
 * Kills whatever is left in the cgroups of the agent on `workDir` and removes them (tests
 * and tools that kill agents for good; a restarted agent does this itself for runs it
 * cannot recover).
 */
export async function removeAgentCgroups(workDir: string, cgroupsRoot: string = 'meso', cgroups: CgroupSupport = detectMachineCgroups()): Promise<void> {
  if (cgroups.version === 0) return;
  const key = agentCgroupName(workDir);
  const base: AgentCgroups =
    cgroups.version === 1
      ? { version: 1, cpu: join(cgroups.dirs.cpu, cgroupsRoot, key), cpuacct: join(cgroups.dirs.cpuacct, cgroupsRoot, key), memory: join(cgroups.dirs.memory, cgroupsRoot, key) }
      : { version: 2, dir: join(cgroups.dir, cgroupsRoot, key) };
  for (const dir of agentDirs(base)) {
    let runs: string[] = [];
    try {
      runs = (await readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => join(dir, d.name));
    } catch {
      continue;
    }
    for (const run of runs) await removeCgroup(run).catch(() => undefined);
  }
  await removeAgentDirs(base);
}

/** Removes the agent's cgroup directories if they hold no container, and the shared root if no agent's remain. */
async function removeAgentDirs(b: AgentCgroups): Promise<void> {
  for (const dir of agentDirs(b)) {
    await rmdir(dir).catch(() => undefined);
    await rmdir(join(dir, '..')).catch(() => undefined);
  }
}

export class Isolation {
  private constructor(
    readonly active: IsolatorName[],
    private readonly base: AgentCgroups | undefined,
    /** v2: the cgroups whose subtree_control must enable cpu and memory, from the agent's own down. */
    private readonly enable: string[],
    private readonly c: IsolationConfig,
  ) {}

  /** Detects, chooses and logs the isolators; throws an Error naming the problem for a bad or impossible `--isolation`. */
  static async create(c: IsolationConfig): Promise<Isolation> {
    let cgroups = c.cgroups ?? detectMachineCgroups();
    let base: AgentCgroups | undefined;
    let enable: string[] = [];
    if (cgroups.version !== 0) {
      const key = agentCgroupName(c.workDir);
      try {
        base =
          cgroups.version === 1
            ? { version: 1, cpu: join(cgroups.dirs.cpu, c.cgroupsRoot, key), cpuacct: join(cgroups.dirs.cpuacct, c.cgroupsRoot, key), memory: join(cgroups.dirs.memory, c.cgroupsRoot, key) }
            : { version: 2, dir: join(cgroups.dir, c.cgroupsRoot, key) };
        for (const root of new Set(agentDirs(base).map((d) => join(d, '..')))) await sweepStale(root, Date.now(), c.logger);
        await makeContainerCgroups(base);
        if (cgroups.version === 2 && base.version === 2) {
          // Controllers reach a cgroup only when every ancestor below the agent's own enables them.
          enable = [cgroups.dir, join(cgroups.dir, c.cgroupsRoot), base.dir];
          await enableControllers(enable);
        }
      } catch (e) {
        cgroups = { version: 0, reason: `cannot set up cgroups below the agent's own: ${(e as Error).message}` };
        base = undefined;
      }
    }
    const choice = chooseIsolators(c.flag, { cgroups, pidNamespaces: pidNamespaceSupport() });
    const log = c.logger;
    for (const w of choice.warnings) log.warn(w);
    const where = base ? (base.version === 2 ? `cgroup v2 ${base.dir}` : `cgroup v1 ${base.memory} (and cpu, cpuacct)`) : undefined;
    log.info(`isolators: ${choice.active.join(', ')}${where && choice.active.some((n) => n.startsWith('cgroups/')) ? ` in ${where}` : ''}`, { notes: choice.notes });
    const usesCgroups = choice.active.some((n) => n.startsWith('cgroups/'));
    // Made to find out whether cgroups work here; not needed when they are not used.
    if (base && !usesCgroups) await removeAgentDirs(base);
    return new Isolation(choice.active, usesCgroups ? base : undefined, enable, c);
  }

  private cgroupsOf(runId: string): ContainerCgroups | undefined {
    const b = this.base;
    if (!b) return undefined;
    return b.version === 2 ? { version: 2, dir: join(b.dir, runId) } : { version: 1, cpu: join(b.cpu, runId), cpuacct: join(b.cpuacct, runId), memory: join(b.memory, runId) };
  }

  private parts(runId: string, sandbox: string): ContainerIsolator[] {
    const has = (n: IsolatorName): boolean => this.active.includes(n);
    const c = this.c;
    const parts: ContainerIsolator[] = [];
    const cg = this.cgroupsOf(runId);
    if (cg) parts.push(cgroupsIsolator({ cgroups: cg, enableCfs: c.enableCfs && has('cgroups/cpu'), watchIntervalMs: c.memoryWatchIntervalMs }));
    if (has('posix/cpu') || has('posix/mem')) parts.push(posixIsolator({ memory: has('posix/mem'), watchIntervalMs: c.memoryWatchIntervalMs }));
    if (has('disk/du')) parts.push(diskIsolator({ sandbox, watchIntervalMs: c.diskWatchIntervalMs }));
    if (has('network/ports')) parts.push(portsIsolator({ watchIntervalMs: c.portsWatchIntervalMs, agentPorts: c.agentPorts, agentRangeOnly: c.checkAgentPortRangeOnly }));
    if (has('namespaces/pid')) parts.push(pidNamespaceIsolator());
    return parts;
  }

  /** The isolation of a new container: its cgroups made, its limits applied. */
  async prepare(runId: string, sandbox: string, limits: ContainerLimits): Promise<ContainerIsolation> {
    const cg = this.cgroupsOf(runId);
    if (cg) await this.makeCgroups(cg);
    const iso = new ContainerIsolation(runId, this.parts(runId, sandbox), limits, this.options());
    await iso.update(limits);
    return iso;
  }

  /** The isolation of a container recovered from the previous agent process (its cgroups kept). */
  async recover(runId: string, sandbox: string, limits: ContainerLimits): Promise<ContainerIsolation> {
    return this.prepare(runId, sandbox, limits);
  }

  /** Makes a container's cgroups; the agent's own directory is remade first if another agent's sweep removed it while it held none. */
  private async makeCgroups(cg: ContainerCgroups): Promise<void> {
    const b = this.base;
    if (b?.version === 2) {
      await makeContainerCgroups(b);
      await enableControllers(this.enable);
    }
    try {
      await makeContainerCgroups(cg);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      await makeContainerCgroups(cg);
    }
  }

  private readonly processes = new RunProcessTable(100);

  private options(): ConstructorParameters<typeof ContainerIsolation>[3] {
    return {
      clock: this.c.clock,
      logger: this.c.logger,
      cpuQuota: this.c.enableCfs && this.active.includes('cgroups/cpu'),
      processes: (runId) => this.processes.pidsOf(runId),
    };
  }

  /** Removes the cgroups of containers that are not live (left by an agent that died). */
  async removeLeftovers(live: ReadonlySet<string>): Promise<void> {
    const b = this.base;
    if (!b) return;
    for (const root of agentDirs(b)) {
      let names: string[];
      try {
        names = (await readdir(root, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
      } catch {
        continue;
      }
      for (const n of names.filter((x) => !live.has(x))) {
        this.c.logger.info('removing the cgroup of a container that is gone', { cgroup: join(root, n) });
        await removeCgroup(join(root, n)).catch((e: unknown) => this.c.logger.warn('could not remove a leftover cgroup', { cgroup: join(root, n), error: (e as Error).message }));
      }
    }
  }

  /** Removes the agent's (empty) cgroup directories and the shared root when no agent uses it; those still holding containers stay. */
  async close(): Promise<void> {
    if (this.base) await removeAgentDirs(this.base);
  }
}
