import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup, startAgentProcess, startMasterProcess } from '@meso/testing';

const meso = (cleanup: Cleanup, args: string[]) => cleanup.mesoRun(args);

describe('meso reserve, unreserve and volumes against a real cluster', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it('reserves for a role, creates a volume on it, lists both, refuses what would lose data, and gives everything back', async () => {
    const master = await startMasterProcess(cleanup);
    const agent = await startAgentProcess(cleanup, master.address, 'cpus:2;mem:1024;disk:1000', ['--hostname', 'db-host-1']);
    const m = ['--master', master.address];

    expect(await meso(cleanup, ['reserve', ...m])).toMatchObject({ code: 0, stdout: 'no reservations\n' });
    // By host name, as an operator knows the machine.
    expect(await meso(cleanup, ['reserve', 'db-host-1', 'cpus(db):1;mem(db):256;disk(db):200', ...m])).toMatchObject({
      code: 0,
      stdout: `reserved cpus(db):1;mem(db):256;disk(db):200 on db-host-1 (${agent.agentId})\n`,
    });
    const listed = await meso(cleanup, ['reserve', ...m]);
    expect(listed.stdout).toMatch(/^\s*HOST\s+AGENT\s+ROLE\s+RESERVED/m);
    expect(listed.stdout).toMatch(new RegExp(`^\\s*db-host-1\\s+${agent.agentId}\\s+db\\s+\\S*cpus\\(db\\):1\\S*$`, 'm'));

    // By agent id.
    expect(await meso(cleanup, ['volumes', 'create', agent.agentId, 'disk(db)[data-1:data]:100', ...m])).toMatchObject({ code: 0 });
    const volumes = await meso(cleanup, ['volumes', ...m]);
    expect(volumes.stdout).toMatch(new RegExp(`^\\s*db-host-1\\s+${agent.agentId}\\s+db\\s+data-1\\s+data\\s+rw\\s+100\\s*$`, 'm'));

    // Unreserving the disk that holds the volume would lose its data: refused, naming why; nothing changes.
    const refused = await meso(cleanup, ['unreserve', 'db-host-1', 'disk(db):200', ...m]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^meso unreserve: \S+.*volume/m);
    expect((await meso(cleanup, ['volumes', ...m])).stdout).toMatch(/data-1/);

    expect(await meso(cleanup, ['volumes', 'destroy', 'db-host-1', 'disk(db)[data-1:data]:100', ...m])).toMatchObject({ code: 0 });
    expect(await meso(cleanup, ['volumes', ...m])).toMatchObject({ code: 0, stdout: 'no persistent volumes\n' });
    expect(await meso(cleanup, ['unreserve', 'db-host-1', 'cpus(db):1;mem(db):256;disk(db):200', ...m])).toMatchObject({ code: 0 });
    expect(await meso(cleanup, ['reserve', ...m])).toMatchObject({ code: 0, stdout: 'no reservations\n' });
  });

  it('names what is wrong: an unknown agent, resources that do not parse, missing arguments', async () => {
    const master = await startMasterProcess(cleanup);
    await startAgentProcess(cleanup, master.address, 'cpus:1;mem:512', ['--hostname', 'h1']);
    const m = ['--master', master.address];

    const unknown = await meso(cleanup, ['reserve', 'nosuch', 'cpus(db):1', ...m]);
    expect(unknown).toMatchObject({ code: 1, stderr: "meso reserve: AGENT: no agent has the id or host name 'nosuch' (see meso state)\n" });
    const bad = await meso(cleanup, ['reserve', 'h1', 'cpus(db):lots', ...m]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^meso reserve: INVALID_RESOURCES at resources.*'lots' is not a number/);
    const missing = await meso(cleanup, ['volumes', 'create', 'h1', ...m]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/expected AGENT RESOURCES, got 1 argument/);
    // Nothing was reserved by any of these.
    expect(await meso(cleanup, ['reserve', ...m])).toMatchObject({ code: 0, stdout: 'no reservations\n' });
  });
});
