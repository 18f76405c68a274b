import { Resources, TaskState as WireTaskState } from '@meso/proto';
import { describe, expect, it } from 'vitest';
import { taskInfoFromWire, taskInfoToWire, taskStateFromWire, taskStateToWire } from './convert.js';
import { TASK_STATES } from './task-state.js';

describe('convert', () => {
  it('maps every task state both ways by its Mesos name', () => {
    for (const s of TASK_STATES) expect(taskStateFromWire(taskStateToWire(s))).toBe(s);
    expect(taskStateToWire('TASK_RUNNING')).toBe(WireTaskState.TASK_RUNNING);
    expect(taskStateFromWire(WireTaskState.UNRECOGNIZED)).toBe('TASK_UNKNOWN');
  });

  it('round-trips a task', () => {
    const task = {
      taskId: 't1',
      name: 'web',
      resources: Resources.scalars({ cpus: 1, mem: 64 }),
      command: { shell: false, value: '/bin/echo', arguments: ['echo', 'x'], env: { K: 'v' }, user: 'bob' },
      data: new Uint8Array([1, 2]),
      killGracePeriodSeconds: 3,
      labels: { a: 'b' },
    };
    const back = taskInfoFromWire(taskInfoToWire(task));
    expect(back.resources.equals(task.resources)).toBe(true);
    expect({ ...back, resources: undefined }).toEqual({ ...task, resources: undefined });
  });
});
