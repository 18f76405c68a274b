import { spawn } from 'node:child_process';
import { Cleanup, Proc, freePort, waitFor } from '@meso/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { Prober } from '../src/prober.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

/** A real redis-server on a free port, stopped by the test's cleanup. */
function redisServer(port: number): Proc {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const proc = new Proc(child, `redis-server :${port}`);
  cleanup.onCleanup(() => proc.stop());
  return proc;
}

describe('Prober', () => {
  it("answers the first probe of a server started a moment ago (the new connection is awaited, not counted as a failure)", async () => {
    const prober = new Prober(5_000);
    cleanup.onCleanup(async () => prober.close());
    const port = await freePort();
    redisServer(port);
    const first = await prober.probe('t1', { ip: '127.0.0.1', port }, () => 0);
    expect(first).toMatchObject({ ok: true, observation: { role: 'master' } });
  });

  it('says why a probe failed: nothing listening (then answers once a server starts there), then a server that went away', async () => {
    const prober = new Prober(1_000);
    cleanup.onCleanup(async () => prober.close());
    const port = await freePort();
    const never = await prober.probe('t1', { ip: '127.0.0.1', port }, () => 0);
    expect(never).toEqual({ ok: false, reason: expect.stringMatching(new RegExp(`^no connection to 127\\.0\\.0\\.1:${port} yet`)) });

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
    expect(gone.reason).toMatch(/\((reconnecting|connecting|close|end|wait)\)$/);
  });
});
