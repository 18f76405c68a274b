#!/usr/bin/env node
import { createLogger, runFrameworkMain } from '@meso/sdk-scheduler';
import { startChronos } from '../start-chronos.js';

const HELP = `Usage: meso-chronos [flags]

Scheduled and dependent jobs on Meso with Chronos's REST API.

  --master HOST:PORT            The master (default 127.0.0.1:5050).
  --http_port PORT              REST API port (default 4400; 0 = a free port).
  --hostname ADDR               Address the API binds (default 127.0.0.1).
  --work_dir DIR                Jobs and run ledger (default .meso/chronos).
  --framework_name NAME         Name at the master (default chronos).
  --failover_timeout SECONDS    How long tasks outlive fw-chronos (default 604800).
  --reconcile_timeout_ms MS     Wait for the master's answers at start (default 15000).
  --revive_lead_ms MS           Ask for offers this long before a run is due (default 5000).`;

await runFrameworkMain({
  name: 'meso-chronos',
  usage: HELP,
  requireMaster: false,
  closeTimeoutMs: 10_000,
  options: {
    master: { type: 'string' },
    http_port: { type: 'string' },
    hostname: { type: 'string' },
    work_dir: { type: 'string' },
    framework_name: { type: 'string' },
    failover_timeout: { type: 'string' },
    reconcile_timeout_ms: { type: 'string' },
    revive_lead_ms: { type: 'string' },
  },
  start: (values, flags) =>
    startChronos({
      master: values.master || undefined,
      httpPort: flags.number('http_port', values.http_port),
      host: values.hostname || undefined,
      workDir: values.work_dir || undefined,
      frameworkName: values.framework_name || undefined,
      failoverTimeoutSeconds: flags.number('failover_timeout', values.failover_timeout),
      reconcileTimeoutMs: flags.number('reconcile_timeout_ms', values.reconcile_timeout_ms),
      reviveLeadMs: flags.number('revive_lead_ms', values.revive_lead_ms),
      logger: createLogger('fw-chronos'),
    }),
  banner: (chronos) => `meso-chronos listening on ${chronos.address} as framework ${chronos.frameworkId}`,
});
