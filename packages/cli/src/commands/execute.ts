import { randomUUID } from 'node:crypto';
import { parseResources, type Resources } from '@meso/proto';
import { Scheduler, isTerminalState, type TaskStatus } from '@meso/sdk-scheduler';
import { CliError, usageError } from '../cli-error.js';
import { formatHelp, parseEndpoint, parseFlags, type FlagSpecs } from '../flags.js';

const EXECUTE_FLAGS: FlagSpecs = {
  master: { kind: 'string', value: 'HOST:PORT', help: 'The master.', default: '127.0.0.1:5050' },
  resources: { kind: 'string', value: 'RESOURCES', help: 'What the task needs, Mesos syntax.', default: 'cpus:0.1;mem:32' },
  name: { kind: 'string', value: 'NAME', help: 'Task name.', default: 'meso-execute' },
  task_id: { kind: 'string', value: 'ID', help: 'Task id (default: meso-execute-<random>).' },
  command: { kind: 'string', value: 'SHELL', help: "A shell command (run by /bin/sh -c), instead of '-- PROGRAM ARGS...'." },
  env: { kind: 'string', value: 'JSON', help: 'Environment of the task as a JSON object, e.g. \'{"A":"1"}\'.' },
  framework_name: { kind: 'string', value: 'NAME', help: 'Name the one-off framework registers with.', default: 'meso-execute' },
  role: { kind: 'string', value: 'ROLE', help: 'Role of the framework.', default: '*' },
};

function parseEnv(text: string | undefined): Record<string, string> {
  if (text === undefined) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw usageError(`--env: not valid JSON (${(e as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || Object.values(value).some((v) => typeof v !== 'string')) {
    throw usageError('--env: must be a JSON object of strings, e.g. \'{"A":"1"}\'');
  }
  return value as Record<string, string>;
}

function describe(status: TaskStatus): string {
  const details = [status.message, status.reason ? `reason ${status.reason}` : undefined].filter(Boolean).join('; ');
  return `task ${status.taskId} ${status.state}${details ? `: ${details}` : ''}`;
}

/** The process exit code for a terminal status: the task's own where it has one. */
export function exitCodeOf(status: TaskStatus): number {
  if (status.state === 'TASK_FINISHED') return 0;
  if (typeof status.exitCode === 'number' && status.exitCode > 0) return Math.min(status.exitCode, 255);
  return 1;
}

/**
 * `meso execute`, like `mesos-execute`: registers a one-off framework, launches one task
 * in the first offer that fits, prints its states and sandbox, tears the framework down,
 * and exits with the task's exit status.
 */
export async function executeCommand(argv: string[]): Promise<number> {
  const { values, rest } = parseFlags(argv, EXECUTE_FLAGS);
  if (values['help']) {
    console.log(
      formatHelp(
        "meso execute [--master HOST:PORT] [--resources 'cpus:0.5;mem:64'] -- PROGRAM [ARGS...]",
        'Runs one task on the cluster, streams its states, prints its sandbox and exits with its exit status.',
        EXECUTE_FLAGS,
      ),
    );
    return 0;
  }
  const master = parseEndpoint('master', String(values['master']));
  let needed: Resources;
  try {
    needed = parseResources(String(values['resources']));
  } catch (e) {
    throw usageError((e as Error).message);
  }
  const shell = values['command'];
  if (rest.length === 0 && typeof shell !== 'string') throw usageError("no command: give '-- PROGRAM ARGS...' or --command 'SHELL'");
  if (rest.length > 0 && typeof shell === 'string') throw usageError("give either '-- PROGRAM ARGS...' or --command, not both");
  const env = parseEnv(values['env'] as string | undefined);
  const taskId = typeof values['task_id'] === 'string' ? values['task_id'] : `meso-execute-${randomUUID().slice(0, 8)}`;

  const scheduler = await Scheduler.connect({
    master,
    framework: { name: String(values['framework_name']), roles: [String(values['role'])], failoverTimeoutSeconds: 0 },
  }).catch((e: unknown) => {
    throw new CliError(`cannot subscribe to the master at ${master}: ${(e as Error).message}`, 1, { cause: e });
  });
  console.log(`framework ${scheduler.frameworkId} subscribed to ${master}`);

  let launched = false;
  let waitingSaid = false;
  let sandboxSaid = false;
  let final: TaskStatus | undefined;
  const onSignal = (): void => {
    if (launched) void scheduler.kill(taskId).catch(() => undefined);
    else void scheduler.close();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    for await (const event of scheduler.events()) {
      if (event.type === 'offers') {
        const fit = launched ? undefined : event.offers.find((o) => o.resources.contains(needed));
        const others = event.offers.filter((o) => o !== fit).map((o) => o.id);
        if (others.length > 0) await scheduler.decline(others, { refuseSeconds: launched ? 3600 : 1 });
        if (fit) {
          const command = typeof shell === 'string' ? { shell } : { argv: rest };
          await scheduler.launch(fit, [{ taskId, name: String(values['name']), resources: needed, command: { ...command, env } }]);
          launched = true;
          console.log(`task ${taskId} launched on agent ${fit.agentId} (${fit.hostname}) with ${needed.toString()}`);
        } else if (!launched && !waitingSaid) {
          waitingSaid = true;
          console.log(`waiting for an offer with ${needed.toString()} ...`);
        }
      } else if (event.type === 'update' && event.status.taskId === taskId) {
        console.log(describe(event.status));
        if (event.status.sandbox && !sandboxSaid) {
          sandboxSaid = true;
          console.log(`sandbox: ${event.status.sandbox}`);
        }
        if (isTerminalState(event.status.state)) {
          final = event.status;
          break;
        }
      } else if (event.type === 'error') {
        throw new CliError(`the master ended the framework: ${event.message}`);
      }
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await scheduler.teardown().catch(() => undefined);
    await scheduler.close();
  }
  if (!final) return 1;
  return exitCodeOf(final);
}
