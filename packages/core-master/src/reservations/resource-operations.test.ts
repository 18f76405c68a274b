import { parseResources, Resources } from '@meso/proto';
import { describe, expect, it } from 'vitest';
import { MasterError } from '../errors.js';
import { applyResourceOp, type AgentResources, type ResourceOpType } from './resource-operations.js';

/** An agent with static `cpus:4;mem:1024;disk:1000;cpus(db):1` and the given checkpoint, all of it free. */
function agent(checkpointed = '', extra: Partial<AgentResources> = {}): AgentResources {
  const staticResources = parseResources('cpus:4;mem:1024;disk:1000;cpus(db):1');
  const cp = parseResources(checkpointed);
  const reservations = cp.withoutVolumes();
  const volumes = Resources.of(cp.volumes());
  const disk = Resources.of(cp.volumes().map(({ volume: _v, ...d }) => d));
  const available = staticResources.subtract(reservations.withRole('*')).add(reservations).subtract(disk).add(volumes);
  return { staticResources, checkpointed: cp, available, volumeUsers: new Map(), exceedCode: 'INVALID_ARGUMENT', ...extra };
}

const items = (text: string): Resources[] => parseResources(text).toList().map((r) => Resources.of([r]));

function refusal(s: AgentResources, type: ResourceOpType, text: string): MasterError {
  try {
    applyResourceOp(s, type, items(text), 'resources');
  } catch (e) {
    expect(e).toBeInstanceOf(MasterError);
    return e as MasterError;
  }
  throw new Error(`${type} ${text} was not refused`);
}

describe('applyResourceOp', () => {
  it.each<[string, ResourceOpType, string, string, string]>([
    ['reserve', 'reserve', 'cpus(web):1;mem(web):100', '', 'cpus(web):1;mem(web):100'],
    ['unreserve part of a reservation', 'unreserve', 'cpus(web):1', 'cpus(web):3', 'cpus(web):2'],
    ['create a volume on dynamically reserved disk', 'create', 'disk(db)[v:data]:50', 'disk(db):100', 'disk(db):100;disk(db)[v:data]:50'],
    ['destroy a volume', 'destroy', 'disk(db)[v:data]:50', 'disk(db):100;disk(db)[v:data]:50', 'disk(db):100'],
    ['unreserve disk beside a volume', 'unreserve', 'disk(db):50', 'disk(db):100;disk(db)[v:data]:50', 'disk(db):50;disk(db)[v:data]:50'],
  ])('%s', (_name, type, text, checkpointed, expected) => {
    expect(applyResourceOp(agent(checkpointed), type, items(text), 'resources').checkpointed.toString()).toBe(expected);
  });

  it.each<[string, AgentResources, ResourceOpType, string, string, string, string]>([
    ['reserve without a role', agent(), 'reserve', 'cpus:1', 'INVALID_ARGUMENT', 'resources[0].role', 'has no role'],
    ['reserve a volume', agent('disk(db):10'), 'reserve', 'disk(db)[v:d]:10', 'INVALID_ARGUMENT', 'resources[0]', 'CREATE'],
    ['reserve for another role than the offer', agent('', { offerRole: 'web' }), 'reserve', 'cpus(db):1', 'INVALID_ARGUMENT', 'resources[0].role', "allocated to role 'web'"],
    ['reserve what is already reserved', agent('', { available: parseResources('cpus(db):1') }), 'reserve', 'cpus(db):1', 'INVALID_ARGUMENT', 'resources[0]', 'cpus: need 1, have 0'],
    ['reserve beyond the offer', agent('', { exceedCode: 'RESOURCES_EXCEED_OFFER' }), 'reserve', 'mem(db):2000', 'RESOURCES_EXCEED_OFFER', 'resources[0]', 'mem: need 2000, have 1024'],
    ['unreserve a static reservation', agent(), 'unreserve', 'cpus(db):1', 'INVALID_ARGUMENT', 'resources[0]', 'static reservation'],
    ['unreserve what is not reserved', agent(), 'unreserve', 'mem(db):1', 'INVALID_ARGUMENT', 'resources[0]', 'not dynamically reserved'],
    ['unreserve disk holding a volume', agent('disk(db):100;disk(db)[v:data]:80'), 'unreserve', 'disk(db):50', 'INVALID_ARGUMENT', 'resources[0]', 'holds persistent volumes (v)'],
    ['unreserve what a task uses', agent('cpus(web):2', { available: parseResources('cpus(web):1') }), 'unreserve', 'cpus(web):2', 'INVALID_ARGUMENT', 'resources[0]', 'in use'],
    ['create from plain disk', agent(), 'create', 'disk(db):10', 'INVALID_ARGUMENT', 'resources[0]', 'persistent volumes'],
    ['create a duplicate id', agent('disk(db):100;disk(db)[v:data]:50'), 'create', 'disk(db)[v:other]:10', 'INVALID_ARGUMENT', 'resources[0].volume.id', "'v' already exists"],
    ['create without reserved disk', agent(), 'create', 'disk(db)[v:data]:10', 'INVALID_ARGUMENT', 'resources[0]', 'disk(db): need 10, have 0'],
    ['destroy an unknown volume', agent(), 'destroy', 'disk(db)[v:data]:10', 'INVALID_ARGUMENT', 'resources[0]', 'no persistent volume'],
    ['destroy a volume in use', agent('disk(db):10;disk(db)[v:data]:10', { volumeUsers: new Map([['v', 't1']]) }), 'destroy', 'disk(db)[v:data]:10', 'INVALID_ARGUMENT', 'resources[0]', "live task 't1'"],
  ])('refuses to %s', (_name, s, type, text, code, field, message) => {
    const e = refusal(s, type, text);
    expect({ code: e.code, field: e.field }).toEqual({ code, field });
    expect(e.message).toContain(message);
  });

  it('names the item at fault in a list and applies items in order', () => {
    const e = refusal(agent(), 'reserve', 'cpus(db):4;mem(db):10;disk(db):5000');
    expect(e.field).toBe('resources[1]');
    const s = agent('disk(db):100');
    const both = [Resources.of(parseResources('disk(db)[a:x]:60').volumes()), Resources.of(parseResources('disk(db)[b:y]:60').volumes())];
    expect(() => applyResourceOp(s, 'create', both, 'volumes')).toThrow(/volumes\[1\].*disk\(db\): need 60, have 40/);
  });
});
