import { FrameworkInfo, Resources, TaskInfo, TaskState, TaskStatus } from '@meso/proto';
import { describe, expect, it } from 'vitest';
import { apply } from './apply.js';
import { createModel, taskKey, type MasterModel, type TaskRecord } from './model.js';

const r = (x: Record<string, number>) => Resources.scalars(x);

function seeded(): MasterModel {
  const m = createModel('m', 0);
  apply(m, { type: 'agentAdmitted', agent: { id: 'a1', hostname: 'h', endpoint: '', version: '', bootId: '', attributes: [], total: r({ cpus: 4, mem: 1024 }) }, reregistered: false, tasks: [], executors: [], at: 0 });
  apply(m, { type: 'frameworkSubscribed', info: FrameworkInfo.fromPartial({ id: { value: 'f1' }, roles: ['*'] }), streamId: 's', suppressedRoles: [], isNew: true, at: 0 });
  return m;
}

function task(id: string, res: Record<string, number>): TaskRecord {
  return { frameworkId: 'f1', taskId: id, agentId: 'a1', executorId: '', name: id, role: '*', info: TaskInfo.fromPartial({}), state: TaskState.TASK_STAGING, resources: r(res), statuses: [], sandbox: '', sent: true };
}

function status(id: string, state: TaskState): TaskStatus {
  return TaskStatus.fromPartial({ taskId: { value: id }, state, uuid: `u-${id}-${state}`, timestamp: 1 });
}

