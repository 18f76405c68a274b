import { join } from 'node:path';
import { createLogger } from '@meso/proto';
import { startAgent, type AgentOptions } from '@meso/agent';
import { dataDir, formatHelp, parseEndpoint, parseFlags, parseInteger, type FlagSpecs } from '../flags.js';
import { stopOnSignals } from '../shutdown.js';
import { usageError } from '../cli-error.js';
import { isMaintenanceAction, MAINTENANCE_ACTIONS, maintenanceCommand } from './maintenance.js';

export const AGENT_FLAGS: FlagSpecs = {
  master: { kind: 'string', value: 'HOST:PORT', help: 'The master to register with.', default: '127.0.0.1:5050' },
  ip: { kind: 'string', value: 'IP', help: 'Address of the agent\'s own server (executors dial it).', default: '127.0.0.1' },
  port: { kind: 'string', value: 'PORT', help: 'Port of the agent\'s own server.', default: '5051' },
  work_dir: { kind: 'string', value: 'DIR', help: 'Sandboxes and checkpoints.', default: '$MESO_HOME/agent-PORT' },
  resources: { kind: 'string', value: 'RESOURCES', help: "Mesos syntax, e.g. 'cpus:4;mem:4096;ports:[31000-32000]' or JSON; names not given are detected." },
  attributes: { kind: 'string', value: 'ATTRIBUTES', help: "e.g. 'rack:r1;zone:a'." },
  hostname: { kind: 'string', value: 'NAME', help: 'Hostname the agent reports (default: the machine\'s).' },
  executor_shutdown_grace_period: { kind: 'string', value: 'SECONDS', help: 'Seconds between SIGTERM and SIGKILL of a task.', default: '5' },
  isolation: {
    kind: 'string',
    value: 'ISOLATORS',
    help: 'Comma-separated: cgroups, posix, disk/du, network/ports, namespaces/pid (default: cgroups if usable, else posix; plus disk/du and network/ports).',
  },
  cgroups_enable_cfs: { kind: 'boolean', help: 'Hard cpu limits (CFS quota) besides cpu shares.' },
};

/** Turns parsed `meso agent` flags into AgentOptions. */
export function agentOptionsFromFlags(values: Record<string, string | boolean | undefined>): AgentOptions {
  const port = parseInteger('port', String(values['port']), 0, 65535);
  const workDir = String(values['work_dir']);
  const grace = Number(values['executor_shutdown_grace_period']);
  if (!Number.isFinite(grace) || grace < 0) {
    throw usageError(`--executor_shutdown_grace_period: '${String(values['executor_shutdown_grace_period'])}' is not a number of seconds`);
  }
  const options: AgentOptions = {
    master: parseEndpoint('master', String(values['master'])),
    host: String(values['ip']),
    port,
    workDir: workDir.startsWith('$MESO_HOME') ? join(dataDir(), `agent-${port}`) : workDir,
    defaultKillGracePeriodSeconds: grace,
  };
  if (typeof values['resources'] === 'string') options.resources = values['resources'];
  if (typeof values['attributes'] === 'string') options.attributes = values['attributes'];
  if (typeof values['hostname'] === 'string') options.hostname = values['hostname'];
  if (typeof values['isolation'] === 'string') options.isolation = values['isolation'];
  if (values['cgroups_enable_cfs'] === true) options.cgroupsEnableCfs = true;
  return options;
}

const AGENT_SUMMARY = [
  "Runs a Meso agent: offers this machine's resources and runs tasks.",
  '',
  'Maintenance of a running agent (asks the master):',
  ...Object.entries(MAINTENANCE_ACTIONS).map(([name, what]) => `  meso agent ${name.padEnd(10)} AGENT_ID  ${what}`),
].join('\n');

export async function agentCommand(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (isMaintenanceAction(first)) return maintenanceCommand(first, rest);
  const { values } = parseFlags(argv, AGENT_FLAGS);
  if (values['help']) {
    console.log(formatHelp('meso agent --master HOST:PORT [flags]', AGENT_SUMMARY, AGENT_FLAGS));
    return 0;
  }
  const logger = createLogger('agent');
  const agent = await startAgent({ ...agentOptionsFromFlags(values), logger });
  console.log(`meso agent listening on ${agent.endpoint}, registering with ${String(values['master'])}`);
  void agent.registered().then((id) => console.log(`meso agent registered as ${id}`));
  await stopOnSignals(() => agent.close(), (line) => logger.info(line));
  return 0;
}
