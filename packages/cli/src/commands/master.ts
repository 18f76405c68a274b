import { join } from 'node:path';
import { createLogger } from '@meso/proto';
import { startMaster, type MasterOptions } from '@meso/master';
import { dataDir, formatHelp, parseDuration, parseFlags, parseInteger, type FlagSpecs } from '../flags.js';
import { stopOnSignals } from '../shutdown.js';
import { parseWeightsFlag } from './roles.js';

export const MASTER_FLAGS: FlagSpecs = {
  ip: { kind: 'string', value: 'IP', help: 'Address to bind (gRPC and HTTP share one port).', default: '127.0.0.1' },
  port: { kind: 'string', value: 'PORT', help: 'Port for the SDK, agents, the CLI and HTTP.', default: '5050' },
  work_dir: { kind: 'string', value: 'DIR', help: 'Where the registry is kept.', default: '$MESO_HOME/master (~/.meso/master)' },
  allocation_interval: { kind: 'string', value: 'DURATION', help: 'Time between batch allocations.', default: '1secs' },
  offer_timeout: { kind: 'string', value: 'DURATION', help: 'Rescind offers not answered within this (default: never).' },
  agent_ping_timeout: { kind: 'string', value: 'DURATION', help: 'Time between pings to each agent.', default: '15secs' },
  max_agent_ping_timeouts: { kind: 'string', value: 'N', help: 'Missed pings before an agent is unreachable.', default: '5' },
  agent_reregister_timeout: { kind: 'string', value: 'DURATION', help: 'After a master restart, how long known agents have to re-register before they are unreachable.', default: '10mins' },
  agent_removal_timeout: { kind: 'string', value: 'DURATION', help: 'How long an unreachable agent may stay away before it is gone (its tasks TASK_GONE).', default: '10mins' },
  weights: { kind: 'string', value: 'ROLE=W,...', help: "Role weights for DRF, e.g. 'prod=3,dev=1' (each > 0; unlisted roles weigh 1; a weight set later with 'meso roles weight' wins after a restart)." },
};

/** Turns parsed `meso master` flags into MasterOptions (also used by `meso local`). */
export function masterOptionsFromFlags(values: Record<string, string | boolean | undefined>, defaultWorkDir: string): MasterOptions {
  const workDir = String(values['work_dir']);
  const options: MasterOptions = {
    host: String(values['ip']),
    port: parseInteger('port', String(values['port']), 0, 65535),
    workDir: workDir.startsWith('$MESO_HOME') ? defaultWorkDir : workDir,
    allocationIntervalMs: parseDuration('allocation_interval', String(values['allocation_interval'])),
    agentPingIntervalSeconds: parseDuration('agent_ping_timeout', String(values['agent_ping_timeout'])) / 1000,
    maxMissedPings: parseInteger('max_agent_ping_timeouts', String(values['max_agent_ping_timeouts']), 1, 1000),
    agentReregisterTimeoutMs: parseDuration('agent_reregister_timeout', String(values['agent_reregister_timeout'])),
    agentRemovalTimeoutMs: parseDuration('agent_removal_timeout', String(values['agent_removal_timeout'])),
  };
  if (typeof values['offer_timeout'] === 'string') options.offerTimeoutMs = parseDuration('offer_timeout', values['offer_timeout']);
  if (typeof values['weights'] === 'string') options.weights = parseWeightsFlag(values['weights']);
  return options;
}

export async function masterCommand(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, MASTER_FLAGS);
  if (values['help']) {
    console.log(formatHelp('meso master [flags]', 'Runs a Meso master: the cluster\'s resources, DRF offers, frameworks and agents.', MASTER_FLAGS));
    return 0;
  }
  const logger = createLogger('master');
  const options = masterOptionsFromFlags(values, join(dataDir(), 'master'));
  const master = await startMaster({ ...options, logger });
  console.log(`meso master ${master.masterId} listening on ${master.address} (gRPC and HTTP: http://${master.address}/state)`);
  await stopOnSignals(() => master.close(), (line) => logger.info(line));
  return 0;
}
