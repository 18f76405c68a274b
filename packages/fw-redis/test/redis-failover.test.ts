import { Cleanup, isAlive, waitFor } from '@meso/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, sentinelClient, startCluster, startRedisFw, waitForInstance } from './support.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const KEYS = 10_000;

describe('meso-redis: replicas and failover', () => {
  it('replicates 10,000 keys, promotes a replica when the master is killed -9, and a Sentinel client follows', async () => {
    const cluster = await startCluster(cleanup);
    const fw = await startRedisFw(cleanup, cluster);
    const created = await fw.api('POST', '/v1/CREATE/orders/64/1/2', { Distribution: 1 });
    expect(created.status, created.text).toBe(201);
    const running = await waitForInstance(fw, 'orders', 'RUNNING with 2 replicas in sync', (i) => i.status === 'RUNNING');
    expect(new Set(running.members.map((m: any) => m.agentId)).size).toBe(3);

    // An application configured with Sentinel, as it would be against real Sentinels.
    const app = sentinelClient(cleanup, fw, 'orders');
    const t0 = Date.now();
    for (let base = 0; base < KEYS; base += 1000) {
      const p = app.pipeline();
      for (let k = base; k < base + 1000; k++) p.set(`key:${k}`, `value-${k}`);
      await p.exec();
    }
    const writeMs = Date.now() - t0;
    // Acknowledged by both replicas (WAIT), as an application that needs durability would ask.
    expect(await app.wait(2, 10_000)).toBe(2);
    console.log(`fw-redis: ${KEYS} SETs through the Sentinel client in ${writeMs} ms`);
    for (const address of running.endpoints.replicas as string[]) expect(await connect(cleanup, address).dbsize()).toBe(KEYS);

    // What a Sentinel subscriber (a dashboard, a client with failoverDetector) hears.
    const subscriber = connect(cleanup, `${fw.sentinel.host}:${fw.sentinel.port}`);
    const switches: string[] = [];
    subscriber.on('message', (channel: string, message: string) => switches.push(`${channel} ${message}`));
    await subscriber.subscribe('+switch-master');

    const oldMaster = running.endpoints.master as string;
    const masterPid = Number(/process_id:(\d+)/.exec(await connect(cleanup, oldMaster).info('server'))![1]);
    process.kill(masterPid, 'SIGKILL');
    const killedAt = Date.now();
    let lastError = '';
    await waitFor('writes accepted again through the Sentinel client', async () => {
      try {
        return (await app.set('after-failover', 'yes')) === 'OK';
      } catch (e) {
        lastError = (e as Error).message;
        return false;
      }
    }, 60_000).catch(async (e: unknown) => {
      const status = await fw.api('GET', '/v2/instances/orders');
      throw new Error(`${(e as Error).message}\nclient: ${app.status}, last error: ${lastError}\ninstance: ${status.text}\nmeso-redis:\n${fw.proc.stdout.slice(-4000)}\n${fw.proc.stderr.slice(-4000)}`);
    });
    const failoverSeconds = (Date.now() - killedAt) / 1000;
    console.log(`fw-redis: failover — ${failoverSeconds.toFixed(2)} s from kill -9 of the master to writes accepted again`);

    // A server that failed to start before (e.g. its port taken by another process on this
    // host) already moved the epoch: count from the epoch the instance had when it ran.
    const after = await waitForInstance(fw, 'orders', 'a new master and a replacement replica', (i) => i.epoch === running.epoch + 1 && i.endpoints.master !== oldMaster && i.endpoints.replicas.length === 2 && i.members.every((m: any) => m.answering && (m.role === 'master' || m.linkUp)));
    expect(after.failovers.at(-1)).toMatchObject({ epoch: running.epoch + 1, from: running.members.find((m: any) => m.role === 'master').taskId, to: after.members.find((m: any) => m.role === 'master').taskId });
    const newMaster = after.endpoints.master as string;
    expect(switches).toEqual([`+switch-master orders ${oldMaster.replace(':', ' ')} ${newMaster.replace(':', ' ')}`]);
    expect(await app.get('key:0')).toBe('value-0');
    expect(await app.get(`key:${KEYS - 1}`)).toBe(`value-${KEYS - 1}`);
    expect(await app.dbsize()).toBe(KEYS + 1);
    // One master as far as the framework sees, the replacement replica got the data.
    const roles = await Promise.all(after.members.map(async (m: any) => (await connect(cleanup, m.address).info('replication')).match(/role:(\w+)/)![1]));
    expect(roles.filter((r) => r === 'master')).toHaveLength(1);
    await waitFor('the replacement replica holds every key', async () => {
      const counts = await Promise.all((after.endpoints.replicas as string[]).map((a) => connect(cleanup, a).dbsize()));
      return counts.every((n) => n === KEYS + 1);
    });
    const status = await fw.api('GET', '/v1/STATUS/orders');
    expect(status.json).toMatchObject({ Name: 'orders', Type: 'MS', Status: 'RUNNING', Capacity: 64, Master: { IP: '127.0.0.1', Port: after.endpoints.master.split(':')[1] } });
    expect(status.json.Slaves).toHaveLength(2);
    const metrics = await fw.api('GET', '/metrics');
    expect(metrics.text).toMatch(/redis_fw_failovers_total 1/);
    expect(metrics.text).toMatch(/redis_member_lag_bytes\{instance="orders",task="[^"]+",role="replica"\} \d+/);
  });
});

describe('meso-redis: a master that stops answering', () => {
  it('is declared down after down-after, a replica promoted, and the old one fenced (its task killed)', async () => {
    const cluster = await startCluster(cleanup, 2);
    const fw = await startRedisFw(cleanup, cluster, undefined, ['--down_after_ms', '2000']);
    expect((await fw.api('POST', '/v2/instances', { name: 'quiet', capacityMb: 32, replicas: 1, distribution: 1 })).status).toBe(201);
    const running = await waitForInstance(fw, 'quiet', 'RUNNING', (i) => i.status === 'RUNNING');
    const old = running.members.find((m: any) => m.role === 'master');
    const app = sentinelClient(cleanup, fw, 'quiet');
    await app.set('before', '1');
    expect(await app.wait(1, 5000)).toBe(1);

    process.kill(old.pid, 'SIGSTOP'); // alive, its task RUNNING, but silent
    const stoppedAt = Date.now();
    try {
      const after = await waitForInstance(fw, 'quiet', 'the replica promoted', (i) => i.epoch === running.epoch + 1 && i.endpoints.master !== old.address);
      console.log(`fw-redis: a silent master replaced ${((Date.now() - stoppedAt) / 1000).toFixed(2)} s after it stopped answering (down-after 2 s)`);
      expect(after.failovers.at(-1)).toMatchObject({ epoch: running.epoch + 1, from: old.taskId, reason: expect.stringMatching(/did not answer for/) });
      await waitFor('writes accepted by the new master', async () => {
        try {
          return (await app.set('after', '1')) === 'OK';
        } catch {
          return false;
        }
      });
      expect(await app.get('before')).toBe('1');
    } finally {
      if (isAlive(old.pid)) process.kill(old.pid, 'SIGCONT'); // (SIGKILL may have ended it already)
    }
    // Fenced: its task is killed (SIGTERM, then SIGKILL after the grace period), never a second master.
    await waitFor('the old master gone', () => !isAlive(old.pid));
    const final = await waitForInstance(fw, 'quiet', 'a replacement replica in sync', (i) => i.members.length === 2 && i.members.every((m: any) => m.answering && (m.role === 'master' || m.linkUp)));
    expect(final.members.map((m: any) => m.taskId)).not.toContain(old.taskId);
    expect(final.members.filter((m: any) => m.observedRole === 'master')).toHaveLength(1);
  });
});
