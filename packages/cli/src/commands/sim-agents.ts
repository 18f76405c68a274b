import { parseResources, ResourceError } from '@meso/proto';
import { usageError } from '../cli-error.js';
import { formatHelp, parseEndpoint, parseFlags, parseInteger, type FlagSpecs } from '../flags.js';
import { stopOnSignals } from '../shutdown.js';
import { SIM_AGENTS_DEFAULTS, startSimAgents, type SimAgentsOptions } from '../sim/sim-agents.js';

export const SIM_AGENTS_FLAGS: FlagSpecs = {
  master: { kind: 'string', value: 'HOST:PORT', help: 'The master to register with.', default: '127.0.0.1:5050' },
  count: { kind: 'string', value: 'N', help: 'How many agents to simulate.', default: '1000' },
  task_seconds: { kind: 'string', value: 'S', help: 'Seconds a task runs before TASK_FINISHED (default: until killed).' },
  cpus: { kind: 'string', value: 'N', help: 'cpus of each agent.', default: '8' },
  mem: { kind: 'string', value: 'MB', help: 'mem of each agent.', default: '16384' },
  agents_per_channel: { kind: 'string', value: 'N', help: 'Agents sharing one HTTP/2 connection.', default: String(SIM_AGENTS_DEFAULTS.agentsPerChannel) },
};

/** Turns parsed `meso sim-agents` flags into SimAgentsOptions (usage errors name the flag). */
export function simAgentsOptionsFromFlags(values: Record<string, string | boolean | undefined>): SimAgentsOptions {
  const number = (flag: string): number => {
    const text = String(values[flag]);
    const n = Number(text);
    if (text.trim() === '' || !Number.isFinite(n) || n <= 0) throw usageError(`--${flag}: '${text}' is not a positive number`);
    return n;
  };
  const resources = `cpus:${number('cpus')};mem:${number('mem')}`;
  try {
    parseResources(resources, 'resources');
  } catch (e) {
    if (e instanceof ResourceError) throw usageError(`--cpus/--mem: ${e.message}`);
    throw e;
  }
  const options: SimAgentsOptions = {
    master: parseEndpoint('master', String(values['master'])),
    count: parseInteger('count', String(values['count']), 1, 1_000_000),
    resources,
    agentsPerChannel: parseInteger('agents_per_channel', String(values['agents_per_channel']), 1, 100_000),
  };
  if (typeof values['task_seconds'] === 'string') {
    const s = Number(values['task_seconds']);
    if (values['task_seconds'].trim() === '' || !Number.isFinite(s) || s < 0) throw usageError(`--task_seconds: '${values['task_seconds']}' is not a number of seconds >= 0`);
    options.taskSeconds = s;
  }
  return options;
}

const SUMMARY = [
  'Registers many simulated agents with a master over the real AgentLink protocol, from this',
  'process: they answer pings, acknowledge launches (TASK_STARTING, TASK_RUNNING), finish tasks',
  'after --task_seconds (TASK_KILLED when killed) and re-register with their tasks when the master',
  'restarts. Nothing is run. For measuring a master at 10k+ agents on one machine.',
].join('\n');

export async function simAgentsCommand(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, SIM_AGENTS_FLAGS);
  if (values['help']) {
    console.log(formatHelp('meso sim-agents --count N --master HOST:PORT [flags]', SUMMARY, SIM_AGENTS_FLAGS));
    return 0;
  }
  const options = simAgentsOptionsFromFlags(values);
  const fleet = startSimAgents(options);
  const started = Date.now();
  const report = setInterval(() => {
    console.log(`sim-agents: ${fleet.registeredCount()}/${options.count} registered, ${fleet.taskCount()} live tasks, ${fleet.launched.count} launched`);
  }, 5000);
  fleet.waitRegistered(24 * 3600_000).then(
    () => console.log(`sim-agents: all ${options.count} registered in ${((Date.now() - started) / 1000).toFixed(2)} s`),
    () => undefined,
  );
  await stopOnSignals(
    async () => {
      clearInterval(report);
      fleet.close();
    },
    (line) => console.log(`sim-agents: ${line}`),
  );
  return 0;
}
