import { ExecutorInfo_Type, HealthCheck_Type, Offer_Operation_Type, parseResources, TaskStatus_Reason, TaskStatus_Source } from '@meso/proto';
import { describe, expect, it } from 'vitest';
import {
  commandToWire,
  eventFromWire,
  frameworkInfoToWire,
  operationToWire,
  portEnvironment,
  taskStatusFromWire,
  taskStatusToWire,
} from './convert.js';
import { SchedulerError } from './errors.js';
import { OfferBuilder } from './offer-builder.js';
import type { Offer, TaskStatus } from './types.js';

describe('convert: task statuses', () => {
  it('round-trips every field of a status', () => {
    const status: TaskStatus = {
      taskId: 't1',
      state: 'TASK_FAILED',
      message: 'exited 3',
      source: 'EXECUTOR',
      reason: 'COMMAND_EXECUTOR_FAILED',
      agentId: 'a1',
      executorId: 'e1',
      timestamp: 1_700_000_000_123,
      uuid: 'u1',
      healthy: false,
      exitCode: 3,
      signal: 'SIGKILL',
      sandbox: '/var/sandbox',
      data: new Uint8Array([1, 2, 3]),
      labels: { a: 'b' },
    };
    const wire = taskStatusToWire(status, 'fw');
    expect(wire.reason).toBe(TaskStatus_Reason.REASON_COMMAND_EXECUTOR_FAILED);
    expect(wire.source).toBe(TaskStatus_Source.SOURCE_EXECUTOR);
    expect(wire.timestamp).toBe(1_700_000_000.123);
    expect(taskStatusFromWire(wire)).toEqual(status);
  });

  it('leaves out what the wire leaves empty (no uuid: nothing to acknowledge)', () => {
    const s = taskStatusFromWire(taskStatusToWire({ taskId: 't', state: 'TASK_RUNNING', timestamp: 0, reason: 'RECONCILIATION' }));
    expect(s).toEqual({ taskId: 't', state: 'TASK_RUNNING', timestamp: 0, reason: 'RECONCILIATION' });
    expect('uuid' in s).toBe(false);
  });

  it('refuses a status without a task id or a state', () => {
    const wire = taskStatusToWire({ taskId: 't', state: 'TASK_RUNNING', timestamp: 0 });
    expect(() => taskStatusFromWire({ ...wire, taskId: undefined })).toThrow(SchedulerError);
    expect(() => taskStatusFromWire({ ...wire, state: 0 })).toThrow(/no valid state/);
  });
});

describe('convert: events', () => {
  it('maps ERROR codes: known codes kept, unknown ones INTERNAL', () => {
    expect(eventFromWire({ event: { $case: 'error', value: { code: 'FRAMEWORK_REPLACED', message: 'm' } } })).toEqual({ type: 'error', code: 'FRAMEWORK_REPLACED', message: 'm' });
    expect(eventFromWire({ event: { $case: 'error', value: { code: 'SOMETHING_NEW', message: 'm' } } })).toMatchObject({ code: 'INTERNAL' });
    expect(eventFromWire({ event: undefined })).toBeUndefined();
  });
});

describe('convert: framework info', () => {
  it('fills the wire FrameworkInfo from the spec', () => {
    const wire = frameworkInfoToWire(
      { name: 'fw', user: 'u', roles: ['a', 'b'], failoverTimeoutSeconds: 60, checkpoint: true, capabilities: ['MULTI_ROLE', 'PARTITION_AWARE'], labels: { k: 'v' }, webuiUrl: 'http://x' },
      'id-1',
    );
    expect(wire).toEqual({
      id: { value: 'id-1' },
      name: 'fw',
      user: 'u',
      roles: ['a', 'b'],
      failoverTimeout: 60,
      checkpoint: true,
      hostname: '',
      principal: '',
      capabilities: [1, 2],
      labels: [{ key: 'k', value: 'v' }],
      webuiUrl: 'http://x',
    });
  });
});

describe('convert: commands and operations', () => {
  it('sends shell commands through /bin/sh and argv as program plus arguments', () => {
    expect(commandToWire({ shell: 'echo $A', env: { A: '1' }, user: 'nobody' })).toEqual({
      shell: true,
      value: 'echo $A',
      arguments: [],
      environment: [{ name: 'A', value: '1' }],
      user: 'nobody',
    });
    expect(commandToWire({ argv: ['/bin/echo', 'hi'] })).toMatchObject({ shell: false, value: '/bin/echo', arguments: ['/bin/echo', 'hi'] });
    expect(portEnvironment([31000, 31002])).toEqual({ PORTS: '31000,31002', PORT0: '31000', PORT1: '31002' });
  });

  it('builds LAUNCH and LAUNCH_GROUP with executor, kill policy, health check on a picked port, data and labels', () => {
    const offer: Offer = {
      id: 'o',
      frameworkId: 'fw',
      agentId: 'a1',
      hostname: 'h',
      resources: parseResources('cpus:4;mem:1024;ports:[31000-31010]'),
      volumes: [],
      attributes: [],
      executorIds: [],
      role: '*',
      agentEndpoint: '',
    };
    const b = new OfferBuilder(offer);
    const executor = { executorId: 'ex', command: { shell: './ex' }, resources: { cpus: 0.1, mem: 32 } };
    const t = b.add({
      taskId: 'web',
      resources: { cpus: 1, mem: 128 },
      ports: 2,
      command: { shell: 'serve' },
      data: 'cfg',
      killGracePeriodSeconds: 7,
      labels: { app: 'web' },
      healthCheck: { type: 'http', portIndex: 1, path: '/health', intervalSeconds: 5 },
    });
    const launch = operationToWire({ type: 'launch', tasks: [t] }, 'a1', 'fw');
    expect(launch.type).toBe(Offer_Operation_Type.LAUNCH);
    const info = launch.launch!.taskInfos[0]!;
    expect(info.name).toBe('web');
    expect(info.killPolicy).toEqual({ gracePeriodSeconds: 7 });
    expect(info.healthCheck).toMatchObject({ type: HealthCheck_Type.HTTP, port: 31001, path: '/health', intervalSeconds: 5 });
    // Unset delay and grace period carry Mesos's defaults (0 on the wire means none); the rest is left to the agent.
    expect(info.healthCheck).toMatchObject({ delaySeconds: 15, gracePeriodSeconds: 10, timeoutSeconds: 0, consecutiveFailures: 0 });
    expect(Buffer.from(info.data).toString()).toBe('cfg');
    expect(info.executor).toBeUndefined();

    const executorResources = b.addExecutor(executor);
    const g = b.add({ taskId: 'g', resources: { cpus: 0.5 }, command: { argv: ['/bin/true'] } });
    const group = operationToWire({ type: 'launchGroup', executor, executorResources, tasks: [g] }, 'a1', 'fw');
    expect(group.type).toBe(Offer_Operation_Type.LAUNCH_GROUP);
    expect(group.launchGroup!.executor).toMatchObject({ executorId: { value: 'ex' }, frameworkId: { value: 'fw' }, type: ExecutorInfo_Type.CUSTOM, name: 'ex' });
    expect(group.launchGroup!.executor!.resources.map((r) => [r.name, r.scalar])).toEqual([
      ['cpus', 0.1],
      ['mem', 32],
    ]);
    expect(group.launchGroup!.taskGroup!.tasks[0]!.taskId).toEqual({ value: 'g' });
  });
});
