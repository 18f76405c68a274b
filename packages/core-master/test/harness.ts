// Test harness: real grpc-js clients built from the generated service definitions, acting
// as frameworks and agents against an in-process master on loopback.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, makeGenericClientConstructor, Metadata, type Client, type ClientDuplexStream, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import {
  AcceptRequest,
  AcknowledgeRequest,
  AgentMessage as AgentMessageCodec,
  DeclineRequest,
  KillRequest,
  MessageRequest,
  ReconcileRequest,
  ReviveRequest,
  ShutdownRequest,
  SubscribeRequest,
  SuppressRequest,
  TeardownRequest,
  UpdateFrameworkRequest,
  AgentLinkService,
  OperatorService,
  SchedulerService,
  silentLogger,
  ValueType,
  type AgentInfo,
  type AgentMessage,
  type DeepPartial,
  type Event,
  type FrameworkInfo,
  type MasterMessage,
} from '@meso/proto';
import { startMaster, type MasterHandle, type MasterOptions, type StateJson } from '../src/index.js';
import type { resourcesToWire } from '@meso/proto';

/** The wire form of a resource (the name `Resource` in @meso/proto is the domain type). */
type WireResource = ReturnType<typeof resourcesToWire>[number];

export const SchedulerClient = makeGenericClientConstructor(SchedulerService, 'Scheduler');
export const AgentLinkClient = makeGenericClientConstructor(AgentLinkService, 'AgentLink');
export const OperatorClient = makeGenericClientConstructor(OperatorService, 'Operator');

/** Polls until `fn` returns a truthy value, or fails after the deadline. */
export async function waitFor<T>(fn: () => T | Promise<T>, what: string, timeoutMs = 5000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Items arriving on a stream; `take` removes and returns the first matching one. */
export class Inbox<T> {
  readonly items: T[] = [];
  readonly all: T[] = [];
  ended = false;
  error: Error | undefined;

  push(item: T): void {
    this.items.push(item);
    this.all.push(item);
  }

  async take(match: (item: T) => boolean, what: string, timeoutMs = 5000): Promise<T> {
    return waitFor(() => {
      const i = this.items.findIndex(match);
      if (i < 0) return undefined;
      return this.items.splice(i, 1)[0];
    }, what, timeoutMs);
  }
}

/** Resources in wire form: scalars by name, ports as "[a-b]". */
export function wireResources(spec: Record<string, number | [number, number]>, role = ''): WireResource[] {
  return Object.entries(spec).map(([name, v]) =>
    Array.isArray(v)
      ? { name, type: ValueType.RANGES, scalar: 0, ranges: [{ begin: v[0], end: v[1] }], set: [], role, reservations: [], disk: undefined }
      : { name, type: ValueType.SCALAR, scalar: v, ranges: [], set: [], role, reservations: [], disk: undefined },
  );
}

/** Request codecs by method, so tests can write partial requests (ts-proto encodes full ones). */
const REQUESTS: Record<string, { fromPartial(x: never): unknown }> = {
  accept: AcceptRequest,
  decline: DeclineRequest,
  revive: ReviveRequest,
  suppress: SuppressRequest,
  kill: KillRequest,
  shutdown: ShutdownRequest,
  acknowledge: AcknowledgeRequest,
  reconcile: ReconcileRequest,
  message: MessageRequest,
  teardown: TeardownRequest,
  updateFramework: UpdateFrameworkRequest,
};

type Unary = (req: unknown, md: Metadata, cb: (err: ServiceError | null, res: unknown) => void) => void;

/** Calls a unary method; resolves the response or rejects with the ServiceError. */
export function unary<T = unknown>(client: Client, method: string, req: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const fn = (client as unknown as Record<string, Unary>)[method];
    if (!fn) throw new Error(`no method ${method}`);
    const codec = REQUESTS[method];
    const full = codec ? codec.fromPartial(req as never) : req;
    fn.call(client, full, new Metadata(), (err, res) => (err ? reject(err) : resolve(res as T)));
  });
}

/** The meso-error-code and meso-error-field of a refused call. */
export async function refusal(p: Promise<unknown>): Promise<{ code: string; field: string; message: string; grpc: number }> {
  try {
    await p;
  } catch (e) {
    const err = e as ServiceError;
    return {
      code: String(err.metadata?.get('meso-error-code')[0] ?? ''),
      field: String(err.metadata?.get('meso-error-field')[0] ?? ''),
      message: err.details,
      grpc: err.code,
    };
  }
  throw new Error('expected the call to be refused');
}

