import { afterEach, describe, expect, it } from 'vitest';
import { parseResources } from '@meso/sdk-scheduler';
import { Cleanup, startAgentProcess, startMasterProcess, waitFor } from '@meso/testing';
import { agentTotal, operatorPost, RoleFramework } from './reservations.fixture.js';

const reservedRoles = (text: string): string[] => [...new Set(parseResources(text).toList().map((r) => r.role))].sort();

describe('reservations on a real cluster', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it('reserved resources (static from --resources, dynamic from an ACCEPT or the operator) are offered only to their role and stay reserved unused', async () => {
    const master = await startMasterProcess(cleanup);
    const agent = await startAgentProcess(cleanup, master.address, 'cpus(prod):2;mem(prod):1024;cpus:2;mem:1024;disk:1000');
    const dev = await RoleFramework.start(cleanup, master.address, 'dev');
    const prod = await RoleFramework.start(cleanup, master.address, 'prod');

    // Static: prod sees its reservation (and the unreserved rest), dev only the unreserved part.
    const prodOffer = await prod.takeOffer('prod offered its static reservation', (o) => o.resources.scalar('cpus', 'prod') === 2);
    expect(prodOffer.resources.scalar('mem', 'prod')).toBe(1024);
    await prod.scheduler.decline(prodOffer.id, { refuseSeconds: 3600 });
    const devOffer = await dev.takeOffer('dev offered the unreserved resources', (o) => o.resources.scalar('cpus') === 2);
    expect(reservedRoles(devOffer.resources.toString())).toEqual(['*']);
    await dev.scheduler.decline(devOffer.id, { refuseSeconds: 0 });
    // Unused (prod declined for an hour), it is still not offered to dev, and still reserved.
    const devAgain = await dev.takeOffer('dev offered again', () => true);
    expect(devAgain.resources.scalar('cpus', 'prod')).toBe(0);
    expect(await agentTotal(master.address)).toMatchObject({ 'cpus(prod)': 2, 'mem(prod)': 1024, cpus: 2, mem: 1024 });

    // Dynamic, by the framework: dev reserves one unreserved cpu and 256 MB for itself in an ACCEPT.
    await dev.scheduler.accept([devAgain.id], [{ type: 'reserve', resources: parseResources('cpus(dev):1;mem(dev):256') }], { refuseSeconds: 0 });
    await waitFor('the reservation in /state', async () => (await agentTotal(master.address))['cpus(dev)'] === 1 || undefined);
    const devReserved = await dev.takeOffer('dev offered its reservation', (o) => o.resources.scalar('cpus', 'dev') === 1);
    expect(devReserved.resources.scalar('cpus', '*')).toBe(1);
    await prod.scheduler.revive();
    const prodNow = await prod.takeOffer('prod offered without dev reservation', (o) => o.resources.scalar('cpus', 'prod') === 2);
    expect(prodNow.resources.scalar('cpus', 'dev')).toBe(0);
    expect(prodNow.resources.scalar('cpus', '*')).toBeLessThanOrEqual(1);
    await prod.scheduler.decline(prodNow.id, { refuseSeconds: 0 });

    // Dynamic, by the operator: reserve for prod, then undo both dynamic reservations.
    const reserved = await operatorPost(master.address, '/reserve', agent.agentId, 'mem(prod):512');
    expect(reserved).toMatchObject({ status: 200, body: { total: { 'mem(prod)': 1536, 'cpus(dev)': 1 } } });
    const staticUndo = await operatorPost(master.address, '/unreserve', agent.agentId, 'cpus(prod):2');
    expect(staticUndo).toMatchObject({ status: 400, body: { code: 'INVALID_ARGUMENT', field: 'resources[0]' } });
    expect(String(staticUndo.body['error'])).toContain('static reservation');
    expect((await operatorPost(master.address, '/unreserve', agent.agentId, 'mem(prod):512')).status).toBe(200);
    expect((await operatorPost(master.address, '/unreserve', agent.agentId, 'cpus(dev):1;mem(dev):256')).status).toBe(200);
    expect(await agentTotal(master.address)).toEqual({ 'cpus(prod)': 2, 'mem(prod)': 1024, cpus: 2, mem: 1024, disk: 1000, ports: '[31000-32000]' });
  });
});
