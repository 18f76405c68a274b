#!/usr/bin/env node
import { runFrameworkMain } from '@meso/sdk-scheduler';
import { startBatch } from '../start-batch.js';

const USAGE = `Usage: meso-batch --master HOST:PORT [--http_port 4800] [--hostname 127.0.0.1] [--work_dir DIR]
       [--failover_timeout SECONDS] [--preemption]
       [--executor_cpus 0.1] [--executor_mem MB (128)]

Multi-tenant batch work on Meso: job arrays and DAGs, fair share between users, retries.`;

await runFrameworkMain({
  name: 'meso-batch',
  usage: USAGE,
  options: {
    master: { type: 'string' },
    http_port: { type: 'string', default: '4800' },
    hostname: { type: 'string', default: '127.0.0.1' },
    work_dir: { type: 'string' },
    failover_timeout: { type: 'string' },
    preemption: { type: 'boolean', default: false },
    executor_cpus: { type: 'string' },
    executor_mem: { type: 'string' },
  },
  start: (values, flags) =>
    startBatch({
      master: values.master!,
      httpPort: flags.number('http_port', values.http_port) ?? 4800,
      host: values.hostname,
      workDir: values.work_dir || undefined,
      failoverTimeoutSeconds: flags.number('failover_timeout', values.failover_timeout),
      preemption: values.preemption,
      executorCpus: flags.number('executor_cpus', values.executor_cpus),
      executorMemMb: flags.number('executor_mem', values.executor_mem),
    }),
});
