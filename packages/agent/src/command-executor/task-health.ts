import type { Range } from '@meso/proto';
import type { HealthCheck } from '@meso/sdk-executor';
import type { CheckRun } from '../health/health-checker.js';
import { commandCheck, httpCheck, tcpCheck } from '../health/health-checks.js';

/** Where the task runs, which its health checks share. */
export interface TaskSurroundings {
  /** The task's `ports` ranges, in order. */
  ports: readonly Range[];
  sandbox: string;
  /** The task's environment (a COMMAND check gets it, plus its own variables). */
  env: Record<string, string>;
  uid?: number;
  gid?: number;
}

const failing =
  (message: string): CheckRun =>
  async () => ({ healthy: false, message });

/**
 * The check to run for a task's health check. HTTP and TCP check the given port, or the
 * task's first port (`PORT0`) when the scheduler sent none. A check that cannot work (no
 * port, no command) fails every time, so the framework sees the task become unhealthy
 * rather than a check that silently never runs.
 */
export function taskHealthCheck(check: HealthCheck, task: TaskSurroundings): CheckRun {
  const port = check.port > 0 ? check.port : task.ports[0]?.begin;
  switch (check.type) {
    case 'HTTP':
      return port ? httpCheck(port, check.path || '/') : failing('the HTTP health check names no port and the task has none');
    case 'TCP':
      return port ? tcpCheck(port) : failing('the TCP health check names no port and the task has none');
    case 'COMMAND':
      if (!check.command || check.command.value === '') return failing('the COMMAND health check has no command');
      return commandCheck({
        command: check.command,
        cwd: task.sandbox,
        env: task.env,
        ...(task.uid !== undefined ? { uid: task.uid } : {}),
        ...(task.gid !== undefined ? { gid: task.gid } : {}),
      });
  }
}
