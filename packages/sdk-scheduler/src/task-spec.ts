import { Resources } from '@meso/proto';
import { SchedulerError } from './errors.js';
import { volumesResources } from './volumes.js';
import type { CommandSpec, ExecutorSpec, ResourceSpec, TaskSpec } from './types.js';

/** Whether a value is a `Resources` (duck-typed, so two copies of @meso/proto still agree). */
export function isResources(spec: unknown): spec is Resources {
  return (
    spec instanceof Resources ||
    (typeof spec === 'object' && spec !== null && typeof (spec as Resources).toList === 'function' && typeof (spec as Resources).contains === 'function')
  );
}

function invalidTask(field: string, message: string, cause?: unknown): SchedulerError {
  return new SchedulerError('INVALID_TASK', `${field}: ${message}`, { field, ...(cause === undefined ? {} : { cause }) });
}

/** Checks a scalar record such as `{ cpus: 1, mem: 128 }`. */
export function validateScalarRecord(record: Record<string, number>, field: string): void {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) {
    throw invalidTask(field, 'must be a Resources or a record of scalars such as { cpus: 1, mem: 128 }');
  }
  for (const [name, value] of Object.entries(record)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw invalidTask(`${field}.${name}`, `must be a finite number >= 0, got ${String(value)}`);
    }
  }
}

/** A resource spec as `Resources` with unreserved roles (scalar records), validated. */
export function resourcesOfSpec(spec: ResourceSpec | undefined, field: string): Resources {
  if (spec === undefined) return Resources.empty();
  if (isResources(spec)) return spec;
  validateScalarRecord(spec, field);
  try {
    return Resources.scalars(spec);
  } catch (e) {
    throw invalidTask(field, (e as Error).message, e);
  }
}

/** Checks a command: exactly one of `shell` and `argv`, env of strings. */
export function validateCommand(command: CommandSpec, field: string): void {
  if (typeof command !== 'object' || command === null) throw invalidTask(field, 'must be { shell } or { argv }');
  const hasShell = command.shell !== undefined;
  const hasArgv = command.argv !== undefined;
  if (hasShell === hasArgv) throw invalidTask(field, 'must have exactly one of shell and argv');
  if (hasShell && (typeof command.shell !== 'string' || command.shell.trim() === '')) {
    throw invalidTask(`${field}.shell`, 'must be a non-empty string');
  }
  if (hasArgv && (!Array.isArray(command.argv) || command.argv.length === 0 || command.argv.some((a) => typeof a !== 'string'))) {
    throw invalidTask(`${field}.argv`, 'must be a non-empty list of strings (argv[0] is the program)');
  }
  for (const [k, v] of Object.entries(command.env ?? {})) {
    if (typeof v !== 'string') throw invalidTask(`${field}.env.${k}`, `must be a string, got ${typeof v}`);
  }
}

/** Checks an executor spec. */
export function validateExecutor(executor: ExecutorSpec, field: string): void {
  if (typeof executor !== 'object' || executor === null) throw invalidTask(field, 'must be an executor spec');
  if (typeof executor.executorId !== 'string' || executor.executorId === '') {
    throw new SchedulerError('INVALID_EXECUTOR', `${field}.executorId: must be a non-empty string`, { field: `${field}.executorId` });
  }
  validateCommand(executor.command, `${field}.command`);
  resourcesOfSpec(executor.resources, `${field}.resources`);
}

/**
 * Checks what can be checked of a task without an offer: a task id, exactly one of command and
 * executor, well-formed resources, a whole number of ports. Throws INVALID_TASK naming the field.
 */
export function validateTaskSpec(task: TaskSpec, field: string): void {
  if (typeof task !== 'object' || task === null) throw invalidTask(field, 'must be a task spec');
  if (typeof task.taskId !== 'string' || task.taskId.trim() === '') throw invalidTask(`${field}.taskId`, 'must be a non-empty string');
  if ((task.command === undefined) === (task.executor === undefined)) {
    throw invalidTask(field, `task ${task.taskId} must have exactly one of command and executor`);
  }
  if (task.command !== undefined) validateCommand(task.command, `${field}.command`);
  if (task.executor !== undefined) validateExecutor(task.executor, `${field}.executor`);
  if (task.resources === undefined) throw invalidTask(`${field}.resources`, 'is required, e.g. { cpus: 0.1, mem: 32 }');
  resourcesOfSpec(task.resources, `${field}.resources`);
  if (task.ports !== undefined && (!Number.isInteger(task.ports) || task.ports < 0)) {
    throw invalidTask(`${field}.ports`, `must be a whole number >= 0, got ${String(task.ports)}`);
  }
  if (task.volumes !== undefined) taskVolumes(task, field);
}

/** The persistent volumes a task holds, as Resources (INVALID_TASK naming the field). */
export function taskVolumes(task: TaskSpec, field: string): Resources {
  try {
    return volumesResources(task.volumes, `${field}.volumes`, true);
  } catch (e) {
    const err = e as SchedulerError;
    throw new SchedulerError('INVALID_TASK', err.message, { ...(err.field ? { field: err.field } : {}), cause: e });
  }
}
