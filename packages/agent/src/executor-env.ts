/** What an executor's environment is built from. */
export interface ExecutorEnvInput {
  agentEndpoint: string;
  frameworkId: string;
  executorId: string;
  sandbox: string;
  /** The secret of this executor run. */
  token: string;
  /** Marks every process of the run (the agent finds strays by it). */
  runId: string;
  checkpoint: boolean;
  shutdownGracePeriodSeconds: number;
  recoveryTimeoutSeconds: number;
  /** The executor's CommandInfo environment. */
  commandEnv: Record<string, string>;
  /** The agent's own environment, inherited (as Mesos does by default). */
  base: Record<string, string | undefined>;
}

/** The variable carrying the executor run id into every process of the run. */
export const RUN_ID_VARIABLE = 'MESO_EXECUTOR_RUN_ID';

/**
 * An executor's environment: the agent's (minus other MESO_ variables), the variables
 * `@meso/sdk-executor` reads (`MESO_AGENT_ENDPOINT`, `MESO_FRAMEWORK_ID`,
 * `MESO_EXECUTOR_ID`, `MESO_SANDBOX`, `MESO_EXECUTOR_TOKEN`, `MESO_CHECKPOINT`,
 * `MESO_SHUTDOWN_GRACE_PERIOD`, `MESO_RECOVERY_TIMEOUT`), `MESO_EXECUTOR_RUN_ID`, and the
 * executor's own variables.
 */
export function buildExecutorEnv(input: ExecutorEnvInput): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(input.base)) if (v !== undefined && !k.startsWith('MESO_')) env[k] = v;
  // Keep the operator's logging choices.
  for (const k of ['MESO_LOG_LEVEL', 'MESO_LOG_FORMAT']) {
    const v = input.base[k];
    if (v !== undefined) env[k] = v;
  }
  Object.assign(env, {
    MESO_AGENT_ENDPOINT: input.agentEndpoint,
    MESO_FRAMEWORK_ID: input.frameworkId,
    MESO_EXECUTOR_ID: input.executorId,
    MESO_SANDBOX: input.sandbox,
    MESO_EXECUTOR_TOKEN: input.token,
    MESO_CHECKPOINT: input.checkpoint ? '1' : '0',
    MESO_SHUTDOWN_GRACE_PERIOD: String(input.shutdownGracePeriodSeconds),
    MESO_RECOVERY_TIMEOUT: String(input.recoveryTimeoutSeconds),
    [RUN_ID_VARIABLE]: input.runId,
  });
  Object.assign(env, input.commandEnv);
  return env;
}
