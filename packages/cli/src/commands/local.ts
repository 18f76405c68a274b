import { join } from 'node:path';
import { createLogger } from '@meso/proto';
import { startMaster, type MasterHandle } from '@meso/master';
import { startAgent, type AgentHandle } from '@meso/agent';
import { dataDir, formatHelp, parseFlags, parseInteger, type FlagSpecs } from '../flags.js';
import { stopOnSignals } from '../shutdown.js';
import { LOCAL_FRAMEWORKS, parseFrameworks, startLocalFrameworks } from './local-frameworks.js';
import { MASTER_FLAGS, masterOptionsFromFlags } from './master.js';

const LOCAL_FLAGS: FlagSpecs = {
  agents: { kind: 'string', value: 'N', help: 'How many agents to run.', default: '2' },
  data_dir: { kind: 'string', value: 'DIR', help: 'Work dirs go under it (master/, agent-1/, ...).', default: '$MESO_HOME/local (~/.meso/local)' },
  ip: MASTER_FLAGS['ip']!,
  port: { kind: 'string', value: 'PORT', help: 'Master port; agents take the next ones (0: all free ports).', default: '5050' },
  resources: { kind: 'string', value: 'RESOURCES', help: 'Resources of each agent, Mesos syntax (default: detected).' },
  frameworks: {
    kind: 'string',
    value: 'LIST',
    help: `Reference frameworks to run beside them (${Object.entries(LOCAL_FRAMEWORKS).map(([n, f]) => `${n} on ${f.port}`).join(', ')}; 'none' for none).`,
    default: Object.keys(LOCAL_FRAMEWORKS).join(','),
  },
  allocation_interval: MASTER_FLAGS['allocation_interval']!,
  offer_timeout: MASTER_FLAGS['offer_timeout']!,
  weights: MASTER_FLAGS['weights']!,
};

export async function localCommand(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, LOCAL_FLAGS);
  if (values['help']) {
    console.log(formatHelp('meso local [flags]', 'Runs a master and N agents in one process: a whole cluster on this machine. Ctrl-C stops everything.', LOCAL_FLAGS));
    return 0;
  }
  const count = parseInteger('agents', String(values['agents']), 1, 64);
  const frameworkNames = parseFrameworks(String(values['frameworks']));
  const root = String(values['data_dir']).startsWith('$MESO_HOME') ? join(dataDir(), 'local') : String(values['data_dir']);
  const logger = createLogger('local');
  const masterOptions = masterOptionsFromFlags(
    { ...values, work_dir: join(root, 'master'), agent_ping_timeout: '15secs', max_agent_ping_timeouts: '5', agent_reregister_timeout: '10mins', agent_removal_timeout: '10mins' },
    join(root, 'master'),
  );
  const master: MasterHandle = await startMaster({ ...masterOptions, logger: logger.child('master') });
  // --port 0: every component takes a free port (parallel runs never collide).
  const anyPort = masterOptions.port === 0;
  const agents: AgentHandle[] = [];
  const frameworks: Array<{ name: string; address: string; close(): Promise<void> }> = [];
  const stop = async (): Promise<void> => {
    await Promise.allSettled(frameworks.map((f) => f.close()));
    await Promise.allSettled(agents.map((a) => a.close({ shutdownExecutors: true })));
    await master.close();
  };
  try {
    console.log(`master:    ${master.address}  (http://${master.address}/state)`);
    for (let i = 1; i <= count; i++) {
      const agent = await startAgent({
        master: master.address,
        host: masterOptions.host ?? '127.0.0.1',
        port: anyPort ? 0 : master.port + i,
        workDir: join(root, `agent-${i}`),
        ...(typeof values['resources'] === 'string' ? { resources: values['resources'] } : {}),
        logger: logger.child(`agent-${i}`),
      });
      agents.push(agent);
    }
    const ids = await Promise.all(agents.map((a) => a.registered()));
    agents.forEach((a, i) => console.log(`agent ${i + 1}:   ${a.endpoint}  id ${ids[i]}`));
    frameworks.push(
      ...(await startLocalFrameworks(frameworkNames, { master: master.address, host: masterOptions.host ?? '127.0.0.1', root, anyPort, logger })),
    );
    for (const f of frameworks) console.log(`${`${f.name}:`.padEnd(10)}http://${f.address}`);
    const withFrameworks = frameworks.length > 0 ? ` and ${frameworks.map((f) => f.name).join(', ')}` : '';
    console.log(`meso local: cluster ready (${count} agents${withFrameworks}, data in ${root}); try: meso execute --master ${master.address} -- sh -c 'echo hello'`);
  } catch (e) {
    await stop();
    throw e;
  }
  await stopOnSignals(stop, (line) => logger.info(line));
  return 0;
}
