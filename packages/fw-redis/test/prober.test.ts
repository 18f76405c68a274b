import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { Cleanup, Proc, freePort, waitFor } from '@meso/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { Prober } from '../src/prober.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

/** Whether something accepts TCP connections on 127.0.0.1:port now. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/** A real redis-server on a free port, stopped by the test's cleanup. */
function redisServer(port: number): Proc {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const proc = new Proc(child, `redis-server :${port}`);
  cleanup.onCleanup(() => proc.stop());
  return proc;
}

describe('Prober', () => {
  it('answers the first probe of a server that is up, made on a new client (the connection being set up is awaited, not counted as a failure)', async () => {
    const prober = new Prober(5_000);
    cleanup.onCleanup(async () => prober.close());
    const port = await freePort();
    redisServer(port);
    await waitFor('redis-server to accept connections', () => accepts(port), 20_000);
    const first = await prober.probe('t1', { ip: '127.0.0.1', port }, () => 0);
    expect(first).toMatchObject({ ok: true, observation: { role: 'master' } });
  });

  it('says why a probe failed: nothing listening (then answers once a server starts there), then a server that went away', async () => {
    const prober = new Prober(1_000);
    cleanup.onCleanup(async () => prober.close());
    const port = await freePort();
    const never = await prober.probe('t1', { ip: '127.0.0.1', port }, () => 0);
    expect(never).toEqual({ ok: false, reason: expect.stringMatching(new RegExp(`^(connection to|not connected to) 127\\.0\\.0\\.1:${port}`)) });

    // A server that starts only after the first connection window: the client connects later, and probes see it.
    redisServer(port);
    await waitFor('the late server to answer', async () => ((await prober.probe('t1', { ip: '127.0.0.1', port }, () => 0)).ok ? true : undefined), 20_000);

    const port2 = await freePort();
    const server = redisServer(port2);
    await waitFor('the second server to answer', async () => ((await prober.probe('t2', { ip: '127.0.0.1', port: port2 }, () => 0)).ok ? true : undefined), 20_000);
    await server.stop();
    const gone = await waitFor('a failed probe of the stopped server', async () => {
      const r = await prober.probe('t2', { ip: '127.0.0.1', port: port2 }, () => 0);
      return r.ok ? undefined : r;
    }, 20_000);
    expect(gone.reason).toMatch(new RegExp(`127\\.0\\.0\\.1:${port2}|Connection is closed|ECONNREFUSED`));
  });
});
