import { RegisterAgent } from '@meso/proto';
import { MemoryStateStore, StateError } from '@meso/state';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeAgentLink, MasterFixture, scalars } from '../master.fixture.js';
import { agentLinkClosed } from './agent-health.js';
import { registerAgent } from './agent-registration.js';

/** A memory store whose writes are held until released (or failed): durability under the test's control. */
class HeldStore extends MemoryStateStore {
  held = false;
  private readonly waiting: { release: () => void; fail: (e: unknown) => void }[] = [];

  override async put<T>(key: string, value: T, options: { expectedVersion?: number } = {}): Promise<number> {
    if (this.held) await new Promise<void>((release, fail) => this.waiting.push({ release, fail }));
    return super.put(key, value, options);
  }

  get writesWaiting(): number {
    return this.waiting.length;
  }

  release(): void {
    for (const w of this.waiting.splice(0)) w.release();
  }

  fail(): void {
    for (const w of this.waiting.splice(0)) w.fail(new StateError('STATE_IO', 'disk full'));
  }
}

let fx: MasterFixture | undefined;
afterEach(async () => fx?.close());

const agentInfo = (id = '') => RegisterAgent.fromPartial({ agentInfo: { ...(id ? { id: { value: id } } : {}), hostname: 'h1', endpoint: '127.0.0.1:5051', resources: scalars({ cpus: 4, mem: 4096 }) } });

describe('an agent registration is answered once the registry has it (Mesos: the registrar writes first)', () => {
  it('a new agent: no registered, no pings, no allocation until its registry write is durable', async () => {
    const store = new HeldStore();
    fx = await MasterFixture.create({}, store);
    await fx.subscribe();
    store.held = true;
    const link = new FakeAgentLink();
    const id = registerAgent(fx.master, agentInfo(), link);
    await fx.settle();
    fx.clock.advance(60_000); // ping intervals and allocation cycles pass
    expect(store.writesWaiting).toBe(1);
    expect(link.messages).toEqual([]);
    expect(fx.master.model.offers.size).toBe(0);
    store.release();
    await fx.master.registryWritten();
    expect(link.take('registered').map((r) => r.agentId?.value)).toEqual([id]);
    await fx.settle();
    expect([...fx.master.model.offers.values()].map((o) => o.agentId)).toEqual([id]);
    expect(await store.get(`agents/${id}`)).toMatchObject({ value: { hostname: 'h1', status: 'ADMITTED' } });
  });

  it('a failed registry write: the agent is refused (INTERNAL), not admitted; it registers again', async () => {
    const store = new HeldStore();
    fx = await MasterFixture.create({}, store);
    store.held = true;
    const link = new FakeAgentLink();
    registerAgent(fx.master, agentInfo(), link);
    await fx.settle();
    store.fail();
    await fx.master.registryWritten();
    expect(link.take('registered')).toEqual([]);
    expect(link.take('refused').map((r) => r.code)).toEqual(['INTERNAL']);
    expect(link.closed).toBe(true);
    expect(fx.master.model.agents.size).toBe(0);
  });

  it('an agent re-registering unchanged after a master restart writes nothing and is answered at once', async () => {
    const store = new HeldStore();
    fx = await MasterFixture.create({}, store);
    const { id } = await fx.registerAgent({ hostname: 'h1', endpoint: '127.0.0.1:5051' });
    await fx.close();
    fx = await MasterFixture.create({}, store);
    store.held = true; // a write would never resolve
    const link = new FakeAgentLink();
    registerAgent(fx.master, agentInfo(id), link);
    await fx.master.registryWritten();
    expect(store.writesWaiting).toBe(0);
    expect(link.take('registered').map((r) => r.agentId?.value)).toEqual([id]);
  });

  it('an agent returning from UNREACHABLE stays UNREACHABLE until its write is durable; a second link meanwhile is the one kept', async () => {
    const store = new HeldStore();
    fx = await MasterFixture.create({ agentPingIntervalSeconds: 1, maxMissedPings: 2 }, store);
    const { id } = await fx.registerAgent();
    fx.clock.advance(3000); // missed pings: unreachable, so returning is a registry write
    expect(fx.master.model.agents.get(id)?.status).toBe('UNREACHABLE');
    store.held = true;
    const first = new FakeAgentLink();
    registerAgent(fx.master, agentInfo(id), first);
    const second = new FakeAgentLink();
    registerAgent(fx.master, agentInfo(id), second);
    await fx.settle();
    expect(store.writesWaiting).toBe(1); // one write for both
    expect(fx.master.model.agents.get(id)?.status).toBe('UNREACHABLE');
    store.release();
    await fx.master.registryWritten();
    expect(fx.master.model.agents.get(id)?.status).toBe('ACTIVE');
    expect(first.closed).toBe(true);
    expect(second.closed).toBe(false);
    expect(second.take('registered').map((r) => r.agentId?.value)).toEqual([id]);
    expect(fx.master.agentConnections.get(id)?.link).toBe(second);
  });

  it('a link that closes while its registration is written: the agent is admitted (as the registry has it), then DISCONNECTED', async () => {
    const store = new HeldStore();
    fx = await MasterFixture.create({}, store);
    store.held = true;
    const link = new FakeAgentLink();
    const id = registerAgent(fx.master, agentInfo(), link);
    agentLinkClosed(fx.master, id, link); // what the transport does when the stream ends
    expect(fx.master.model.agents.has(id)).toBe(false);
    store.release();
    await fx.master.registryWritten();
    expect(fx.master.model.agents.get(id)?.status).toBe('DISCONNECTED');
    expect(fx.master.agentConnections.has(id)).toBe(false);
    expect(fx.master.admissions.size).toBe(0);
  });
});