/** A framework's scheduler over a real gRPC client. */
export class TestFramework {
  readonly events = new Inbox<Event>();
  /** The size of each Event batch received (their events go to `events` one by one). */
  readonly batches: number[] = [];
  frameworkId = '';
  streamId = '';
  private stream: ClientReadableStream<Event> | undefined;

  constructor(readonly client: Client) {}

  static async subscribe(address: string, info: DeepPartial<FrameworkInfo> = {}, suppressedRoles: string[] = [], request: DeepPartial<SubscribeRequest> = {}): Promise<TestFramework> {
    const fw = new TestFramework(new SchedulerClient(address, credentials.createInsecure()));
    await fw.resubscribe(info, suppressedRoles, request);
    return fw;
  }

  /** Opens a (new) subscription stream and waits for SUBSCRIBED. */
  async resubscribe(info: DeepPartial<FrameworkInfo> = {}, suppressedRoles: string[] = [], request: DeepPartial<SubscribeRequest> = {}): Promise<void> {
    const stream = this.open(info, suppressedRoles, request);
    const ev = await this.events.take((e) => e.event?.$case === 'subscribed' || e.event?.$case === 'error', 'SUBSCRIBED');
    if (ev.event?.$case !== 'subscribed') throw new Error(`subscribe failed: ${JSON.stringify(ev)}`);
    this.frameworkId = ev.event.value.frameworkId?.value ?? '';
    this.streamId = ev.event.value.streamId;
    this.stream = stream;
  }

  /** Opens a subscription stream without waiting (for refusal tests). */
  open(info: DeepPartial<FrameworkInfo>, suppressedRoles: string[] = [], request: DeepPartial<SubscribeRequest> = {}): ClientReadableStream<Event> {
    const subscribe = (this.client as unknown as Record<string, (req: unknown) => ClientReadableStream<Event>>)['subscribe'];
    const stream = (subscribe as (req: unknown) => ClientReadableStream<Event>).call(
      this.client,
      SubscribeRequest.fromPartial({ ...request, frameworkInfo: { name: 'test', user: 'root', roles: ['*'], failoverTimeout: 0, ...info }, suppressedRoles }),
    );
    stream.on('data', (e: Event) => {
      if (e.event?.$case !== 'batch') return this.events.push(e);
      this.batches.push(e.event.value.events.length);
      for (const inner of e.event.value.events) this.events.push(inner);
    });
    stream.on('error', (e: Error) => {
      this.events.error = e;
      this.events.ended = true;
    });
    stream.on('end', () => (this.events.ended = true));
    return stream;
  }

  get context(): { frameworkId: { value: string }; streamId: string } {
    return { frameworkId: { value: this.frameworkId }, streamId: this.streamId };
  }

  call<T = unknown>(method: string, req: Record<string, unknown> = {}): Promise<T> {
    return unary<T>(this.client, method, { context: this.context, ...req });
  }

  async nextOffers(timeoutMs = 5000): Promise<NonNullable<Extract<Event['event'], { $case: 'offers' }>>['value']['offers']> {
    const ev = await this.events.take((e) => e.event?.$case === 'offers', 'OFFERS', timeoutMs);
    return ev.event?.$case === 'offers' ? ev.event.value.offers : [];
  }

  disconnect(): void {
    this.stream?.cancel();
  }

  close(): void {
    this.stream?.cancel();
    this.client.close();
  }
}

/** An agent over a real AgentLink stream; answers pings unless told not to. */
export class TestAgent {
  readonly inbox = new Inbox<MasterMessage>();
  agentId = '';
  answerPings = true;
  private stream: ClientDuplexStream<AgentMessage, MasterMessage> | undefined;
  private readonly client: Client;

  constructor(readonly address: string) {
    this.client = new AgentLinkClient(address, credentials.createInsecure());
  }

  static async register(address: string, info: DeepPartial<AgentInfo> = {}, extra: Partial<AgentMessage & { tasks: unknown[] }> = {}): Promise<TestAgent> {
    const agent = new TestAgent(address);
    await agent.connect(info, extra);
    return agent;
  }

