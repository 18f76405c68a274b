import { FrameworkInfo, Resources, TaskInfo, TaskState, TaskStatus } from '@meso/proto';
import { describe, expect, it } from 'vitest';
import { apply } from '../model/apply.js';
import { createModel, type MasterModel, type TaskRecord } from '../model/model.js';
import { stateJsonBody, stateJsonText } from './state-body.js';
import { stateJson } from './state-json.js';

const r = (x: Record<string, number>) => Resources.scalars(x);

function task(id: string, agentId: string): TaskRecord {
  return { frameworkId: 'f1', taskId: id, agentId, executorId: id, name: id, role: '*', info: TaskInfo.fromPartial({}), state: TaskState.TASK_STAGING, resources: r({ cpus: 0.5, mem: 64 }), statuses: [], sandbox: '', sent: true };
}

function cluster(): MasterModel {
  const m = createModel('m', 1_000, 2);
  for (const id of ['a1', 'a2', 'a3']) {
    apply(m, { type: 'agentAdmitted', agent: { id, hostname: `h-${id}`, endpoint: `${id}:1`, version: '', bootId: '', attributes: [{ kind: 'text', name: 'rack', text: id }], total: r({ cpus: 4, mem: 1024 }) }, reregistered: false, tasks: [], executors: [], at: 5_000 });
  }
  apply(m, { type: 'frameworkSubscribed', info: FrameworkInfo.fromPartial({ id: { value: 'f1' }, name: 'web', roles: ['*'] }), streamId: 's', suppressedRoles: [], isNew: true, at: 0 });
  apply(m, { type: 'tasksLaunched', frameworkId: 'f1', agentId: 'a1', offerIds: [], tasks: ['t1', 't2', 't3'].map((id) => task(id, 'a1')), executors: [], filters: [], at: 0 });
  return m;
}

const update = (m: MasterModel, id: string, state: TaskState): void =>
  apply(m, { type: 'statusUpdated', frameworkId: 'f1', taskId: id, status: TaskStatus.fromPartial({ taskId: { value: id }, state, uuid: `u-${id}-${state}`, timestamp: 7 }), at: 0 });

describe('stateJsonText', () => {
  it('is JSON.stringify(stateJson(model)) exactly, after every kind of change, with its fragments reused', () => {
    const m = cluster();
    const same = (): void => expect(stateJsonText(m)).toBe(JSON.stringify(stateJson(m)));
    same();
    same(); // from the cache
    update(m, 't1', TaskState.TASK_RUNNING); // a task's state and statuses change in place
    same();
    apply(m, { type: 'offersCreated', offers: [{ id: 'o1', frameworkId: 'f1', agentId: 'a2', role: '*', resources: r({ cpus: 4, mem: 1024 }), createdAt: 0 }] });
    same(); // an agent's offered resources
    update(m, 't2', TaskState.TASK_FINISHED); // a task completes (and leaves the agent's used)
    update(m, 't3', TaskState.TASK_KILLED);
    same();
    apply(m, { type: 'tasksLaunched', frameworkId: 'f1', agentId: 'a3', offerIds: [], tasks: [task('t4', 'a3')], executors: [], filters: [], at: 0 });
    update(m, 't4', TaskState.TASK_FAILED); // completed tasks beyond the limit of 2 drop out
    same();
    apply(m, { type: 'agentMaintenanceSet', agentId: 'a1', maintenance: 'DRAINING', at: 0 });
    same(); // DRAINING: the status depends on the agent's tasks
    update(m, 't1', TaskState.TASK_KILLED);
    same(); // ... and is DRAINED now
    apply(m, { type: 'agentDisconnected', agentId: 'a2', at: 9_000 });
    same();
    expect((JSON.parse(stateJsonText(m)) as { agents: { status: string }[] }).agents.map((a) => a.status)).toEqual(['DRAINED', 'DISCONNECTED', 'ACTIVE']);
    apply(m, { type: 'tasksLaunched', frameworkId: 'f1', agentId: 'a3', offerIds: [], tasks: [task('t5', 'a3'), task('t6', 'a2')], executors: [], filters: [], at: 0 });
    same();
    apply(m, { type: 'agentGone', agentId: 'a3', hostname: 'h-a3', at: 10_000 }); // its task is GONE
    same();
    apply(m, { type: 'frameworkRemoved', frameworkId: 'f1', at: 11_000 }); // its tasks are KILLED
    same();
  });
});

describe('stateJsonBody', () => {
  it('over several cached blocks of tasks stays exact as tasks change, complete (shifting the rest) and arrive', () => {
    const m = cluster();
    const ids = Array.from({ length: 2500 }, (_, i) => `bulk-${i}`);
    apply(m, { type: 'tasksLaunched', frameworkId: 'f1', agentId: 'a2', offerIds: [], tasks: ids.map((id) => task(id, 'a2')), executors: [], filters: [], at: 0 });
    const same = (): void => expect(stateJsonText(m)).toBe(JSON.stringify(stateJson(m)));
    same();
    update(m, 'bulk-1500', TaskState.TASK_RUNNING); // one task in the second block
    same();
    update(m, 'bulk-10', TaskState.TASK_FINISHED); // leaves the first block: every later task moves up one
    same();
    apply(m, { type: 'tasksLaunched', frameworkId: 'f1', agentId: 'a3', offerIds: [], tasks: [task('late', 'a3')], executors: [], filters: [], at: 0 });
    same();
  });

  it('is the same body, not made again, while no command is applied', () => {
    const m = cluster();
    const first = stateJsonBody(m);
    expect(stateJsonBody(m)).toBe(first);
    expect(first.length).toBe(Buffer.byteLength(JSON.stringify(stateJson(m))));
    update(m, 't1', TaskState.TASK_RUNNING);
    expect(stateJsonBody(m)).not.toBe(first);
  });
});
