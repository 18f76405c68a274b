import { FakeClock, silentLogger, type AgentMessage, type AgentRefused, type MasterMessage } from '@meso/proto';
import { describe, expect, it } from 'vitest';
import type { MasterLink, MasterObserver } from './master-link.js';
import { MasterSession } from './master-session.js';

/** A link double: each `open` is a connection the test can talk through. */
class FakeLink implements MasterLink {
  readonly connections: Array<{ observer: MasterObserver; sent: AgentMessage[]; closed: boolean }> = [];
  open(observer: MasterObserver) {
    const c = { observer, sent: [] as AgentMessage[], closed: false };
    this.connections.push(c);
    return { send: (m: AgentMessage) => void c.sent.push(m), close: () => void (c.closed = true) };
  }
  close(): void {}
  get last() {
    const c = this.connections.at(-1);
    if (!c) throw new Error('no connection');
    return c;
  }
  deliver(message: MasterMessage['message']): void {
    this.last.observer.onMessage({ message });
  }
}

function setup() {
  const link = new FakeLink();
  const clock = new FakeClock();
  const events: string[] = [];
  let agentId = '';
  const refused: AgentRefused[] = [];
  const shutdowns: string[][] = [];
  const session = new MasterSession({
    link,
    clock,
    logger: silentLogger,
    registration: () => ({ agentInfo: { id: agentId ? { value: agentId } : undefined, hostname: 'h', resources: [], attributes: [], endpoint: 'h:1', bootId: 'b', version: '0', isolators: [] }, tasks: [], executors: [], frameworks: [], checkpointedResources: [] }),
    onRegistered: (id) => {
      agentId = id;
      events.push(`registered ${id}`);
    },
    onDisconnected: () => void events.push('disconnected'),
    onRefused: (r, frameworks) => {
      refused.push(r);
      shutdowns.push(frameworks);
    },
    onMessage: (m) => void events.push(m.message?.$case ?? '?'),
    backoffMs: 100,
    maxBackoffMs: 400,
  });
  const registered = (id = 'a-1', ping = 1, missed = 3): void =>
    link.deliver({ $case: 'registered', value: { agentId: { value: id }, masterId: 'm', pingIntervalSeconds: ping, maxMissedPings: missed } });
  return { link, clock, events, session, refused, shutdowns, registered };
}

describe('MasterSession', () => {
  it('registers first, then passes master messages on', () => {
    const t = setup();
    t.session.start();
    expect(t.link.last.sent[0]?.message?.$case).toBe('register');
    t.link.deliver({ $case: 'killTask', value: { frameworkId: undefined, taskId: undefined, killPolicy: undefined } });
    expect(t.events).toEqual([]); // ignored before registration
    t.registered();
    t.link.deliver({ $case: 'killTask', value: { frameworkId: undefined, taskId: undefined, killPolicy: undefined } });
    expect(t.events).toEqual(['registered a-1', 'killTask']);
  });

  it('registers accepting batches, and handles a batch message by message, in order (pings included)', () => {
    const t = setup();
    t.session.start();
    expect(t.link.last.sent[0]?.message).toMatchObject({ $case: 'register', value: { acceptsBatches: true } });
    t.registered();
    const kill = { $case: 'killTask' as const, value: { frameworkId: undefined, taskId: undefined, killPolicy: undefined } };
    const shutdown = { $case: 'shutdownFramework' as const, value: { frameworkId: { value: 'f' } } };
    t.link.deliver({ $case: 'batch', value: { messages: [{ message: kill }, { message: { $case: 'ping', value: { seq: 3 } } }, { message: shutdown }] } });
    expect(t.events).toEqual(['registered a-1', 'killTask', 'shutdownFramework']);
    expect(t.link.last.sent.at(-1)).toEqual({ message: { $case: 'pong', value: { seq: 3 } } });
  });

  it('answers each ping with a pong of the same seq', () => {
    const t = setup();
    t.session.start();
    t.registered();
    t.link.deliver({ $case: 'ping', value: { seq: 7 } });
    expect(t.link.last.sent.at(-1)).toEqual({ message: { $case: 'pong', value: { seq: 7 } } });
  });

  it('reconnects when no ping arrives for interval × max missed, and re-registers with its id', () => {
    const t = setup();
    t.session.start();
    t.registered('a-1', 1, 3);
    t.clock.advance(2_900);
    t.link.deliver({ $case: 'ping', value: { seq: 1 } });
    t.clock.advance(2_999);
    expect(t.link.connections).toHaveLength(1);
    t.clock.advance(1);
    expect(t.events).toContain('disconnected');
    expect(t.link.connections[0]?.closed).toBe(true);
    t.clock.advance(100);
    expect(t.link.connections).toHaveLength(2);
    const reg = t.link.last.sent[0]?.message;
    expect(reg?.$case === 'register' && reg.value.agentInfo?.id?.value).toBe('a-1');
  });

  it('backs off between failed connections, doubling up to the cap', () => {
    const t = setup();
    t.session.start();
    const opened: number[] = [];
    for (const wait of [100, 200, 400, 400]) {
      t.link.last.observer.onEnd('refused connection');
      t.clock.advance(wait - 1);
      opened.push(t.link.connections.length);
      t.clock.advance(1);
    }
    expect(opened).toEqual([1, 2, 3, 4]);
    expect(t.link.connections).toHaveLength(5);
  });

  it('stops for good when refused, and sends nothing after', () => {
    const t = setup();
    t.session.start();
    t.link.deliver({ $case: 'refused', value: { message: 'too small', code: 'AGENT_REFUSED', field: '' } });
    expect(t.refused.map((r) => r.message)).toEqual(['too small']);
    t.clock.advance(3_600_000);
    expect(t.link.connections).toHaveLength(1);
    expect(t.session.send({ message: { $case: 'pong', value: { seq: 1 } } })).toBe(false);
  });
  it('hands the ShutdownFramework a master sends before refusing a gone agent to onRefused', () => {
    const t = setup();
    t.session.start();
    t.link.deliver({ $case: 'shutdownFramework', value: { frameworkId: { value: 'fw-a' } } });
    t.link.deliver({ $case: 'shutdownFramework', value: { frameworkId: { value: 'fw-b' } } });
    t.link.deliver({ $case: 'refused', value: { message: 'removed', code: 'AGENT_GONE', field: 'agent_info.id' } });
    expect(t.refused.map((r) => r.code)).toEqual(['AGENT_GONE']);
    expect(t.shutdowns).toEqual([['fw-a', 'fw-b']]);
    expect(t.events).toEqual([]);
  });
});
