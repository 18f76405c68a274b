import { CliError } from './cli-error.js';
import { agentCommand } from './commands/agent.js';
import { appCommand } from './commands/app.js';
import { batchCommand } from './commands/batch.js';
import { executeCommand } from './commands/execute.js';
import { jobCommand } from './commands/job.js';
import { localCommand } from './commands/local.js';
import { masterCommand } from './commands/master.js';
import { quotaCommand } from './commands/quota.js';
import { rolesCommand } from './commands/roles.js';
import { redisCommand } from './commands/redis.js';
import { reserveCommand, unreserveCommand, volumesCommand } from './commands/reservations.js';
import { simAgentsCommand } from './commands/sim-agents.js';
import { stateCommand } from './commands/state.js';

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<number>; summary: string }> = {
  master: { run: masterCommand, summary: 'Run a master.' },
  agent: { run: agentCommand, summary: 'Run an agent that registers with a master.' },
  local: { run: localCommand, summary: 'Run a master and N agents on this machine (default 2).' },
  execute: { run: executeCommand, summary: 'Run one task and follow it to its end (like mesos-execute).' },
  state: { run: stateCommand, summary: 'Show agents, frameworks and tasks.' },
  roles: { run: rolesCommand, summary: 'List roles (weight, quota, allocation, frameworks) or set their weights.' },
  quota: { run: quotaCommand, summary: "List, set or remove roles' quota." },
  reserve: { run: reserveCommand, summary: "List agents' reservations, or reserve an agent's resources for a role." },
  unreserve: { run: unreserveCommand, summary: "Give an agent's reserved resources back (unreserve)." },
  volumes: { run: volumesCommand, summary: 'List, create or destroy persistent volumes.' },
  app: { run: appCommand, summary: 'Deploy, list, show, scale, restart and remove services on fw-marathon.' },
  job: { run: jobCommand, summary: 'Add, list, run, inspect and remove scheduled jobs on fw-chronos.' },
  batch: { run: batchCommand, summary: 'Submit, follow, list, kill and explain batch jobs on fw-batch.' },
  redis: { run: redisCommand, summary: 'Create, inspect, scale and delete Redis instances on fw-redis.' },
  'sim-agents': { run: simAgentsCommand, summary: 'Register many simulated agents with a master (for benchmarks).' },
};

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
