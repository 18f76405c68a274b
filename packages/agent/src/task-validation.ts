import { formatRanges, resourcesFromWire, type TaskInfo } from '@meso/proto';
import { isSafeId } from './paths.js';

/** What validation needs to know about the agent's current runs. */
export interface TaskValidationContext {
  /** Executor ids of the framework taken by command executors. */
  commandExecutorIds: ReadonlySet<string>;
  /** Whether a task id of the framework is live on this agent. */
  taskRunning(taskId: string): boolean;
  /** The agent's resources (its `ports` bound what a task may be given). */
  agentResources?: TaskInfo['resources'];
}

/** Why the agent cannot run a task (undefined when it can). Ids become path segments, so they are checked. */
export function taskProblem(frameworkId: string, task: TaskInfo, ctx: TaskValidationContext): string | undefined {
  const taskId = task.taskId?.value ?? '';
  if (!isSafeId(frameworkId)) return `invalid framework id '${frameworkId}'`;
  if (!isSafeId(taskId)) return `invalid task id '${taskId}': ids may not be empty, '.', '..' or hold '/' or control characters`;
  if (!!task.command === !!task.executor) return 'a task needs exactly one of command or executor';
  if (task.command && !task.command.value && task.command.arguments.length === 0) return 'the task command is empty';
  if (task.executor) {
    const id = task.executor.executorId?.value ?? '';
    if (!isSafeId(id)) return `invalid executor id '${id}'`;
    if (!task.executor.command || (!task.executor.command.value && task.executor.command.arguments.length === 0)) return `executor '${id}' has no command`;
    if (ctx.commandExecutorIds.has(id)) return `executor id '${id}' is taken by a command task`;
  }
  if (ctx.taskRunning(taskId)) return `task '${taskId}' is already running on this agent`;
  if (ctx.agentResources) return portsProblem(task, ctx.agentResources);
  return undefined;
}

/** A port the task (or its executor) was given that is not among the agent's ports. */
function portsProblem(task: TaskInfo, agent: TaskInfo['resources']): string | undefined {
  let mine;
  let given;
  try {
    mine = resourcesFromWire(agent, 'agent').ranges('ports');
    given = resourcesFromWire([...task.resources, ...(task.executor?.resources ?? [])], 'resources').ranges('ports');
  } catch {
    return undefined; // the master validated them; the isolators treat what they cannot read as nothing
  }
  const outside = given.find((r) => !mine.some((m) => r.begin >= m.begin && r.end <= m.end));
  if (outside) return `ports ${formatRanges([outside])} are not within the agent's ports ${formatRanges(mine)}`;
  return undefined;
}
