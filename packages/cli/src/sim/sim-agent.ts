import { randomUUID } from 'node:crypto';
import {
  AgentInfo,
  Task as WireTask,
  TaskState,
  TaskStatus_Source,
  type AgentMessage,
  type FrameworkInfo,
  type MasterMessage,
  RegisterAgent,
  type StatusUpdate,
  type TaskInfo,
} from '@meso/proto';

/** A resource as it travels (the generated wire type). */
type WireResource = TaskInfo['resources'][number];

/** What one simulated agent needs from its fleet. */
export interface SimAgentContext {
  /** Wire resources every simulated agent registers with. */
  resources: WireResource[];
  /** Milliseconds a task runs before it reports TASK_FINISHED; undefined: until killed. */
  taskMs: number | undefined;
  /** Sends on the agent's current stream (dropped when there is none). */
  send(message: AgentMessage): void;
  /** Schedules a task's end; returns a cancel function. */
  after(ms: number, fn: () => void): () => void;
  /** The agent was registered (again) by the master. */
  onRegistered(): void;
  /** A task reached TASK_RUNNING here (the launch was carried out). */
  onLaunched(): void;
}

interface SimTask {
  frameworkId: string;
  info: TaskInfo;
  state: TaskState;
  /** Updates sent and not yet acknowledged, oldest first (re-sent after a re-registration). */
  unacked: StatusUpdate[];
  cancel: (() => void) | undefined;
}

const isEnded = (t: SimTask): boolean => t.state === TaskState.TASK_FINISHED || t.state === TaskState.TASK_KILLED;

/**
 * One simulated agent speaking AgentLink for real: registers (with its id and tasks after a
 * master restart, accepting the master's batches), answers pings, acknowledges launches with TASK_STARTING and TASK_RUNNING,
 * ends tasks with TASK_FINISHED after the configured time (TASK_KILLED on KillTask), keeps
 * updates until acknowledged and sends them again after re-registering. It runs nothing.
 */
export class SimAgent {
  agentId = '';
  readonly bootId = randomUUID();
  private readonly tasks = new Map<string, SimTask>();
  private readonly frameworks = new Map<string, FrameworkInfo>();
  registered = false;

  constructor(
    readonly index: number,
    private readonly ctx: SimAgentContext,
  ) {}

  get hostname(): string {
    return `sim-${this.index}`;
  }

  /** Live tasks on this agent (not yet in a terminal state). */
  get taskCount(): number {
    return this.tasks.size;
  }

  /** The `register` message: new (no id) the first time, with id and tasks after that. */
  registration(): RegisterAgent {
    const tasks: WireTask[] = [];
    for (const [taskId, t] of this.tasks) {
      const head = t.unacked[0]?.status;
      tasks.push(
        WireTask.fromPartial({
          name: t.info.name,
          taskId: { value: taskId },
          frameworkId: { value: t.frameworkId },
          executorId: { value: taskId },
          agentId: { value: this.agentId },
          state: t.state,
          resources: t.info.resources,
          statusUpdateState: head?.state ?? TaskState.TASK_STATE_UNSPECIFIED,
          statusUpdateUuid: head?.uuid ?? '',
        }),
      );
    }
    return RegisterAgent.fromPartial({
      agentInfo: AgentInfo.fromPartial({
        id: this.agentId ? { value: this.agentId } : undefined,
        hostname: this.hostname,
        resources: this.ctx.resources,
        attributes: [],
        endpoint: `127.0.0.1:${20000 + (this.index % 40000)}`,
        bootId: this.bootId,
        version: 'sim',
      }),
      tasks,
      executors: [],
      frameworks: [...this.frameworks.values()],
      acceptsBatches: true,
    });
  }

  /** The stream broke: not registered until the master says so again. */
  disconnected(): void {
    this.registered = false;
  }

