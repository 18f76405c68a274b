import { silentLogger } from '@meso/proto';
import { describe, expect, it } from 'vitest';
import { SchedulerError } from './errors.js';
import { serveHttp, subscribeResuming } from './framework-service.js';
import type { Scheduler } from './scheduler.js';

/** A connect that refuses the listed ids with the code, and records what it was asked. */
function connecting(refuse: Record<string, SchedulerError | Error>) {
  const asked: Array<string | undefined> = [];
  const connect = async (id: string | undefined): Promise<Scheduler> => {
    asked.push(id);
    const error = id !== undefined ? refuse[id] : undefined;
    if (error) throw error;
    return { frameworkId: id ?? 'new-id' } as Scheduler;
  };
  return { asked, connect };
}

describe('subscribeResuming', () => {
  it('resumes the stored id when the master still knows it', async () => {
    const c = connecting({});
    expect((await subscribeResuming('fw-1', c.connect, silentLogger)).frameworkId).toBe('fw-1');
    expect(c.asked).toEqual(['fw-1']);
  });

  it('registers anew when the master removed or does not know the stored id', async () => {
    for (const code of ['FRAMEWORK_REMOVED', 'UNKNOWN_FRAMEWORK'] as const) {
      const c = connecting({ 'fw-1': new SchedulerError(code, 'gone') });
      expect((await subscribeResuming('fw-1', c.connect, silentLogger)).frameworkId).toBe('new-id');
      expect(c.asked).toEqual(['fw-1', undefined]);
    }
  });

  it('any other failure rejects as it came, without a second try', async () => {
    const timeout = new SchedulerError('CONNECT_TIMEOUT', 'no master');
    const c = connecting({ 'fw-1': timeout });
    await expect(subscribeResuming('fw-1', c.connect, silentLogger)).rejects.toBe(timeout);
    expect(c.asked).toEqual(['fw-1']);
  });
});

describe('serveHttp', () => {
  it('serves on a free port, names it in address, and stops listening on close', async () => {
    const http = await serveHttp((_req, res) => res.end('ok'), 0, '127.0.0.1');
    expect(http.address).toMatch(/^127\.0\.0\.1:[1-9]\d*$/);
    expect(await (await fetch(`http://${http.address}/`)).text()).toBe('ok');
    await http.close();
    await expect(fetch(`http://${http.address}/`)).rejects.toThrow();
  });

  it('rejects when the port is taken', async () => {
    const first = await serveHttp((_req, res) => res.end(), 0, '127.0.0.1');
    const port = Number(first.address.split(':')[1]);
    await expect(serveHttp((_req, res) => res.end(), port, '127.0.0.1')).rejects.toThrow(/EADDRINUSE/);
    await first.close();
  });
});
