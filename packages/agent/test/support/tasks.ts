import type { TaskInfo } from '@meso/proto';

/** The wire form of a resource (the name `Resource` in @meso/proto is the domain type). */
type WireResource = TaskInfo['resources'][number];

const scalar = (name: string, value: number): WireResource => ({ name, type: 1, scalar: value, ranges: [], set: [], role: '*', reservations: [], disk: undefined });

/** A command task running `sh -c <script>`. */
export function shellTask(taskId: string, script: string, extra: Partial<TaskInfo> = {}): TaskInfo {
  return {
    name: taskId,
    taskId: { value: taskId },
    agentId: undefined,
    resources: [scalar('cpus', 0.1), scalar('mem', 32)],
    command: { shell: true, value: script, arguments: [], environment: [], user: '' },
    executor: undefined,
    data: Buffer.alloc(0),
    killPolicy: undefined,
    healthCheck: undefined,
    labels: [],
    ...extra,
  };
}

/** A task for a custom executor started with `command` (a shell line). */
export function executorTask(taskId: string, executorId: string, command: string, extra: Partial<TaskInfo> = {}): TaskInfo {
  return {
    ...shellTask(taskId, '', extra),
    command: undefined,
    executor: {
      executorId: { value: executorId },
      frameworkId: { value: 'fw-1' },
      command: { shell: true, value: command, arguments: [], environment: [], user: '' },
      resources: [],
      name: 'test executor',
      source: '',
      type: 2,
    },
    ...extra,
  };
}

export function portsResource(ranges: Array<[number, number]>): WireResource {
  return { name: 'ports', type: 2, scalar: 0, ranges: ranges.map(([begin, end]) => ({ begin, end })), set: [], role: '*', reservations: [], disk: undefined };
}
