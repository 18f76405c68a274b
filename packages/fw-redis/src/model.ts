/**
 * What fw-redis stores about an instance: its definition, its members (one task each) and the
 * failover epoch. One record per instance, written whole, so topology and epoch change together.
 */

/** Where an instance is in its life. MrRedis's statuses plus DELETING. */
export type InstanceStatus = 'CREATING' | 'RUNNING' | 'DELETING' | 'DELETED';

/**
 * A member's life as fw-redis sees it. LAUNCHING is written before the launch is sent; ENDED once
 * the task is terminal; FENCED when failover retired it (its task killed; if it answers again it
 * is made a replica and killed).
 */
export type MemberState = 'LAUNCHING' | 'RUNNING' | 'ENDED' | 'FENCED';

/** One redis-server task of an instance. */
export interface MemberRecord {
  /** The task id: `redis.<name>.<seq>`. */
  taskId: string;
  seq: number;
  agentId: string;
  hostname: string;
  /** Address clients and replicas use (the agent's). */
  ip: string;
  /** The host port it was offered and listens on. */
  port: number;
  /** `maxmemory` it was launched with, and its task's mem (MB). */
  capacityMb: number;
  taskMemMb: number;
  /** Where its data lives: a persistent volume id, or none (the sandbox). */
  volumeId?: string;
  state: MemberState;
  launchedAt: number;
  endedAt?: number;
  /** Why it ended (task state and message). */
  message?: string;
}

/** A named instance: one master and `replicas` replicas. */
export interface InstanceRecord {
  name: string;
  /** `maxmemory` of each server, MB. */
  capacityMb: number;
  replicas: number;
  /** At most this many members of the instance per agent. */
  distribution: number;
  status: InstanceStatus;
  /** Failover epoch: incremented (and stored) before any promotion is acted on. */
  epoch: number;
  /** The task id of the member that is the master, as decided by fw-redis. */
  masterTaskId?: string;
  members: MemberRecord[];
  /** The next member sequence number. */
  nextSeq: number;
  createdAt: number;
  /** Why it is not RUNNING yet (unplaceable, waiting for offers, ...). */
  message?: string;
  /** The last failovers, newest last (bounded). */
  failovers: FailoverRecord[];
}

/** One promotion, as recorded before acting on it. */
export interface FailoverRecord {
  epoch: number;
  at: number;
  from?: string;
  to: string;
  reason: string;
}

/** A member whose task may still be running. */
export const isLiveMember = (m: MemberRecord): boolean => m.state === 'LAUNCHING' || m.state === 'RUNNING';

/** Members that count towards the instance's size (live and not fenced). */
export const activeMembers = (i: InstanceRecord): MemberRecord[] => i.members.filter(isLiveMember);

/** The member fw-redis regards as master, if any. */
export const masterOf = (i: InstanceRecord): MemberRecord | undefined => i.members.find((m) => m.taskId === i.masterTaskId);

/** Task id of member `seq` of instance `name`. */
export const memberTaskId = (name: string, seq: number): string => `redis.${name}.${seq}`;

/** What the monitor last learnt from a server (INFO). */
export interface Observation {
  /** Milliseconds since the epoch of the last answer. */
  at: number;
  role: 'master' | 'slave';
  runId: string;
  pid: number;
  uptimeSeconds: number;
  connectedClients: number;
  usedMemory: number;
  maxmemory: number;
  /** master_repl_offset for a master, slave_repl_offset for a replica. */
  offset: number;
  /** For a replica: where it replicates from and whether the link is up. */
  masterHost?: string;
  masterPort?: number;
  linkUp?: boolean;
  /** For a replica: seconds since the last interaction with its master. */
  lastIoSecondsAgo?: number;
  /** replica-priority (0 = never promoted). */
  priority: number;
  connectedReplicas: number;
}
