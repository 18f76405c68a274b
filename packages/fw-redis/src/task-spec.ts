import { Resources, type TaskSpec } from '@meso/sdk-scheduler';
import { dataDirExpression } from './data-dir.js';
import type { MemberRecord } from './model.js';

/** What a server's task needs beside its member record. */
export interface ServerTaskOptions {
  /** The redis-server program. */
  redisServer: string;
  /** cpus of each server task. */
  cpus: number;
  /** The role of the offer's resources the task takes (the port's, cpus' and mem's). */
  role: string;
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
    resources: Resources.of([
      { name: 'cpus', kind: 'scalar', value: o.cpus, role: o.role },
      { name: 'mem', kind: 'scalar', value: m.taskMemMb, role: o.role },
      { name: 'ports', kind: 'ranges', ranges: [{ begin: m.port, end: m.port }], role: o.role },
    ]),
    command: { shell: `mkdir -p ${dataDirExpression} && exec ${quote(o.redisServer)} ${args.join(' ')}` },
    labels: { 'meso.redis.instance': instance },
    killGracePeriodSeconds: 5,
  };
}
