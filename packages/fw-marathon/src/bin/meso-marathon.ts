#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { startMarathon } from '../start-marathon.js';

const USAGE = `Usage: meso-marathon --master HOST:PORT [--http_port 8080] [--hostname 127.0.0.1] [--work_dir DIR]
       [--failover_timeout SECONDS] [--deployment_timeout SECONDS] [--rollback_on_deadline]

Long-running services on Meso with Marathon's v2 REST API.`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      master: { type: 'string' },
      http_port: { type: 'string', default: '8080' },
      hostname: { type: 'string', default: '127.0.0.1' },
      work_dir: { type: 'string' },
      failover_timeout: { type: 'string' },
      deployment_timeout: { type: 'string' },
      rollback_on_deadline: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!values.master) {
    console.error(`meso-marathon: --master is required\n\n${USAGE}`);
    return 2;
  }
  const num = (v: string | undefined, flag: string): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${flag}: expected a non-negative number, got '${v}'`);
    return n;
  };
  const failover = num(values.failover_timeout, 'failover_timeout');
  const deadline = num(values.deployment_timeout, 'deployment_timeout');
  const marathon = await startMarathon({
    master: values.master,
    httpPort: num(values.http_port, 'http_port') ?? 8080,
    host: values.hostname ?? '127.0.0.1',
    ...(values.work_dir ? { workDir: values.work_dir } : {}),
    ...(failover !== undefined ? { failoverTimeoutSeconds: failover } : {}),
    ...(deadline !== undefined ? { deploymentTimeoutSeconds: deadline } : {}),
    rollbackOnDeadline: values.rollback_on_deadline ?? false,
  });
  console.log(`meso-marathon listening on ${marathon.address}`);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await marathon.close();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`meso-marathon: ${(e as Error).message}`);
    process.exit(1);
  },
);
