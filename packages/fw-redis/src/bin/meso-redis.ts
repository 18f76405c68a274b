#!/usr/bin/env node
import { runFrameworkMain } from '@meso/sdk-scheduler';
import { startRedis } from '../start-redis.js';

const USAGE = `Usage: meso-redis --master HOST:PORT [--http_port 5656] [--sentinel_port 26379] [--hostname 127.0.0.1]
       [--work_dir DIR] [--failover_timeout SECONDS] [--redis_server PATH] [--down_after_ms 3000]
       [--role redis] [--no_volumes]

Redis on Meso: instances of a master and replicas, failover by Sentinel's rules, MrRedis's API on
--http_port and a Sentinel-compatible discovery port for clients. The redis-server program is
--redis_server, else $MESO_REDIS_SERVER, else redis-server on the agents' PATH. Each server keeps
its data on a persistent volume reserved for --role; with --no_volumes, in its sandbox.`;

await runFrameworkMain({
  name: 'meso-redis',
  usage: USAGE,
  options: {
    master: { type: 'string' },
    http_port: { type: 'string', default: '5656' },
    sentinel_port: { type: 'string', default: '26379' },
    hostname: { type: 'string', default: '127.0.0.1' },
    work_dir: { type: 'string' },
    failover_timeout: { type: 'string' },
    redis_server: { type: 'string' },
    down_after_ms: { type: 'string' },
    role: { type: 'string' },
    no_volumes: { type: 'boolean', default: false },
  },
  start: (values, flags) =>
    startRedis({
      master: values.master!,
      httpPort: flags.number('http_port', values.http_port) ?? 5656,
      sentinelPort: flags.number('sentinel_port', values.sentinel_port) ?? 26379,
      host: values.hostname,
      workDir: values.work_dir || undefined,
      redisServer: values.redis_server || undefined,
      failoverTimeoutSeconds: flags.number('failover_timeout', values.failover_timeout),
      role: values.role || undefined,
      persistentVolumes: !values.no_volumes,
      downAfterMs: flags.number('down_after_ms', values.down_after_ms),
    }),
  banner: (redis) => `meso-redis listening on ${redis.address}, sentinel on ${redis.sentinelAddress}`,
});
