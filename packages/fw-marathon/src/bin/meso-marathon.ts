#!/usr/bin/env node
import { runFrameworkMain } from '@meso/sdk-scheduler';
import { startMarathon } from '../start-marathon.js';

const USAGE = `Usage: meso-marathon --master HOST:PORT [--http_port 8080] [--hostname 127.0.0.1] [--work_dir DIR]
       [--failover_timeout SECONDS] [--deployment_timeout SECONDS] [--rollback_on_deadline]

Long-running services on Meso with Marathon's v2 REST API.`;

await runFrameworkMain({
  name: 'meso-marathon',
  usage: USAGE,
  options: {
    master: { type: 'string' },
    http_port: { type: 'string', default: '8080' },
    hostname: { type: 'string', default: '127.0.0.1' },
    work_dir: { type: 'string' },
    failover_timeout: { type: 'string' },
    deployment_timeout: { type: 'string' },
    rollback_on_deadline: { type: 'boolean', default: false },
  },
  start: (values, flags) =>
    startMarathon({
      master: values.master!,
      failoverTimeoutSeconds: flags.number('failover_timeout', values.failover_timeout),
      deploymentTimeoutSeconds: flags.number('deployment_timeout', values.deployment_timeout),
      httpPort: flags.number('http_port', values.http_port) ?? 8080,
      host: values.hostname,
      workDir: values.work_dir || undefined,
      rollbackOnDeadline: values.rollback_on_deadline,
    }),
});
