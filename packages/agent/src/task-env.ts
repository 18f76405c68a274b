import type { Range } from '@meso/proto';

/** What a task's environment is built from. */
export interface TaskEnvInput {
  taskId: string;
  frameworkId: string;
  executorId: string;
  sandbox: string;
  agentEndpoint: string;
  /** The agent's hostname (`HOST`). */
  hostname: string;
  /** The task's `ports` ranges, in the order given. */
  ports: readonly Range[];
  /** The task's own variables (CommandInfo environment): they win over everything else. */
  commandEnv: Record<string, string>;
  /** The inherited environment (the executor's), minus what a task must not see. */
  base: Record<string, string | undefined>;
}

/** Variables of the executor a task must not inherit (the token would let it impersonate the executor). */
export const EXECUTOR_ONLY_VARIABLES = ['MESO_EXECUTOR_TOKEN', 'MESO_CHECKPOINT', 'MESO_SHUTDOWN_GRACE_PERIOD', 'MESO_RECOVERY_TIMEOUT'] as const;

/** At most this many PORTn variables (a task given a huge range still gets a bounded environment). */
export const MAX_PORT_VARIABLES = 1000;

/**
 * `PORT0..PORTn` (one per port, ranges expanded in order) and `PORTS` (comma list).
 * Empty when the task has no ports.
 */
export function portVariables(ranges: readonly Range[]): Record<string, string> {
  const ports: number[] = [];
  for (const r of ranges) {
    for (let p = r.begin; p <= r.end && ports.length < MAX_PORT_VARIABLES; p++) ports.push(p);
  }
  if (ports.length === 0) return {};
  const env: Record<string, string> = { PORTS: ports.join(',') };
  ports.forEach((p, i) => (env[`PORT${i}`] = String(p)));
  return env;
}

/**
 * A task's environment: the inherited one without executor secrets, then the Meso
 * variables (`MESO_TASK_ID`, `MESO_FRAMEWORK_ID`, `MESO_EXECUTOR_ID`, `MESO_SANDBOX`,
 * `MESO_AGENT_ENDPOINT`, `HOST`, `PORT0..n`, `PORTS`), then the task's own variables.
 */
export function buildTaskEnv(input: TaskEnvInput): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(input.base)) {
    if (v !== undefined && !(EXECUTOR_ONLY_VARIABLES as readonly string[]).includes(k)) env[k] = v;
  }
  Object.assign(env, {
    MESO_TASK_ID: input.taskId,
    MESO_FRAMEWORK_ID: input.frameworkId,
    MESO_EXECUTOR_ID: input.executorId,
    MESO_SANDBOX: input.sandbox,
    MESO_AGENT_ENDPOINT: input.agentEndpoint,
    HOST: input.hostname,
  });
  Object.assign(env, portVariables(input.ports));
  Object.assign(env, input.commandEnv);
  return env;
}
