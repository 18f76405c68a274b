import { join } from 'node:path';

/** Ids that may become path segments: no separators, no `.`/`..`, no control characters. */
export function isSafeId(id: string): boolean {
  return typeof id === 'string' && id.length > 0 && id.length <= 255 && id !== '.' && id !== '..' && !/[/\\\u0000-\u001f]/.test(id);
}

/**
 * The sandbox of one executor run, laid out like Mesos's:
 * `<workDir>/slaves/<agentId>/frameworks/<frameworkId>/executors/<executorId>/runs/<runId>`.
 * It holds the executor's `stdout` and `stderr`.
 */
export function sandboxPath(workDir: string, agentId: string, frameworkId: string, executorId: string, runId: string): string {
  return join(executorDir(workDir, agentId, frameworkId, executorId), 'runs', runId);
}

/** The directory holding every run of one executor. */
export function executorDir(workDir: string, agentId: string, frameworkId: string, executorId: string): string {
  return join(workDir, 'slaves', agentId, 'frameworks', frameworkId, 'executors', executorId);
}

/** Where the agent checkpoints its own state (agent id, status updates). */
export function metaDir(workDir: string): string {
  return join(workDir, 'meta');
}

/** Where command tasks' wrappers write their exit statuses. */
export function taskExitDir(workDir: string): string {
  return join(metaDir(workDir), 'exits');
}

/** Where a command task's wrapper writes the task's exit status (`$?`), read after an agent restart. */
export function taskExitFile(workDir: string, runId: string): string {
  return join(taskExitDir(workDir), runId);
}
