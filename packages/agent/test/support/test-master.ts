// A test double of OUR protocol: a real gRPC server implementing AgentLink on port 0. It
// registers the agent, records what the agent sends, and lets a test play the master
// (run and kill tasks, acknowledge or withhold acknowledgements, drop the connection).
import { Server, ServerCredentials, status, type ServerDuplexStream } from '@grpc/grpc-js';
import {
  AgentLinkService,
  FrameworkInfo_Capability,
  type AgentMessage,
  type ExecutorExited,
  type ExecutorToFramework,
  type FrameworkInfo,
  type MasterMessage,
  type RegisterAgent,
  type ResourceUsage,
  type StatusUpdate,
  type TaskInfo,
} from '@meso/proto';
import { waitFor } from './wait.js';

export interface TestMasterOptions {
  /** Acknowledge every status update at once. Defaults to true. */
  autoAck?: boolean;
  /** Refuse registrations with this message. */
  refuse?: string;
  pingIntervalSeconds?: number;
  maxMissedPings?: number;
}

type Stream = ServerDuplexStream<AgentMessage, MasterMessage>;

export class TestMaster {
  readonly registrations: RegisterAgent[] = [];
  readonly updates: StatusUpdate[] = [];
  readonly exited: ExecutorExited[] = [];
  readonly messages: ExecutorToFramework[] = [];
  readonly pongs: number[] = [];
  /** Usage reports (AgentMessage.usage), in arrival order. */
  readonly usage: ResourceUsage[] = [];
  autoAck: boolean;
  /** Agent ids the master has removed: their re-registration is refused AGENT_GONE (after ShutdownFramework, as core-master does). */
  readonly gone = new Set<string>();
  private stream: Stream | undefined;
  private nextAgent = 1;

  private constructor(
    private readonly server: Server,
    readonly address: string,
    private readonly options: TestMasterOptions,
  ) {
    this.autoAck = options.autoAck ?? true;
  }

  static async start(options: TestMasterOptions = {}): Promise<TestMaster> {
    const server = new Server();
    let master: TestMaster | undefined;
    server.addService(AgentLinkService, { connect: (call: Stream) => master?.onConnect(call) });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    master = new TestMaster(server, `127.0.0.1:${port}`, options);
    return master;
  }

  get connected(): boolean {
    return this.stream !== undefined;
  }

  private onConnect(call: Stream): void {
    call.on('data', (m: AgentMessage) => this.onMessage(call, m));
    call.on('error', () => undefined);
    call.on('end', () => {
      if (this.stream === call) this.stream = undefined;
      call.end();
    });
    call.on('cancelled', () => {
      if (this.stream === call) this.stream = undefined;
    });
  }

  private onMessage(call: Stream, m: AgentMessage): void {
    const msg = m.message;
    if (!msg) return;
    switch (msg.$case) {
      case 'register': {
        this.registrations.push(msg.value);
        if (this.options.refuse) {
          call.write({ message: { $case: 'refused', value: { message: this.options.refuse, code: 'AGENT_REFUSED', field: 'agent_info.resources' } } });
          return;
        }
        const claimed = msg.value.agentInfo?.id?.value ?? '';
        if (this.gone.has(claimed)) {
          const frameworks = new Set(msg.value.tasks.map((t) => t.frameworkId?.value ?? '').filter((f) => f !== ''));
          for (const f of frameworks) call.write({ message: { $case: 'shutdownFramework', value: { frameworkId: { value: f } } } });
          call.write({ message: { $case: 'refused', value: { message: `agent '${claimed}' was removed`, code: 'AGENT_GONE', field: 'agent_info.id' } } });
          return;
        }
        const id = claimed || `agent-${this.nextAgent++}`;
        this.stream = call;
        call.write({
          message: {
            $case: 'registered',
            value: { agentId: { value: id }, masterId: 'test-master', pingIntervalSeconds: this.options.pingIntervalSeconds ?? 15, maxMissedPings: this.options.maxMissedPings ?? 5 },
          },
        });
        return;
      }
      case 'statusUpdate':
        this.updates.push(msg.value);
        if (this.autoAck) this.ack(msg.value);
        return;
      case 'executorExited':
        this.exited.push(msg.value);
        return;
      case 'executorMessage':
        this.messages.push(msg.value);
        return;
      case 'pong':
        this.pongs.push(msg.value.seq);
        return;
      case 'usage':
        this.usage.push(msg.value);
        return;
    }
  }

  send(message: MasterMessage['message']): void {
    if (!this.stream) throw new Error('no agent connected');
    this.stream.write({ message });
  }

  runTask(task: TaskInfo, framework: FrameworkInfo = frameworkInfo()): void {
    this.send({ $case: 'runTask', value: { frameworkInfo: framework, task } });
  }

  kill(taskId: string, gracePeriodSeconds = 0, frameworkId = 'fw-1'): void {
    this.send({ $case: 'killTask', value: { frameworkId: { value: frameworkId }, taskId: { value: taskId }, killPolicy: gracePeriodSeconds > 0 ? { gracePeriodSeconds } : undefined } });
  }

  ack(update: StatusUpdate): void {
    this.send({ $case: 'ack', value: { frameworkId: update.frameworkId, taskId: update.status?.taskId, uuid: update.status?.uuid ?? '' } });
  }

  /** Drops the agent's connection as a crashed network would. */
  dropAgent(): void {
    const s = this.stream;
    this.stream = undefined;
    s?.emit('error', { code: status.UNAVAILABLE, details: 'test master dropped the agent' });
    s?.destroy();
  }

  /** Updates for one task, in arrival order. */
  updatesOf(taskId: string): StatusUpdate[] {
    return this.updates.filter((u) => u.status?.taskId?.value === taskId);
  }

  /** Waits for the first update of `taskId` in a state for which `match` holds. */
  async waitForUpdate(taskId: string, state: number, timeoutMs = 20_000): Promise<StatusUpdate> {
    return waitFor(() => this.updatesOf(taskId).find((u) => u.status?.state === state), { timeoutMs, what: `an update ${state} of ${taskId}` });
  }

  async close(): Promise<void> {
    this.stream = undefined;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, 1_000);
      this.server.tryShutdown(() => {
        clearTimeout(t);
        resolve();
      });
    });
    this.server.forceShutdown();
  }
}

export function frameworkInfo(extra: Partial<FrameworkInfo> = {}): FrameworkInfo {
  return {
    id: { value: 'fw-1' },
    name: 'test-framework',
    user: '',
    roles: ['*'],
    failoverTimeout: 0,
    checkpoint: false,
    hostname: '',
    principal: '',
    capabilities: [],
    labels: [],
    webuiUrl: '',
    ...extra,
  };
}

export const KILLING_CAPABLE = [FrameworkInfo_Capability.TASK_KILLING_STATE];
