import { FrameworkInfo, FrameworkInfo_Capability, Resources, silentLogger } from '@meso/proto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogStateStore, MemoryStateStore } from '@meso/state';
import { describe, expect, it } from 'vitest';
import { apply } from './apply.js';
import type { MasterCommand } from './commands.js';
import { createModel } from './model.js';
import { Registry } from './registry.js';

describe('Registry', () => {
  it('keeps frameworks (with failover timeout and capabilities), removals and agents', async () => {
    const store = new MemoryStateStore();
    const registry = new Registry(store, silentLogger);
    const model = createModel('m', 0);
    const run = async (cmd: MasterCommand) => {
      apply(model, cmd);
      await registry.record(cmd, model);
    };
    const info = FrameworkInfo.fromPartial({ id: { value: 'm-0000' }, name: 'web', roles: ['web'], failoverTimeout: 604800, capabilities: [FrameworkInfo_Capability.PARTITION_AWARE] });
    await run({ type: 'frameworkSubscribed', info, streamId: 's', suppressedRoles: [], isNew: true, at: 1 });
    await run({ type: 'frameworkSubscribed', info: FrameworkInfo.fromPartial({ id: { value: 'm-0001' }, name: 'batch' }), streamId: 's', suppressedRoles: [], isNew: true, at: 2 });
    await run({ type: 'frameworkRemoved', frameworkId: 'm-0001', at: 3 });
    await run({ type: 'agentAdmitted', agent: { id: 'm-S0', hostname: 'h', endpoint: 'e', version: '', bootId: '', attributes: [], total: Resources.scalars({ cpus: 1, mem: 64 }) }, reregistered: false, tasks: [], executors: [], at: 4 });
    await run({ type: 'agentUnreachable', agentId: 'm-S0', at: 5 });

    const recovered = await new Registry(store, silentLogger).recover();
    expect(recovered.frameworks.map((f) => [f.id, f.removed])).toEqual([['m-0000', false], ['m-0001', true]]);
    expect(recovered.frameworks[0]?.info).toEqual(info);
    expect(recovered.frameworks[1]?.removedTime).toBe(3);
    expect(recovered.agents.get('m-S0')).toMatchObject({ hostname: 'h', status: 'UNREACHABLE' });
  });

  const admitted = (id: string, hostname = 'h', at = 4): MasterCommand => ({
    type: 'agentAdmitted',
    agent: { id, hostname, endpoint: 'e', version: '', bootId: '', attributes: [], total: Resources.scalars({ cpus: 1, mem: 64 }) },
    reregistered: false,
    tasks: [],
    executors: [],
    at,
  });

  it('writes nothing for a command that leaves its document as it is (an agent re-registering unchanged)', async () => {
    const store = new MemoryStateStore();
    const model = createModel('m', 0);
    const registry = new Registry(store, silentLogger);
    apply(model, admitted('m-S0'));
    await registry.record(admitted('m-S0'), model);
    expect((await store.get('agents/m-S0'))?.version).toBe(1);

    // A new master: the agent recovered from the registry re-registers as it was.
    const next = new Registry(store, silentLogger);
    const recovered = await next.recover();
    const model2 = createModel('m2', 10);
    apply(model2, { type: 'agentRecovered', agentId: 'm-S0', hostname: 'h', endpoint: 'e', admittedTime: recovered.agents.get('m-S0')?.admittedTime ?? 0, status: 'RECOVERING' });
    expect(next.recordAdmissionAhead({ id: 'm-S0', hostname: 'h', endpoint: 'e' }, 20, model2)).toBeUndefined();
    apply(model2, admitted('m-S0', 'h', 20));
    await next.record(admitted('m-S0', 'h', 20), model2);
    expect((await store.get('agents/m-S0'))?.version).toBe(1);

    // Changed (a new hostname): written ahead, and the command after it has nothing left to write.
    const ahead = next.recordAdmissionAhead({ id: 'm-S0', hostname: 'h2', endpoint: 'e' }, 30, model2);
    expect(ahead).toBeInstanceOf(Promise);
    await ahead;
    apply(model2, admitted('m-S0', 'h2', 30));
    await next.record(admitted('m-S0', 'h2', 30), model2);
    expect(await store.get('agents/m-S0')).toMatchObject({ version: 2, value: { hostname: 'h2', admittedTime: 4, status: 'ADMITTED' } });
  });

  it('issues a burst of writes at once: with a LogStateStore they are durable together (one log line, one fsync)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meso-registry-'));
    try {
      const store = await LogStateStore.open(dir);
      const registry = new Registry(store, silentLogger);
      const model = createModel('m', 0);
      const writes = Array.from({ length: 200 }, (_, i) => {
        apply(model, admitted(`m-S${i}`));
        return registry.record(admitted(`m-S${i}`), model);
      });
      await Promise.all(writes);
      const log = (await readdir(dir)).find((n) => n.endsWith('.log')) ?? '';
      expect((await readFile(join(dir, log), 'utf8')).trim().split('\n')).toHaveLength(1);
      expect((await new Registry(store, silentLogger).recover()).agents.size).toBe(200);
      await store.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
