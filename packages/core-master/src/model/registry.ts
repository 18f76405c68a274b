import { FrameworkInfo, type Logger } from '@meso/proto';
import type { StateStore } from '@meso/state';
import type { MasterCommand } from './commands.js';
import type { AgentMaintenance, MasterModel } from './model.js';

/** A framework as the registry keeps it. */
export interface RegistryFramework {
  /** FrameworkInfo as proto JSON (so it round-trips exactly). */
  info: unknown;
  registeredTime: number;
  failoverTimeoutSeconds: number;
  removed: boolean;
  removedTime?: number;
  /**
   * When its subscription ended (milliseconds since the epoch); absent while subscribed.
   * The failover timeout counts from here, across master restarts.
   */
  disconnectedTime?: number;
}

/** An agent as the registry keeps it. */
export interface RegistryAgent {
  hostname: string;
  endpoint: string;
  admittedTime: number;
  status: 'ADMITTED' | 'UNREACHABLE' | 'GONE';
  /** Milliseconds since the epoch; the removal timeout counts from here, across restarts. */
  unreachableTime?: number;
  goneTime?: number;
  maintenance?: AgentMaintenance;
}

/**
 * The roles' configuration as the registry keeps it, in one document: weights set by the
 * operator (start-flag weights are not kept: they apply afresh at each start, under these)
 * and quota limits (scalar name → amount).
 */
export interface RegistryRoles {
  weights: Record<string, number>;
  quotas: Record<string, Record<string, number>>;
}

/** What the registry held at start. */
export interface RecoveredRegistry {
  frameworks: { id: string; info: FrameworkInfo; registeredTime: number; removed: boolean; removedTime?: number; disconnectedTime?: number }[];
  agents: Map<string, RegistryAgent>;
  roles: RegistryRoles;
}

const FRAMEWORKS = 'frameworks/';
const AGENTS = 'agents/';
const ROLES = 'roles';

/**
 * What must outlive a master, in a StateStore: frameworks (with their failover timeouts
 * and disconnect times) and their removals, the agents admitted, unreachable (since
 * when) or gone, with their maintenance mode, and the roles' weights and quotas. Tasks are not kept:
 * agents report them when they re-register, as in Mesos.
 *
 * Writes follow the commands applied to the model (`record`), serialized in order, so the
 * registry never runs ahead of or behind the in-memory state by more than the queue.
 */
