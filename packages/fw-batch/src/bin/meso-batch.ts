#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { startBatch } from '../start-batch.js';

const USAGE = `Usage: meso-batch --master HOST:PORT [--http_port 4800] [--hostname 127.0.0.1] [--work_dir DIR]
       [--failover_timeout SECONDS] [--preemption]
       [--executor_cpus 0.1] [--executor_mem MB (128)]

Multi-tenant batch work on Meso: job arrays and DAGs, fair share between users, retries.`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      master: { type: 'string' },
      http_port: { type: 'string', default: '4800' },
      hostname: { type: 'string', default: '127.0.0.1' },
      work_dir: { type: 'string' },
      failover_timeout: { type: 'string' },
      preemption: { type: 'boolean', default: false },
      executor_cpus: { type: 'string' },
      executor_mem: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!values.master) {
    console.error(`meso-batch: --master is required\n\n${USAGE}`);
    return 2;
  }
  const num = (v: string | undefined, flag: string): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${flag}: expected a non-negative number, got '${v}'`);
    return n;
  };
  const failover = num(values.failover_timeout, 'failover_timeout');
  const batch = await startBatch({
    master: values.master,
    httpPort: num(values.http_port, 'http_port') ?? 4800,
    host: values.hostname ?? '127.0.0.1',
    ...(values.work_dir ? { workDir: values.work_dir } : {}),
    ...(failover !== undefined ? { failoverTimeoutSeconds: failover } : {}),
    preemption: values.preemption ?? false,
    executorCpus: num(values.executor_cpus, 'executor_cpus'),
    executorMemMb: num(values.executor_mem, 'executor_mem'),
  });
  console.log(`meso-batch listening on ${batch.address}`);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await batch.close();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`meso-batch: ${(e as Error).message}`);
    process.exit(1);
  },
);
