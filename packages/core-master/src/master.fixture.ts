// Test fixture (not built into dist): a Master over a memory store and a fake clock, with
// fake links standing in for the transport. Used by the unit tests of calls and agents.
import {
  FakeClock,
  RegisterAgent,
  silentLogger,
  SubscribeRequest,
  ValueType,
  type DeepPartial,
  type Event,
  type MasterMessage,
} from '@meso/proto';
import { MemoryStateStore } from '@meso/state';
import type { resourcesToWire } from '@meso/proto';

/** The wire form of a resource (the name `Resource` in @meso/proto is the domain type). */
type WireResource = ReturnType<typeof resourcesToWire>[number];
import { registerAgent } from './agents/agent-registration.js';
import { runSchedulerCall, type SchedulerCallType } from './calls/dispatch.js';
import { subscribe } from './calls/framework-calls.js';
import { MasterError } from './errors.js';
import type { AgentLink, FrameworkLink } from './links.js';
import { Master } from './master.js';
import type { FrameworkRecord } from './model/model.js';
import { resolveMasterOptions, type MasterOptions } from './options.js';

export class FakeFrameworkLink implements FrameworkLink {
  readonly events: Event[] = [];
  closed = false;
  closeError: { code: string; message: string } | undefined;
  constructor(readonly streamId: string) {}
  send(event: Event): void {
    if (this.closed) throw new Error('link closed');
    this.events.push(event);
  }
  close(error?: { code: string; message: string }): void {
    this.closed = true;
    this.closeError = error;
  }
  /** Events of one kind, removed from the list. */
  take<C extends NonNullable<Event['event']>['$case']>(kind: C): Extract<NonNullable<Event['event']>, { $case: C }>['value'][] {
    const out: unknown[] = [];
    for (let i = 0; i < this.events.length; ) {
      const e = this.events[i]?.event;
      if (e?.$case === kind) {
        out.push(e.value);
        this.events.splice(i, 1);
      } else i++;
    }
    return out as never;
  }
}

export class FakeAgentLink implements AgentLink {
  readonly messages: MasterMessage[] = [];
  closed = false;
  send(message: MasterMessage): void {
    this.messages.push(message);
  }
  close(): void {
    this.closed = true;
  }
  take<C extends NonNullable<MasterMessage['message']>['$case']>(kind: C): Extract<NonNullable<MasterMessage['message']>, { $case: C }>['value'][] {
    const out: unknown[] = [];
    for (let i = 0; i < this.messages.length; ) {
      const m = this.messages[i]?.message;
      if (m?.$case === kind) {
        out.push(m.value);
        this.messages.splice(i, 1);
      } else i++;
    }
    return out as never;
  }
}

export function scalars(spec: Record<string, number>, role = ''): WireResource[] {
  return Object.entries(spec).map(([name, scalar]) => ({ name, type: ValueType.SCALAR, scalar, ranges: [], set: [], role, reservations: [], disk: undefined }));
}

/** What a test needs of a framework: its record, link and a way to call. */
export interface FakeFramework {
  id: string;
  link: FakeFrameworkLink;
  record(): FrameworkRecord;
  call(type: SchedulerCallType, handler: (fw: FrameworkRecord, req: never) => void | Promise<void>, req?: Record<string, unknown>): Promise<void>;
}

export class MasterFixture {
  private constructor(
    readonly master: Master,
    readonly clock: FakeClock,
    readonly store: MemoryStateStore,
  ) {}

  static async create(options: Partial<MasterOptions> = {}, store = new MemoryStateStore(), clock = new FakeClock()): Promise<MasterFixture> {
    const resolved = resolveMasterOptions({ workDir: 'unused', clock, logger: silentLogger, allocationIntervalMs: 1000, ...options });
    const master = await Master.create(resolved, store, 'm1');
    return new MasterFixture(master, clock, store);
  }

  async subscribe(info: DeepPartial<SubscribeRequest['frameworkInfo']> = {}, suppressedRoles: string[] = []): Promise<FakeFramework> {
    let link: FakeFrameworkLink | undefined;
    const sub = await subscribe(this.master, SubscribeRequest.fromPartial({ frameworkInfo: { name: 'fw', user: 'root', ...info }, suppressedRoles }), (streamId) => {
      link = new FakeFrameworkLink(streamId);
      return link;
    });
    const theLink = link as FakeFrameworkLink;
    theLink.take('subscribed');
    return this.frameworkHandle(sub.frameworkId, theLink);
  }

  frameworkHandle(id: string, link: FakeFrameworkLink): FakeFramework {
    const master = this.master;
    return {
      id,
      link,
      record: () => master.model.frameworks.get(id) as FrameworkRecord,
      call: (type, handler, req = {}) =>
        runSchedulerCall(master, type, { context: { frameworkId: { value: id }, streamId: link.streamId }, ...req }, (fw, r) => handler(fw, r as never)),
    };
  }

  /** Registers an agent and waits for its answer (sent once the registry has the agent). */
  async registerAgent(info: DeepPartial<RegisterAgent['agentInfo']> = {}, extra: DeepPartial<RegisterAgent> = {}): Promise<{ id: string; link: FakeAgentLink }> {
    const link = new FakeAgentLink();
    const reg = RegisterAgent.fromPartial({
      agentInfo: { hostname: 'h1', endpoint: '127.0.0.1:5051', resources: scalars({ cpus: 4, mem: 4096 }), ...info },
      ...extra,
    });
    const id = registerAgent(this.master, reg, link);
    await this.master.registryWritten();
    link.take('registered');
    return { id, link };
  }

  /** Lets queued allocation cycles (setImmediate) run. */
  async settle(): Promise<void> {
    for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
  }

  /** Runs one allocation cycle now. */
  allocate(): void {
    this.master.runAllocation();
  }

  async close(): Promise<void> {
    await this.master.close();
  }
}

/** The MasterError a promise or function fails with. */
export async function refusedWith(p: Promise<unknown> | (() => unknown)): Promise<MasterError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    if (e instanceof MasterError) return e;
    throw e;
  }
  throw new Error('expected a MasterError');
}
