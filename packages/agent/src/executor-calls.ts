// The executor API as the agent answers it: an executor proves it is the run the agent
// started (its token), subscribes (and gets its queued launches and kills), sends status
// updates and messages for its framework.
import { timingSafeEqual } from 'node:crypto';
import type { ExecutorMessageRequest, ExecutorSubscribeRequest, ExecutorUpdateRequest } from '@meso/proto';
import type { EventSink } from './executor-server.js';
import { push, refuse, track, type ManagerState } from './manager-state.js';
import { pairKey, type ExecutorRun } from './runs.js';
import { flushQueue } from './task-delivery.js';
import { acceptUpdate } from './task-updates.js';

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * The run an executor call is for. Throws UNKNOWN_EXECUTOR when the agent runs no such
 * executor (the SDK stops at once on it) and PERMISSION_DENIED for a wrong token.
 */
export function authorize(m: ManagerState, frameworkId: string | undefined, executorId: string | undefined, token: string): ExecutorRun {
  const run = m.runs.get(pairKey(frameworkId ?? '', executorId ?? ''));
  if (!run) throw refuse('UNKNOWN_EXECUTOR', `no executor '${executorId ?? ''}' of framework '${frameworkId ?? ''}' runs on this agent`);
  if (!sameSecret(token ?? '', run.token)) throw refuse('PERMISSION_DENIED', 'the executor token is not valid for this executor run');
  return run;
}

/**
 * SUBSCRIBE: the stream becomes the run's; SUBSCRIBED goes out, then the updates and tasks
 * the executor held while the agent was away are taken in, and queued launches and kills
 * are delivered (or SHUTDOWN, if the run is terminating).
 */
export function subscribe(m: ManagerState, request: ExecutorSubscribeRequest, sink: EventSink): void {
  const run = authorize(m, request.frameworkId?.value, request.executorId?.value, request.token);
  if (run.phase === 'terminated') throw refuse('UNKNOWN_EXECUTOR', 'this executor run has terminated');
  if (run.sink && run.sink !== sink) run.sink.end();
  run.sink = sink;
  sink.onClose(() => {
    if (run.sink === sink) {
      run.sink = undefined;
      if (run.phase !== 'terminated') m.o.logger.info('executor disconnected', { executorId: run.executorId });
    }
  });
  const reconnect = run.phase !== 'launching';
  if (run.phase === 'launching' || run.phase === 'recovering') run.phase = 'registered';
  run.onRecovered?.();
  run.onRecovered = undefined;
  m.o.clock.clearTimeout(run.registrationTimer);
  run.registrationTimer = undefined;
  const fw = m.frameworks.get(run.frameworkId);
  m.o.logger.info(reconnect ? 'executor re-subscribed' : 'executor subscribed', { frameworkId: run.frameworkId, executorId: run.executorId, pid: run.container?.pid });
  push(m, run, { event: { $case: 'subscribed', value: { executorInfo: run.info, frameworkInfo: fw?.info, agentInfo: m.o.agentInfo() } } });
  // Updates the executor sent while the agent was away.
  for (const u of request.unacknowledgedUpdates) {
    track(run, acceptUpdate(m, run, u).catch((e: unknown) => m.o.logger.warn('re-sent update refused', { error: (e as Error).message })));
  }
  const held = new Set(request.unacknowledgedTasks.map((t) => t.taskId?.value ?? ''));
  for (const id of held) {
    const r = run.tasks.get(id);
    if (r) r.launched = true;
  }
  if (run.phase === 'terminating') {
    push(m, run, { event: { $case: 'shutdown', value: { gracePeriodSeconds: m.o.executorShutdownGracePeriodMs / 1000 } } });
    return;
  }
  flushQueue(m, run, held);
  for (const [taskId, policy] of run.pendingKills) {
    push(m, run, { event: { $case: 'kill', value: { taskId: { value: taskId }, killPolicy: policy } } });
  }
  run.pendingKills.clear();
}

/** UPDATE: checkpointed before the executor gets its ACKNOWLEDGED. */
export async function update(m: ManagerState, request: ExecutorUpdateRequest): Promise<void> {
  const run = authorize(m, request.frameworkId?.value, request.executorId?.value, request.token);
  await track(run, acceptUpdate(m, run, request));
}

/** MESSAGE: relayed to the framework through the master, best effort. */
export async function message(m: ManagerState, request: ExecutorMessageRequest): Promise<void> {
  const run = authorize(m, request.frameworkId?.value, request.executorId?.value, request.token);
  const sent = m.o.toMaster({
    message: { $case: 'executorMessage', value: { frameworkId: { value: run.frameworkId }, executorId: { value: run.executorId }, data: request.data } },
  });
  if (!sent) throw refuse('UNAVAILABLE', 'the agent is not connected to the master; try again');
}
