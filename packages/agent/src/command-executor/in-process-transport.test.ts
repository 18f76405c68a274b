import type { ExecutorEvent, ExecutorUpdateRequest } from '@meso/proto';
import { ExecutorError } from '@meso/sdk-executor';
import { describe, expect, it } from 'vitest';
import { CallRefusedError } from '../errors.js';
import type { EventSink, ExecutorApi } from '../executor-server.js';
import { InProcessTransport } from './in-process-transport.js';

const refusal = (code: 'UNKNOWN_EXECUTOR' | 'PERMISSION_DENIED' | 'UNAVAILABLE' | 'INVALID_ARGUMENT'): CallRefusedError => new CallRefusedError({ code, message: `no: ${code}` });

function api(over: Partial<ExecutorApi> = {}): ExecutorApi & { sinks: EventSink[] } {
  const sinks: EventSink[] = [];
  return {
    sinks,
    subscribe: (_request, sink) => {
      sinks.push(sink);
      sink.send({ event: { $case: 'heartbeat', value: {} } });
      sink.send({ event: { $case: 'shutdown', value: { gracePeriodSeconds: 1 } } });
    },
    update: async () => undefined,
    message: async () => undefined,
    ...over,
  };
}

const request = {} as Parameters<ExecutorApi['subscribe']>[0];

describe('InProcessTransport', () => {
  it('delivers the agent\'s events in order, after the subscribe call returned', async () => {
    const seen: string[] = [];
    const t = new InProcessTransport(api());
    t.subscribe(request, { onEvent: (e: ExecutorEvent) => seen.push(e.event?.$case ?? ''), onEnd: () => seen.push('end') });
    expect(seen).toEqual([]);
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual(['heartbeat', 'shutdown']);
  });

  it('tells the executor why a subscription is refused, as the gRPC transport would', async () => {
    for (const [code, expected] of [
      ['UNKNOWN_EXECUTOR', 'UNKNOWN_EXECUTOR'],
      ['PERMISSION_DENIED', 'UNAUTHORIZED'],
      ['UNAVAILABLE', 'DISCONNECTED'],
    ] as const) {
      const ended: Array<ExecutorError | undefined> = [];
      const t = new InProcessTransport(api({ subscribe: () => { throw refusal(code); } }));
      t.subscribe(request, { onEvent: () => undefined, onEnd: (e) => ended.push(e) });
      await new Promise((r) => setImmediate(r));
      expect(ended.map((e) => e?.code)).toEqual([expected]);
    }
  });

  it('maps refused updates and stops delivering once closed (the agent detached)', async () => {
    const t = new InProcessTransport(api({ update: async () => { throw refusal('INVALID_ARGUMENT'); } }));
    await expect(t.update({} as ExecutorUpdateRequest)).rejects.toMatchObject({ code: 'REJECTED' });
    const a = api();
    const seen: string[] = [];
    const t2 = new InProcessTransport(a);
    t2.subscribe(request, { onEvent: (e) => seen.push(e.event?.$case ?? ''), onEnd: () => seen.push('end') });
    await new Promise((r) => setImmediate(r));
    t2.close();
    expect(a.sinks[0]?.closed).toBe(true);
    expect(a.sinks[0]?.send({ event: { $case: 'heartbeat', value: {} } })).toBe(false);
    await expect(t2.update({} as ExecutorUpdateRequest)).rejects.toMatchObject({ code: 'DISCONNECTED' });
    expect(seen).toEqual(['heartbeat', 'shutdown']);
  });
});
