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

/** What the registry held at start. */
export interface RecoveredRegistry {
  frameworks: { id: string; info: FrameworkInfo; registeredTime: number; removed: boolean; removedTime?: number; disconnectedTime?: number }[];
  agents: Map<string, RegistryAgent>;
}

const FRAMEWORKS = 'frameworks/';
const AGENTS = 'agents/';

/**
 * What must outlive a master, in a StateStore: frameworks (with their failover timeouts
 * and disconnect times) and their removals, and the agents admitted, unreachable (since
 * when) or gone, with their maintenance mode. Tasks are not kept:
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
    return { frameworks, agents };
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
      default:
        return undefined;
    }
  }
}
