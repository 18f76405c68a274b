#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { startRedis } from '../start-redis.js';

const USAGE = `Usage: meso-redis --master HOST:PORT [--http_port 5656] [--sentinel_port 26379] [--hostname 127.0.0.1]
       [--work_dir DIR] [--failover_timeout SECONDS] [--redis_server PATH] [--down_after_ms 3000]
       [--role redis] [--no_volumes]

Redis on Meso: instances of a master and replicas, failover by Sentinel's rules, MrRedis's API on
--http_port and a Sentinel-compatible discovery port for clients. The redis-server program is
--redis_server, else $MESO_REDIS_SERVER, else redis-server on the agents' PATH. Each server keeps
its data on a persistent volume reserved for --role; with --no_volumes, in its sandbox.`;

async function main(): Promise<number> {
  const { values } = parseArgs({
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
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!values.master) {
    console.error(`meso-redis: --master is required\n\n${USAGE}`);
    return 2;
  }
  const num = (v: string | undefined, flag: string): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${flag}: expected a non-negative number, got '${v}'`);
    return n;
  };
  const redis = await startRedis({
    master: values.master,
    httpPort: num(values.http_port, 'http_port') ?? 5656,
    sentinelPort: num(values.sentinel_port, 'sentinel_port') ?? 26379,
    host: values.hostname ?? '127.0.0.1',
    ...(values.work_dir ? { workDir: values.work_dir } : {}),
    ...(values.redis_server ? { redisServer: values.redis_server } : {}),
    ...(values.failover_timeout !== undefined ? { failoverTimeoutSeconds: num(values.failover_timeout, 'failover_timeout')! } : {}),
    ...(values.role ? { role: values.role } : {}),
    persistentVolumes: !(values.no_volumes ?? false),
    ...(values.down_after_ms !== undefined ? { downAfterMs: num(values.down_after_ms, 'down_after_ms')! } : {}),
  });
  console.log(`meso-redis listening on ${redis.address}, sentinel on ${redis.sentinelAddress}`);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await redis.close();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`meso-redis: ${(e as Error).message}`);
    process.exit(1);
  },
);
