import type { RedisEngine } from './engine.js';
import { activeMembers, masterOf, type InstanceRecord, type MemberRecord, type Observation } from './model.js';
import type { Discovery, ReplicaView } from './sentinel-server.js';

/** A server as MrRedis's STATUS shows it. */
export interface MrRedisProc {
  IP: string;
  Port: string;
  MemoryCapacity: number;
  /** Bytes in use (INFO used_memory). */
  MemoryUsed: number;
  /** Seconds. */
  Uptime: number;
  ClientsConnected: number;
  /** Seconds since the replica last heard from its master (0 for the master). */
  LastSyncedToMaster: number;
}

/** MrRedis's STATUS of one instance. */
export interface MrRedisStatus {
  Name: string;
  /** S: a single server; MS: master and slaves. */
  Type: 'S' | 'MS';
  Status: string;
  Capacity: number;
  Master: MrRedisProc | null;
  Slaves: MrRedisProc[];
  /** Why it is not RUNNING (ours: MrRedis had no such field). */
  Message?: string;
}

const fresh = (engine: RedisEngine, o: Observation | undefined): o is Observation => o !== undefined && engine.nowMs() - o.at < engine.detection.downAfterMs;

function proc(engine: RedisEngine, inst: InstanceRecord, m: MemberRecord): MrRedisProc {
  const o = engine.observations.get(m.taskId);
  return {
    IP: m.ip,
    Port: String(m.port),
    MemoryCapacity: inst.capacityMb,
    MemoryUsed: o?.usedMemory ?? 0,
    Uptime: o?.uptimeSeconds ?? 0,
    ClientsConnected: o?.connectedClients ?? 0,
    LastSyncedToMaster: o?.role === 'slave' ? Math.max(0, o.lastIoSecondsAgo ?? 0) : 0,
  };
}

/** Why an instance is not (yet) what was asked, if it is not. */
export function whyOf(engine: RedisEngine, inst: InstanceRecord): string | undefined {
  if (inst.status === 'DELETED' || inst.status === 'DELETING') return undefined;
  return engine.waiting.get(inst.name);
}

/** MrRedis's STATUS shape. */
export function mrRedisStatus(engine: RedisEngine, inst: InstanceRecord): MrRedisStatus {
  const master = masterOf(inst);
  const live = inst.status === 'DELETED' ? [] : activeMembers(inst);
  const why = whyOf(engine, inst);
  return {
    Name: inst.name,
    Type: inst.replicas === 0 ? 'S' : 'MS',
    Status: inst.status,
    Capacity: inst.capacityMb,
    Master: master && live.includes(master) ? proc(engine, inst, master) : null,
    Slaves: live.filter((m) => m !== master).map((m) => proc(engine, inst, m)),
    ...(why ? { Message: why } : {}),
  };
}

/** One member in our JSON API. */
export function memberView(engine: RedisEngine, inst: InstanceRecord, m: MemberRecord): Record<string, unknown> {
  const o = engine.observations.get(m.taskId);
  const masterObs = inst.masterTaskId ? engine.observations.get(inst.masterTaskId) : undefined;
  return {
    taskId: m.taskId,
    role: m.taskId === inst.masterTaskId ? 'master' : 'replica',
    state: m.state,
    agentId: m.agentId,
    hostname: m.hostname,
    address: `${m.ip}:${m.port}`,
    ip: m.ip,
    port: m.port,
    capacityMb: m.capacityMb,
    ...(m.volumeId ? { volumeId: m.volumeId } : {}),
    launchedAt: new Date(m.launchedAt).toISOString(),
    ...(m.endedAt ? { endedAt: new Date(m.endedAt).toISOString() } : {}),
    ...(m.message ? { message: m.message } : {}),
    ...(o
      ? {
          answering: fresh(engine, o),
          observedRole: o.role,
          runId: o.runId,
          pid: o.pid,
          offset: o.offset,
          ...(o.role === 'slave' && masterObs ? { lagBytes: Math.max(0, masterObs.offset - o.offset), linkUp: o.linkUp } : {}),
          usedMemory: o.usedMemory,
          clients: o.connectedClients,
          uptimeSeconds: o.uptimeSeconds,
        }
      : { answering: false }),
  };
}

