import { HealthCheck_Type, Resources, TaskState as WireTaskState } from '@meso/proto';
import { describe, expect, it } from 'vitest';
import { healthCheckFromWire, taskInfoFromWire, taskInfoToWire, taskStateFromWire, taskStateToWire } from './convert.js';
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
      healthCheck: { type: 'HTTP' as const, port: 31000, path: '/health', delaySeconds: 1, intervalSeconds: 5, timeoutSeconds: 2, consecutiveFailures: 4, gracePeriodSeconds: 30 },
      labels: { a: 'b' },
    };
    const back = taskInfoFromWire(taskInfoToWire(task));
    expect(back.resources.equals(task.resources)).toBe(true);
    expect({ ...back, resources: undefined }).toEqual({ ...task, resources: undefined });
  });

  it('reads a health check: zero interval, timeout and failures are left to the executor; an unset type is no check', () => {
    const wire = { type: HealthCheck_Type.COMMAND, command: { shell: true, value: 'true', arguments: [], environment: [], user: '' }, port: 0, path: '', delaySeconds: 0, intervalSeconds: 0, timeoutSeconds: 0, consecutiveFailures: 0, gracePeriodSeconds: 0 };
    expect(healthCheckFromWire(wire)).toEqual({
      type: 'COMMAND',
      command: { shell: true, value: 'true', arguments: [], env: {}, user: '' },
      port: 0,
      path: '',
      delaySeconds: 0,
      gracePeriodSeconds: 0,
    });
    expect(healthCheckFromWire({ ...wire, type: HealthCheck_Type.TYPE_UNSPECIFIED })).toBeUndefined();
    expect(healthCheckFromWire({ ...wire, type: HealthCheck_Type.TCP, port: 31001, command: undefined })).toMatchObject({ type: 'TCP', port: 31001 });
  });
});
