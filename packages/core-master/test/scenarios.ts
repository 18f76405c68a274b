// Helpers shared by the fault-tolerance wire tests: launching a task, agent status updates,
// and picking UPDATE events out of a framework's inbox.
import { TaskState, type Event, type TaskStatus } from '@meso/proto';
import { wireResources, type TestAgent, type TestFramework } from './harness.js';

/** Takes the next offer, launches one command task on it and waits for the agent's RunTask. */
export async function launchTask(fw: TestFramework, agent: TestAgent, taskId: string, extra: Record<string, unknown> = {}): Promise<void> {
  const [offer] = await fw.nextOffers();
  await fw.call('accept', {
    offerIds: [offer?.id],
    operations: [{ type: 1, launch: { taskInfos: [{ name: taskId, taskId: { value: taskId }, resources: wireResources({ cpus: 1, mem: 128 }), command: { value: 'sleep 1000' }, ...extra }] } }],
    filters: { refuseSeconds: 0 },
  });
  await agent.inbox.take((m) => m.message?.$case === 'runTask' && m.message.value.task?.taskId?.value === taskId, `RunTask ${taskId}`);
}

/** The agent sends a status update (as a real agent would, and re-sends until acknowledged). */
export function sendStatus(agent: TestAgent, frameworkId: string, taskId: string, state: TaskState, uuid: string): void {
  agent.send({ message: { $case: 'statusUpdate', value: { frameworkId: { value: frameworkId }, status: { taskId: { value: taskId }, state, uuid, source: 2 }, latestState: state } } });
}

/** The next UPDATE for a task (optionally in a state), removed from the inbox. */
export async function nextUpdate(fw: TestFramework, taskId: string, state?: TaskState, timeoutMs = 5000): Promise<TaskStatus> {
  const ev = await fw.events.take(
    (e: Event) => e.event?.$case === 'update' && e.event.value.status?.taskId?.value === taskId && (state === undefined || e.event.value.status.state === state),
    `UPDATE ${taskId}${state !== undefined ? ` ${TaskState[state]}` : ''}`,
    timeoutMs,
  );
  if (ev.event?.$case !== 'update' || !ev.event.value.status) throw new Error('not an update');
  return ev.event.value.status;
}

/** A task as the agent reports it when it re-registers. */
export function reportedTask(frameworkId: string, taskId: string, state = TaskState.TASK_RUNNING): Record<string, unknown> {
  return { taskId: { value: taskId }, frameworkId: { value: frameworkId }, state, resources: wireResources({ cpus: 1, mem: 128 }), name: taskId, statuses: [], labels: [], role: '*', sandbox: `/sb/${taskId}`, statusUpdateState: 0, statusUpdateUuid: '' };
}