/** An instance in our JSON API: definition, state, endpoints, members. */
export function instanceView(engine: RedisEngine, inst: InstanceRecord, sentinel: string): Record<string, unknown> {
  const master = masterOf(inst);
  const live = inst.status === 'DELETED' ? [] : activeMembers(inst);
  const why = whyOf(engine, inst);
  return {
    name: inst.name,
    status: inst.status,
    capacityMb: inst.capacityMb,
    replicas: inst.replicas,
    distribution: inst.distribution,
    epoch: inst.epoch,
    ...(why ? { message: why } : {}),
    endpoints: {
      master: master && live.includes(master) ? `${master.ip}:${master.port}` : null,
      replicas: live.filter((m) => m !== master).map((m) => `${m.ip}:${m.port}`),
      sentinels: [sentinel],
      sentinelName: inst.name,
    },
    members: inst.members.filter((m) => inst.status !== 'DELETED' && m.state !== 'ENDED').map((m) => memberView(engine, inst, m)),
    failovers: inst.failovers.map((f) => ({ ...f, at: new Date(f.at).toISOString() })),
    createdAt: new Date(inst.createdAt).toISOString(),
  };
}

/** What the discovery server answers, from the engine's state. */
export function discoveryOf(engine: RedisEngine): Discovery {
  const live = (name: string): InstanceRecord | undefined => {
    const i = engine.state.instances.get(name);
    return i && i.status !== 'DELETED' && i.status !== 'DELETING' ? i : undefined;
  };
  return {
    instanceNames: () => [...engine.state.instances.values()].filter((i) => live(i.name)).map((i) => i.name),
    masterAddress: (name) => {
      const i = live(name);
      const m = i ? masterOf(i) : undefined;
      return m && m.port > 0 ? { ip: m.ip, port: m.port } : undefined;
    },
    replicas: (name) => {
      const i = live(name);
      if (!i) return undefined;
      const master = masterOf(i);
      return activeMembers(i)
        .filter((m) => m !== master && m.port > 0)
        .map((m): ReplicaView => {
          const o = engine.observations.get(m.taskId);
          const up = fresh(engine, o);
          return {
            ip: m.ip,
            port: m.port,
            runId: o?.runId ?? '',
            flags: up ? 'slave' : 'slave,s_down,disconnected',
            linkUp: o?.linkUp === true,
            offset: o?.offset ?? 0,
            priority: o?.priority ?? 100,
            masterIp: master?.ip ?? '',
            masterPort: master?.port ?? 0,
          };
        });
    },
    onSwitchMaster: (l) => engine.onSwitchMaster(l),
  };
}

const label = (v: string): string => v.replace(/["\\\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));

/** Prometheus text: counters, and per instance and member role, offset, lag, memory, clients. */
export function metricsText(engine: RedisEngine): string {
  const c = engine.counters;
  const lines = Object.entries(c).map(([k, v]) => `redis_fw_${k.replace(/[A-Z]/g, (m) => `_${m.toLowerCase()}`)}_total ${v}`);
  for (const inst of engine.state.instances.values()) {
    const i = `instance="${label(inst.name)}"`;
    lines.push(`redis_instance_epoch{${i}} ${inst.epoch}`, `redis_instance_running{${i}} ${inst.status === 'RUNNING' ? 1 : 0}`);
    const last = engine.lastFailoverMs.get(inst.name);
    if (last !== undefined) lines.push(`redis_instance_last_failover_seconds{${i}} ${(last / 1000).toFixed(3)}`);
    if (inst.status === 'DELETED') continue;
    const masterObs = inst.masterTaskId ? engine.observations.get(inst.masterTaskId) : undefined;
    for (const m of activeMembers(inst)) {
      const o = engine.observations.get(m.taskId);
      const role = m.taskId === inst.masterTaskId ? 'master' : 'replica';
      const l = `${i},task="${label(m.taskId)}",role="${role}"`;
      lines.push(`redis_member_up{${l}} ${fresh(engine, o) ? 1 : 0}`);
      if (!o) continue;
      lines.push(
        `redis_member_offset{${l}} ${o.offset}`,
        `redis_member_used_memory_bytes{${l}} ${o.usedMemory}`,
        `redis_member_clients{${l}} ${o.connectedClients}`,
        `redis_member_uptime_seconds{${l}} ${o.uptimeSeconds}`,
      );
      if (role === 'replica' && masterObs) lines.push(`redis_member_lag_bytes{${l}} ${Math.max(0, masterObs.offset - o.offset)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