  onMessage(m: MasterMessage): void {
    const msg = m.message;
    if (!msg) return;
    switch (msg.$case) {
      case 'batch':
        for (const inner of msg.value.messages) if (inner.message?.$case !== 'batch') this.onMessage(inner);
        return;
      case 'registered': {
        this.agentId = msg.value.agentId?.value ?? '';
        this.registered = true;
        this.ctx.onRegistered();
        for (const t of this.tasks.values()) for (const u of t.unacked) this.ctx.send({ message: { $case: 'statusUpdate', value: u } });
        return;
      }
      case 'ping':
        this.ctx.send({ message: { $case: 'pong', value: { seq: msg.value.seq } } });
        return;
      case 'runTask':
        if (msg.value.frameworkInfo?.id?.value) this.frameworks.set(msg.value.frameworkInfo.id.value, msg.value.frameworkInfo);
        if (msg.value.task) this.launch(msg.value.frameworkInfo?.id?.value ?? '', msg.value.task);
        return;
      case 'runTaskGroup':
        if (msg.value.frameworkInfo?.id?.value) this.frameworks.set(msg.value.frameworkInfo.id.value, msg.value.frameworkInfo);
        for (const task of msg.value.taskGroup?.tasks ?? []) this.launch(msg.value.frameworkInfo?.id?.value ?? '', task);
        return;
      case 'killTask': {
        const t = this.tasks.get(msg.value.taskId?.value ?? '');
        if (t && !isEnded(t)) this.end(msg.value.taskId?.value ?? '', t, TaskState.TASK_KILLED);
        return;
      }
      case 'ack':
        this.acknowledged(msg.value.taskId?.value ?? '', msg.value.uuid);
        return;
      case 'shutdownFramework': {
        const frameworkId = msg.value.frameworkId?.value ?? '';
        for (const [taskId, t] of this.tasks) if (t.frameworkId === frameworkId && !isEnded(t)) this.end(taskId, t, TaskState.TASK_KILLED);
        return;
      }
      default:
        return;
    }
  }

  private launch(frameworkId: string, info: TaskInfo): void {
    const taskId = info.taskId?.value ?? '';
    if (!taskId || this.tasks.has(taskId)) return;
    const t: SimTask = { frameworkId, info, state: TaskState.TASK_STAGING, unacked: [], cancel: undefined };
    this.tasks.set(taskId, t);
    this.update(taskId, t, TaskState.TASK_STARTING);
    this.update(taskId, t, TaskState.TASK_RUNNING);
    this.ctx.onLaunched();
    if (this.ctx.taskMs !== undefined) t.cancel = this.ctx.after(this.ctx.taskMs, () => this.end(taskId, t, TaskState.TASK_FINISHED));
  }

  private end(taskId: string, t: SimTask, state: TaskState): void {
    t.cancel?.();
    t.cancel = undefined;
    this.update(taskId, t, state);
  }

  private update(taskId: string, t: SimTask, state: TaskState): void {
    t.state = state;
    // A complete literal (no fromPartial deep copy): the simulated agents send two per launch.
    const update: StatusUpdate = {
      frameworkId: { value: t.frameworkId },
      executorId: { value: taskId },
      latestState: state,
      status: {
        taskId: { value: taskId },
        state,
        message: '',
        source: TaskStatus_Source.SOURCE_EXECUTOR,
        reason: 0,
        data: Buffer.alloc(0),
        agentId: { value: this.agentId },
        executorId: { value: taskId },
        timestamp: Date.now() / 1000,
        uuid: randomUUID(),
        signal: '',
        frameworkId: { value: t.frameworkId },
        labels: [],
        containerStatus: undefined,
        ...(state === TaskState.TASK_FINISHED ? { exitCode: 0 } : {}),
      },
    };
    t.unacked.push(update);
    if (this.registered) this.ctx.send({ message: { $case: 'statusUpdate', value: update } });
  }

  private acknowledged(taskId: string, uuid: string): void {
    const t = this.tasks.get(taskId);
    if (!t) return;
    const i = t.unacked.findIndex((u) => u.status?.uuid === uuid);
    if (i >= 0) t.unacked.splice(i, 1);
    if (isEnded(t) && t.unacked.length === 0) this.tasks.delete(taskId);
  }
}