  /** Opens a link and sends register; resolves after `registered` (rejects on `refused`). */
  async connect(info: DeepPartial<AgentInfo> = {}, extra: Record<string, unknown> = {}): Promise<void> {
    const stream = this.open();
    this.send({
      message: {
        $case: 'register',
        value: {
          agentInfo: {
            hostname: 'agent.test',
            endpoint: '127.0.0.1:5051',
            resources: wireResources({ cpus: 4, mem: 4096, disk: 1000, ports: [31000, 32000] }),
            attributes: [{ name: 'rack', type: ValueType.TEXT, scalar: 0, ranges: [], set: [], text: 'r1' }],
            bootId: 'boot-1',
            version: '0.1.0',
            isolators: [],
            ...(this.agentId ? { id: { value: this.agentId } } : {}),
            ...info,
          },
          tasks: [],
          executors: [],
          frameworks: [],
          checkpointedResources: [],
          ...extra,
        },
      },
    } as AgentMessage);
    const reply = await this.inbox.take((m) => m.message?.$case === 'registered' || m.message?.$case === 'refused', 'registered');
    if (reply.message?.$case === 'refused') {
      const err = new Error(`refused: ${reply.message.value.message}`) as Error & { refused: unknown };
      err.refused = reply.message.value;
      throw err;
    }
    if (reply.message?.$case === 'registered') this.agentId = reply.message.value.agentId?.value ?? '';
  }

  open(): ClientDuplexStream<AgentMessage, MasterMessage> {
    const connect = (this.client as unknown as Record<string, () => ClientDuplexStream<AgentMessage, MasterMessage>>)['connect'];
    const stream = (connect as () => ClientDuplexStream<AgentMessage, MasterMessage>).call(this.client);
    stream.on('data', (m: MasterMessage) => {
      if (m.message?.$case === 'ping' && this.answerPings) {
        this.send({ message: { $case: 'pong', value: { seq: m.message.value.seq } } });
        return;
      }
      this.inbox.push(m);
    });
    stream.on('error', () => (this.inbox.ended = true));
    stream.on('end', () => (this.inbox.ended = true));
    this.stream = stream;
    return stream;
  }

  send(message: AgentMessage | Record<string, unknown>): void {
    this.stream?.write(AgentMessageCodec.fromPartial(message as never));
  }

  /** Breaks the link (as a crash would). */
  drop(): void {
    this.stream?.cancel();
    this.stream = undefined;
  }

  close(): void {
    this.stream?.cancel();
    this.client.close();
  }
}

/** A master on port 0 in a fresh work dir, plus everything to clean up afterwards. */
export class TestCluster {
  master!: MasterHandle;
  workDir = '';
  readonly frameworks: TestFramework[] = [];
  readonly agents: TestAgent[] = [];

  static async start(options: Partial<MasterOptions> = {}): Promise<TestCluster> {
    const c = new TestCluster();
    c.workDir = await mkdtemp(join(tmpdir(), 'meso-master-test-'));
    c.master = await startMaster({ port: 0, workDir: c.workDir, allocationIntervalMs: 50, logger: silentLogger, ...options });
    return c;
  }

  async restart(options: Partial<MasterOptions> = {}): Promise<void> {
    await this.master.close();
    this.master = await startMaster({ port: 0, workDir: this.workDir, allocationIntervalMs: 50, logger: silentLogger, ...options });
  }

  async framework(info: DeepPartial<FrameworkInfo> = {}, suppressed: string[] = []): Promise<TestFramework> {
    const fw = await TestFramework.subscribe(this.master.address, info, suppressed);
    this.frameworks.push(fw);
    return fw;
  }

  async agent(info: DeepPartial<AgentInfo> = {}, extra: Record<string, unknown> = {}): Promise<TestAgent> {
    const a = new TestAgent(this.master.address);
    this.agents.push(a);
    await a.connect(info, extra);
    return a;
  }

  async state(): Promise<StateJson> {
    return (await this.http('/state')).json() as Promise<StateJson>;
  }

  http(path: string): Promise<Response> {
    return fetch(`http://${this.master.address}${path}`);
  }

  async stop(): Promise<void> {
    for (const f of this.frameworks) f.close();
    for (const a of this.agents) a.close();
    await this.master?.close();
    if (this.workDir) await rm(this.workDir, { recursive: true, force: true });
  }
}
