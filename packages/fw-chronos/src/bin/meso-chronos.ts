#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { createLogger } from '@meso/sdk-scheduler';
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

const { values } = parseArgs({
  options: {
    master: { type: 'string' },
    http_port: { type: 'string' },
    hostname: { type: 'string' },
    work_dir: { type: 'string' },
    framework_name: { type: 'string' },
    failover_timeout: { type: 'string' },
    reconcile_timeout_ms: { type: 'string' },
    revive_lead_ms: { type: 'string' },
    help: { type: 'boolean' },
  },
});
if (values.help) {
  console.log(HELP);
  process.exit(0);
}
const num = (v: string | undefined): number | undefined => (v === undefined ? undefined : Number(v));
const logger = createLogger('fw-chronos');
try {
  const chronos = await startChronos({
    ...(values.master ? { master: values.master } : {}),
    ...(values.http_port !== undefined ? { httpPort: num(values.http_port)! } : {}),
    ...(values.hostname ? { host: values.hostname } : {}),
    ...(values.work_dir ? { workDir: values.work_dir } : {}),
    ...(values.framework_name ? { frameworkName: values.framework_name } : {}),
    ...(values.failover_timeout !== undefined ? { failoverTimeoutSeconds: num(values.failover_timeout)! } : {}),
    ...(values.reconcile_timeout_ms !== undefined ? { reconcileTimeoutMs: num(values.reconcile_timeout_ms)! } : {}),
    ...(values.revive_lead_ms !== undefined ? { reviveLeadMs: num(values.revive_lead_ms)! } : {}),
    logger,
  });
  console.log(`meso-chronos listening on ${chronos.address} as framework ${chronos.frameworkId}`);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    chronos.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} catch (e) {
  console.error(`meso-chronos: ${(e as Error).message}`);
  process.exit(1);
}
