import { FrameworkInfo, FrameworkInfo_Capability, Resources, silentLogger } from '@meso/proto';
import { MemoryStateStore } from '@meso/state';
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
});