export class Registry {
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: StateStore,
    private readonly logger: Logger,
  ) {}

  /** Reads everything back. */
  async recover(): Promise<RecoveredRegistry> {
    const frameworks = (await this.store.list<RegistryFramework>(FRAMEWORKS)).map((e) => ({
      id: e.key.slice(FRAMEWORKS.length),
      info: FrameworkInfo.fromJSON(e.value.info),
      registeredTime: e.value.registeredTime,
      removed: e.value.removed,
      ...(e.value.removedTime !== undefined ? { removedTime: e.value.removedTime } : {}),
      ...(e.value.disconnectedTime !== undefined ? { disconnectedTime: e.value.disconnectedTime } : {}),
    }));
    const agents = new Map((await this.store.list<RegistryAgent>(AGENTS)).map((e) => [e.key.slice(AGENTS.length), e.value]));
    const roles = (await this.store.get<RegistryRoles>(ROLES))?.value ?? { weights: {}, quotas: {} };
    return { frameworks, agents, roles };
  }

  /**
   * Persists what a command (already applied to `model`) changes in the registry.
   * Resolves when durable; rejects if the write failed (the model is not rolled back:
   * the caller logs it, and the next write of the same key carries the latest state).
   */
  record(cmd: MasterCommand, model: MasterModel): Promise<void> {
    const write = this.writeFor(cmd, model);
    if (!write) return Promise.resolve();
    const run = this.queue.then(write);
    this.queue = run.catch((e: unknown) => this.logger.error('registry write failed', { command: cmd.type, error: e }));
    return run;
  }

  /** Waits for queued writes. */
  async flush(): Promise<void> {
    await this.queue;
  }

  private writeFor(cmd: MasterCommand, model: MasterModel): (() => Promise<void>) | undefined {
    switch (cmd.type) {
      case 'frameworkSubscribed':
      case 'frameworkUpdated':
      case 'frameworkDisconnected': {
        const id = cmd.type === 'frameworkDisconnected' ? cmd.frameworkId : (cmd.info.id?.value ?? '');
        const fw = model.frameworks.get(id);
        if (!fw) return undefined;
        const value: RegistryFramework = {
          info: FrameworkInfo.toJSON(fw.info),
          registeredTime: fw.registeredTime,
          failoverTimeoutSeconds: fw.info.failoverTimeout,
          removed: false,
          ...(!fw.connected && fw.unregisteredTime !== undefined ? { disconnectedTime: fw.unregisteredTime } : {}),
        };
        return async () => void (await this.store.put(`${FRAMEWORKS}${id}`, value));
      }
      case 'frameworkRemoved': {
        const removed = model.removedFrameworks.get(cmd.frameworkId);
        return async () => {
          const prev = await this.store.get<RegistryFramework>(`${FRAMEWORKS}${cmd.frameworkId}`);
          const value: RegistryFramework = {
            info: prev?.value.info ?? FrameworkInfo.toJSON(FrameworkInfo.fromPartial({ id: { value: cmd.frameworkId }, name: removed?.name ?? '' })),
            registeredTime: prev?.value.registeredTime ?? cmd.at,
            failoverTimeoutSeconds: prev?.value.failoverTimeoutSeconds ?? 0,
            removed: true,
            removedTime: cmd.at,
          };
          await this.store.put(`${FRAMEWORKS}${cmd.frameworkId}`, value);
        };
      }
      case 'agentAdmitted':
      case 'agentUnreachable':
      case 'agentMaintenanceSet': {
        const id = cmd.type === 'agentAdmitted' ? cmd.agent.id : cmd.agentId;
        const agent = model.agents.get(id);
        if (!agent) return undefined;
        const value: RegistryAgent = {
          hostname: agent.hostname,
          endpoint: agent.endpoint,
          admittedTime: agent.registeredTime,
          status: agent.status === 'UNREACHABLE' ? 'UNREACHABLE' : 'ADMITTED',
          ...(agent.status === 'UNREACHABLE' && agent.unreachableTime !== undefined ? { unreachableTime: agent.unreachableTime } : {}),
          ...(agent.maintenance ? { maintenance: agent.maintenance } : {}),
        };
        return async () => void (await this.store.put(`${AGENTS}${id}`, value));
      }
      case 'agentGone': {
        const gone = model.goneAgents.get(cmd.agentId);
        if (!gone) return undefined;
        return async () => {
          const prev = await this.store.get<RegistryAgent>(`${AGENTS}${cmd.agentId}`);
          const value: RegistryAgent = {
            hostname: gone.hostname,
            endpoint: prev?.value.endpoint ?? '',
            admittedTime: prev?.value.admittedTime ?? gone.goneTime,
            status: 'GONE',
            goneTime: gone.goneTime,
          };
          await this.store.put(`${AGENTS}${cmd.agentId}`, value);
        };
      }
      case 'weightsSet':
      case 'quotaSet': {
        if (cmd.type === 'weightsSet' && cmd.source !== 'operator') return undefined;
        const value = rolesDocument(model);
        return async () => void (await this.store.put(ROLES, value));
      }
      default:
        return undefined;
    }
  }
}

/** The registry's roles document for the model now: operator weights and every quota. */
function rolesDocument(model: MasterModel): RegistryRoles {
  const weights: Record<string, number> = {};
  for (const [role, w] of model.weights) if (w.source === 'operator') weights[role] = w.weight;
  const quotas: Record<string, Record<string, number>> = {};
  for (const [role, limits] of model.quotas) {
    const scalars: Record<string, number> = {};
    for (const r of limits.toList()) if (r.kind === 'scalar') scalars[r.name] = r.value;
    quotas[role] = scalars;
  }
  return { weights, quotas };
}
