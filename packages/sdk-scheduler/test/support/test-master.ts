// A small gRPC server implementing meso.v1's Scheduler service: a test double of our
// protocol (not the real master), to exercise the SDK's gRPC transport end to end.
import { Server, ServerCredentials, type sendUnaryData, type ServerUnaryCall, type ServerWritableStream } from '@grpc/grpc-js';
import {
  Resources,
  resourcesToWire,
  SchedulerService,
  TaskState,
  toServiceError,
  type CallResponse,
  type Event,
  type MesoErrorDetails,
  type Offer,
  type SchedulerServer,
  type SubscribeRequest,
  type TaskStatus,
} from '@meso/proto';

export type CallName = Exclude<keyof SchedulerServer, 'subscribe'>;

export interface RecordedCall {
  name: CallName;
  request: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- wire requests of many types
}

/** Decides a unary call: return a refusal to fail it. */
export type CallPolicy = (call: RecordedCall, master: TestMaster) => MesoErrorDetails | undefined | void;

export function wireOffer(id: string, frameworkId: string, resources = Resources.scalars({ cpus: 2, mem: 1024 })): Offer {
  return {
    id: { value: id },
    frameworkId: { value: frameworkId },
    agentId: { value: 'agent-1' },
    hostname: 'test-host',
    resources: resourcesToWire(resources),
    attributes: [],
    executorIds: [],
    allocationRole: '*',
    agentEndpoint: '127.0.0.1:5051',
  };
}

export function wireStatus(taskId: string, state: TaskState, uuid: string): TaskStatus {
  return {
    taskId: { value: taskId },
    state,
    message: '',
    source: 2,
    reason: 0,
    data: Buffer.alloc(0),
    agentId: { value: 'agent-1' },
    executorId: undefined,
    timestamp: Date.now() / 1000,
    uuid,
    signal: '',
    frameworkId: undefined,
    labels: [],
    containerStatus: { sandbox: `/tmp/sandbox/${taskId}`, executorPid: 1 },
  };
}

export class TestMaster {
  readonly server = new Server();
  readonly subscriptions: SubscribeRequest[] = [];
  readonly calls: RecordedCall[] = [];
  readonly streams: ServerWritableStream<SubscribeRequest, Event>[] = [];
  /** Decides each unary call (default: accept). */
  policy: CallPolicy = () => undefined;
  /** Runs after SUBSCRIBED was written on a new stream. */
  onSubscribed: (stream: ServerWritableStream<SubscribeRequest, Event>, frameworkId: string) => void = () => undefined;
  /** Framework ids the master refuses on SUBSCRIBE, with the code. */
  readonly refuse = new Map<string, MesoErrorDetails>();
  port = 0;
  private nextStream = 0;
  private nextFramework = 0;

  constructor() {
    const unary =
      (name: CallName) =>
      (call: ServerUnaryCall<unknown, CallResponse>, callback: sendUnaryData<CallResponse>): void => {
        const recorded = { name, request: call.request };
        this.calls.push(recorded);
        const refusal = this.policy(recorded, this);
        if (refusal) callback(toServiceError(refusal) as never);
        else callback(null, {});
      };
    const impl: SchedulerServer = {
      subscribe: (call) => {
        this.subscriptions.push(call.request);
        const id = call.request.frameworkInfo?.id?.value || `fw-${++this.nextFramework}`;
        const refusal = this.refuse.get(id);
        if (refusal) {
          call.emit('error', toServiceError(refusal));
          return;
        }
        this.streams.push(call);
        call.write({
          event: {
            $case: 'subscribed',
            value: { frameworkId: { value: id }, heartbeatIntervalSeconds: 15, streamId: `s${++this.nextStream}`, masterId: 'm1', masterVersion: 'test' },
          },
        });
        this.onSubscribed(call, id);
      },
      accept: unary('accept'),
      decline: unary('decline'),
      revive: unary('revive'),
      suppress: unary('suppress'),
      kill: unary('kill'),
      shutdown: unary('shutdown'),
      acknowledge: unary('acknowledge'),
      reconcile: unary('reconcile'),
      message: unary('message'),
      teardown: unary('teardown'),
      updateFramework: unary('updateFramework'),
    };
    this.server.addService(SchedulerService, impl);
  }

  /** Listens on `address` (a free port by default); resolves with `host:port`. */
  async start(address = '127.0.0.1:0'): Promise<string> {
    this.port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(address, ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
    );
    return `127.0.0.1:${this.port}`;
  }

  /** The newest stream. */
  get stream(): ServerWritableStream<SubscribeRequest, Event> {
    const s = this.streams[this.streams.length - 1];
    if (!s) throw new Error('no stream');
    return s;
  }

  callsOf(name: CallName): RecordedCall['request'][] {
    return this.calls.filter((c) => c.name === name).map((c) => c.request);
  }

  stop(): void {
    this.server.forceShutdown();
  }
}