describe('apply: the one write path', () => {
  it('offers move resources from free to offered, launches from offered to used', () => {
    const m = seeded();
    apply(m, { type: 'offersCreated', offers: [{ id: 'o1', frameworkId: 'f1', agentId: 'a1', role: '*', resources: r({ cpus: 4, mem: 1024 }), createdAt: 0 }] });
    expect(m.agents.get('a1')?.offered.toString()).toBe('cpus:4;mem:1024');
    expect(m.frameworks.get('f1')?.offered.get('*')?.toString()).toBe('cpus:4;mem:1024');
    apply(m, { type: 'tasksLaunched', frameworkId: 'f1', agentId: 'a1', offerIds: ['o1'], tasks: [task('t', { cpus: 1, mem: 100 })], executors: [], filters: [{ frameworkId: 'f1', agentId: 'a1', resources: r({ cpus: 3, mem: 924 }), until: 5000 }], at: 0 });
    expect(m.agents.get('a1')?.offered.isEmpty()).toBe(true);
    expect(m.agents.get('a1')?.used.toString()).toBe('cpus:1;mem:100');
    expect(m.frameworks.get('f1')?.used.get('*')?.toString()).toBe('cpus:1;mem:100');
    expect(m.filters.size).toBe(1);
  });

  it('releases a task exactly once, whatever the number of terminal updates', () => {
    const m = seeded();
    apply(m, { type: 'tasksLaunched', frameworkId: 'f1', agentId: 'a1', offerIds: [], tasks: [task('t', { cpus: 1, mem: 100 }), task('u', { cpus: 1, mem: 100 })], executors: [], filters: [], at: 0 });
    for (const state of [TaskState.TASK_RUNNING, TaskState.TASK_FINISHED, TaskState.TASK_FINISHED, TaskState.TASK_FAILED]) {
      apply(m, { type: 'statusUpdated', frameworkId: 'f1', taskId: 't', status: status('t', state), at: 0 });
    }
    expect(m.agents.get('a1')?.used.toString()).toBe('cpus:1;mem:100');
    expect(m.completedTasks.map((t) => [t.taskId, t.state])).toEqual([['t', TaskState.TASK_FINISHED]]);
    expect(m.tasks.has(taskKey('f1', 'u'))).toBe(true);
  });

  it('a terminal latest_state releases even when the update itself is older', () => {
    const m = seeded();
    apply(m, { type: 'tasksLaunched', frameworkId: 'f1', agentId: 'a1', offerIds: [], tasks: [task('t', { cpus: 1, mem: 100 })], executors: [], filters: [], at: 0 });
    apply(m, { type: 'statusUpdated', frameworkId: 'f1', taskId: 't', status: status('t', TaskState.TASK_RUNNING), latestState: TaskState.TASK_FINISHED, at: 0 });
    expect(m.agents.get('a1')?.used.isEmpty()).toBe(true);
    expect(m.completedTasks[0]?.statuses.map((s) => s.state)).toEqual([TaskState.TASK_RUNNING]);
  });

  it('bounds the completed tasks', () => {
    const m = createModel('m', 0, 3);
    Object.assign(m, seeded());
    m.completedTaskLimit = 3;
    for (let i = 0; i < 5; i++) {
      apply(m, { type: 'tasksLaunched', frameworkId: 'f1', agentId: 'a1', offerIds: [], tasks: [task(`t${i}`, { cpus: 0.1 })], executors: [], filters: [], at: 0 });
      apply(m, { type: 'statusUpdated', frameworkId: 'f1', taskId: `t${i}`, status: status(`t${i}`, TaskState.TASK_FINISHED), at: 0 });
    }
    expect(m.completedTasks.map((t) => t.taskId)).toEqual(['t2', 't3', 't4']);
  });

  it('removing a framework kills its tasks, drops its offers and filters, and remembers the removal', () => {
    const m = seeded();
    apply(m, { type: 'offersCreated', offers: [{ id: 'o1', frameworkId: 'f1', agentId: 'a1', role: '*', resources: r({ cpus: 2 }), createdAt: 0 }] });
    apply(m, { type: 'tasksLaunched', frameworkId: 'f1', agentId: 'a1', offerIds: [], tasks: [task('t', { cpus: 1 })], executors: [], filters: [{ frameworkId: 'f1', agentId: 'a1', resources: r({ cpus: 1 }), until: 99 }], at: 0 });
    apply(m, { type: 'frameworkRemoved', frameworkId: 'f1', at: 1000 });
    expect(m.frameworks.size).toBe(0);
    expect(m.removedFrameworks.get('f1')?.removedTime).toBe(1000);
    expect(m.offers.size).toBe(0);
    expect(m.filters.size).toBe(0);
    expect(m.agents.get('a1')?.used.isEmpty()).toBe(true);
    expect(m.agents.get('a1')?.offered.isEmpty()).toBe(true);
    expect(m.completedTasks[0]?.state).toBe(TaskState.TASK_KILLED);
  });

  it('REVIVE clears filters and un-suppresses; disconnect drops offers', () => {
    const m = seeded();
    apply(m, { type: 'rolesSuppressed', frameworkId: 'f1', roles: ['*'] });
    apply(m, { type: 'offersRemoved', offerIds: [], filters: [{ frameworkId: 'f1', agentId: 'a1', resources: r({ cpus: 1 }), until: 10 }], at: 0 });
    expect(m.filters.size).toBe(1);
    apply(m, { type: 'rolesRevived', frameworkId: 'f1', roles: ['*'] });
    expect(m.filters.size).toBe(0);
    expect(m.frameworks.get('f1')?.suppressedRoles.size).toBe(0);
    apply(m, { type: 'offersCreated', offers: [{ id: 'o1', frameworkId: 'f1', agentId: 'a1', role: '*', resources: r({ cpus: 2 }), createdAt: 0 }] });
    apply(m, { type: 'frameworkDisconnected', frameworkId: 'f1', at: 5 });
    expect(m.offers.size).toBe(0);
    expect(m.frameworks.get('f1')).toMatchObject({ connected: false, unregisteredTime: 5 });
  });

  it('custom executors are charged once and released when they exit', () => {
    const m = seeded();
    const ex = { frameworkId: 'f1', agentId: 'a1', executorId: 'e', role: '*', info: {} as never, resources: r({ cpus: 0.5 }) };
    apply(m, { type: 'tasksLaunched', frameworkId: 'f1', agentId: 'a1', offerIds: [], tasks: [], executors: [ex, ex], filters: [], at: 0 });
    expect(m.agents.get('a1')?.used.toString()).toBe('cpus:0.5');
    apply(m, { type: 'executorRemoved', agentId: 'a1', frameworkId: 'f1', executorId: 'e' });
    apply(m, { type: 'executorRemoved', agentId: 'a1', frameworkId: 'f1', executorId: 'e' });
    expect(m.agents.get('a1')?.used.isEmpty()).toBe(true);
  });

  it('re-admitting an agent adopts reported tasks it did not know', () => {
    const m = seeded();
    apply(m, { type: 'agentAdmitted', agent: { id: 'a1', hostname: 'h', endpoint: '', version: '', bootId: '', attributes: [], total: r({ cpus: 4, mem: 1024 }) }, reregistered: true, tasks: [{ ...task('x', { cpus: 2 }), state: TaskState.TASK_RUNNING }], executors: [], at: 7 });
    expect(m.tasks.get(taskKey('f1', 'x'))?.state).toBe(TaskState.TASK_RUNNING);
    expect(m.agents.get('a1')).toMatchObject({ status: 'ACTIVE', reregisteredTime: 7 });
    expect(m.agents.get('a1')?.used.toString()).toBe('cpus:2');
  });
});
