import { TaskState, type AgentMessage, type MasterMessage, type StatusUpdate } from '@meso/proto';
import { describe, expect, it } from 'vitest';
import { SimAgent, type SimAgentContext } from './sim-agent.js';

/** A SimAgent with a recording context and a manual timer list. */
function harness(taskMs: number | undefined = 1000) {
  const sent: AgentMessage[] = [];
  const timers: { ms: number; fn: () => void; cancelled: boolean }[] = [];
  let registered = 0;
  let launched = 0;
  const ctx: SimAgentContext = {
    resources: [],
    taskMs,
    send: (m) => sent.push(m),
    after: (ms, fn) => {
      const t = { ms, fn, cancelled: false };
      timers.push(t);
      return () => {
        t.cancelled = true;
      };
    },
    onRegistered: () => registered++,
    onLaunched: () => launched++,
  };
  const agent = new SimAgent(7, ctx);
  const updates = (): StatusUpdate[] => sent.flatMap((m) => (m.message?.$case === 'statusUpdate' ? [m.message.value] : []));
  const states = (): string[] => updates().map((u) => TaskState[u.status?.state ?? 0] ?? '?');
  return { agent, sent, timers, updates, states, counts: () => ({ registered, launched }) };
}

const registered = (id: string): MasterMessage => ({ message: { $case: 'registered', value: { agentId: { value: id }, masterId: 'm', pingIntervalSeconds: 15, maxMissedPings: 5 } } });
const runTask = (taskId: string): MasterMessage =>
  ({ message: { $case: 'runTask', value: { frameworkInfo: { id: { value: 'fw-1' }, name: 'bench' }, task: { taskId: { value: taskId }, name: taskId, resources: [] } } } }) as unknown as MasterMessage;

describe('SimAgent', () => {
  it('registers as new, then with its id and its live tasks', () => {
    const h = harness();
    expect(h.agent.registration().agentInfo?.id).toBeUndefined();
    expect(h.agent.registration().agentInfo?.hostname).toBe('sim-7');
    h.agent.onMessage(registered('S1'));
    h.agent.onMessage(runTask('t1'));
    const again = h.agent.registration();
    expect(again.agentInfo?.id?.value).toBe('S1');
    expect(again.tasks.map((t) => [t.taskId?.value, TaskState[t.state]])).toEqual([['t1', 'TASK_RUNNING']]);
    expect(again.frameworks.map((f) => f.id?.value)).toEqual(['fw-1']);
    expect(h.counts()).toEqual({ registered: 1, launched: 1 });
  });

  it('accepts batches: registers saying so and handles a batch as its messages in order', () => {
    const h = harness();
    expect(h.agent.registration().acceptsBatches).toBe(true);
    h.agent.onMessage(registered('S1'));
    h.agent.onMessage({ message: { $case: 'batch', value: { messages: [runTask('t1'), { message: { $case: 'ping', value: { seq: 3 } } }, runTask('t2')] } } });
    expect(h.sent.map((m) => (m.message?.$case === 'statusUpdate' ? m.message.value.status?.taskId?.value : m.message?.$case))).toEqual(['t1', 't1', 'pong', 't2', 't2']);
    expect(h.agent.taskCount).toBe(2);
  });

  it('answers a ping with a pong of the same sequence number', () => {
    const h = harness();
    h.agent.onMessage(registered('S1'));
    h.agent.onMessage({ message: { $case: 'ping', value: { seq: 42 } } });
    expect(h.sent).toEqual([{ message: { $case: 'pong', value: { seq: 42 } } }]);
  });

  it('acknowledges a launch with STARTING and RUNNING and finishes the task after the configured time', () => {
    const h = harness(1500);
    h.agent.onMessage(registered('S1'));
    h.agent.onMessage(runTask('t1'));
    expect(h.states()).toEqual(['TASK_STARTING', 'TASK_RUNNING']);
    expect(h.timers.map((t) => t.ms)).toEqual([1500]);
    h.timers[0]?.fn();
    expect(h.states()).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
    expect(h.updates()[2]?.status?.exitCode).toBe(0);
    expect(new Set(h.updates().map((u) => u.status?.uuid)).size).toBe(3);
  });

  it('forgets a finished task only once every update of it is acknowledged', () => {
    const h = harness(10);
    h.agent.onMessage(registered('S1'));
    h.agent.onMessage(runTask('t1'));
    h.timers[0]?.fn();
    const ack = (u: StatusUpdate): MasterMessage => ({ message: { $case: 'ack', value: { frameworkId: { value: 'fw-1' }, taskId: { value: 't1' }, uuid: u.status?.uuid ?? '' } } });
    const [a, b, c] = h.updates();
    h.agent.onMessage(ack(c as StatusUpdate));
    h.agent.onMessage(ack(a as StatusUpdate));
    expect(h.agent.taskCount).toBe(1);
    h.agent.onMessage(ack(b as StatusUpdate));
    expect(h.agent.taskCount).toBe(0);
  });

  it('kills a task (TASK_KILLED, its timer cancelled) and ends every task of a framework shut down', () => {
    const h = harness(1000);
    h.agent.onMessage(registered('S1'));
    h.agent.onMessage(runTask('t1'));
    h.agent.onMessage(runTask('t2'));
    h.agent.onMessage({ message: { $case: 'killTask', value: { frameworkId: { value: 'fw-1' }, taskId: { value: 't1' }, killPolicy: undefined } } });
    expect(h.timers[0]?.cancelled).toBe(true);
    h.agent.onMessage({ message: { $case: 'shutdownFramework', value: { frameworkId: { value: 'fw-1' } } } });
    expect(h.states().filter((s) => s === 'TASK_KILLED')).toHaveLength(2);
  });

  it('sends updates made while disconnected, and unacknowledged ones, after registering again', () => {
    const h = harness(1000);
    h.agent.onMessage(registered('S1'));
    h.agent.onMessage(runTask('t1'));
    h.agent.disconnected();
    h.timers[0]?.fn(); // finishes while the master is away: not sent now
    expect(h.states()).toEqual(['TASK_STARTING', 'TASK_RUNNING']);
    expect(TaskState[h.agent.registration().tasks[0]?.statusUpdateState ?? 0]).toBe('TASK_STARTING');
    h.agent.onMessage(registered('S1'));
    expect(h.states()).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
  });
});
