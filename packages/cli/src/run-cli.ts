import { CliError } from './cli-error.js';

type Run = (argv: string[]) => Promise<number>;

/**
 * The commands, each loaded only when run: `meso master` does not load the agent, the
 * reference frameworks or the SDKs (a master restarting is listening that much sooner).
 */
const COMMANDS: Record<string, { run: Run; summary: string }> = {
  master: { run: lazy(() => import('./commands/master.js'), 'masterCommand'), summary: 'Run a master.' },
  agent: { run: lazy(() => import('./commands/agent.js'), 'agentCommand'), summary: 'Run an agent that registers with a master.' },
  local: { run: lazy(() => import('./commands/local.js'), 'localCommand'), summary: 'Run a master and N agents on this machine (default 2).' },
  execute: { run: lazy(() => import('./commands/execute.js'), 'executeCommand'), summary: 'Run one task and follow it to its end (like mesos-execute).' },
  state: { run: lazy(() => import('./commands/state.js'), 'stateCommand'), summary: 'Show agents, frameworks and tasks.' },
  roles: { run: lazy(() => import('./commands/roles.js'), 'rolesCommand'), summary: 'List roles (weight, quota, allocation, frameworks) or set their weights.' },
  quota: { run: lazy(() => import('./commands/quota.js'), 'quotaCommand'), summary: "List, set or remove roles' quota." },
  reserve: { run: lazy(() => import('./commands/reservations.js'), 'reserveCommand'), summary: "List agents' reservations, or reserve an agent's resources for a role." },
  unreserve: { run: lazy(() => import('./commands/reservations.js'), 'unreserveCommand'), summary: "Give an agent's reserved resources back (unreserve)." },
  volumes: { run: lazy(() => import('./commands/reservations.js'), 'volumesCommand'), summary: 'List, create or destroy persistent volumes.' },
  app: { run: lazy(() => import('./commands/app.js'), 'appCommand'), summary: 'Deploy, list, show, scale, restart and remove services on fw-marathon.' },
  job: { run: lazy(() => import('./commands/job.js'), 'jobCommand'), summary: 'Add, list, run, inspect and remove scheduled jobs on fw-chronos.' },
  batch: { run: lazy(() => import('./commands/batch.js'), 'batchCommand'), summary: 'Submit, follow, list, kill and explain batch jobs on fw-batch.' },
  redis: { run: lazy(() => import('./commands/redis.js'), 'redisCommand'), summary: 'Create, inspect, scale and delete Redis instances on fw-redis.' },
  'sim-agents': { run: lazy(() => import('./commands/sim-agents.js'), 'simAgentsCommand'), summary: 'Register many simulated agents with a master (for benchmarks).' },
};

/** A command function loaded from its module when first run. */
function lazy<M, K extends keyof M>(load: () => Promise<M>, name: K): Run {
  return async (argv) => ((await load())[name] as Run)(argv);
}

const HELP = [
  'Usage: meso COMMAND [flags]',
  '',
  'Meso: a two-level cluster resource manager, after Apache Mesos.',
  '',
  'Commands:',
  ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(11)}${c.summary}`),
  '',
  "Run 'meso COMMAND --help' for a command's flags.",
].join('\n');

/** Runs the `meso` command line and returns the process exit code. */
export async function runCli(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(HELP);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`meso: unknown command '${name}'\n\n${HELP}`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (e) {
    if (e instanceof CliError) {
      console.error(`meso ${name}: ${e.message}`);
      return e.exitCode;
    }
    const err = e as Error & { code?: string };
    console.error(`meso ${name}: ${err.code ? `[${err.code}] ` : ''}${err.message}`);
    return 1;
  }
}
