import { FrameworkInfo, type Logger } from '@meso/proto';
import type { StateStore } from '@meso/state';
import type { MasterCommand } from './commands.js';
import type { AgentMaintenance, AgentRecord, MasterModel } from './model.js';

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
 * Writes follow the commands applied to the model (`record`), issued to the store in
 * command order without waiting for each other, so a store with group commit
 * (`LogStateStore`) makes a burst of them durable with one fsync. A command that leaves its
 * key's document as it is writes nothing (an agent re-registering unchanged after a
 * restart, as Mesos's registrar does not write for an agent it has): its promise is that of
 * the key's last write. The registry remembers each key's last document for this.
 */
export class Registry {
  /** The JSON of each key's document as last written (or read back at recovery). */
  private readonly documents = new Map<string, string>();
  /** Each key's last write, until it settles. */
  private readonly writes = new Map<string, Promise<void>>();

  constructor(
    private readonly store: StateStore,
    private readonly logger: Logger,
  ) {}

  /** Reads everything back. */
  async recover(): Promise<RecoveredRegistry> {
    const frameworkEntries = await this.store.list<RegistryFramework>(FRAMEWORKS);
    const agentEntries = await this.store.list<RegistryAgent>(AGENTS);
    const rolesEntry = await this.store.get<RegistryRoles>(ROLES);
    for (const e of [...frameworkEntries, ...agentEntries, ...(rolesEntry ? [rolesEntry] : [])]) this.documents.set(e.key, JSON.stringify(e.value));
    const frameworks = frameworkEntries.map((e) => ({
      id: e.key.slice(FRAMEWORKS.length),
      info: FrameworkInfo.fromJSON(e.value.info),
      registeredTime: e.value.registeredTime,
      removed: e.value.removed,
      ...(e.value.removedTime !== undefined ? { removedTime: e.value.removedTime } : {}),
      ...(e.value.disconnectedTime !== undefined ? { disconnectedTime: e.value.disconnectedTime } : {}),
    }));
    const agents = new Map(agentEntries.map((e) => [e.key.slice(AGENTS.length), e.value]));
    return { frameworks, agents, roles: rolesEntry?.value ?? { weights: {}, quotas: {} } };
  }

  /**
   * Persists what a command (already applied to `model`) changes in the registry.
   * Resolves when durable; rejects if the write failed (the model is not rolled back:
   * the failure is logged, and the next write of the same key carries the latest state).
   */
  record(cmd: MasterCommand, model: MasterModel): Promise<void> {
    const doc = this.documentFor(cmd, model);
    return (doc && this.write(doc.key, doc.value, cmd.type)) ?? Promise.resolve();
  }

  /**
   * Writes an agent's admission ahead of its command (Mesos's registrar order): the document
   * `agentAdmitted` will leave, from the agent and what the model has of it now (its first
   * admission time, its maintenance). Resolves when durable; undefined when the registry
   * already has that document durably (an agent re-registering unchanged): nothing to wait for.
   */
  recordAdmissionAhead(agent: { id: string; hostname: string; endpoint: string }, at: number, model: MasterModel): Promise<void> | undefined {
    const prev = model.agents.get(agent.id);
    const value = agentDocument({ hostname: agent.hostname, endpoint: agent.endpoint, registeredTime: prev?.registeredTime ?? at, status: 'ACTIVE', ...(prev?.maintenance ? { maintenance: prev.maintenance } : {}) });
    return this.write(`${AGENTS}${agent.id}`, value, 'agentAdmitted');
  }

  /**
   * Writes a key's document unless the registry has it already; returns the write, or the
   * key's write in flight, or undefined when the document is durable as it is.
   */
  private write(key: string, value: unknown, what: string): Promise<void> | undefined {
    const text = JSON.stringify(value);
    if (this.documents.get(key) === text) return this.writes.get(key);
    this.documents.set(key, text);
    const write = this.store.put(key, value).then(
      () => undefined,
      (e: unknown) => {
        // Not known to be durable: the next command on this key writes again.
        if (this.documents.get(key) === text) this.documents.delete(key);
        this.logger.error('registry write failed', { command: what, key, error: e });
        throw e;
      },
    );
    this.writes.set(key, write);
    const forget = (): void => {
      if (this.writes.get(key) === write) this.writes.delete(key);
    };
    write.then(forget, forget);
    return write;
  }

  /** Waits for the writes issued so far to settle. */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.writes.values()]);
  }

  /** The document a key had when last written, parsed. */
  private previous<T>(key: string): T | undefined {
    const text = this.documents.get(key);
    return text === undefined ? undefined : (JSON.parse(text) as T);
  }

  private documentFor(cmd: MasterCommand, model: MasterModel): { key: string; value: unknown } | undefined {
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
        return { key: `${FRAMEWORKS}${id}`, value };
      }
      case 'frameworkRemoved': {
        const key = `${FRAMEWORKS}${cmd.frameworkId}`;
        const prev = this.previous<RegistryFramework>(key);
        const removed = model.removedFrameworks.get(cmd.frameworkId);
        const value: RegistryFramework = {
          info: prev?.info ?? FrameworkInfo.toJSON(FrameworkInfo.fromPartial({ id: { value: cmd.frameworkId }, name: removed?.name ?? '' })),
          registeredTime: prev?.registeredTime ?? cmd.at,
          failoverTimeoutSeconds: prev?.failoverTimeoutSeconds ?? 0,
          removed: true,
          removedTime: cmd.at,
        };
        return { key, value };
      }
      case 'agentAdmitted':
      case 'agentUnreachable':
      case 'agentMaintenanceSet': {
        const id = cmd.type === 'agentAdmitted' ? cmd.agent.id : cmd.agentId;
        const agent = model.agents.get(id);
        return agent ? { key: `${AGENTS}${id}`, value: agentDocument(agent) } : undefined;
      }
      case 'agentGone': {
        const gone = model.goneAgents.get(cmd.agentId);
        if (!gone) return undefined;
        const key = `${AGENTS}${cmd.agentId}`;
        const prev = this.previous<RegistryAgent>(key);
        const value: RegistryAgent = {
          hostname: gone.hostname,
          endpoint: prev?.endpoint ?? '',
          admittedTime: prev?.admittedTime ?? gone.goneTime,
          status: 'GONE',
          goneTime: gone.goneTime,
        };
        return { key, value };
      }
      case 'weightsSet':
      case 'quotaSet': {
        if (cmd.type === 'weightsSet' && cmd.source !== 'operator') return undefined;
        return { key: ROLES, value: rolesDocument(model) };
      }
      default:
        return undefined;
    }
  }
}

/** The registry's document of an agent that is not gone. */
function agentDocument(agent: Pick<AgentRecord, 'hostname' | 'endpoint' | 'registeredTime' | 'status' | 'unreachableTime' | 'maintenance'>): RegistryAgent {
  return {
    hostname: agent.hostname,
    endpoint: agent.endpoint,
    admittedTime: agent.registeredTime,
    status: agent.status === 'UNREACHABLE' ? 'UNREACHABLE' : 'ADMITTED',
    ...(agent.status === 'UNREACHABLE' && agent.unreachableTime !== undefined ? { unreachableTime: agent.unreachableTime } : {}),
    ...(agent.maintenance ? { maintenance: agent.maintenance } : {}),
  };
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
