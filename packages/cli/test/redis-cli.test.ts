import { execFileSync } from 'node:child_process';
import { Cleanup, MESO_BIN, waitFor } from '@meso/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// `meso local` runs fw-redis by default; `meso redis` drives it. Both agents of `meso local`
// offer the same port range on one host: fw-redis must give each server a port of its own.
const cleanup = new Cleanup();
let redis = '';

function meso(args: string[]): { code: number; out: string } {
  try {
    return { code: 0, out: execFileSync(process.execPath, [MESO_BIN, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) };
  } catch (e) {
    const err = e as { status: number; stdout: string; stderr: string };
    return { code: err.status, out: `${err.stdout}${err.stderr}` };
  }
}

beforeAll(async () => {
  try {
    execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  } catch {
    throw new Error('meso redis tests need redis-server on the PATH (apt-get install -y redis-server)');
  }
  const dataDir = await cleanup.tempDir('meso-local-redis-');
  const local = cleanup.meso(['local', '--port', '0', '--agents', '2', '--data_dir', dataDir, '--allocation_interval', '100ms', '--resources', 'cpus:2;mem:2048', '--frameworks', 'redis']);
  [, redis = ''] = await local.line(/^redis:\s+http:\/\/(\S+)/m);
  await local.line(/cluster ready/);
});
afterAll(() => cleanup.run());

describe('meso redis', () => {
  it('creates, shows, scales and deletes an instance on the fw-redis of meso local', async () => {
    const created = meso(['redis', 'create', 'web-cache', '--mem', '32', '--replicas', '1', '--wait', '--redis', redis]);
    expect(created.code, created.out).toBe(0);
    expect(created.out).toMatch(/web-cache: RUNNING, 32 MB per server, 1 master \+ 1 replicas/);
    expect(created.out).toMatch(/master\s+127\.0\.0\.1:\d+\s+RUNNING\s+yes/);

    const list = meso(['redis', 'status', '--redis', redis]);
    expect(list.out).toMatch(/web-cache\s+RUNNING\s+32 MB\s+1\/1\s+127\.0\.0\.1:\d+\s+0/);
    const shown = meso(['redis', 'status', 'web-cache', '--json', '--redis', redis]);
    const addresses = (JSON.parse(shown.out).members as Array<{ address: string }>).map((m) => m.address);
    expect(new Set(addresses).size).toBe(2);

    expect(meso(['redis', 'scale', 'web-cache', '--replicas', '2', '--wait', '--redis', redis]).code).toBe(0);
    const scaled = JSON.parse(meso(['redis', 'status', 'web-cache', '--json', '--redis', redis]).out);
    expect(scaled.members).toHaveLength(3);
    expect(new Set(scaled.members.map((m: { address: string }) => m.address)).size).toBe(3);

    const bad = meso(['redis', 'create', 'web cache', '--redis', redis]);
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/HTTP 400: INVALID_REQUEST: name: must be 1-63 letters/);
    expect(meso(['redis', 'scale', 'web-cache', '--redis', redis])).toMatchObject({ code: 2, out: expect.stringMatching(/needs --replicas N/) });

    expect(meso(['redis', 'delete', 'web-cache', '--redis', redis]).out).toMatch(/web-cache: (DELETING|DELETED)/);
    await waitFor('web-cache DELETED', () => /web-cache\s+DELETED/.test(meso(['redis', 'status', '--redis', redis]).out));
  });
});
