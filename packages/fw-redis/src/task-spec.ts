import type { Resources, TaskSpec, VolumeSpec } from '@meso/sdk-scheduler';
import { dataDirExpression } from './data-dir.js';
import type { MemberRecord } from './model.js';

/** What a server's task needs beside its member record. */
export interface ServerTaskOptions {
  /** The redis-server program. */
  redisServer: string;
  /** What the task takes of the offer (cpus, mem, its port; see `OfferLedger`). */
  resources: Resources;
  /** The persistent volume holding its data, mounted at the data directory. */
  volume?: VolumeSpec;
  /** The master to replicate from at start (replicas), so a new replica never serves as a master. */
  replicaOf?: { ip: string; port: number };
}

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * The task of one redis-server: listens on its member's port (offered, given as `$PORT0`), `maxmemory` its
 * capacity, AOF on in its data directory, no RDB snapshots, replica-priority 100.
 */
export function serverTaskSpec(instance: string, m: MemberRecord, o: ServerTaskOptions): TaskSpec {
  const args = [
    '--port "$PORT0"',
    `--bind ${quote(m.ip)}`,
    '--protected-mode no',
    `--dir ${dataDirExpression}`,
    '--appendonly yes',
    "--save ''",
    `--maxmemory ${m.capacityMb}mb`,
    '--maxmemory-policy noeviction',
    '--replica-priority 100',
    // Replicas sync at once (Redis waits 5 s by default to batch replicas into one transfer).
    '--repl-diskless-sync-delay 0',
    '--daemonize no',
    ...(o.replicaOf ? [`--replicaof ${quote(o.replicaOf.ip)} ${o.replicaOf.port}`] : []),
  ];
  return {
    taskId: m.taskId,
    name: `redis ${instance} #${m.seq}`,
    resources: o.resources,
    ...(o.volume ? { volumes: [o.volume] } : {}),
    command: { shell: `mkdir -p ${dataDirExpression} && exec ${quote(o.redisServer)} ${args.join(' ')}` },
    labels: { 'meso.redis.instance': instance },
    killGracePeriodSeconds: 5,
  };
}
